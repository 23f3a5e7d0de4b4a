"""Term indexes over words and over the character bigrams inside words.

Each index keeps two weightings of the same counts: TF-IDF (cosine similarity) and
BM25 (which rewards covering more of the query's rare terms). Both have an inverted
index (CSC columns), so one query touches only the postings of its own terms.
"""

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

BM25_K1 = 1.2
BM25_B = 0.75


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


class TermIndex:
    """Counts of terms per document, weighted as TF-IDF and as BM25."""

    def __init__(self, documents: Sequence[list[str]], *, bm25: bool = True) -> None:
        self.counter = CountVectorizer(
            analyzer=_as_is, lowercase=False, dtype=np.float32
        )
        counts = sparse.csr_matrix(
            self.counter.fit_transform(documents), dtype=np.float32
        )
        self.tfidf = TfidfTransformer(sublinear_tf=True)
        self.rows: sparse.csr_matrix = sparse.csr_matrix(
            self.tfidf.fit_transform(counts), dtype=np.float32
        )
        self.columns: sparse.csc_matrix = self.rows.tocsc()
        # Only the word index ranks by BM25; the bigram index skips the extra matrix.
        self.bm25_columns: sparse.csc_matrix | None = (
            self._bm25(counts).tocsc() if bm25 else None
        )
        self.terms = np.array(self.counter.get_feature_names_out(), dtype=object)
        self.vocabulary: dict[str, int] = self.counter.vocabulary_
        self.idf = np.asarray(self.tfidf.idf_, dtype=np.float32)

    def _bm25(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        documents = counts.shape[0]
        frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((documents - frequency + 0.5) / (frequency + 0.5))
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(lengths.mean(), 1.0))
        weights = counts.copy()
        row_norm = np.repeat(norm, np.diff(counts.indptr))
        tf = weights.data
        weights.data = (
            idf[weights.indices] * tf * (BM25_K1 + 1) / (tf + row_norm)
        ).astype(np.float32)
        return weights

    def transform(self, documents: Sequence[list[str]]) -> sparse.csr_matrix:
        """TF-IDF rows (l2-normalised) in this index's vocabulary: the numbers of
        sklearn's transform, built directly (an event scores hundreds at once)."""
        vocabulary = self.vocabulary
        if not documents:
            return sparse.csr_matrix((0, len(vocabulary)), dtype=np.float32)
        indptr = [0]
        indices: list[int] = []
        counts: list[int] = []
        for words in documents:
            row = Counter(vocabulary[w] for w in words if w in vocabulary)
            indices.extend(row)
            counts.extend(row.values())
            indptr.append(len(indices))
        matrix = sparse.csr_matrix(
            (
                np.asarray(counts, dtype=np.float32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(documents), len(vocabulary)),
        )
        matrix.sort_indices()
        matrix.data = (np.log(matrix.data) + 1) * self.idf[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)

    def transform_one(self, words: Sequence[str]) -> sparse.csr_matrix:
        """One TF-IDF row, computed directly: the same numbers as `transform`, without
        its per-call overhead (a query must take milliseconds)."""
        counts = Counter(self.vocabulary[w] for w in words if w in self.vocabulary)
        width = len(self.vocabulary)
        if not counts:
            return sparse.csr_matrix((1, width), dtype=np.float32)
        indices = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        tf = np.array([counts[i] for i in indices], dtype=np.float32)
        weights = (np.log(tf) + 1) * self.idf[indices]
        weights /= np.linalg.norm(weights)
        return sparse.csr_matrix(
            (weights, indices, np.array([0, len(indices)])), shape=(1, width)
        )

    def scores(self, query: sparse.csr_matrix) -> np.ndarray:
        """Cosine of one query row against every document, through its postings only."""
        if query.nnz == 0:
            return np.zeros(self.rows.shape[0], dtype=np.float32)
        postings = self.columns[:, query.indices]
        return np.asarray(postings @ query.data, dtype=np.float32).ravel()

    def bm25_scores(self, query: sparse.csr_matrix) -> np.ndarray:
        """BM25 of one query (its distinct terms) against every document."""
        if query.nnz == 0 or self.bm25_columns is None:
            return np.zeros(self.rows.shape[0], dtype=np.float32)
        postings = self.bm25_columns[:, query.indices]
        return np.asarray(postings.sum(axis=1), dtype=np.float32).ravel()


def top_indices(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest positive scores (unordered)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= n:
        return positive
    part = np.argpartition(scores[positive], -n)[-n:]
    return positive[part]
