"""The matcher: retrieve candidates by words and bigrams, score with structured
agreement, and explain. Reads as the pipeline: tokenize → retrieve → features →
explain."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from matching.explain import reasons as explain_reasons
from matching.explain import shared_terms
from matching.features import StructuredFeatures
from matching.items import Item
from matching.retrieve import TermIndex, top_indices, word_bigrams
from matching.synonyms import expand, read_synonym_groups, synonym_map
from matching.tokenize import Tokenizer, document_words, whole_words
from matching.weights import DEFAULT_WEIGHTS, as_vector

NUMBER = re.compile(r"^[0-9.,%+\-]+$")


@dataclass(frozen=True)
class Match:
    supply_id: str
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Ranking:
    demand_id: str
    matches: list[Match]


def _meaningful(word: str) -> bool:
    return len(word) > 1 and not NUMBER.match(word)


@dataclass(frozen=True)
class _Query:
    """A demand prepared against the fitted indexes."""

    item: Item
    words: Any  # TF-IDF row over words
    bigrams: Any  # TF-IDF row over bigrams
    # Against every supply item, each computed once through the inverted indexes:
    word_scores: np.ndarray  # cosine over words
    bigram_scores: np.ndarray  # cosine over bigrams
    bm25: np.ndarray  # BM25, scaled to [0, 1] by the best


class NotFittedError(RuntimeError):
    """rank() was called before fit()."""


class Matcher:
    """Ranks supply items (capabilities or scenes) for a demand item, with reasons.

    Parameters
    ----------
    tokenizer : Tokenizer, optional
        Cuts text into words; by default one whose dictionary has the synonyms.
    synonym_groups : list of list of str, optional
        Groups whose words are also read as the group's first word; by default the
        bundled table (``seed_data/synonyms.txt``).
    weights : mapping of str to float, optional
        Feature weights (see `matching.weights`); normalised to sum to 1.
    n_candidates : int
        Candidates taken from each index before the full score is computed.

    Attributes
    ----------
    supply_ : list of Item
        The fitted supply, in index order.
    words_, bigrams_ : TermIndex
        The word and character-bigram indexes.

    Examples
    --------
    >>> supply = [Item("c1", "电力线路无人机巡检", "多旋翼无人机自主巡检输电线路"),
    ...           Item("c2", "智慧停车诱导系统", "城市道路停车位感知与诱导")]
    >>> ranking = Matcher().fit(supply).rank(Item("s1", "高压线路巡检", "用无人机巡检"))
    >>> ranking.matches[0].supply_id
    'c1'
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer | None = None,
        synonym_groups: list[list[str]] | None = None,
        weights: Mapping[str, float] | None = None,
        n_candidates: int = 200,
    ) -> None:
        self.tokenizer = tokenizer
        self.synonym_groups = synonym_groups
        self.weights = weights
        self.n_candidates = n_candidates

    # -- fitting ---------------------------------------------------------------
    def fit(self, supply: Iterable[Item]) -> Self:
        """Index the supply; replaces any earlier fit. Returns self."""
        items = list(supply)
        if not items:
            raise ValueError("供给集为空：没有可以匹配的条目")
        if self.n_candidates < 1:
            raise ValueError("n_candidates 须为正整数")
        groups = self.synonym_groups
        if groups is None:
            groups = read_synonym_groups()
        self.synonyms_ = synonym_map(groups)
        self.tokenizer_ = self.tokenizer or Tokenizer(
            user_words=[w for group in groups for w in group]
        )
        self.weight_vector_ = as_vector(self.weights or DEFAULT_WEIGHTS)
        words = [self.words_of(item) for item in items]
        self.words_ = TermIndex(words)
        self.bigrams_ = TermIndex([word_bigrams(w) for w in words], bm25=False)
        self.structured_ = StructuredFeatures(items)
        self.supply_ = items
        self.supply_ids_ = [item.id for item in items]
        return self

    def words_of(self, item: Item) -> list[str]:
        """The item's words (stored ones if given), whole words only, with synonyms
        expanded.

        Numbers and single characters are dropped: in a need or an offer they are
        quantities and particles (个, 后, 800), not what is needed; the bigram index
        still sees the characters inside longer words.
        """
        tokenizer = getattr(self, "tokenizer_", None) or self.tokenizer or Tokenizer()
        words = (
            list(item.tokens)
            if item.tokens is not None
            else document_words(
                tokenizer,
                item.title,
                item.description,
                (*item.domains, *item.industries),
            )
        )
        return expand([w for w in whole_words(words) if _meaningful(w)], self.synonyms_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "supply_"):
            raise NotFittedError("Matcher 尚未 fit：请先用供给条目建立索引")

    # -- scoring ---------------------------------------------------------------
    def _query(self, demand: Item) -> _Query:
        words = self.words_of(demand)
        word_row = self.words_.transform_one(words)
        bigram_row = self.bigrams_.transform_one(word_bigrams(words))
        bm25 = self.words_.bm25_scores(word_row)
        top = float(bm25.max()) if len(bm25) else 0.0
        return _Query(
            demand,
            word_row,
            bigram_row,
            self.words_.scores(word_row),
            self.bigrams_.scores(bigram_row),
            bm25 / top if top > 0 else bm25,
        )

    def _candidates(self, query: _Query) -> np.ndarray:
        n = self.n_candidates
        found = [
            top_indices(query.word_scores, n),
            top_indices(query.bm25, n),
            top_indices(query.bigram_scores, n // 2),
        ]
        return np.unique(np.concatenate(found)).astype(np.int64)

    def feature_matrix(self, demand: Item, candidates: np.ndarray) -> np.ndarray:
        """Features (FEATURES order) of `demand` against supply rows `candidates`."""
        self._check_fitted()
        return self._features(self._query(demand), candidates)

    def _features(self, query: _Query, candidates: np.ndarray) -> np.ndarray:
        text = np.column_stack(
            [
                query.word_scores[candidates],
                query.bm25[candidates],
                query.bigram_scores[candidates],
            ]
        )
        return np.hstack([text, self.structured_.compute(query.item, candidates)])

    def rank(self, demand: Item, k: int = 10, *, explain: bool = True) -> Ranking:
        """The k best supply items for `demand`, best first; ties broken by id."""
        self._check_fitted()
        if k < 1:
            return Ranking(demand.id, [])
        query = self._query(demand)
        candidates = self._candidates(query)
        if len(candidates) == 0:
            return Ranking(demand.id, [])
        features = self._features(query, candidates)
        scores = features @ self.weight_vector_
        order = self._best(scores, candidates, k)
        rows = candidates[order]
        reasons = (
            self._reasons(
                query,
                [self.supply_[row] for row in rows],
                features[order],
                self.words_.rows[rows],
                self.bigrams_.rows[rows],
            )
            if explain
            else [[] for _ in order]
        )
        return Ranking(
            demand.id,
            [
                Match(self.supply_ids_[candidates[i]], round(float(scores[i]), 4), why)
                for i, why in zip(order, reasons, strict=True)
            ],
        )

    def _best(self, scores: np.ndarray, candidates: np.ndarray, k: int) -> list[int]:
        """Positions of the k best scores, best first, ties by supply id; only the
        scores that can reach the top k are sorted."""
        pool = np.arange(len(scores))
        if len(scores) > k:
            pool = np.flatnonzero(scores >= np.partition(scores, -k)[-k])
        ids = self.supply_ids_
        return sorted(pool.tolist(), key=lambda i: (-scores[i], ids[candidates[i]]))[:k]

    def rank_many(self, demands: Iterable[Item], k: int = 10) -> list[Ranking]:
        return [self.rank(demand, k) for demand in demands]

    def _reasons(
        self,
        query: _Query,
        supplies: Sequence[Item],
        features: np.ndarray,
        word_rows: Any,
        bigram_rows: Any,
    ) -> list[list[dict[str, Any]]]:
        """Reasons for each of `supplies`, given their feature rows and their rows of
        the word and bigram indexes."""
        terms = shared_terms(query.words, word_rows, self.words_.terms)
        bigrams = shared_terms(query.bigrams, bigram_rows, self.bigrams_.terms)
        return [
            explain_reasons(
                query.item, supply, row, self.weight_vector_, shared, shared_bigrams
            )
            for supply, row, shared, shared_bigrams in zip(
                supplies, features, terms, bigrams, strict=True
            )
        ]

    def score_items(self, demand: Item, others: Sequence[Item]) -> list[Match]:
        """Score items that are not in the index (added since the fit), with reasons.

        They are weighed with the fitted vocabulary and IDF, so their scores compare
        with those of `rank`.
        """
        self._check_fitted()
        if not others:
            return []
        query = self._query(demand)
        words = [self.words_of(item) for item in others]
        extra = TermIndex(words)
        word_rows = self.words_.transform(words)
        bigram_rows = self.bigrams_.transform([word_bigrams(w) for w in words])
        # BM25 of the new items on their own scale, tied to the index's best score.
        bm25 = extra.bm25_scores(extra.transform([self.words_of(demand)]))
        best = float(self.words_.bm25_scores(query.words).max(initial=0.0))
        text = np.column_stack(
            [
                np.asarray((word_rows @ query.words.T).toarray()).ravel(),
                np.minimum(bm25 / best, 1.0) if best > 0 else np.zeros(len(others)),
                np.asarray((bigram_rows @ query.bigrams.T).toarray()).ravel(),
            ]
        )
        structured = StructuredFeatures(others).compute(demand, np.arange(len(others)))
        features = np.hstack([text, structured])
        scores = features @ self.weight_vector_
        reasons = self._reasons(query, others, features, word_rows, bigram_rows)
        return [
            Match(item.id, round(float(scores[i]), 4), reasons[i])
            for i, item in enumerate(others)
        ]

    def score_all(self, demands: Sequence[Item]) -> np.ndarray:
        """Scores of every demand against every supply item: (len(demands), n_supply).

        For small sets such as the participants of one event.
        """
        self._check_fitted()
        words = [self.words_of(d) for d in demands]
        word_rows = self.words_.transform(words)
        word_scores = (word_rows @ self.words_.rows.T).toarray()
        bigram_queries = self.bigrams_.transform([word_bigrams(w) for w in words])
        bigram_scores = (bigram_queries @ self.bigrams_.rows.T).toarray()
        # BM25 of every demand at once: its distinct terms against the BM25 weights.
        present = word_rows.copy()
        present.data[:] = 1.0
        assert self.words_.bm25_columns is not None
        bm25 = (present @ self.words_.bm25_columns.T).toarray()
        best = bm25.max(axis=1, initial=0.0, keepdims=True)
        bm25 = np.divide(bm25, best, out=np.zeros_like(bm25), where=best > 0)
        everyone = np.arange(len(self.supply_))
        weights = self.weight_vector_
        result = (
            weights[0] * word_scores + weights[1] * bm25 + weights[2] * bigram_scores
        ).astype(np.float32)
        structured = self.structured_.compute_many(demands, everyone)
        result += (structured @ weights[3:]).astype(np.float32)
        return result
