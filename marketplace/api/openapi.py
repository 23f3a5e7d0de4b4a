"""The OpenAPI 3 document of /api/v1, built from the same field declarations the
server validates with, so the two cannot drift apart."""

from typing import Any

from flask import Blueprint, jsonify, render_template

from marketplace.capabilities.services import CAPABILITIES
from marketplace.db import get_session
from marketplace.integers import DATABASE_INT_MAX
from marketplace.items.services import FIRST_YEAR, LAST_YEAR, MAX_PER_PAGE, ItemKind
from marketplace.items.workflow import STATUSES
from marketplace.notifications.schemas import openapi_paths as notification_paths
from marketplace.organizations import api as organizations_api
from marketplace.organizations.services import ORGANIZATION_FIELDS
from marketplace.policy import PUBLIC, access
from marketplace.scenes.services import SCENES
from marketplace.search import MAX_QUERY_LENGTH
from marketplace.taxonomy import VOCABULARIES, Taxonomy, get_taxonomy

bp = Blueprint("openapi", __name__)

ERROR_STATUSES = {
    "400": "请求格式有误",
    "401": "未登录或令牌无效",
    "403": "无权操作",
    "404": "不存在或不可见",
    "409": "状态冲突（如不允许的状态变更）",
    "413": "内容过大",
    "415": "内容类型不是 JSON",
    "422": "字段校验失败",
    "429": "尝试过于频繁，按 Retry-After 的秒数后再试",
}
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
# parse_int's bound: a larger page number is refused with 422.
PAGE_PARAMETER = {
    "name": "page",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": DATABASE_INT_MAX},
}
YEAR_PARAMETER = {
    "name": "year",
    "in": "query",
    "schema": {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR},
    "description": "只看该年（北京时间）提交的条目",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {
        code: {"description": ERROR_STATUSES[code], **_json(_ref("Error"))}
        for code in codes
    }


SECURED = [{"bearer": []}]


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def operation(
    summary: str,
    *codes: str,
    body: dict[str, Any] | None = None,
    ok: str = "200",
    answer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An operation that needs a token, with its error statuses."""
    success: dict[str, Any] = {"description": "成功"}
    if answer is not None:
        success.update(_json(answer))
    result: dict[str, Any] = {
        "summary": summary,
        "security": SECURED,
        "responses": {ok: success, **_errors(*codes)},
    }
    if body is not None:
        result["requestBody"] = _json(body)
    return result


def _input_schema(
    fields: tuple[Any, ...], taxonomy: Taxonomy | None, *, required: bool
) -> dict[str, Any]:
    """A request body: the field declarations the server validates with."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: f.openapi(taxonomy) for f in fields},
    }
    names = [f.name for f in fields if f.required and f.kind != "bool"]
    if required and names:
        schema["required"] = names
    return schema


def _item_schema(kind: ItemKind, taxonomy: Taxonomy | None) -> dict[str, Any]:
    properties = {f.name: f.openapi(taxonomy, output=True) for f in kind.fields}
    properties.update(
        id={"type": "integer"},
        status={"type": "string", "enum": list(STATUSES[kind.name])},
        status_label={"type": "string"},
        organization_id={"type": "integer"},
        organization_name={"type": "string"},
        published_at={"type": "string", "format": "date-time", "nullable": True},
        created_at={"type": "string", "format": "date-time"},
        updated_at={"type": "string", "format": "date-time"},
    )
    for name in ("contact_name", "contact_phone", "contact_email"):
        properties[name] = {
            "type": "string",
            "nullable": True,
            "description": "仅在公开联系方式或本单位、促进中心查看时返回",
        }
    return {"type": "object", "properties": properties}


def _query_schema(field: Any, taxonomy: Taxonomy | None) -> dict[str, Any]:
    """A filter in the query string: the field's values, none of them required."""
    schema = field.openapi(taxonomy, output=True)
    schema.pop("nullable", None)
    return schema


def _item_paths(
    kind: ItemKind, schema_name: str, taxonomy: Taxonomy | None
) -> dict[str, Any]:
    base = f"/api/v1/{kind.plural}"
    item_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    list_params = [
        {
            "name": "q",
            "in": "query",
            "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH},
            "description": "中文全文检索（标题与描述），包含全部词语的条目排在前面",
        },
        {
            "name": "status",
            "in": "query",
            "schema": {"type": "string", "enum": list(STATUSES[kind.name])},
            "description": "默认只列出已发布条目；其他状态仅对有权查看者列出",
        },
        {
            "name": "mine",
            "in": "query",
            "schema": {"type": "boolean"},
            "description": "只看本单位的条目（需登录）",
        },
        {
            "name": "sort",
            "in": "query",
            "schema": {
                "type": "string",
                "enum": [
                    "newest",
                    "deadline",
                    "budget_desc",
                    "budget_asc",
                    "relevance",
                ],
            },
        },
        PAGE_PARAMETER,
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        },
        YEAR_PARAMETER,
    ] + [
        {"name": f.name, "in": "query", "schema": _query_schema(f, taxonomy)}
        for f in kind.filter_fields
    ]
    page_schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref(schema_name)},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
        },
    }
    secured = [{"bearer": []}]
    return {
        base: {
            "get": {
                "summary": f"列出{kind.label}",
                "parameters": list_params,
                "security": [],
                "responses": {
                    "200": {"description": "一页结果", **_json(page_schema)},
                    # mine=true is for the accounts that post items.
                    **_errors("403", "422"),
                },
            },
            "post": {
                "summary": f"新建{kind.label}草稿",
                "security": secured,
                "requestBody": _json(_ref(f"{schema_name}Input")),
                "responses": {
                    "201": {"description": "已创建的草稿", **_json(_ref(schema_name))},
                    **_errors("400", "401", "403", "415", "422"),
                },
            },
        },
        f"{base}/{{id}}": {
            "parameters": [item_id],
            "get": {
                "summary": f"查看{kind.label}",
                "security": [],
                "responses": {
                    "200": {"description": kind.label, **_json(_ref(schema_name))},
                    **_errors("404"),
                },
            },
            "patch": {
                "summary": f"修改草稿或已退回的{kind.label}",
                "security": secured,
                "requestBody": _json(_ref(f"{schema_name}Patch")),
                "responses": {
                    "200": {"description": "修改后的条目", **_json(_ref(schema_name))},
                    **_errors("400", "401", "403", "404", "409", "415", "422"),
                },
            },
            "delete": {
                "summary": "删除草稿",
                "security": secured,
                "responses": {
                    "204": {"description": "已删除"},
                    **_errors("401", "403", "404", "409"),
                },
            },
        },
        f"{base}/{{id}}/transition": {
            "parameters": [item_id],
            "post": {
                "summary": "变更状态（提交、审核、发布、撤回等）",
                "security": secured,
                "requestBody": _json(_ref("Transition")),
                "responses": {
                    "200": {"description": "变更后的条目", **_json(_ref(schema_name))},
                    **_errors("400", "401", "403", "404", "409", "415", "422", "429"),
                },
            },
        },
    }


