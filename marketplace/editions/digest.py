"""Canonical JSON and the digest chain of editions (pure functions, no database).

An edition's digest is SHA-256 over the previous edition's digest, the edition's
header and every item's canonical JSON in order. Changing any stored item, or an
earlier edition, changes every digest after it. Files (XLSX, CSV) are not hashed into
the chain: they are written after the edition is committed, and checked against it
by `verify-editions` instead.

Version 1 headers held the list, year, sequence and publication time. Version 2 adds
every other stored field a reader relies on: who published it, the item count, the
summary (new, changed, withdrawn, counts) and the scheduled period. Editions keep
the version they were published with, so earlier ones still verify.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any

DIGEST_VERSION = 2


def canonical(value: Any) -> str:
    """JSON with sorted keys, no spaces and real Chinese characters."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def edition_digest(
    previous_digest: str, header: dict[str, Any], item_payloads: Iterable[str]
) -> str:
    """The digest of an edition: previous digest, header, then each item line."""
    hasher = hashlib.sha256()
    hasher.update(previous_digest.encode())
    hasher.update(b"\n")
    hasher.update(canonical(header).encode())
    for payload in item_payloads:
        hasher.update(b"\n")
        hasher.update(payload.encode())
    return hasher.hexdigest()


def digest_header(edition: Any, version: int | None = None) -> dict[str, Any]:
    """The fields of an edition (a row or anything with its attributes) that its
    digest covers besides its items.

    The time is written in UTC, whatever zone the database hands it back in.
    """
    version = edition.digest_version if version is None else version
    header: dict[str, Any] = {
        "list": edition.list_kind,
        "year": edition.year,
        "sequence": edition.sequence,
        "published_at": edition.published_at.astimezone(UTC).isoformat(),
    }
    if version >= 2:
        header.update(
            digest_version=version,
            published_by=edition.published_by,
            item_count=edition.item_count,
            summary=edition.summary,
            period=edition.period_key,
        )
    return header


def head_signature(key: bytes, list_kind: str, digest: str, edition_count: int) -> str:
    """HMAC-SHA256 of a list's chain head: its last digest and its length."""
    message = canonical({"list": list_kind, "digest": digest, "count": edition_count})
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def head_key(secret: str) -> bytes:
    """The signing key of chain heads, derived from a secret kept outside the
    database (MARKETPLACE_EDITIONS_KEY, else SECRET_KEY), for this use only."""
    return hmac.new(
        secret.encode(), b"marketplace edition chain heads", "sha256"
    ).digest()


GENESIS = "0" * 64
