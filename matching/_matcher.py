"""The matcher: retrieve candidates by words, bigrams and sentence vectors, score
with structured agreement, calibrate, and explain. Reads as the pipeline:
tokenize → embed → retrieve → features → calibrate → explain."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from matching.embed import Embedder, embedding_text, load_embedder
from matching.explain import name_closest_sentences, shared_terms
from matching.explain import reasons as explain_reasons
from matching.features import StructuredFeatures
from matching.items import Item
from matching.retrieve import TermIndex, top_indices, word_bigrams
from matching.synonyms import expand, read_synonym_groups, synonym_map
from matching.tokenize import Tokenizer, document_words, whole_words
from matching.weights import (
    DEFAULT_CALIBRATION,
    DEFAULT_WEIGHTS,
    FEATURES,
    LEXICAL_CALIBRATION,
    LEXICAL_WEIGHTS,
    STRONG_PROBABILITY,
    Calibration,
    as_vector,
    dense_feature,
)

NUMBER = re.compile(r"^[0-9.,%+\-]+$")
DENSE = FEATURES.index("dense")


@dataclass(frozen=True)
class Match:
    supply_id: str
    score: float  # calibrated: the estimated probability that an officer agrees
    reasons: list[dict[str, Any]] = field(default_factory=list)
    strong: bool = False


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
    dense: np.ndarray | None  # rescaled cosine of sentence vectors; None: lexical


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
        Feature weights (see `matching.weights`); normalised to sum to 1. By default
        those fitted for the mode the matcher runs in.
    calibration : Calibration, optional
        Maps the weighted sum to the probability shown; by default the one fitted
        with the default weights of the mode.
    embedder : Embedder, "auto" or None
        The sentence model of the dense stage. "auto" loads the bundled one when it
        is installed and works (`matching.embed.load_embedder`); None runs on words
        alone.
    n_candidates : int
        Candidates taken from each index before the full score is computed.

    Attributes
    ----------
    supply_ : list of Item
        The fitted supply, in index order.
    words_, bigrams_ : TermIndex
        The word and character-bigram indexes.
    vectors_ : ndarray of shape (n_supply, dim) or None
        The supply's sentence vectors (None in lexical mode).
    mode_ : str
        In Chinese, which mode the matcher runs in and why.

    Examples
    --------
    >>> supply = [Item("c1", "电力线路无人机巡检", "多旋翼无人机自主巡检输电线路"),
    ...           Item("c2", "智慧停车诱导系统", "城市道路停车位感知与诱导")]
    >>> matcher = Matcher(embedder=None).fit(supply)
    >>> matcher.rank(Item("s1", "高压线路巡检", "用无人机巡检")).matches[0].supply_id
    'c1'
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer | None = None,
        synonym_groups: list[list[str]] | None = None,
        weights: Mapping[str, float] | None = None,
        calibration: Calibration | None = None,
        embedder: Embedder | str | None = "auto",
        n_candidates: int = 200,
    ) -> None:
        self.tokenizer = tokenizer
        self.synonym_groups = synonym_groups
        self.weights = weights
        self.calibration = calibration
        self.embedder = embedder
        self.n_candidates = n_candidates

    # -- fitting ---------------------------------------------------------------
    def fit(self, supply: Iterable[Item], *, vectors: np.ndarray | None = None) -> Self:
        """Index the supply; replaces any earlier fit. Returns self.

        `vectors` are the supply's stored sentence vectors (rows in supply order, as
        the embedder's `passages` makes them); without them the embedder computes
        them. Given vectors turn the dense stage on even without an embedder (the
        platform never embeds on the read path).
        """
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
        self.embedder_, self.mode_ = self._resolve_embedder()
        if vectors is not None:
            vectors = np.asarray(vectors, dtype=np.float32)
            if vectors.shape[0] != len(items) or vectors.ndim != 2:
                raise ValueError("向量行数与供给条目数不一致")
            self.vectors_: np.ndarray | None = vectors
            if self.embedder_ is None:
                self.mode_ = "语义与关键词混合匹配（使用已存储的向量）"
        elif self.embedder_ is not None:
            self.vectors_ = self.embedder_.passages(
                [embedding_text(i.title, i.description) for i in items]
            )
        else:
            self.vectors_ = None
        dense = self.vectors_ is not None
        default_weights = DEFAULT_WEIGHTS if dense else LEXICAL_WEIGHTS
        self.weight_vector_ = as_vector(self.weights or default_weights, dense=dense)
        self.calibration_ = self.calibration or (
            DEFAULT_CALIBRATION if dense else LEXICAL_CALIBRATION
        )
        words = [self.words_of(item) for item in items]
        self.words_ = TermIndex(words)
        self.bigrams_ = TermIndex([word_bigrams(w) for w in words], bm25=False)
        self.structured_ = StructuredFeatures(items)
        self.supply_ = items
        self.supply_ids_ = [item.id for item in items]
        return self

    def _resolve_embedder(self) -> tuple[Embedder | None, str]:
        if isinstance(self.embedder, str):
            if self.embedder != "auto":
                raise ValueError("embedder 须为 'auto'、None 或一个 Embedder")
            status = load_embedder()
            return status.embedder, status.message
        if self.embedder is None:
            return None, "仅按关键词匹配（未启用语义模型）"
        return self.embedder, f"语义与关键词混合匹配（{self.embedder.name}）"

    @property
    def dense_(self) -> bool:
        """Whether the dense stage is on."""
        self._check_fitted()
        return self.vectors_ is not None

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

    def query_vector(self, demand: Item) -> np.ndarray | None:
        """The demand's sentence vector as the embedder makes it for the side being
        matched for; None in lexical mode or without an embedder."""
        self._check_fitted()
        if self.vectors_ is None or self.embedder_ is None:
            return None
        return self.embedder_.queries(
            [embedding_text(demand.title, demand.description)]
        )[0]

    # -- scoring ---------------------------------------------------------------
    def _query(self, demand: Item, vector: np.ndarray | None) -> _Query:
        words = self.words_of(demand)
        word_row = self.words_.transform_one(words)
        bigram_row = self.bigrams_.transform_one(word_bigrams(words))
        bm25 = self.words_.bm25_scores(word_row)
        top = float(bm25.max()) if len(bm25) else 0.0
        dense = None
        if self.vectors_ is not None:
            if vector is None:
                vector = self.query_vector(demand)
            if vector is not None:
                dense = dense_feature(self.vectors_ @ np.asarray(vector, np.float32))
            else:  # stored vectors but none for this demand: no semantic evidence
                dense = np.zeros(len(self.supply_), dtype=np.float32)
        return _Query(
            demand,
            word_row,
            bigram_row,
            self.words_.scores(word_row),
            self.bigrams_.scores(bigram_row),
            bm25 / top if top > 0 else bm25,
            dense,
        )

    def _candidates(self, query: _Query) -> np.ndarray:
        n = self.n_candidates
        found = [
            top_indices(query.word_scores, n),
            top_indices(query.bm25, n),
            top_indices(query.bigram_scores, n // 2),
        ]
        if query.dense is not None:
            found.append(top_indices(query.dense, n))
        return np.unique(np.concatenate(found)).astype(np.int64)

    def feature_matrix(
        self, demand: Item, candidates: np.ndarray, *, vector: np.ndarray | None = None
    ) -> np.ndarray:
        """Features (FEATURES order) of `demand` against supply rows `candidates`."""
        self._check_fitted()
        return self._features(self._query(demand, vector), candidates)

    def _features(self, query: _Query, candidates: np.ndarray) -> np.ndarray:
        dense = (
            query.dense[candidates]
            if query.dense is not None
            else np.zeros(len(candidates), dtype=np.float32)
        )
        text = np.column_stack(
            [
                query.word_scores[candidates],
                query.bm25[candidates],
                query.bigram_scores[candidates],
                dense,
            ]
        )
        return np.hstack([text, self.structured_.compute(query.item, candidates)])

    def probability(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated scores of raw weighted sums."""
        return self.calibration_.probability(raw)

    def rank(
        self,
        demand: Item,
        k: int = 10,
        *,
        explain: bool = True,
        vector: np.ndarray | None = None,
    ) -> Ranking:
        """The k best supply items for `demand`, best first; ties broken by id.

        `vector` is the demand's stored sentence vector; without it the embedder
        computes one (when there is an embedder).
        """
        self._check_fitted()
        if k < 1:
            return Ranking(demand.id, [])
        query = self._query(demand, vector)
        candidates = self._candidates(query)
        if len(candidates) == 0:
            return Ranking(demand.id, [])
        features = self._features(query, candidates)
        raw = features @ self.weight_vector_
        order = self._best(raw, candidates, k)
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
            self._matches(
                [self.supply_ids_[candidates[i]] for i in order], raw[order], reasons
            ),
        )

    def _matches(
        self,
        ids: Sequence[str],
        raw: np.ndarray,
        reasons: Sequence[list[dict[str, Any]]],
    ) -> list[Match]:
        probabilities = self.probability(raw)
        return [
            Match(
                supply_id,
                round(float(p), 4),
                why,
                strong=bool(p >= STRONG_PROBABILITY),
            )
            for supply_id, p, why in zip(ids, probabilities, reasons, strict=True)
        ]

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
        # More than are shown: the taxonomy terms among them are told as fields.
        terms = shared_terms(query.words, word_rows, self.words_.terms, limit=12)
        bigrams = shared_terms(query.bigrams, bigram_rows, self.bigrams_.terms)
        demand_words = self.words_of(query.item)
        result = [
            explain_reasons(
                query.item,
                supply,
                row,
                self.weight_vector_,
                shared,
                shared_bigrams,
                demand_words=demand_words,
                supply_words=self.words_of(supply),
                synonyms=self.synonyms_,
            )
            for supply, row, shared, shared_bigrams in zip(
                supplies, features, terms, bigrams, strict=True
            )
        ]
        if self.embedder_ is not None and self.vectors_ is not None:
            name_closest_sentences(self.embedder_, query.item, supplies, result)
        return result

    def score_items(
        self,
        demand: Item,
        others: Sequence[Item],
        *,
        vector: np.ndarray | None = None,
        other_vectors: np.ndarray | None = None,
    ) -> list[Match]:
        """Score items that are not in the index (added since the fit), with reasons.

        They are weighed with the fitted vocabulary and IDF, so their scores compare
        with those of `rank`. `other_vectors` are their stored sentence vectors.
        """
        self._check_fitted()
        if not others:
            return []
        query = self._query(demand, vector)
        words = [self.words_of(item) for item in others]
        extra = TermIndex(words)
        word_rows = self.words_.transform(words)
        bigram_rows = self.bigrams_.transform([word_bigrams(w) for w in words])
        # BM25 of the new items on their own scale, tied to the index's best score.
        bm25 = extra.bm25_scores(extra.transform([self.words_of(demand)]))
        best = float(self.words_.bm25_scores(query.words).max(initial=0.0))
        dense = np.zeros(len(others), dtype=np.float32)
        if self.vectors_ is not None:
            if other_vectors is None and self.embedder_ is not None:
                other_vectors = self.embedder_.passages(
                    [embedding_text(i.title, i.description) for i in others]
                )
            demand_vector = vector if vector is not None else self.query_vector(demand)
            if other_vectors is not None and demand_vector is not None:
                dense = dense_feature(
                    np.asarray(other_vectors, np.float32)
                    @ np.asarray(demand_vector, np.float32)
                )
        text = np.column_stack(
            [
                np.asarray((word_rows @ query.words.T).toarray()).ravel(),
                np.minimum(bm25 / best, 1.0) if best > 0 else np.zeros(len(others)),
                np.asarray((bigram_rows @ query.bigrams.T).toarray()).ravel(),
                dense,
            ]
        )
        structured = StructuredFeatures(others).compute(demand, np.arange(len(others)))
        features = np.hstack([text, structured])
        raw = features @ self.weight_vector_
        reasons = self._reasons(query, others, features, word_rows, bigram_rows)
        return self._matches([item.id for item in others], raw, reasons)

    def score_all(
        self, demands: Sequence[Item], *, vectors: np.ndarray | None = None
    ) -> np.ndarray:
        """Calibrated scores of every demand against every supply item:
        (len(demands), n_supply). `vectors` are the demands' sentence vectors.

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
        if self.vectors_ is not None:
            if vectors is None and self.embedder_ is not None:
                vectors = self.embedder_.queries(
                    [embedding_text(d.title, d.description) for d in demands]
                )
            if vectors is not None:
                cosines = np.asarray(vectors, np.float32) @ self.vectors_.T
                result += weights[DENSE] * dense_feature(cosines)
        structured = self.structured_.compute_many(demands, everyone)
        result += (structured @ weights[DENSE + 1 :]).astype(np.float32)
        return self.probability(result).astype(np.float32)