def _match_paths() -> dict[str, Any]:
    item_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    k = {
        "name": "k",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
    }
    reason = {
        "type": "object",
        "properties": {
            "factor": {"type": "string"},
            "label": {"type": "string"},
            "share": {"type": "number", "description": "占得分的比例"},
            "text": {"type": "string", "description": "中文理由"},
        },
    }

    def proposals(id_field: str) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            id_field: {"type": "integer"},
                            "title": {"type": "string"},
                            "organization_name": {"type": "string"},
                            "score": {
                                "type": "number",
                                "description": "0—1：经校准的匹配可信度，"
                                "即促进中心判为相关的估计概率",
                            },
                            "strong": {
                                "type": "boolean",
                                "description": "强匹配：在已标注的配对上，"
                                "此分数以上的配对至少五分之四被判为相关",
                            },
                            "reasons": {"type": "array", "items": reason},
                            "feedback": {
                                "type": "boolean",
                                "nullable": True,
                                "description": "促进中心的标注，仅促进中心可见",
                            },
                        },
                    },
                }
            },
        }

    check = {
        "type": "object",
        "properties": {
            "too_vague": {"type": "boolean"},
            "quality": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
            "duplicates": {"type": "array", "items": {"type": "object"}},
        },
    }
    check_body = _json(
        {
            "type": "object",
            "required": ["title", "description"],
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "id": {"type": "integer", "description": "修改已有条目时填写"},
            },
        }
    )
    secured = [{"bearer": []}]
    return {
        "/api/v1/scenes/{id}/matches": {
            "parameters": [item_id],
            "get": {
                "summary": "场景机会的推荐场景能力（含理由）",
                "security": [],
                "parameters": [k],
                "responses": {
                    "200": {"description": "推荐", **_json(proposals("capability_id"))},
                    **_errors("404", "422"),
                },
            },
        },
        "/api/v1/capabilities/{id}/matches": {
            "parameters": [item_id],
            "get": {
                "summary": "场景能力可对接的场景机会（含理由）",
                "security": [],
                "parameters": [k],
                "responses": {
                    "200": {"description": "推荐", **_json(proposals("scene_id"))},
                    **_errors("404", "422"),
                },
            },
        },
        "/api/v1/matches/feedback": {
            "get": {
                "summary": "促进中心的匹配标注（标注数据）",
                "security": secured,
                "responses": {
                    "200": {"description": "标注", **_json({"type": "object"})},
                    **_errors("401", "403"),
                },
            },
            "post": {
                "summary": "标注一个推荐配对是否相关",
                "security": secured,
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["scene_id", "capability_id", "relevant"],
                        "properties": {
                            "scene_id": {"type": "integer"},
                            "capability_id": {"type": "integer"},
                            "relevant": {"type": "boolean"},
                        },
                    }
                ),
                "responses": {
                    "201": {"description": "已记录"},
                    **_errors("400", "401", "403", "404", "415", "422"),
                },
            },
        },
        "/api/v1/scenes/check": {
            "post": {
                "summary": "保存前检查场景描述是否具体、是否与已有条目重复",
                "security": secured,
                "requestBody": check_body,
                "responses": {
                    "200": {"description": "检查结果", **_json(check)},
                    **_errors("400", "401", "403", "415", "422"),
                },
            }
        },
        "/api/v1/capabilities/check": {
            "post": {
                "summary": "保存前检查能力描述是否具体、是否与已有条目重复",
                "security": secured,
                "requestBody": check_body,
                "responses": {
                    "200": {"description": "检查结果", **_json(check)},
                    **_errors("400", "401", "403", "415", "422"),
                },
            }
        },
    }


