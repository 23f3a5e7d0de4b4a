"""Sentence vectors of scenes and capabilities: made when an item is written, stored
with the model that made them, filled in for the rest by `flask embed` and the
scheduler, and mapped from one file per index version that every worker shares.

The read path never embeds: the match index reads stored vectors, and a demand's own
stored vector stands for its query (the platform stores one passage vector per item;
on the judged sets this differs from e5's query prefix by less than a point of nDCG).
"""

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.capabilities.models import Capability
from marketplace.matches.models import ItemVector
from marketplace.scenes.models import Scene
from matching import Embedder, load_embedder
from matching.embed import DIM, embedding_text, text_digest

log = logging.getLogger(__name__)

MODELS: dict[str, Any] = {"scene": Scene, "capability": Capability}
BATCH = 32


@dataclass(frozen=True)
class DenseMode:
    """The sentence model this process uses, or why there is none (Chinese)."""

    embedder: Embedder | None
    message: str


def dense_mode(config: Any) -> DenseMode:
    """The process's sentence model when the dense stage is on (MARKETPLACE_DENSE)."""
    if not config.get("MATCH_DENSE", True):
        return DenseMode(None, "语义匹配未开启，仅按关键词匹配")
    status = load_embedder()
    if status.embedder is None:
        return DenseMode(
            None,
            "语义模型无法使用，暂时仅按关键词匹配；请系统管理员检查服务器上的语义模型"
            f"（{status.message}）",
        )
    return DenseMode(status.embedder, "按语义和关键词共同匹配")


def write_embedder(config: Any) -> Embedder | None:
    """The model that writes vectors with items, None when the dense stage is off."""
    return dense_mode(config).embedder


def vector_model(config: Any) -> str | None:
    """The name of the model whose stored vectors the matcher reads, or None."""
    embedder = dense_mode(config).embedder
    return embedder.name if embedder is not None else None


def item_text(item: Any) -> str:
    return embedding_text(item.title, item.description or "")


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4")


def store_vector(
    session: orm.Session,
    kind: str,
    item: Any,
    embedder: Embedder | None,
    *,
    now: datetime,
) -> bool:
    """Compute and store the item's vector if it has none for this text and model.

    Returns whether a vector was computed. Without a model nothing is stored: the
    item matches by words until `flask embed` runs with one.
    """
    if embedder is None:
        return False
    text = item_text(item)
    digest = text_digest(text)
    row = session.get(ItemVector, (kind, item.id))
    if row is not None and row.model == embedder.name and row.text_digest == digest:
        return False
    put_vector(
        session, kind, item.id, embedder.name, digest, embedder.passages([text])[0], now
    )
    return True


def put_vector(
    session: orm.Session,
    kind: str,
    item_id: int,
    model: str,
    digest: str,
    vector: np.ndarray,
    now: datetime,
) -> None:
    """Store (insert or replace) an item's vector."""
    row = session.get(ItemVector, (kind, item_id))
    if row is None:
        row = ItemVector(kind=kind, item_id=item_id)
        session.add(row)
    row.model, row.text_digest, row.vector = model, digest, to_bytes(vector)
    row.computed_at = now


def delete_vector(session: orm.Session, kind: str, item_id: int) -> None:
    session.execute(
        sa.delete(ItemVector).where(
            ItemVector.kind == kind, ItemVector.item_id == item_id
        )
    )


def stored_vector(
    session: orm.Session, kind: str, item: Any, model: str
) -> np.ndarray | None:
    """The item's current vector (this model, this text), or None."""
    row = session.get(ItemVector, (kind, item.id))
    if (
        row is None
        or row.model != model
        or row.text_digest != text_digest(item_text(item))
    ):
        return None
    return from_bytes(row.vector)


def stored_vectors(
    session: orm.Session, kind: str, items: Sequence[Any], model: str
) -> tuple[np.ndarray, int]:
    """(len(items), DIM) current vectors in the items' order, zero rows where an item
    has none (stale or missing), and how many are missing."""
    matrix = np.zeros((len(items), DIM), dtype=np.float32)
    # Rows or matcher Items (whose ids are strings) alike.
    position = {int(item.id): i for i, item in enumerate(items)}
    digests = {int(item.id): text_digest(item_text(item)) for item in items}
    found = 0
    for chunk in _chunks(list(position), 5000):
        rows = session.execute(
            sa.select(
                ItemVector.item_id, ItemVector.text_digest, ItemVector.vector
            ).where(
                ItemVector.kind == kind,
                ItemVector.model == model,
                ItemVector.item_id.in_(chunk),
            )
        )
        for item_id, digest, raw in rows:
            if digests[item_id] == digest:
                matrix[position[item_id]] = from_bytes(raw)
                found += 1
    return matrix, len(items) - found


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def shared_matrix(
    directory: str | os.PathLike[str],
    name: str,
    model: str,
    items: Sequence[Any],
    load: Callable[[], np.ndarray],
    stamp: str,
) -> np.ndarray:
    """The index's vectors as a read-only memory map that every worker on the host
    shares (the kernel keeps one copy of its pages).

    The file is named by what it holds (model, item ids and texts, and `stamp`, which
    changes when any vector is written), so workers that build the same index map the
    same file and only the first one writes it. Files of older builds are removed;
    a worker still mapping one keeps its pages until it lets go.
    """
    identity = hashlib.sha256(model.encode())
    identity.update(stamp.encode())
    for item in items:
        identity.update(f"{item.id}:{text_digest(item_text(item))};".encode())
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{identity.hexdigest()[:20]}.f32"
    if not path.exists():
        matrix = np.ascontiguousarray(load(), dtype="<f4")
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        matrix.tofile(temporary)
        os.replace(temporary, path)
        for old in folder.glob(f"{name}-*.f32"):
            if old != path:
                old.unlink(missing_ok=True)
    if not items:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.memmap(path, dtype="<f4", mode="r", shape=(len(items), DIM))


