"""Field rules for item input, declared once for the API, the forms and OpenAPI.

Every problem is collected per field with a Chinese reason, then raised together as
one `Invalid`, so nothing is written when any field is wrong.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from marketplace.errors import Invalid
from marketplace.taxonomy import Taxonomy

MONEY_PATTERN = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
# What the document states: a positive amount without leading zeros. Written without
# lookahead so that clients and test generators can use it as it is.
POSITIVE_MONEY_PATTERN = re.compile(
    r"^([1-9]\d{0,11}(\.\d{1,2})?|0\.(0[1-9]|[1-9]\d?))$"
)
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PHONE_PATTERN = re.compile(r"^[0-9+\-() ]{5,30}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_DEADLINE_YEARS = 5


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | choice | choices | money | date | bool | phone | email
    required: bool = True
    min_length: int = 0
    max_length: int | None = None
    vocabulary: str | None = None
    help: str = ""

    def openapi(
        self, taxonomy: Taxonomy | None = None, *, output: bool = False
    ) -> dict[str, Any]:
        """This field as an OpenAPI schema property.

        With `taxonomy`, choices carry the current names as an `enum`, so the
        document refuses what the server refuses. With `output`, the schema is that
        of the value returned: an optional field comes back as null when empty.
        """
        schema: dict[str, Any]
        names = taxonomy.names(self.vocabulary) if taxonomy and self.vocabulary else []
        if self.kind in ("text", "phone", "email"):
            schema = {"type": "string"}
            if self.max_length:
                schema["maxLength"] = self.max_length
            if self.min_length or (self.required and not output):
                schema["minLength"] = max(self.min_length, 1)
            if self.kind != "text":
                pattern = PHONE_PATTERN if self.kind == "phone" else EMAIL_PATTERN
                schema["pattern"] = pattern.pattern
        elif self.kind == "choice":
            schema = {
                "type": "string",
                "description": f"取值见 taxonomy.{self.vocabulary}",
            }
            if names:
                schema["enum"] = names
        elif self.kind == "choices":
            schema = {
                "type": "array",
                "items": {"type": "string", **({"enum": names} if names else {})},
                "description": f"取值见 taxonomy.{self.vocabulary}",
            }
            if self.max_length:
                schema["maxItems"] = self.max_length
            if self.required and not output:
                schema["minItems"] = 1
        elif self.kind == "money":
            schema = {
                "type": "string",
                "pattern": POSITIVE_MONEY_PATTERN.pattern,
                "nullable": True,
                "example": "1250000.00",
            }
        elif self.kind == "date":
            schema = {"type": "string", "format": "date"}
        else:
            schema = {"type": "boolean"}
        if output and not self.required and self.kind != "bool":
            schema["nullable"] = True
        schema["title"] = self.label
        if self.help:
            schema["description"] = self.help
        return schema


def _clean_text(value: Any, field: Field) -> str:
    if value is None and not field.required:
        return ""
    if not isinstance(value, str):
        raise ValueError("应为文本")
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text):
        raise ValueError("含有不可见的控制字符")
    if any(unicodedata.category(c) == "Cs" for c in text):
        raise ValueError("含有无效字符")
    if field.max_length is not None and len(text) > field.max_length:
        raise ValueError(f"不能超过{field.max_length}个字符（当前{len(text)}个）")
    if field.required and not text:
        raise ValueError("不能为空")
    if text and len(text) < field.min_length:
        raise ValueError(f"至少{field.min_length}个字符")
    return text


def _clean_choice(value: Any, field: Field, taxonomy: Taxonomy) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("请选择")
    names = taxonomy.names(field.vocabulary or "")
    if value.strip() not in names:
        raise ValueError(
            f"“{value[:30]}”不是有效的{field.label}，可选：{'、'.join(names)}"
        )
    return value.strip()


def _clean_choices(value: Any, field: Field, taxonomy: Taxonomy) -> list[str]:
    if isinstance(value, str):
        value = [value] if value.strip() else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("应为文本列表")
    if field.required and not value:
        raise ValueError("至少选择一项")
    if field.max_length is not None and len(value) > field.max_length:
        raise ValueError(f"最多选择{field.max_length}项")
    names = set(taxonomy.names(field.vocabulary or ""))
    unknown = [v for v in value if v.strip() not in names]
    if unknown:
        raise ValueError(f"“{unknown[0][:30]}”不是有效的{field.label}")
    return list(dict.fromkeys(v.strip() for v in value))


def _clean_money(value: Any, field: Field) -> Decimal | None:
    if value is None or value == "":
        if field.required:
            raise ValueError("不能为空")
        return None
    if not isinstance(value, str):
        raise ValueError('金额应为字符串形式的数字，如 "1250000.00"')
    text = value.strip()
    if not MONEY_PATTERN.match(text):
        raise ValueError("金额应为不小于0的数字，最多两位小数，不带逗号，如 1250000.00")
    amount = Decimal(text)
    if amount <= 0:
        raise ValueError("金额应大于0；金额面议请留空")
    if not POSITIVE_MONEY_PATTERN.match(text):
        raise ValueError("金额不要以0开头，如 1250000.00")
    return amount


def _clean_date(value: Any, field: Field) -> date:
    if not isinstance(value, str) or not DATE_PATTERN.match(value.strip()):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("日期不存在") from None


def _clean_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("on", "1", "true", "yes"):
        return True
    if value in (None, "", "0", "false", "off", "no"):
        return False
    raise ValueError("应为是或否")


def _clean_one(value: Any, field: Field, taxonomy: Taxonomy) -> Any:
    if field.kind == "text":
        return _clean_text(value, field)
    if field.kind in ("phone", "email"):
        text = _clean_text(value, field)
        pattern = PHONE_PATTERN if field.kind == "phone" else EMAIL_PATTERN
        if text and not pattern.match(text):
            raise ValueError("格式不正确")
        return text
    if field.kind == "choice":
        return _clean_choice(value, field, taxonomy)
    if field.kind == "choices":
        return _clean_choices(value, field, taxonomy)
    if field.kind == "money":
        return _clean_money(value, field)
    if field.kind == "date":
        return _clean_date(value, field)
    return _clean_bool(value)


def parse_fields(
    fields: tuple[Field, ...],
    payload: Any,
    taxonomy: Taxonomy,
    *,
    partial: bool = False,
) -> dict[str, Any]:
    """Validate `payload` against `fields`; unknown keys are ignored, never applied.

    With `partial`, only the keys present are checked (PATCH).
    """
    if not isinstance(payload, Mapping):
        raise Invalid("请求内容应为对象", code="invalid_body")
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in fields:
        if field.name not in payload:
            if partial:
                continue
            if field.required and field.kind != "bool":
                problems[field.name] = f"{field.label}：必填"
                continue
        try:
            values[field.name] = _clean_one(payload.get(field.name), field, taxonomy)
        except ValueError as exc:
            problems[field.name] = f"{field.label}：{exc}"
    if problems:
        raise Invalid("提交的内容有误，请按提示修改", fields=problems)
    return values


def check_deadline(deadline: date, today: date) -> None:
    """A deadline must lie ahead, and not absurdly far."""
    if deadline < today:
        raise Invalid(
            "截止日期不能早于今天", fields={"deadline": "截止日期不能早于今天"}
        )
    if deadline > today + timedelta(days=366 * MAX_DEADLINE_YEARS):
        message = f"截止日期不能晚于{MAX_DEADLINE_YEARS}年后"
        raise Invalid(message, fields={"deadline": message})


def form_payload(fields: tuple[Field, ...], form: Any) -> dict[str, Any]:
    """Turn an HTML form (a MultiDict) into the same shape as an API payload."""
    payload: dict[str, Any] = {}
    for field in fields:
        if field.kind == "choices":
            payload[field.name] = form.getlist(field.name)
        elif field.kind == "bool":
            payload[field.name] = form.get(field.name, "")
        elif field.name in form:
            payload[field.name] = form.get(field.name)
    return payload