def _edition_paths() -> dict[str, Any]:
    edition_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    edition = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "list": {"type": "string", "enum": ["scenes", "capabilities"]},
            "label": {"type": "string", "example": "2026年第3期"},
            "year": {"type": "integer"},
            "sequence": {"type": "integer"},
            "published_at": {"type": "string", "format": "date-time"},
            "item_count": {"type": "integer"},
            "digest": {
                "type": "string",
                "description": "本期 SHA-256 摘要（与上一期相链）",
            },
            "previous_digest": {"type": "string"},
            "digest_version": {
                "type": "integer",
                "enum": [1, 2],
                "description": "摘要版本；2 起还覆盖发布人、条目数、统计和期次",
            },
            "published_by": {"type": "string"},
            "summary": {
                "type": "object",
                "description": "新增、变更、撤下及分领域、板块、产业计数",
            },
        },
    }
    return {
        "/api/v1/editions": {
            "get": {
                "summary": "已发布的各期清单",
                "security": [],
                "parameters": [
                    {
                        "name": "list",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["scenes", "capabilities"],
                        },
                    }
                ],
                "responses": {
                    "200": {
                        "description": "各期清单",
                        **_json(
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": edition},
                                    "total": {"type": "integer"},
                                },
                            }
                        ),
                    },
                    **_errors("422"),
                },
            }
        },
        "/api/v1/editions/{id}": {
            "parameters": [edition_id],
            "get": {
                "summary": "一期清单及其全部条目",
                "security": [],
                "responses": {
                    "200": {"description": "清单", **_json(edition)},
                    **_errors("404"),
                },
            },
        },
        "/api/v1/editions/{id}/export.{fmt}": {
            "parameters": [
                edition_id,
                {
                    "name": "fmt",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["xlsx", "csv", "json"]},
                },
            ],
            "get": {
                "summary": "下载一期清单（XLSX、CSV 或 JSON）",
                "security": [],
                "responses": {"200": {"description": "文件（附件）"}, **_errors("404")},
            },
        },
    }