def vectors_stamp(session: orm.Session, kind: str, model: str) -> str:
    """Changes whenever a vector of this kind and model is written."""
    count, latest = session.execute(
        sa.select(sa.func.count(), sa.func.max(ItemVector.computed_at)).where(
            ItemVector.kind == kind, ItemVector.model == model
        )
    ).one()
    return f"{count}:{latest.isoformat() if latest else ''}"


@dataclass
class EmbedProgress:
    kind: str
    done: int
    total: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


def missing_vectors(session: orm.Session, kind: str, model: str) -> list[int]:
    """Ids of the items of `kind` whose vector is missing, of another model, or of an
    older text."""
    item_model = MODELS[kind]
    current = dict(
        session.execute(
            sa.select(ItemVector.item_id, ItemVector.text_digest).where(
                ItemVector.kind == kind, ItemVector.model == model
            )
        ).all()
    )
    missing = []
    rows = session.execute(
        sa.select(item_model.id, item_model.title, item_model.description).order_by(
            item_model.id
        )
    )
    for item_id, title, description in rows:
        if current.get(item_id) != text_digest(
            embedding_text(title, description or "")
        ):
            missing.append(item_id)
    return missing


def embed_missing(
    session: orm.Session,
    embedder: Embedder,
    *,
    now: Callable[[], datetime],
    kinds: Sequence[str] = ("capability", "scene"),
    limit: int | None = None,
    on_progress: Callable[[EmbedProgress], None] | None = None,
) -> list[EmbedProgress]:
    """Compute the vectors that are missing or stale, a batch per transaction, so an
    interrupted run keeps what it finished and the next one resumes after it.

    `limit` bounds the items per kind (the scheduler's job takes a few at a time).
    """
    from marketplace.matches.models import bump_index_version

    reports = []
    for kind in kinds:
        todo = missing_vectors(session, kind, embedder.name)
        if limit is not None:
            todo = todo[:limit]
        session.rollback()  # release the read snapshot before the long work
        started = time.perf_counter()
        progress = EmbedProgress(kind, 0, len(todo), 0.0)
        for chunk in _chunks(todo, BATCH):
            items = session.scalars(
                sa.select(MODELS[kind]).where(MODELS[kind].id.in_(chunk))
            ).all()
            vectors = embedder.passages([item_text(item) for item in items])
            stamp = now()
            for item, vector in zip(items, vectors, strict=True):
                digest = text_digest(item_text(item))
                put_vector(session, kind, item.id, embedder.name, digest, vector, stamp)
            # Every worker reads the new vectors on its next request.
            bump_index_version(
                session, "capabilities" if kind == "capability" else "scenes"
            )
            session.commit()
            progress.done += len(items)
            progress.seconds = time.perf_counter() - started
            if on_progress is not None:
                on_progress(progress)
        progress.seconds = time.perf_counter() - started
        reports.append(progress)
    return reports


SEED_VECTORS = "vectors.npz"


def read_seed_vectors(path: Path, model: str) -> dict[str, np.ndarray]:
    """Shipped vectors by text digest; empty when the file is of another model."""
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as stored:
        if str(stored["model"]) != model:
            return {}
        return dict(zip(stored["digests"].tolist(), stored["vectors"], strict=True))


def write_seed_vectors(path: Path, texts: Sequence[str], embedder: Embedder) -> int:
    """Embed `texts` and write them as a seed file (what `load-demo` reads)."""
    unique = list(dict.fromkeys(texts))
    matrix = np.zeros((len(unique), DIM), dtype=np.float32)
    for start in range(0, len(unique), BATCH):
        matrix[start : start + BATCH] = embedder.passages(unique[start : start + BATCH])
    np.savez_compressed(
        path,
        model=np.array(embedder.name),
        digests=np.array([text_digest(t) for t in unique]),
        vectors=matrix,
    )
    return len(unique)


def seed_vectors(
    session: orm.Session, path: Path, embedder: Embedder | None, *, now: datetime
) -> int:
    """Give every item without a current vector the shipped one made from its text,
    or compute it; returns how many were stored. Nothing without a model."""
    if embedder is None:
        return 0
    shipped = read_seed_vectors(path, embedder.name)
    stored = 0
    for kind, model in MODELS.items():
        todo = set(missing_vectors(session, kind, embedder.name))
        if not todo:
            continue
        rows = session.scalars(sa.select(model).where(model.id.in_(todo))).all()
        texts = [item_text(row) for row in rows]
        unknown = [i for i, t in enumerate(texts) if text_digest(t) not in shipped]
        computed = dict(
            zip(
                unknown,
                embedder.passages([texts[i] for i in unknown]) if unknown else [],
                strict=True,
            )
        )
        for i, row in enumerate(rows):
            digest = text_digest(texts[i])
            vector = computed[i] if i in computed else shipped[digest]
            put_vector(session, kind, row.id, embedder.name, digest, vector, now)
            stored += 1
    session.flush()
    return stored
