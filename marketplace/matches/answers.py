"""Finished match answers (JSON bytes): per process, and computed ahead for all.

Most match requests repeat: the same public scene's proposals, asked by many
visitors. An answer depends only on the item (its status and last edit), the
versions of the index, weights and synonyms, and the sentence model, so one indexed
SELECT reads all of them together with the answer computed ahead by the
`precompute-match-answers` job (table `match_answers`, shared by every worker and
host). The request serves, in order: this process's copy while its index is
unchanged, the shared answer when its stamp is the item's current one, else it
computes. The center's answers carry its own feedback marks and are never shared.
"""

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.capabilities.models import Capability
from marketplace.items.workflow import PUBLIC_STATUSES
from marketplace.matches import services
from marketplace.matches.index import LiveIndex
from marketplace.matches.models import (
    SYNONYMS_VERSION,
    IndexVersion,
    MatchAnswer,
    read_index_versions,
)
from marketplace.scenes.models import Scene

ANSWERS_PER_PROCESS = 10_000

Stamp = tuple[Any, ...]


class AnswerCache:
    """A bounded map from (kind, item id, k) to (stamp, body), least recent out."""

    def __init__(self, size: int = ANSWERS_PER_PROCESS) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple[str, int, int], tuple[Stamp, bytes]] = (
            OrderedDict()
        )

    def get(self, key: tuple[str, int, int], stamp: Stamp) -> bytes | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] != stamp:
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple[str, int, int], stamp: Stamp, body: bytes) -> None:
        with self.lock:
            self.entries[key] = (stamp, body)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _version(kind: str) -> Any:
    return (
        sa.select(IndexVersion.version)
        .where(IndexVersion.kind == kind)
        .scalar_subquery()
    )


def _version_kinds(index_name: str) -> tuple[str, str, str]:
    """The versions an answer from an index depends on, in `LiveIndex.versions`
    order."""
    return (index_name, "weights", SYNONYMS_VERSION)


@dataclass(frozen=True)
class AnswerKind:
    """Proposals for items of `model` (the key's kind), drawn from `index_name`."""

    name: str
    model: Any
    index_name: str
    id_field: str
    finder: Callable[..., list[services.Proposal]]


KINDS = {
    "scene": AnswerKind(
        "scene", Scene, "capabilities", "capability_id", services.matches_for_scene
    ),
    "capability": AnswerKind(
        "capability", Capability, "scenes", "scene_id", services.matches_for_capability
    ),
}
DEFAULT_K = 10


@functools.cache
def _stamp_query(model: Any, index_name: str) -> sa.Select[Any]:
    """Built once per kind: building the statement cost as much as running it."""
    shared = sa.and_(
        MatchAnswer.kind == sa.bindparam("kind"),
        MatchAnswer.item_id == model.id,
        MatchAnswer.k == sa.bindparam("k"),
    )
    return (
        sa.select(
            model.status,
            model.updated_at,
            *(_version(kind) for kind in _version_kinds(index_name)),
            MatchAnswer.stamp,
            MatchAnswer.body,
        )
        .select_from(model)
        .outerjoin(MatchAnswer, shared)
        .where(model.id == sa.bindparam("item_id"))
    )


def _stamp(row: Any) -> Stamp:
    return (row[0], row[1], row[2] or 0, row[3] or 0, row[4] or 0)


def shared_stamp(stamp: Stamp, model_name: str | None) -> str:
    """The text a shared answer is kept under: the stamp plus the sentence model
    (an answer ranked with words only is not one ranked with the model)."""
    status, updated_at, *versions = stamp
    parts = [status, updated_at.isoformat(), *map(str, versions), model_name or "-"]
    return "|".join(parts)


def item_stamp(
    session: orm.Session, model: Any, item_id: int, index: LiveIndex, k: int = 0
) -> tuple[Stamp | None, str | None, bytes | None]:
    """What a public answer for the item depends on, read in one query (its status,
    last edit and the versions of `_version_kinds`), with the shared answer for `k`
    and its stamp; the stamp is None when the item is not public (its answer is
    then not shared)."""
    row = session.execute(
        _stamp_query(model, index.spec.name),
        {"item_id": item_id, "kind": _kind_of(model), "k": k},
    ).first()
    if row is None or row[0] not in PUBLIC_STATUSES:
        return None, None, None
    return _stamp(row), row[5], row[6]


def _kind_of(model: Any) -> str:
    return next(kind.name for kind in KINDS.values() if kind.model is model)


def answer(
    cache: AnswerCache,
    session: orm.Session,
    key: tuple[str, int, int],
    model: Any,
    index: LiveIndex,
    *,
    shareable: bool,
    compute: Callable[[dict[str, int] | None], bytes],
) -> bytes:
    """This process's answer or the shared one when still valid, else
    `compute(versions)` (kept in this process if shareable), given the index
    versions read with the stamp (None if not read).

    The index's in-process `state` is part of the stamp, so a refit or a refresh
    in this process also retires the answers built before it.
    """
    if not shareable:
        return compute(None)
    stamp, stored_stamp, stored_body = item_stamp(session, model, key[1], index, key[2])
    if stamp is not None and stamp[2:] == index.versions:
        found = cache.get(key, (*stamp, index.state))
        if found is not None:
            return found
    if stamp is not None and stored_stamp == shared_stamp(stamp, index.model_name):
        return bytes(stored_body or b"")
    state = index.state
    versions = None
    if stamp is not None:
        versions = dict(zip(_version_kinds(index.spec.name), stamp[2:], strict=True))
    body = compute(versions)
    # Only store what was computed against exactly the versions read above, by an
    # index that did not change meanwhile.
    if stamp is not None and stamp[2:] == index.versions and index.state == state:
        cache.put(key, (*stamp, state), body)
    return body