def build_document(taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """The document; with `taxonomy`, enumerated fields list its current names."""
    organization = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            **{f.name: f.openapi(taxonomy, output=True) for f in ORGANIZATION_FIELDS},
        },
    }
    organization_page = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Organization")},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
        },
    }
    org_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    secured = [{"bearer": []}]
    allow_similar = {
        "name": "allow_similar",
        "in": "query",
        "schema": {"type": "string", "enum": ["1", "true"]},
        "description": "确认不是与相似名称的已有单位同一单位",
    }
    paths: dict[str, Any] = {
        "/api/v1/auth/token": {
            "post": {
                "summary": "用用户名和密码换取访问令牌",
                "security": [],
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {
                            "username": {"type": "string"},
                            "password": {"type": "string"},
                        },
                    }
                ),
                "responses": {
                    "201": {
                        "description": "令牌",
                        **_json(
                            {
                                "type": "object",
                                "properties": {
                                    "token": {"type": "string"},
                                    "expires_at": {
                                        "type": "string",
                                        "format": "date-time",
                                    },
                                    "user": {"type": "object"},
                                },
                            }
                        ),
                    },
                    **_errors("400", "401", "415", "422", "429"),
                },
            },
            "delete": {
                "summary": "注销当前令牌",
                "security": secured,
                "responses": {"204": {"description": "已注销"}, **_errors("401")},
            },
        },
        "/api/v1/auth/me": {
            "get": {
                "summary": "当前用户",
                "security": secured,
                "responses": {
                    "200": {"description": "用户", **_json({"type": "object"})},
                    **_errors("401"),
                },
            },
        },
        "/api/v1/taxonomy": {
            "get": {
                "summary": "分类与枚举值",
                "security": [],
                "responses": {
                    "200": {
                        "description": "各分类的中文取值",
                        **_json(_ref("Taxonomy")),
                    }
                },
            },
        },
        "/api/v1/organizations": {
            "get": {
                "summary": "列出单位",
                "security": [],
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "maxLength": organizations_api.MAX_QUERY_LENGTH,
                        },
                    },
                    {"name": "kind", "in": "query", "schema": {"type": "string"}},
                    {"name": "district", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": organizations_api.MAX_PAGE,
                        },
                    },
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": organizations_api.MAX_PER_PAGE,
                        },
                    },
                ],
                "responses": {
                    "200": {"description": "一页单位", **_json(organization_page)},
                    **_errors("422"),
                },
            },
            "post": {
                "summary": "新建单位（管理员、促进中心）",
                "description": "名称与已有单位相似（如“无锡XX科技有限公司”"
                "与“XX科技”）时返回 409 similar_organization；"
                "确认不是同一单位后加 allow_similar=1 再提交",
                "security": secured,
                "parameters": [allow_similar],
                "requestBody": _json(
                    _input_schema(ORGANIZATION_FIELDS, taxonomy, required=True)
                ),
                "responses": {
                    "201": {"description": "单位", **_json(_ref("Organization"))},
                    **_errors("400", "401", "403", "409", "415", "422"),
                },
            },
        },
        "/api/v1/organizations/{id}": {
            "parameters": [org_id],
            "get": {
                "summary": "查看单位",
                "security": [],
                "responses": {
                    "200": {"description": "单位", **_json(_ref("Organization"))},
                    **_errors("404"),
                },
            },
            "patch": {
                "summary": "修改单位（管理员、促进中心）",
                "security": secured,
                "parameters": [allow_similar],
                "requestBody": _json(
                    _input_schema(ORGANIZATION_FIELDS, taxonomy, required=False)
                ),
                "responses": {
                    "200": {"description": "单位", **_json(_ref("Organization"))},
                    **_errors("400", "401", "403", "404", "409", "415", "422"),
                },
            },
        },
    }
    paths.update(_item_paths(SCENES, "Scene", taxonomy))
    paths.update(_item_paths(CAPABILITIES, "Capability", taxonomy))
    paths.update(_match_paths())
    paths.update(_edition_paths())
    paths.update(notification_paths(taxonomy))
    # Imported here: the events module builds its paths with this module's helpers.
    from marketplace.events.openapi import event_paths

    paths.update(event_paths(taxonomy))
    from marketplace.dashboard.openapi import dashboard_paths
    from marketplace.plans.openapi import plan_paths
    from marketplace.subsidies.openapi import subsidy_paths

    paths.update(subsidy_paths())
    paths.update(plan_paths())
    paths.update(dashboard_paths(taxonomy))
    paths["/api/v1/capabilities/{id}/renew"] = {
        "parameters": [org_id],
        "post": {
            "summary": "续期已发布的能力（12个月未更新或续期则不进入清单）",
            "security": secured,
            "responses": {
                "200": {"description": "续期后的能力", **_json(_ref("Capability"))},
                **_errors("401", "403", "404", "409"),
            },
        },
    }
    taxonomy_schema = {
        "type": "object",
        "properties": {
            name: {"type": "array", "title": label}
            for name, label in VOCABULARIES.items()
        },
    }
    _document_what_every_operation_does(paths)
    return {
        "openapi": "3.0.3",
        "info": {"title": "无锡场景创新供需对接平台 API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        }
                    },
                },
                "Transition": {
                    "type": "object",
                    "required": ["to"],
                    "properties": {
                        "to": {"type": "string"},
                        "comment": {"type": "string"},
                    },
                },
                "Taxonomy": taxonomy_schema,
                "Organization": organization,
                "Scene": _item_schema(SCENES, taxonomy),
                "SceneInput": _input_schema(SCENES.fields, taxonomy, required=True),
                "ScenePatch": _input_schema(SCENES.fields, taxonomy, required=False),
                "Capability": _item_schema(CAPABILITIES, taxonomy),
                "CapabilityInput": _input_schema(
                    CAPABILITIES.fields, taxonomy, required=True
                ),
                "CapabilityPatch": _input_schema(
                    CAPABILITIES.fields, taxonomy, required=False
                ),
            },
        },
    }


