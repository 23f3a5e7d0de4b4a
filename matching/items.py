"""The unit the matcher works on: one scene opportunity or one capability."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TEXT_LENGTH = 20_000


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value if isinstance(v, str) and v.strip())
    return ()


def _budget(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    return float(amount)


@dataclass(frozen=True)
class Item:
    """A scene (demand) or capability (supply) as the matcher sees it.

    Scenes carry one domain and district, capabilities several; both are kept as
    tuples so either can stand on either side of a match.

    Parameters
    ----------
    id : str
        Identifier, returned in rankings.
    title, description : str
        Chinese (or mixed) text.
    domains, industries, districts : tuple of str
        Taxonomy names.
    budget : float, optional
        Yuan; only scenes have one.
    type, maturity, kind : str, optional
        Capability type and maturity; scene kind (技术驱动类 ...).
    tokens : tuple of str, optional
        Words already cut when the item was stored; the matcher cuts the text
        itself when they are missing.

    Examples
    --------
    >>> Item.from_dict({"id": 7, "title": "无人机巡检", "domain": "城市治理",
    ...                 "colour": "ignored"}).domains
    ('城市治理',)
    """

    id: str
    title: str
    description: str = ""
    domains: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    budget: float | None = None
    type: str | None = None
    maturity: str | None = None
    kind: str | None = None
    tokens: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Item":
        """Build from a JSON object; unknown keys are ignored.

        Raises ValueError when `id` is missing or there is no text at all.
        """
        if not isinstance(data, Mapping):
            raise ValueError("每行应为一个 JSON 对象")
        raw_id = data.get("id")
        if (
            raw_id is None
            or isinstance(raw_id, (dict, list, bool))
            or str(raw_id) == ""
        ):
            raise ValueError("缺少 id")
        title = data.get("title") if isinstance(data.get("title"), str) else ""
        description = data.get("description")
        description = description if isinstance(description, str) else ""
        if not (title.strip() or description.strip()):
            raise ValueError(f"条目 {raw_id} 没有标题或描述")
        tokens = data.get("tokens")
        return cls(
            id=str(raw_id),
            title=title[:MAX_TEXT_LENGTH],
            description=description[:MAX_TEXT_LENGTH],
            domains=_strings(data.get("domains")) or _strings(data.get("domain")),
            industries=_strings(data.get("industries")),
            districts=_strings(data.get("districts")) or _strings(data.get("district")),
            budget=_budget(data.get("budget")),
            type=data.get("type") if isinstance(data.get("type"), str) else None,
            maturity=data.get("maturity")
            if isinstance(data.get("maturity"), str)
            else None,
            kind=data.get("kind") if isinstance(data.get("kind"), str) else None,
            tokens=tuple(tokens) if isinstance(tokens, list) else None,
        )