def get_answer_cache(app: Any) -> AnswerCache:
    cache = app.extensions.get("match_answers")
    if cache is None:
        cache = app.extensions["match_answers"] = AnswerCache()
    return cache


def proposal_json(proposal: services.Proposal, id_field: str) -> dict[str, Any]:
    return {
        id_field: proposal.item.id,
        "title": proposal.item.title,
        "organization_name": proposal.item.organization_name,
        "score": proposal.score,
        "strong": proposal.strong,
        "reasons": proposal.reasons,
        "feedback": proposal.feedback,
    }


def answer_body(
    session: orm.Session,
    actor: Any,
    kind: AnswerKind,
    item_id: int,
    k: int,
    indexes: dict[str, LiveIndex],
    *,
    dumps: Callable[[Any], str],
    now: datetime,
    versions: dict[str, int] | None,
) -> bytes:
    """The matches API's body for one item, as the actor sees it."""
    proposals = kind.finder(
        session, actor, item_id, k, indexes, now=now, versions=versions
    )
    items = [proposal_json(p, kind.id_field) for p in proposals]
    return dumps({"items": items}).encode()


@dataclass
class PrecomputeReport:
    kind: str
    public: int  # public items of the kind
    computed: int  # answers computed and stored by this run
    left: int  # answers still stale when the run stopped (its time was up)
    seconds: float


def _upsert(session: orm.Session, rows: list[dict[str, Any]]) -> None:
    """Insert or replace shared answers: two runs racing on one row both succeed."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(MatchAnswer).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["kind", "item_id", "k"],
            set_={
                "stamp": statement.excluded.stamp,
                "body": statement.excluded.body,
                "computed_at": statement.excluded.computed_at,
            },
        )
    )


def _public_stamps(
    session: orm.Session, kind: AnswerKind
) -> dict[int, tuple[Stamp, dict[str, int]]]:
    """Each public item's stamp, with the versions it holds by name."""
    current = read_index_versions(session)
    versions = {name: current.get(name, 0) for name in _version_kinds(kind.index_name)}
    ordered = tuple(versions.values())
    rows = session.execute(
        sa.select(kind.model.id, kind.model.status, kind.model.updated_at).where(
            kind.model.status.in_(PUBLIC_STATUSES)
        )
    )
    return {
        item_id: ((status, updated_at, *ordered), versions)
        for item_id, status, updated_at in rows
    }


def precompute(
    session: orm.Session,
    indexes: dict[str, LiveIndex],
    *,
    dumps: Callable[[Any], str],
    now: Callable[[], datetime],
    kinds: Iterable[str] = ("scene", "capability"),
    k: int = DEFAULT_K,
    seconds: float | None = None,
    batch: int = 50,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[PrecomputeReport]:
    """Compute the public answer of every public item whose shared answer is
    missing or stale, committing each batch (an interrupted run keeps its work), and
    drop the answers of items no longer public. Stops after `seconds` if given.
    """
    started = time.monotonic()
    reports = []
    for name in kinds:
        kind = KINDS[name]
        index = indexes[kind.index_name]
        kind_started = time.monotonic()
        stamps = _public_stamps(session, kind)
        stored = dict(
            session.execute(
                sa.select(MatchAnswer.item_id, MatchAnswer.stamp).where(
                    MatchAnswer.kind == name, MatchAnswer.k == k
                )
            ).all()
        )
        gone = set(stored) - set(stamps)
        if gone:
            session.execute(
                sa.delete(MatchAnswer).where(
                    MatchAnswer.kind == name, MatchAnswer.item_id.in_(gone)
                )
            )
            session.commit()
        stale = [
            item_id
            for item_id, (stamp, _) in sorted(stamps.items())
            if stored.get(item_id) != shared_stamp(stamp, index.model_name)
        ]
        computed, pending = 0, []
        for item_id in stale:
            if seconds is not None and time.monotonic() - started > seconds:
                break
            stamp, versions = stamps[item_id]
            body = answer_body(
                session,
                None,
                kind,
                item_id,
                k,
                indexes,
                dumps=dumps,
                now=now(),
                versions=versions,
            )
            computed += 1
            # Kept only if ranked by an index at exactly the versions of its stamp.
            if stamp[2:] == index.versions:
                text = shared_stamp(stamp, index.model_name)
                pending.append(
                    {
                        "kind": name,
                        "item_id": item_id,
                        "k": k,
                        "stamp": text,
                        "body": body,
                        "computed_at": now(),
                    }
                )
            if len(pending) >= batch:
                _upsert(session, pending)
                session.commit()
                pending = []
            if on_progress is not None:
                on_progress(name, computed, len(stale))
        if pending:
            _upsert(session, pending)
            session.commit()
        reports.append(
            PrecomputeReport(
                name,
                len(stamps),
                computed,
                len(stale) - computed,
                time.monotonic() - kind_started,
            )
        )
    return reports
