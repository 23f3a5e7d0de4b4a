"""TF-IDF over words and over the character bigrams inside words, with an inverted
index (CSC columns) so that one query touches only the postings of its own terms."""

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


def word_bigrams(words: Sequence[str]) -> list[str]:
    """Character bigrams of the words: 城市生命线 → 城市, 市生, 生命, 命线.

    A term the dictionary lacks is cut differently in two texts; its bigrams still
    agree.
    """
    grams = []
    for word in words:
        if len(word) == 2:
            grams.append(word)
        elif len(word) > 2:
            grams.extend(word[i : i + 2] for i in range(len(word) - 1))
    return grams


def _as_is(words: list[str]) -> list[str]:
    return words


def make_vectorizer() -> TfidfVectorizer:
    """TF-IDF over lists already cut into terms (no re-tokenising)."""
    return TfidfVectorizer(
        analyzer=_as_is, lowercase=False, sublinear_tf=True, dtype=np.float32
    )


class TermIndex:
    """A fitted vectorizer, its row matrix (CSR) and its inverted index (CSC)."""

    def __init__(self, documents: Sequence[list[str]]) -> None:
        self.vectorizer = make_vectorizer()
        rows = self.vectorizer.fit_transform(documents)
        self.rows: sparse.csr_matrix = sparse.csr_matrix(rows, dtype=np.float32)
        self.columns: sparse.csc_matrix = self.rows.tocsc()
        self.vocabulary = self.vectorizer.vocabulary_
        self.terms = np.array(self.vectorizer.get_feature_names_out(), dtype=object)

    def transform(self, documents: Sequence[list[str]]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.vectorizer.transform(documents), dtype=np.float32)

    def scores(self, query: sparse.csr_matrix) -> np.ndarray:
        """Cosine of one query row against every document, through its postings only."""
        if query.nnz == 0:
            return np.zeros(self.rows.shape[0], dtype=np.float32)
        postings = self.columns[:, query.indices]
        return np.asarray(postings @ query.data, dtype=np.float32).ravel()

    def row_scores(self, query: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
        """Cosine of one query row against the given documents only."""
        if query.nnz == 0 or len(rows) == 0:
            return np.zeros(len(rows), dtype=np.float32)
        return np.asarray(self.rows[rows] @ query.T.toarray(), dtype=np.float32).ravel()


def top_indices(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest positive scores (unordered)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= n:
        return positive
    part = np.argpartition(scores[positive], -n)[-n:]
    return positive[part]
