"""Publishing editions exactly once, their changes and counts, and checking the chain.

Exactly once, whatever the number of processes: the caller's transaction first takes a
per-list lock (a transaction-scoped advisory lock on PostgreSQL; on SQLite every write
transaction begins IMMEDIATE and so already holds the database's write lock), then
checks again whether the edition exists, then inserts. Unique keys on (list, year,
sequence) and (list, period) are the last line of defence.
"""

import hashlib
import hmac
import json
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.capabilities.models import Capability
from marketplace.capabilities.schemas import capability_to_json
from marketplace.editions.digest import (
    DIGEST_VERSION,
    GENESIS,
    canonical,
    digest_header,
    edition_digest,
    head_signature,
)
from marketplace.editions.models import LISTS, Edition, EditionHead, EditionItem
from marketplace.errors import Invalid, NotFound
from marketplace.scenes.models import Scene
from marketplace.scenes.schemas import scene_to_json

# A capability not updated or renewed for a year leaves the next edition.
CAPABILITY_RENEWAL = timedelta(days=365)


def check_list(list_kind: str) -> str:
    if list_kind not in LISTS:
        raise Invalid(
            "清单须为 scenes 或 capabilities",
            fields={"list": "可选：scenes、capabilities"},
        )
    return list_kind


# The public fields an edition freezes, taken from the API's own view of an item.
EDITION_FIELDS = {
    "scenes": (
        "id",
        "title",
        "description",
        "category",
        "domain",
        "kind",
        "industries",
        "district",
        "budget",
        "funding_source",
        "deadline",
    ),
    "capabilities": (
        "id",
        "title",
        "description",
        "type",
        "maturity",
        "domains",
        "industries",
        "districts",
    ),
}
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")


def edition_payload(list_kind: str, item: Any) -> dict[str, Any]:
    """An item's public fields as frozen in an edition; contacts only where the owner
    made them public."""
    to_json = scene_to_json if list_kind == "scenes" else capability_to_json
    public = to_json(item, None)  # as an anonymous visitor sees it
    payload = {name: public[name] for name in EDITION_FIELDS[list_kind]}
    payload["organization"] = public["organization_name"]
    if item.contact_public:
        payload.update({name: public[name] for name in CONTACT_FIELDS})
    return payload


def current_items(
    session: orm.Session,
    list_kind: str,
    now: datetime,
) -> Iterator[dict[str, Any]]:
    """The items an edition published now would hold, in a stable order, streamed."""
    if list_kind == "scenes":
        query = sa.select(Scene).where(Scene.status == "published").order_by(Scene.id)
    else:
        query = (
            sa.select(Capability)
            .where(
                Capability.status == "published",
                Capability.updated_at >= now - CAPABILITY_RENEWAL,
            )
            .order_by(Capability.id)
        )
    for item in session.scalars(query.execution_options(yield_per=500)):
        yield edition_payload(list_kind, item)


def _lock_list(session: orm.Session, list_kind: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"edition:{list_kind}".encode())
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        # The first statement opens the transaction, with BEGIN IMMEDIATE.
        session.execute(sa.text("SELECT 1"))


def latest_edition(session: orm.Session, list_kind: str) -> Edition | None:
    return session.scalar(
        sa.select(Edition)
        .where(Edition.list_kind == list_kind)
        .order_by(Edition.published_at.desc(), Edition.id.desc())
        .limit(1)
    )


class _Tally:
    """What an edition says about itself, gathered one item at a time: counts by
    domain, district and industry, and what is new, changed or withdrawn."""

    def __init__(self, previous: dict[int, str]) -> None:
        self.previous = previous  # item id → SHA-256 of its payload last time
        self.count = 0
        self.seen: set[int] = set()
        self.new: list[int] = []
        self.changed: list[int] = []
        self.counters: dict[str, Counter[str]] = {
            "by_domain": Counter(),
            "by_district": Counter(),
            "by_industry": Counter(),
        }

    def add(self, payload: dict[str, Any], line: str) -> None:
        self.count += 1
        item_id = payload["id"]
        self.seen.add(item_id)
        before = self.previous.get(item_id)
        if before is None:
            self.new.append(item_id)
        elif before != _hash(line):
            self.changed.append(item_id)
        for key, fields in (
            ("by_domain", ("domain", "domains")),
            ("by_district", ("district", "districts")),
            ("by_industry", ("industries",)),
        ):
            for field in fields:
                value = payload.get(field)
                for name in value if isinstance(value, list) else [value]:
                    if name:
                        self.counters[key][name] += 1

    def summary(self) -> dict[str, Any]:
        def ordered(counter: Counter[str]) -> dict[str, int]:
            return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

        return {
            "new": sorted(self.new),
            "changed": sorted(self.changed),
            "withdrawn": sorted(set(self.previous) - self.seen),
            **{key: ordered(counter) for key, counter in self.counters.items()},
        }


