"""The event endpoints in the OpenAPI document (CONTRACT.md: events)."""

from typing import Any

from marketplace.api.openapi import operation as _operation
from marketplace.api.openapi import path_id as _id
from marketplace.events.models import OUTCOMES
from marketplace.events.services import EVENT_FIELDS, NUMBER_RULES
from marketplace.taxonomy import Taxonomy

WINDOWS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["start", "end"],
        "properties": {
            "start": {"type": "string", "pattern": "^([01]\\d|2[0-3]):[0-5]\\d$"},
            "end": {"type": "string", "pattern": "^([01]\\d|2[0-3]):[0-5]\\d$"},
        },
    },
}
PAIR = {
    "type": "object",
    "properties": {
        "scene_id": {"type": "integer"},
        "capability_id": {"type": "integer"},
    },
}


def _event_input(taxonomy: Taxonomy | None) -> dict[str, Any]:
    properties = {f.name: f.openapi(taxonomy) for f in EVENT_FIELDS}
    for rule in NUMBER_RULES:
        properties[rule.name] = {
            "type": "integer" if rule.integer else "number",
            "minimum": rule.low,
            "maximum": rule.high,
            "title": rule.label,
        }
    properties["sessions"] = {
        **WINDOWS,
        "title": "场次",
        "description": "每场的时长须能被 meeting_minutes 整除；时段从0起跨场次编号",
    }
    required = sorted(properties)
    properties["schedule_unconfirmed"] = {
        "type": "boolean",
        "title": "未确认的参会方也安排洽谈",
        "description": "默认否：只给已接受邀请的参会方排期",
    }
    return {
        "type": "object",
        "required": required,
        "properties": properties,
    }


def event_paths(taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    event_input = _event_input(taxonomy)
    schedule = {
        "type": "object",
        "properties": {
            "meetings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        **PAIR["properties"],
                        "slot": {"type": "integer", "description": "从0起跨场次编号"},
                        "table": {"type": "integer", "description": "从1起"},
                        "start": {"type": "string"},
                        "end": {"type": "string"},
                    },
                },
            },
            "unscheduled": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {**PAIR["properties"], "reason": {"type": "string"}},
                },
            },
            "moved": {"type": "array", "items": {"type": "object"}},
        },
    }
    base = "/api/v1/events"
    event_id = _id("id")
    return {
        base: {
            "get": _operation("本人可见的对接活动", "401"),
            "post": _operation(
                "新建对接活动",
                "400",
                "401",
                "403",
                "415",
                "422",
                body=event_input,
                ok="201",
            ),
        },
        f"{base}/{{id}}": {
            "parameters": [event_id],
            "get": _operation("查看活动（参会方只看到本单位的参会记录）", "401", "404"),
            "patch": _operation(
                "修改活动（已排期后不能改日期、场次、时长、桌数）",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                body={"type": "object", "properties": event_input["properties"]},
            ),
        },
        f"{base}/{{id}}/participants": {
            "parameters": [event_id],
            "post": _operation(
                "邀请场景和能力参会（全部成功或全部不加）",
                "400",
                "401",
                "403",
                "404",
                "415",
                "422",
                body={
                    "type": "object",
                    "properties": {
                        "scene_ids": {"type": "array", "items": {"type": "integer"}},
                        "capability_ids": {
                            "type": "array",
                            "items": {"type": "integer"},
                        },
                    },
                },
                ok="201",
            ),
        },
        f"{base}/{{id}}/participants/{{participant_id}}": {
            "parameters": [event_id, _id("participant_id")],
            "delete": _operation("移除参会方", "401", "403", "404", "409", ok="204"),
        },
        f"{base}/{{id}}/participants/{{participant_id}}/response": {
            "parameters": [event_id, _id("participant_id")],
            "post": _operation(
                "参会单位接受或谢绝邀请，可附可参会时间",
                "400",
                "401",
                "404",
                "409",
                "415",
                "422",
                body={
                    "type": "object",
                    "required": ["accept"],
                    "properties": {
                        "accept": {"type": "boolean"},
                        "availability": WINDOWS,
                    },
                },
            ),
        },
        f"{base}/{{id}}/participants/{{participant_id}}/availability": {
            "parameters": [event_id, _id("participant_id")],
            "put": _operation(
                "设置可参会时间（空表示全程）",
                "400",
                "401",
                "404",
                "415",
                "422",
                body={"type": "object", "properties": {"availability": WINDOWS}},
            ),
        },
        f"{base}/{{id}}/delegations/{{organization_id}}": {
            "parameters": [event_id, _id("organization_id")],
            "put": _operation(
                "设置单位派出的代表人数（可同时进行的洽谈数，默认 1）",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                body={
                    "type": "object",
                    "required": ["people"],
                    "properties": {"people": {"type": "integer", "minimum": 1}},
                },
            ),
        },
        f"{base}/{{id}}/suggestions": {
            "parameters": [event_id],
            "get": _operation(
                "建议邀请的能力（按活动场景）和场景（按已邀能力）", "401", "403", "404"
            ),
        },
        f"{base}/{{id}}/proposals": {
            "parameters": [event_id],
            "post": _operation(
                "按匹配度求最优配对（线性规划精确解），返回总分与最优性差距",
                "401",
                "403",
                "404",
                "409",
                "422",
                answer={
                    "type": "object",
                    "properties": {
                        "pairings": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    **PAIR["properties"],
                                    "score": {"type": "number"},
                                },
                            },
                        },
                        "total_score": {"type": "number"},
                        "optimality_gap": {
                            "type": "number",
                            "description": "0 表示已证明最优",
                        },
                        "unconstrained_total": {
                            "type": "number",
                            "description": "不受任何上限约束时的总分",
                        },
                        "unconstrained_pairings": {"type": "integer"},
                    },
                },
            ),
        },
        f"{base}/{{id}}/pairings": {
            "parameters": [event_id],
            "post": _operation(
                "手动添加配对（自动锁定）",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                body={**PAIR, "required": ["scene_id", "capability_id"]},
                ok="201",
            ),
        },
        f"{base}/{{id}}/pairings/{{pairing_id}}": {
            "parameters": [event_id, _id("pairing_id")],
            "post": _operation(
                "锁定、解锁、移除或恢复配对",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                body={
                    "type": "object",
                    "required": ["action"],
                    "properties": {
                        "action": {
                            "type": "string",
                            "enum": ["lock", "unlock", "remove", "restore"],
                        }
                    },
                },
            ),
        },
        f"{base}/{{id}}/schedule": {
            "parameters": [event_id],
            "get": _operation("排期", "401", "403", "404", answer=schedule),
            "post": _operation(
                "为当前配对排期（保留已公布的安排并报告变动）",
                "401",
                "403",
                "404",
                "409",
                "422",
                answer=schedule,
            ),
        },
        f"{base}/{{id}}/meetings/{{meeting_id}}/outcome": {
            "parameters": [event_id, _id("meeting_id")],
            "post": _operation(
                "记录洽谈结果（签约须填金额）",
                "400",
                "401",
                "403",
                "404",
                "409",
                "415",
                "422",
                body={
                    "type": "object",
                    "required": ["outcome"],
                    "properties": {
                        "outcome": {"type": "string", "enum": list(OUTCOMES)},
                        "amount": {"type": "string", "example": "500000.00"},
                        "note": {"type": "string", "maxLength": 2000},
                    },
                },
            ),
        },
    }
