"""The annual plan endpoints in the OpenAPI document (CONTRACT.md: annual plans)."""

from typing import Any

from marketplace.api.openapi import operation, path_id
from marketplace.items.fields import MONEY_PATTERN
from marketplace.plans import services
from marketplace.plans.models import PLAN_STATUSES

MONEY = {"type": "string", "pattern": MONEY_PATTERN.pattern, "description": "元"}
LINES = {
    "type": "array",
    "maxItems": services.MAX_LINES,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["scene_id", "amount"],
        "properties": {
            "scene_id": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647},
            "amount": {**MONEY, "pattern": "^[1-9]\\d{0,11}(\\.\\d{1,2})?$"},
        },
    },
}
PLAN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "organization_id": {"type": "integer"},
        "year": {"type": "integer"},
        "version": {"type": "integer"},
        "status": {"type": "string", "enum": list(PLAN_STATUSES)},
        "procurement_budget": {"type": "string"},
        "reserved": {"type": "string"},
        "reserved_share": {"type": "string", "description": "四位小数，0.3000 即30%"},
        "minimum_reserved": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "object"}},
        "reviews": {"type": "array", "items": {"type": "object"}},
    },
}
BUDGET = {**MONEY, "pattern": "^[1-9]\\d{0,11}(\\.\\d{1,2})?$"}
YEAR = {
    "type": "integer",
    "minimum": services.YEARS.start,
    "maximum": services.YEARS.stop - 1,
}


def plan_paths() -> dict[str, Any]:
    plan_id = path_id("id")
    return {
        "/api/v1/plans": {
            "get": {
                **operation("本人可见的年度场景建设计划", "401", "403", "422"),
                "parameters": [
                    {"name": "year", "in": "query", "required": False, "schema": YEAR}
                ],
            },
            "post": operation(
                "市级行政机关、事业单位新建年度场景建设计划（草稿）",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                ok="201",
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["year", "procurement_budget", "lines"],
                    "properties": {
                        "year": YEAR,
                        "procurement_budget": BUDGET,
                        "lines": LINES,
                    },
                },
                answer=PLAN,
            ),
        },
        "/api/v1/plans/{id}": {
            "parameters": [plan_id],
            "get": operation("查看计划", "401", "403", "404", answer=PLAN),
            "patch": operation(
                "修改草稿或退回的计划（已审定的计划不能修改，须发起变更）",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"procurement_budget": BUDGET, "lines": LINES},
                },
                answer=PLAN,
            ),
        },
        "/api/v1/plans/{id}/transition": {
            "parameters": [plan_id],
            "post": operation(
                "提交、审核同意、退回（须说明原因）或发起变更",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["action"],
                    "properties": {
                        "action": {"type": "string", "enum": list(services.ACTIONS)},
                        "comment": {"type": "string", "maxLength": 2000},
                    },
                },
                answer=PLAN,
            ),
        },
    }