def _hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def publish_edition(
    session: orm.Session,
    list_kind: str,
    *,
    now: datetime,
    year: int,
    actor: Any = None,
    period_key: str | None = None,
    requested_at: datetime | None = None,
) -> Edition | None:
    """Publish the next edition of a list, or None if another process just did.

    `period_key` names the scheduled period (one edition per period);
    `requested_at` is when a person asked to publish now: an edition published since
    then (by a racing click or the schedule) answers that request too.
    """
    check_list(list_kind)
    _lock_list(session, list_kind)
    if period_key is not None and session.scalar(
        sa.select(Edition.id).where(
            Edition.list_kind == list_kind, Edition.period_key == period_key
        )
    ):
        return None
    if requested_at is not None and session.scalar(
        sa.select(Edition.id).where(
            Edition.list_kind == list_kind, Edition.published_at >= requested_at
        )
    ):
        return None
    previous = latest_edition(session, list_kind)
    previous_hashes = (
        {}
        if previous is None
        else {
            item_id: _hash(payload)
            for item_id, payload in session.execute(
                sa.select(EditionItem.item_id, EditionItem.payload)
                .where(EditionItem.edition_id == previous.id)
                .execution_options(yield_per=1000)
            )
        }
    )
    sequence = (
        session.scalar(
            sa.select(sa.func.max(Edition.sequence)).where(
                Edition.list_kind == list_kind, Edition.year == year
            )
        )
        or 0
    ) + 1
    previous_digest = previous.digest if previous else GENESIS
    tally = _Tally(previous_hashes)
    # Items are read once: counted and spooled to a temporary file, so memory stays
    # flat however large the list. The header (which holds the count and summary)
    # comes first in the digest, so the spool is hashed once the tally is done.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for payload in current_items(session, list_kind, now):
            line = canonical(payload)
            tally.add(payload, line)
            spool.write(f"{payload['id']}\t{line}\n")
        edition = Edition(
            list_kind=list_kind,
            year=year,
            sequence=sequence,
            period_key=period_key,
            published_at=now,
            published_by=actor.display_label if actor else audit.SYSTEM_ACTOR,
            item_count=tally.count,
            summary=tally.summary(),
            previous_digest=previous_digest,
            digest_version=DIGEST_VERSION,
        )

        def spooled_lines() -> Iterator[str]:
            spool.seek(0)
            for row in spool:
                yield row.rstrip("\n").split("\t", 1)[1]

        edition.digest = edition_digest(
            previous_digest, digest_header(edition), spooled_lines()
        )
        session.add(edition)
        session.flush()
        spool.seek(0)
        _insert_items(session, edition.id, spool)
    sign_head(session, edition, now=now)
    audit.record(
        session,
        actor,
        "edition.publish",
        "edition",
        edition.id,
        at=now,
        details={
            "list": list_kind,
            "label": edition.label,
            "items": tally.count,
            "period": period_key,
        },
    )
    return edition


def _insert_items(
    session: orm.Session, edition_id: int, spool: Any, batch_size: int = 1000
) -> None:
    batch: list[dict[str, Any]] = []
    for position, row in enumerate(spool):
        item_id, line = row.rstrip("\n").split("\t", 1)
        batch.append(
            {
                "edition_id": edition_id,
                "position": position,
                "item_id": int(item_id),
                "payload": line,
            }
        )
        if len(batch) == batch_size:
            session.execute(sa.insert(EditionItem), batch)
            batch = []
    if batch:
        session.execute(sa.insert(EditionItem), batch)


