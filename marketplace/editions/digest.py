"""Canonical JSON and the digest chain of editions (pure functions, no database).

An edition's digest is SHA-256 over the previous edition's digest, the edition's
header and every item's canonical JSON in order. Changing any stored item, or an
earlier edition, changes every digest after it. Files (XLSX, CSV) are not hashed into
the chain: two saves of one workbook differ in their timestamps.
"""

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


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


def digest_header(
    list_kind: str, year: int, sequence: int, published_at: datetime
) -> dict[str, Any]:
    """The fields of an edition that its digest covers besides its items.

    The time is written in UTC, whatever zone the database hands it back in.
    """
    return {
        "list": list_kind,
        "year": year,
        "sequence": sequence,
        "published_at": published_at.astimezone(UTC).isoformat(),
    }


GENESIS = "0" * 64
