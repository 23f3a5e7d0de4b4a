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
from matching.tokenize import Tokenizer, document_words
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
        self.bigrams_ = TermIndex([word_bigrams(w) for w in words])
        self.structured_ = StructuredFeatures(items)
        self.supply_ = items
        self.supply_ids_ = [item.id for item in items]
        return self

    def words_of(self, item: Item) -> list[str]:
        """The item's words (stored ones if given), with synonyms expanded.

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
        return expand([w for w in words if _meaningful(w)], self.synonyms_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "supply_"):
            raise NotFittedError("Matcher 尚未 fit：请先用供给条目建立索引")

    # -- scoring ---------------------------------------------------------------
    def _query(self, demand: Item) -> tuple[Any, Any]:
        words = self.words_of(demand)
        return (
            self.words_.transform([words]),
            self.bigrams_.transform([word_bigrams(words)]),
        )

    def _candidates(self, word_query: Any, bigram_query: Any) -> np.ndarray:
        by_words = top_indices(self.words_.scores(word_query), self.n_candidates)
        by_bigrams = top_indices(
            self.bigrams_.scores(bigram_query), self.n_candidates // 2
        )
        return np.union1d(by_words, by_bigrams).astype(np.int64)

    def feature_matrix(self, demand: Item, candidates: np.ndarray) -> np.ndarray:
        """Features (FEATURES order) of `demand` against supply rows `candidates`."""
        self._check_fitted()
        word_query, bigram_query = self._query(demand)
        return self._features(demand, candidates, word_query, bigram_query)

    def _features(
        self, demand: Item, candidates: np.ndarray, word_query: Any, bigram_query: Any
    ) -> np.ndarray:
        text = np.column_stack(
            [
                self.words_.row_scores(word_query, candidates),
                self.bigrams_.row_scores(bigram_query, candidates),
            ]
        )
        return np.hstack([text, self.structured_.compute(demand, candidates)])

    def rank(self, demand: Item, k: int = 10, *, explain: bool = True) -> Ranking:
        """The k best supply items for `demand`, best first; ties broken by id."""
        self._check_fitted()
        if k < 1:
            return Ranking(demand.id, [])
        word_query, bigram_query = self._query(demand)
        candidates = self._candidates(word_query, bigram_query)
        if len(candidates) == 0:
            return Ranking(demand.id, [])
        features = self._features(demand, candidates, word_query, bigram_query)
        scores = features @ self.weight_vector_
        ids = [self.supply_ids_[c] for c in candidates]
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], ids[i]))[:k]
        matches = []
        for i in order:
            row = int(candidates[i])
            matches.append(
                Match(
                    supply_id=ids[i],
                    score=round(float(scores[i]), 4),
                    reasons=self._explain(
                        demand, row, features[i], word_query, bigram_query
                    )
                    if explain
                    else [],
                )
            )
        return Ranking(demand.id, matches)

    def rank_many(self, demands: Iterable[Item], k: int = 10) -> list[Ranking]:
        return [self.rank(demand, k) for demand in demands]

    def _explain(
        self,
        demand: Item,
        row: int,
        features: np.ndarray,
        word_query: Any,
        bigram_query: Any,
    ) -> list[dict[str, Any]]:
        terms = shared_terms(word_query, self.words_.rows[row], self.words_.terms)
        bigrams = shared_terms(
            bigram_query, self.bigrams_.rows[row], self.bigrams_.terms
        )
        return explain_reasons(
            demand, self.supply_[row], features, self.weight_vector_, terms, bigrams
        )

    def score_all(self, demands: Sequence[Item]) -> np.ndarray:
        """Scores of every demand against every supply item: (len(demands), n_supply).

        For small sets such as the participants of one event.
        """
        self._check_fitted()
        words = [self.words_of(d) for d in demands]
        word_scores = (self.words_.transform(words) @ self.words_.rows.T).toarray()
        bigram_queries = self.bigrams_.transform([word_bigrams(w) for w in words])
        bigram_scores = (bigram_queries @ self.bigrams_.rows.T).toarray()
        everyone = np.arange(len(self.supply_))
        result = np.empty((len(demands), len(self.supply_)), dtype=np.float32)
        weights = self.weight_vector_
        for i, demand in enumerate(demands):
            structured = self.structured_.compute(demand, everyone)
            result[i] = (
                weights[0] * word_scores[i]
                + weights[1] * bigram_scores[i]
                + structured @ weights[2:]
            )
        return result
