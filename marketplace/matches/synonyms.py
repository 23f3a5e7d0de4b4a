"""Synonym groups the promotion center adds beside the bundled table.

A new group takes effect everywhere: its words join the segmentation dictionary (in
this process at once, in the others at their next matches request), the items whose
text holds one of them get their stored words recomputed so the new word is there
whole, and the "synonyms" version makes every worker refit its match indexes.
"""

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.matches.models import (
    SYNONYMS_VERSION,
    SynonymGroup,
    bump_index_version,
)
from marketplace.policy import require
from marketplace.search import get_tokenizer, index_tokens
from matching.synonyms import read_synonym_groups
from matching.tokenize import normalize

MAX_WORDS = 12
MAX_WORD_LENGTH = 20
SEPARATORS = re.compile(r"[\s,，、;；/]+")


def active_groups(session: orm.Session) -> list[SynonymGroup]:
    return list(
        session.scalars(
            sa.select(SynonymGroup)
            .where(SynonymGroup.retired_at.is_(None))
            .order_by(SynonymGroup.id)
        )
    )


def center_groups(session: orm.Session) -> list[SynonymGroup]:
    """Every group the center added, those in use first, newest first."""
    return list(
        session.scalars(
            sa.select(SynonymGroup).order_by(
                SynonymGroup.retired_at.is_not(None), SynonymGroup.id.desc()
            )
        )
    )


def synonym_groups(session: orm.Session) -> list[list[str]]:
    """The groups the matcher uses: the bundled table, then the center's."""
    return read_synonym_groups() + [group.words for group in active_groups(session)]


def parse_words(text: str) -> list[str]:
    """The distinct words of a group as typed: separated by spaces, commas, 、 or /."""
    words = [normalize(w) for w in SEPARATORS.split(text or "") if w.strip()]
    return list(dict.fromkeys(words))


def _validate(words: list[str], taken: dict[str, str]) -> None:
    problems = []
    if len(words) < 2:
        problems.append("至少需要两个不同的词")
    if len(words) > MAX_WORDS:
        problems.append(f"一组最多{MAX_WORDS}个词")
    too_long = [w for w in words if len(w) > MAX_WORD_LENGTH]
    if too_long:
        problems.append(f"每个词最多{MAX_WORD_LENGTH}个字：{'、'.join(too_long[:3])}")
    too_short = [w for w in words if len(w) < 2]
    if too_short:
        # A single character matches inside unrelated words (机 in 无人机 and 手机).
        problems.append(f"单个字不能作为同义词：{'、'.join(too_short[:3])}")
    if problems:
        raise Invalid("同义词组无效", fields={"words": "；".join(problems)})
    clashes = [f"“{w}”已在以“{taken[w]}”开头的组中" for w in words if w in taken]
    if clashes:
        # A word in two groups would be read as whichever group came first.
        raise Conflict(
            "同义词与已有的组重复",
            code="synonym_exists",
            fields={"words": "；".join(clashes)},
        )


def _words_in_use(session: orm.Session) -> dict[str, str]:
    """Every word of the groups in use, with its group's canonical word."""
    taken: dict[str, str] = {}
    for group in synonym_groups(session):
        words = [normalize(w) for w in group]
        for word in words:
            taken.setdefault(word, words[0])
    return taken


def add_group(
    session: orm.Session, actor: Any, text: str, *, now: datetime
) -> tuple[SynonymGroup, int]:
    """Add a group (first word canonical); returns it and how many items were
    re-cut because their text holds one of its words."""
    require(actor, "synonyms.edit", message="只有促进中心可以维护同义词")
    words = parse_words(text)
    _validate(words, _words_in_use(session))
    group = SynonymGroup(words=words, added_by_id=actor.id, added_at=now)
    session.add(group)
    session.flush()
    get_tokenizer().add_words(words)
    recut = _recut_items_containing(session, words)
    bump_index_version(session, SYNONYMS_VERSION)
    audit.record(
        session,
        actor,
        "synonyms.add",
        "synonym_group",
        group.id,
        at=now,
        details={"words": words, "items_recut": recut},
    )
    return group, recut


def retire_group(
    session: orm.Session, actor: Any, group_id: int, *, now: datetime
) -> SynonymGroup:
    require(actor, "synonyms.edit", message="只有促进中心可以维护同义词")
    group = session.get(SynonymGroup, group_id)
    if group is None or group.retired_at is not None:
        raise NotFound("没有这个同义词组")
    group.retired_at = now
    bump_index_version(session, SYNONYMS_VERSION)
    audit.record(
        session,
        actor,
        "synonyms.retire",
        "synonym_group",
        group.id,
        at=now,
        details={"words": group.words},
    )
    return group


def _recut_items_containing(session: orm.Session, words: list[str]) -> int:
    """Recompute the stored words of every item whose text holds one of `words`."""
    from marketplace.capabilities.models import Capability
    from marketplace.scenes.models import Scene

    count = 0
    for model in (Scene, Capability):
        text = sa.func.lower(model.title + " " + model.description)
        contains = [text.contains(word, autoescape=True) for word in words]
        for item in session.scalars(sa.select(model).where(sa.or_(*contains))):
            item.search_tokens = index_tokens(
                item.title, item.description, item.keywords
            )
            count += 1
    return count
