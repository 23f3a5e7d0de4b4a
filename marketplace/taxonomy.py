"""Taxonomies (districts, domains, industries...): editable data, seeded from files.

Items store the Chinese names themselves, as the API does, so a term is never renamed:
an admin adds terms and retires old ones (retired terms stay valid on existing items).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.db import Base
from marketplace.errors import Conflict, Invalid, NotFound

SEED_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "taxonomy.json"

VOCABULARIES: dict[str, str] = {
    "districts": "板块",
    "domains": "领域",
    "scene_kinds": "场景类型",
    "scene_categories": "场景类别",
    "industries": "产业",
    "capability_types": "能力类型",
    "maturities": "成熟度",
    "funding_sources": "资金来源",
    "organization_kinds": "单位类型",
}


class TaxonomyTerm(Base):
    __tablename__ = "taxonomy_terms"
    __table_args__ = (sa.UniqueConstraint("vocabulary", "name"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    vocabulary: orm.Mapped[str] = orm.mapped_column(sa.String(40))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(60))
    group: orm.Mapped[str] = orm.mapped_column(sa.String(60), default="")
    position: orm.Mapped[int] = orm.mapped_column(default=0)
    active: orm.Mapped[bool] = orm.mapped_column(default=True)


@dataclass(frozen=True)
class Taxonomy:
    """A snapshot of the active terms, by vocabulary, in display order."""

    terms: dict[str, list[TaxonomyTerm]]

    def names(self, vocabulary: str) -> list[str]:
        return [term.name for term in self.terms.get(vocabulary, [])]

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for vocabulary in VOCABULARIES:
            if vocabulary == "industries":
                result[vocabulary] = [
                    {"name": t.name, "group": t.group} for t in self.terms[vocabulary]
                ]
            else:
                result[vocabulary] = self.names(vocabulary)
        return result


def seed_entries() -> dict[str, list[dict[str, str]]]:
    """The seed file's vocabularies, each term as {"name", "group"}."""
    raw = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    entries: dict[str, list[dict[str, str]]] = {}
    for vocabulary in VOCABULARIES:
        entries[vocabulary] = [
            item if isinstance(item, dict) else {"name": item, "group": ""}
            for item in raw[vocabulary]
        ]
    return entries


def load_seed_taxonomy(session: orm.Session) -> int:
    """Insert the seed terms that are missing; returns how many were added."""
    existing = {
        (vocabulary, name)
        for vocabulary, name in session.execute(
            sa.select(TaxonomyTerm.vocabulary, TaxonomyTerm.name)
        )
    }
    added = 0
    for vocabulary, items in seed_entries().items():
        for position, item in enumerate(items):
            if (vocabulary, item["name"]) in existing:
                continue
            session.add(
                TaxonomyTerm(
                    vocabulary=vocabulary,
                    name=item["name"],
                    group=item.get("group", ""),
                    position=position,
                )
            )
            added += 1
    session.flush()
    return added


def get_taxonomy(session: orm.Session, *, include_retired: bool = False) -> Taxonomy:
    query = sa.select(TaxonomyTerm).order_by(
        TaxonomyTerm.vocabulary, TaxonomyTerm.position, TaxonomyTerm.id
    )
    if not include_retired:
        query = query.where(TaxonomyTerm.active.is_(True))
    terms: dict[str, list[TaxonomyTerm]] = {
        vocabulary: [] for vocabulary in VOCABULARIES
    }
    for term in session.scalars(query):
        terms.setdefault(term.vocabulary, []).append(term)
    return Taxonomy(terms)


def add_term(
    session: orm.Session,
    actor: Any,
    vocabulary: str,
    name: str,
    *,
    group: str = "",
    now: datetime,
) -> TaxonomyTerm:
    """Add a term at the end of a vocabulary (admin only; checked by the caller)."""
    name = name.strip()
    if vocabulary not in VOCABULARIES:
        raise Invalid("未知的分类", fields={"vocabulary": "未知的分类"})
    if not name or len(name) > 60:
        raise Invalid("名称须为1至60个字符", fields={"name": "名称须为1至60个字符"})
    exists = session.scalar(
        sa.select(TaxonomyTerm).where(
            TaxonomyTerm.vocabulary == vocabulary, TaxonomyTerm.name == name
        )
    )
    if exists is not None:
        raise Conflict(f"“{name}”已存在", code="term_exists", fields={"name": "已存在"})
    position = session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(TaxonomyTerm.position), -1) + 1).where(
            TaxonomyTerm.vocabulary == vocabulary
        )
    )
    term = TaxonomyTerm(
        vocabulary=vocabulary, name=name, group=group.strip(), position=position
    )
    session.add(term)
    session.flush()
    audit.record(
        session,
        actor,
        "taxonomy.add",
        "taxonomy_term",
        term.id,
        at=now,
        details={"vocabulary": vocabulary, "name": name},
    )
    return term


def set_term_active(
    session: orm.Session, actor: Any, term_id: int, active: bool, *, now: datetime
) -> TaxonomyTerm:
    """Retire a term (no longer offered for new items) or bring it back."""
    term = session.get(TaxonomyTerm, term_id)
    if term is None:
        raise NotFound("分类条目不存在", code="term_not_found")
    if term.active != active:
        audit.record(
            session,
            actor,
            "taxonomy.activate" if active else "taxonomy.retire",
            "taxonomy_term",
            term.id,
            at=now,
            details={"vocabulary": term.vocabulary, "name": term.name},
        )
        term.active = active
    return term
