"""Input rules and JSON shapes of notifications, saved searches and mail settings,
declared once for the forms, the API and the OpenAPI document."""

import re
from typing import Any

from marketplace.integers import DATABASE_INT_MAX
from marketplace.items.fields import Field
from marketplace.notifications.models import (
    KINDS,
    LISTS,
    Notification,
    SavedSearch,
)
from marketplace.search import MAX_QUERY_LENGTH
from marketplace.taxonomy import Taxonomy

# Stricter than the contact-e-mail rule: the address goes into a To: header, so
# only plain ASCII addresses (no display names, quotes, commas or line breaks).
MAIL_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
MAX_READ_IDS = 500

SAVED_SEARCH_FIELDS = (
    Field("name", "名称", "text", required=False, max_length=100),
    Field("words", "关键词", "text", required=False, max_length=MAX_QUERY_LENGTH),
    Field("domain", "领域", "choice", required=False, vocabulary="domains"),
    Field("district", "板块", "choice", required=False, vocabulary="districts"),
)
SETTINGS_FIELDS = (
    Field(
        "email",
        "接收邮箱",
        "text",
        required=False,
        max_length=254,
        help="留空则只在站内查看通知",
    ),
)


def notification_to_json(notice: Notification) -> dict[str, Any]:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "kind_label": notice.kind_label,
        "item_kind": notice.item_kind,
        "item_id": notice.item_id,
        "title": notice.title,
        "body": notice.body,
        "link": notice.link,
        "created_at": notice.created_at.isoformat(),
        "read_at": notice.read_at.isoformat() if notice.read_at else None,
    }


def saved_search_to_json(search: SavedSearch) -> dict[str, Any]:
    return {
        "id": search.id,
        "list": search.list_kind,
        "name": search.name,
        "words": search.words,
        "domain": search.domain or None,
        "district": search.district or None,
        "created_at": search.created_at.isoformat(),
        "checked_until": search.checked_until.isoformat(),
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    reasons = {
        "400": "请求格式有误",
        "401": "未登录或令牌无效",
        "404": "不存在或不属于当前用户",
        "409": "已保存过相同的搜索",
        "415": "内容类型不是 JSON",
        "422": "字段校验失败",
    }
    error = {"$ref": "#/components/schemas/Error"}
    return {code: {"description": reasons[code], **_json(error)} for code in codes}


def openapi_paths(taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """The notification paths of the OpenAPI document."""
    notice = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "kind_label": {"type": "string"},
            "item_kind": {"type": "string", "enum": ["scene", "capability"]},
            "item_id": {"type": "integer"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "link": {"type": "string", "description": "站内路径，如 /scenes/12"},
            "created_at": {"type": "string", "format": "date-time"},
            "read_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    }
    search = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "list": {"type": "string", "enum": list(LISTS)},
            **{f.name: f.openapi(taxonomy, output=True) for f in SAVED_SEARCH_FIELDS},
            "created_at": {"type": "string", "format": "date-time"},
            "checked_until": {
                "type": "string",
                "format": "date-time",
                "description": "此时刻之后发布的匹配条目会成为通知",
            },
        },
    }
    search_input = {
        "type": "object",
        "required": ["list"],
        "description": "关键词、领域、板块至少填一项；匹配规则与列表页搜索相同",
        "properties": {
            "list": {"type": "string", "enum": list(LISTS)},
            **{f.name: f.openapi(taxonomy) for f in SAVED_SEARCH_FIELDS},
        },
    }
    secured = [{"bearer": []}]
    page = {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": DATABASE_INT_MAX},
    }
    per_page = {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
    }
    return {
        "/api/v1/notifications": {
            "get": {
                "summary": "当前用户的通知（未读在前，新的在前）",
                "security": secured,
                "parameters": [
                    {
                        "name": "unread",
                        "in": "query",
                        "schema": {"type": "boolean"},
                        "description": "只列出未读通知",
                    },
                    page,
                    per_page,
                ],
                "responses": {
                    "200": {
                        "description": "一页通知",
                        **_json(
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": notice},
                                    "total": {"type": "integer"},
                                    "page": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "unread": {"type": "integer"},
                                },
                            }
                        ),
                    },
                    **_errors("401", "422"),
                },
            }
        },
        "/api/v1/notifications/read": {
            "post": {
                "summary": "将通知标为已读（指定 ids，或 all 为 true 表示全部）",
                "security": secured,
                "requestBody": _json(
                    {
                        "type": "object",
                        "properties": {
                            "ids": {
                                "type": "array",
                                "items": {"type": "integer"},
                                "maxItems": MAX_READ_IDS,
                            },
                            "all": {"type": "boolean"},
                        },
                    }
                ),
                "responses": {
                    "200": {
                        "description": "已标记",
                        **_json(
                            {
                                "type": "object",
                                "properties": {
                                    "updated": {"type": "integer"},
                                    "unread": {"type": "integer"},
                                },
                            }
                        ),
                    },
                    **_errors("400", "401", "404", "415", "422"),
                },
            }
        },
        "/api/v1/saved-searches": {
            "get": {
                "summary": "当前用户保存的搜索",
                "security": secured,
                "responses": {
                    "200": {
                        "description": "保存的搜索",
                        **_json(
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": search},
                                    "total": {"type": "integer"},
                                },
                            }
                        ),
                    },
                    **_errors("401"),
                },
            },
            "post": {
                "summary": "保存一个搜索；之后新发布的匹配条目将成为通知",
                "security": secured,
                "requestBody": _json(search_input),
                "responses": {
                    "201": {"description": "已保存", **_json(search)},
                    **_errors("400", "401", "409", "415", "422"),
                },
            },
        },
        "/api/v1/saved-searches/{id}": {
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "delete": {
                "summary": "删除保存的搜索",
                "security": secured,
                "responses": {
                    "204": {"description": "已删除"},
                    **_errors("401", "404"),
                },
            },
        },
    }
