"""The subsidy endpoints in the OpenAPI document (CONTRACT.md: subsidies)."""

from typing import Any

from marketplace.api.openapi import _errors, _json, operation, path_id
from marketplace.items.fields import MONEY_PATTERN
from marketplace.subsidies import services

MONEY = {
    "type": "string",
    "pattern": MONEY_PATTERN.pattern,
    "description": '以元为单位的金额，字符串，最多两位小数，如 "1250000.00"',
}
ID = {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}
LOAN = {
    "type": "object",
    "additionalProperties": False,
    "required": list(services.LOAN_FIELDS),
    "properties": {
        "principal": {**MONEY, "pattern": "^[1-9]\\d{0,11}(\\.\\d{1,2})?$"},
        "lpr": {
            "type": "string",
            "pattern": services.LPR_PATTERN.pattern,
            "description": '同期LPR，百分数："3.10" 表示 3.10%',
        },
        "start": {"type": "string", "format": "date"},
        "months": {
            "type": "integer",
            "minimum": 1,
            "maximum": services.MAX_LOAN_MONTHS,
        },
    },
}


def _line() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "properties": {
            "rule": text,
            "name": text,
            "source": text,
            "source_text": text,
            "recipient": text,
            "applicable": {"type": "boolean"},
            "amount_before_caps": text,
            "amount": text,
            "exclusion_group": text,
            "paid": {"type": "boolean", "description": "按“就高不重复”计入合计"},
            "explanation": text,
            "guideline": {"type": "string", "nullable": True},
            "caps": {"type": "array", "items": {"type": "object"}},
        },
    }


def subsidy_paths() -> dict[str, Any]:
    kinds = sorted(
        {k for rule in services.bundled_rulebook().rules for k in rule.insurance_kinds}
    )
    request = {
        "type": "object",
        "additionalProperties": False,
        "required": ["applicant_id", "application_date"],
        "properties": {
            "applicant_id": {**ID, "description": "申请单位（场景应用单位）编号"},
            "provider_id": {**ID, "nullable": True, "description": "场景提供企业编号"},
            "insurer_id": {**ID, "nullable": True, "description": "保险机构编号"},
            "scene_id": {**ID, "nullable": True, "description": "申请单位的场景编号"},
            "application_date": {"type": "string", "format": "date"},
            **{name: MONEY for name in services.MONEY_FIELDS},
            "district_supported": {
                "type": "boolean",
                "description": "已获所在区区级支持",
            },
            "loans": {"type": "array", "maxItems": services.MAX_LOANS, "items": LOAN},
            "insurance_kind": {"type": "string", "enum": ["", *kinds]},
            "assessment_score": {
                "type": "string",
                "pattern": services.SCORE_PATTERN.pattern,
                "description": "综合评价得分（百分制），园区载体奖励、促进机构资金使用",
            },
        },
    }
    answer = {
        "type": "object",
        "required": ["lines", "total"],
        "properties": {
            "id": {
                "type": "integer",
                "nullable": True,
                "description": "登录后测算才保存",
            },
            "status": {
                "type": "string",
                "nullable": True,
                "enum": ["quoted", "awarded", None],
            },
            "lines": {"type": "array", "items": _line()},
            "total": {"type": "string", "description": "已支付各项之和，元"},
            "notices": {"type": "array", "items": {"type": "string"}},
            "rounding": {"type": "string"},
        },
    }
    quote_id = path_id("id")
    return {
        "/api/v1/subsidies/quote": {
            "post": {
                "summary": "测算项目可得的奖补（逐条适用与否、封顶、就高不重复）",
                "description": (
                    "任何人可测算；携带令牌时测算记录被保存，可由审核部门审定。"
                ),
                "requestBody": {"required": True, **_json(request)},
                "responses": {
                    "200": {"description": "测算结果", **_json(answer)},
                    **_errors("400", "404", "409", "415", "422"),
                },
            }
        },
        "/api/v1/subsidies/quotes": {
            "get": operation("本人可见的测算记录（最近200条）", "401", "403")
        },
        "/api/v1/subsidies/quotes/{id}": {
            "parameters": [quote_id],
            "get": operation("查看一条测算记录", "401", "403", "404", answer=answer),
        },
        "/api/v1/subsidies/quotes/{id}/award": {
            "parameters": [quote_id],
            "post": operation(
                "审核部门审定测算为奖励（按最新台账重新核算，有变化则须重新测算）",
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
                    "properties": {"comment": {"type": "string", "maxLength": 500}},
                },
                answer=answer,
            ),
        },
        "/api/v1/subsidies/rules": {
            "get": {
                "summary": "奖补政策条款：出处、有效期、受益方、档位、封顶、分组",
                "responses": {"200": {"description": "条款列表"}},
            }
        },
        "/api/v1/subsidies/rules/{rule_id}/tiers": {
            "parameters": [
                {
                    "name": "rule_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[a-z_]{1,60}$"},
                }
            ],
            "put": operation(
                "系统管理员调整实施细则待定的档位（另存为新版本）",
                "400",
                "401",
                "403",
                "404",
                "415",
                "422",
                body={
                    "type": "object",
                    "required": ["tiers"],
                    "properties": {
                        "tiers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "minimum": {"type": "string"},
                                    "amount": {"type": "string"},
                                    "rate": {"type": "string"},
                                },
                            },
                        },
                        "note": {"type": "string", "maxLength": 500},
                    },
                },
            ),
        },
    }
