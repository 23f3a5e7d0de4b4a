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


def _inquiry_paths() -> dict[str, Any]:
    base = "/api/v1/plans/{id}/lines/{line_id}/inquiry"
    parameters = [path_id("id"), path_id("line_id")]
    day = {"type": "string", "format": "date"}
    errors = ("400", "401", "403", "404", "409", "415", "422")

    def step(summary: str, properties: dict[str, Any], required: list[str]) -> Any:
        return {
            "parameters": parameters,
            "post": operation(
                summary,
                *errors,
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "required": required,
                    "properties": properties,
                },
            ),
        }

    return {
        base: {
            "parameters": parameters,
            "get": operation(
                "查看统一询价（截止前报价密封：官员只见份数，企业只见本单位报价）",
                "401",
                "403",
                "404",
            ),
            "post": operation(
                "市发展改革委发起统一询价：邀请能力企业（按能力编号）并设截止时间",
                *errors,
                ok="201",
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["capability_ids", "closes_at"],
                    "properties": {
                        "capability_ids": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 50,
                            "items": {"type": "integer", "minimum": 1},
                        },
                        "closes_at": {"type": "string", "format": "date-time"},
                    },
                },
            ),
        },
        base + "/quotes": step(
            "受邀企业报价（截止前可修改，截止后不再受理）",
            {"amount": BUDGET, "note": {"type": "string", "maxLength": 2000}},
            ["amount"],
        ),
        base + "/choice": step(
            "截止后确定供应商并说明理由",
            {
                "quote_id": {"type": "integer", "minimum": 1},
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
            },
            ["quote_id", "reason"],
        ),
        base + "/contract": step(
            "登记合同（金额不超过计划金额）",
            {
                "number": {"type": "string", "minLength": 1, "maxLength": 100},
                "amount": BUDGET,
                "signed_on": day,
            },
            ["number", "amount", "signed_on"],
        ),
        base + "/payments": step(
            "登记向能力企业的付款；final 为最后一笔时项目完成",
            {
                "amount": BUDGET,
                "paid_on": day,
                "final": {"type": "boolean"},
                "note": {"type": "string", "maxLength": 500},
            },
            ["amount", "paid_on"],
        ),
    }


def plan_paths() -> dict[str, Any]:
    plan_id = path_id("id")
    return {
        **_inquiry_paths(),
        "/api/v1/plans/report": {
            "get": {
                **operation(
                    "年度执行情况：各单位与全市的预算、预留及占比、审定、签约、付款、完成",
                    "401",
                    "403",
                    "422",
                ),
                "parameters": [
                    {"name": "year", "in": "query", "required": True, "schema": YEAR}
                ],
            }
        },
        "/api/v1/plans/{id}/outstanding": {
            "parameters": [plan_id],
            "post": operation(
                "审核部门标记（或取消）该单位本年度场景工作优秀（须说明理由）",
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
                    "required": ["outstanding"],
                    "properties": {
                        "outstanding": {"type": "boolean"},
                        "note": {"type": "string", "maxLength": 500},
                    },
                },
                answer=PLAN,
            ),
        },
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
