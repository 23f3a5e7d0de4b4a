"""The dashboard endpoint in the OpenAPI document (CONTRACT.md: dashboard)."""

from typing import Any

from marketplace.api.openapi import YEAR_PARAMETER, _errors, _json
from marketplace.taxonomy import Taxonomy

COUNTS = {
    "type": "object",
    "additionalProperties": {"type": "integer"},
    "description": "中文名称 → 数量",
}
MONEY = {"type": "string", "description": '以元为单位的金额，如 "1250000.00"'}


def _kind() -> dict[str, Any]:
    monthly = {"type": "array", "items": {"type": "integer"}, "minItems": 12}
    return {
        "type": "object",
        "properties": {
            "total": {"type": "integer", "description": "已发布（与清单默认一致）"},
            "by_domain": COUNTS,
            "by_district": COUNTS,
            "by_industry": COUNTS,
            "by_industry_group": COUNTS,
            "by_status": {**COUNTS, "description": "状态中文名 → 数量"},
            "by_status_key": {**COUNTS, "description": "状态代码 → 数量"},
            "by_category": {"type": "object", "additionalProperties": COUNTS},
            "monthly_posted": monthly,
            "monthly_published": monthly,
        },
    }


def dashboard_paths(taxonomy: Taxonomy | None) -> dict[str, Any]:
    def choice(name: str, vocabulary: str, label: str) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if taxonomy is not None:
            schema["enum"] = taxonomy.names(vocabulary)
        return {"name": name, "in": "query", "schema": schema, "description": label}

    stage = {
        "type": "object",
        "properties": {
            "stage": {"type": "string"},
            "key": {"type": "string"},
            "count": {"type": "integer"},
        },
    }
    answer = {
        "type": "object",
        "properties": {
            "year": {"type": "integer"},
            "internal": {"type": "boolean", "description": "含审核中的条目与签约金额"},
            "filters": {"type": "object"},
            "scenes": _kind(),
            "capabilities": _kind(),
            "funnel": {"type": "array", "items": stage},
            "funnel_by_domain": {"type": "object"},
            "funnel_by_district": {"type": "object"},
            "budget_total": MONEY,
            "budget_by_domain": {"type": "object", "additionalProperties": MONEY},
            "editions": COUNTS,
            "events_held": {"type": "integer"},
            "meetings_held": {"type": "integer"},
            "signed_amount": {**MONEY, "nullable": True},
            "targets": {"type": "array", "items": {"type": "object"}},
        },
    }
    return {
        "/api/v1/dashboard": {
            "get": {
                "summary": "数据看板：场景与能力的分布、转化漏斗、趋势与目标进展"
                "（每个数量等于清单接口同样条件下的 total）",
                "parameters": [
                    YEAR_PARAMETER,
                    choice("domain", "domains", "领域"),
                    choice("district", "districts", "板块"),
                    choice("industry", "industries", "产业方向"),
                ],
                "security": [],
                "responses": {
                    "200": {"description": "看板数字", **_json(answer)},
                    **_errors("422"),
                },
            }
        }
    }