def _document_what_every_operation_does(paths: dict[str, Any]) -> None:
    """What holds for every operation, stated once: a bearer token is checked on
    public operations too (a revoked or malformed one gets 401), no query parameter
    may hold NUL, and a request body is required where one is declared."""
    for path in paths.values():
        for method in HTTP_METHODS:
            if method in path:
                path[method]["responses"].setdefault("401", _errors("401")["401"])
                for parameter in (
                    *path.get("parameters", ()),
                    *path[method].get("parameters", ()),
                ):
                    _no_nul(parameter["schema"])
                # Every body the API takes is required: none sent is a 415 or 422.
                if "requestBody" in path[method]:
                    path[method]["requestBody"]["required"] = True


# Query parameters and forms with a NUL are refused (security._refuse_nul_characters).
NO_NUL_PATTERN = "^[^\\x00]*$"


def _no_nul(schema: dict[str, Any]) -> None:
    if schema.get("type") == "string" and "enum" not in schema:
        schema.setdefault("pattern", NO_NUL_PATTERN)


@bp.get("/api/openapi.json")
@access(PUBLIC)
def document() -> object:
    # Built per request: the taxonomy is edited by the admin, and the enums follow.
    return jsonify(build_document(get_taxonomy(get_session())))


@bp.get("/api/docs")
@access(PUBLIC)
def docs() -> str:
    """The document for people: Swagger UI, served from the project."""
    return render_template("api_docs.html")
