"""Finished match answers (JSON bytes) per process, checked with one query.

Most match requests repeat: the same public scene's proposals, asked by many
visitors. An answer depends only on the item (its status and last edit), the state
of this process's index and the weights, so a stored answer is served again after
one indexed SELECT confirms all three; anything else recomputes. The center's
answers carry its own feedback marks and are never shared.
"""

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.items.workflow import PUBLIC_STATUSES
from marketplace.matches.index import LiveIndex
from marketplace.matches.models import SYNONYMS_VERSION, IndexVersion

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


@functools.cache
def _stamp_query(model: Any, index_name: str) -> sa.Select[Any]:
    """Built once per kind: building the statement cost as much as running it."""
    return sa.select(
        model.status,
        model.updated_at,
        *(_version(kind) for kind in _version_kinds(index_name)),
    ).where(model.id == sa.bindparam("item_id"))


def item_stamp(
    session: orm.Session, model: Any, item_id: int, index: LiveIndex
) -> Stamp | None:
    """What a public answer for the item depends on, read in one query: its status,
    last edit and the versions of `_version_kinds`; None when the item is not public
    (its answer is then not shared)."""
    row = session.execute(
        _stamp_query(model, index.spec.name), {"item_id": item_id}
    ).first()
    if row is None or row[0] not in PUBLIC_STATUSES:
        return None
    return (row[0], row[1], row[2] or 0, row[3] or 0, row[4] or 0)


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
    """The stored answer when still valid, else `compute(versions)` (stored if
    shareable), given the index versions read with the stamp (None if not read).

    The index's in-process `state` is part of the stamp, so a refit or a refresh
    in this process also retires the answers built before it.
    """
    if not shareable:
        return compute(None)
    stamp = item_stamp(session, model, key[1], index)
    if stamp is not None and stamp[2:] == index.versions:
        found = cache.get(key, (*stamp, index.state))
        if found is not None:
            return found
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
