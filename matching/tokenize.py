"""Chinese tokenisation: normalisation, jieba with a domain dictionary, stop words."""

import logging
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import jieba

DATA_DIR = Path(__file__).resolve().parent / "data"
# The title counts twice, so an item named after a term ranks above one that
# mentions it in passing.
TITLE_WEIGHT = 2
_quiet_once = threading.Lock()
_jieba_quieted = False


def _quiet_jieba() -> None:
    """jieba logs its dictionary loading at DEBUG to stderr; silence that once."""
    global _jieba_quieted
    with _quiet_once:
        if not _jieba_quieted:
            jieba.setLogLevel(logging.WARNING)
            _jieba_quieted = True


def read_word_list(path: Path) -> list[str]:
    """Words of a one-word-per-line file; blank lines and # comments are skipped."""
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            words.append(word.split()[0])
    return words


def normalize(text: str) -> str:
    """NFKC (full-width to half-width) and lower case, so 'ＡＩ' and 'ai' agree."""
    return unicodedata.normalize("NFKC", text).lower()


def _is_word(token: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in token)


class Tokenizer:
    """jieba word segmentation with a domain dictionary and stop words.

    Parameters
    ----------
    user_words : iterable of str
        Words that must stay whole (taxonomy names such as 具身智能), added to the
        bundled domain dictionary.
    stop_words : iterable of str, optional
        Words dropped from the output; the bundled list by default.
    cache_dir : str, optional
        Where jieba keeps its dictionary cache.

    Examples
    --------
    >>> Tokenizer().cut("具身智能机器人在低空经济中的应用")
    ['具身智能', '机器人', '低空经济', '应用']
    """

    def __init__(
        self,
        *,
        user_words: Iterable[str] = (),
        stop_words: Iterable[str] | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.user_words = tuple(user_words)
        self.stop_words = stop_words
        self.cache_dir = cache_dir
        self._jieba: jieba.Tokenizer | None = None
        self._stop: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        # The jieba engine and the lock do not pickle; a copy loads its own lazily.
        state = self.__dict__.copy()
        state.update(_jieba=None, _lock=None, _stop=frozenset())
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _engine(self) -> jieba.Tokenizer:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    self._jieba = self._load()
        return self._jieba

    def _load(self) -> jieba.Tokenizer:
        _quiet_jieba()
        engine = jieba.Tokenizer()
        if self.cache_dir:
            engine.tmp_dir = self.cache_dir
        engine.initialize()
        words = read_word_list(DATA_DIR / "userdict.txt") + list(self.user_words)
        for word in dict.fromkeys(normalize(w) for w in words):
            engine.add_word(word)
        stop = self.stop_words
        if stop is None:
            stop = read_word_list(DATA_DIR / "stopwords.txt")
        self._stop = frozenset(normalize(w) for w in stop)
        return engine

    def add_words(self, words: Iterable[str]) -> None:
        """Add words to the dictionary so that they are cut whole from now on."""
        new = tuple(w for w in dict.fromkeys(normalize(w) for w in words) if w)
        self.user_words += new
        if self._jieba is not None:
            with self._lock:
                for word in new:
                    self._jieba.add_word(word)

    def _keep(self, tokens: Iterable[str]) -> list[str]:
        return [
            t
            for t in (token.strip() for token in tokens)
            if t and _is_word(t) and t not in self._stop
        ]

    def cut(self, text: str) -> list[str]:
        """Words of `text` in precise mode (for queries and matching)."""
        engine = self._engine()
        return self._keep(engine.lcut(normalize(text)))

    def cut_for_search(self, text: str) -> list[str]:
        """Words plus their dictionary sub-words (人工智能 → 人工, 智能, 人工智能).

        Used for the search index, so that a query for a part of a long word matches.
        """
        engine = self._engine()
        return self._keep(engine.lcut_for_search(normalize(text)))


def whole_words(words: Sequence[str]) -> list[str]:
    """Search-mode words without the sub-words cut out of a longer word.

    jieba's search mode emits a long word's dictionary parts just before the word
    (精细化 → 精细, 细化, 精细化). For matching, a long word counted three times would
    outweigh a short one, and parts such as 人机 (from 无人机) match unrelated text;
    the bigram index already catches partial agreement.
    """
    kept: list[str] = []
    whole = ""
    parts: set[str] | None = None  # parts of `whole` seen so far
    for word in reversed(words):
        # Each part is emitted once per long word; a second 数据 before 数据中心's
        # parts is the text's own word.
        if len(word) < len(whole) and word in whole:
            if parts is None:
                parts = {word}
                continue
            if word not in parts:
                parts.add(word)
                continue
        kept.append(word)
        whole, parts = word, None
    kept.reverse()
    return kept


def document_words(
    tokenizer: Tokenizer, title: str, description: str, keywords: Iterable[str] = ()
) -> list[str]:
    """The stored words of an item: title (counted twice), description and keywords
    (its taxonomy terms).

    Search mode, so that sub-words of long words are there too. The platform stores
    these when an item is written; the matcher and the search index both read them.
    """
    words = tokenizer.cut_for_search(title) * TITLE_WEIGHT
    words += tokenizer.cut_for_search(description)
    # Taxonomy terms stay whole: 智能传感器 must not make every tagged item match 智能.
    words += [normalize(keyword) for keyword in keywords if keyword.strip()]
    return words