def get_edition(session: orm.Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFound("该期清单不存在", code="edition_not_found")
    return edition


def list_editions(session: orm.Session, list_kind: str | None = None) -> list[Edition]:
    query = sa.select(Edition).order_by(Edition.published_at.desc(), Edition.id.desc())
    if list_kind is not None:
        query = query.where(Edition.list_kind == check_list(list_kind))
    return list(session.scalars(query))


def edition_payloads(session: orm.Session, edition: Edition) -> sa.ScalarResult[str]:
    """The stored canonical JSON lines of an edition's items, in order, streamed in
    batches so that memory stays flat however large the edition. A caller that may
    stop early closes it (on PostgreSQL it holds a server-side cursor)."""
    return session.scalars(
        sa.select(EditionItem.payload)
        .where(EditionItem.edition_id == edition.id)
        .order_by(EditionItem.position)
        .execution_options(yield_per=500)
    )


def _signing_key(session: orm.Session) -> bytes:
    """The chain-head key, carried by the app's sessions (see marketplace.db)."""
    key = session.info.get("edition_key")
    if not key:
        raise RuntimeError(
            "no key to sign edition chain heads: set SECRET_KEY or "
            "MARKETPLACE_EDITIONS_KEY"
        )
    return bytes(key)


def sign_head(session: orm.Session, edition: Edition, *, now: datetime) -> None:
    """Record `edition` as its list's signed head, in the publishing transaction."""
    count = session.scalar(
        sa.select(sa.func.count()).where(Edition.list_kind == edition.list_kind)
    )
    head = session.get(EditionHead, edition.list_kind)
    if head is None:
        head = EditionHead(list_kind=edition.list_kind)
        session.add(head)
    head.digest = edition.digest
    head.edition_count = int(count or 0)
    head.signature = head_signature(
        _signing_key(session), edition.list_kind, edition.digest, head.edition_count
    )
    head.signed_at = now


def sign_missing_heads(session: orm.Session, *, now: datetime) -> list[str]:
    """Sign the head of every list that has editions but no signed head yet (those
    published before heads were signed); returns the lists signed."""
    signed = []
    for list_kind in LISTS:
        latest = latest_edition(session, list_kind)
        if latest is not None and session.get(EditionHead, list_kind) is None:
            sign_head(session, latest, now=now)
            signed.append(list_kind)
    return signed


@dataclass
class ChainCheck:
    checked: int
    first_bad: Edition | None = None
    reason: str = ""
    list_kind: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def verify_chain(session: orm.Session) -> ChainCheck:
    """Recompute every digest from the stored rows, check what each edition says
    about itself against its items, and check each list's signed head; name the
    first edition that differs."""
    checked = 0
    for list_kind in LISTS:
        check = _verify_list(session, list_kind)
        checked += check.checked
        if not check.ok:
            check.checked = checked
            return check
    return ChainCheck(checked)


def _verify_list(session: orm.Session, list_kind: str) -> ChainCheck:
    expected_previous = GENESIS
    previous_hashes: dict[int, str] = {}
    checked = 0
    latest: Edition | None = None
    newest_version = 1
    editions = session.scalars(
        sa.select(Edition)
        .where(Edition.list_kind == list_kind)
        .order_by(Edition.published_at, Edition.id)
    ).all()
    for edition in editions:
        checked += 1
        if edition.previous_digest != expected_previous:
            reason = "与上一期的摘要链接不一致"
        elif edition.digest_version not in (1, DIGEST_VERSION):
            reason = f"摘要版本 {edition.digest_version} 未知"
        elif edition.digest_version < newest_version:
            reason = "摘要版本被改动过（改回了旧版）"
        else:
            reason, previous_hashes = _verify_edition(session, edition, previous_hashes)
        if reason:
            return ChainCheck(checked, edition, reason, list_kind)
        newest_version = edition.digest_version
        expected_previous = edition.digest
        latest = edition
    return _verify_head(session, list_kind, latest, checked)


def _verify_edition(
    session: orm.Session, edition: Edition, previous_hashes: dict[int, str]
) -> tuple[str, dict[int, str]]:
    """What is wrong with one edition ("" if nothing), and its items' hashes.

    Besides the digest, the stored count, summary and item ids must be what the
    stored items give, as publication computed them: editions of digest version 1
    are checked this way too, though their digest does not cover those fields.
    """
    tally = _Tally(previous_hashes)
    hashes: dict[int, str] = {}
    mismatched: list[int] = []

    def lines() -> Iterator[str]:
        rows = session.execute(
            sa.select(EditionItem.item_id, EditionItem.payload)
            .where(EditionItem.edition_id == edition.id)
            .order_by(EditionItem.position)
            .execution_options(yield_per=500)
        )
        for item_id, line in rows:
            payload = json.loads(line)
            if payload.get("id") != item_id:
                mismatched.append(item_id)
            tally.add(payload, line)
            hashes[item_id] = _hash(line)
            yield line

    header = digest_header(edition)
    if edition_digest(edition.previous_digest, header, lines()) != edition.digest:
        return "内容与摘要不符，存储的条目或期次信息被改动过", hashes
    if mismatched:
        return f"条目编号与条目内容不符（编号 {mismatched[0]}），被改动过", hashes
    if tally.count != edition.item_count:
        return (
            f"记录的条目数 {edition.item_count} 与存储的 {tally.count} 条不符",
            hashes,
        )
    if tally.summary() != edition.summary:
        return "新增、变更、撤下或分类统计与存储的条目不符，被改动过", hashes
    return "", hashes


def _verify_head(
    session: orm.Session, list_kind: str, latest: Edition | None, count: int
) -> ChainCheck:
    head = session.get(EditionHead, list_kind)
    if head is None:
        if latest is None:
            return ChainCheck(count)
        return ChainCheck(
            count,
            latest,
            "所在清单的链头未签名（升级后请运行 flask --app wsgi migrate）",
            list_kind,
        )
    expected = head_signature(
        _signing_key(session), list_kind, head.digest, head.edition_count
    )
    if not hmac.compare_digest(expected, head.signature):
        return ChainCheck(
            count,
            latest,
            "所在清单的链头签名无效：链头记录被改动，或签名密钥"
            "（MARKETPLACE_EDITIONS_KEY，未设时为 SECRET_KEY）已更换",
            list_kind,
        )
    if latest is not None and (head.digest, head.edition_count) == (
        latest.digest,
        count,
    ):
        return ChainCheck(count)
    if head.edition_count > count:
        where = "之后" if latest is not None else ""
        return ChainCheck(
            count,
            latest,
            f"{where}的 {head.edition_count - count} 期已被删除"
            f"（签名的链头共 {head.edition_count} 期，最新一期摘要 {head.digest}）",
            list_kind,
        )
    return ChainCheck(
        count,
        latest,
        f"与签名的链头不符（签名的链头共 {head.edition_count} 期，"
        f"最新一期摘要 {head.digest}）：其后的期次不是本平台发布的，或链被改写",
        list_kind,
    )
