"""Ranking quality: nDCG@k, recall@k and MRR on graded judgments, and two baselines
(BM25 and plain TF-IDF over jieba words) to compare the matcher against."""

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from matching.items import Item
from matching.tokenize import Tokenizer

Judgments = Mapping[str, Mapping[str, int]]  # demand id → supply id → grade 0-3
Ranker = Callable[[Item], list[str]]


def dcg(grades: Sequence[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    ideal = dcg(sorted(judged.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judged.get(i, 0) for i in ranked[:k]]) / ideal


def recall_at_k(
    ranked: Sequence[str], judged: Mapping[str, int], k: int = 20, relevant: int = 2
) -> float:
    wanted = {i for i, g in judged.items() if g >= relevant}
    if not wanted:
        return 0.0
    return len(wanted & set(ranked[:k])) / len(wanted)


def reciprocal_rank(
    ranked: Sequence[str], judged: Mapping[str, int], relevant: int = 2
) -> float:
    for position, item_id in enumerate(ranked, start=1):
        if judged.get(item_id, 0) >= relevant:
            return 1.0 / position
    return 0.0


def evaluate(
    ranker: Ranker,
    demands: Sequence[Item],
    judgments: Judgments,
    *,
    recall_at: int = 20,
) -> dict[str, float]:
    """Mean nDCG@10, recall@`recall_at` and MRR over the demands that have
    judgments."""
    recall = f"recall@{recall_at}"
    scores: dict[str, list[float]] = {"ndcg@10": [], recall: [], "mrr": []}
    for demand in demands:
        judged = judgments.get(demand.id)
        if not judged:
            continue
        ranked = ranker(demand)
        scores["ndcg@10"].append(ndcg_at_k(ranked, judged, 10))
        scores[recall].append(recall_at_k(ranked, judged, recall_at))
        scores["mrr"].append(reciprocal_rank(ranked, judged))
    return {
        name: float(np.mean(values)) if values else 0.0
        for name, values in scores.items()
    }


def _text(item: Item) -> str:
    return f"{item.title}\n{item.description}"


class BM25Baseline:
    """BM25 (rank-bm25's Okapi) over jieba words of title and description."""

    def __init__(self, supply: Sequence[Item], tokenizer: Tokenizer) -> None:
        from rank_bm25 import BM25Okapi

        self.tokenizer = tokenizer
        self.ids = [item.id for item in supply]
        self.model = BM25Okapi([tokenizer.cut(_text(item)) or ["∅"] for item in supply])

    def __call__(self, demand: Item, k: int = 20) -> list[str]:
        scores = self.model.get_scores(self.tokenizer.cut(_text(demand)))
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.ids[i] for i in order if scores[i] > 0]


class TfidfBaseline:
    """Cosine of plain TF-IDF vectors of jieba words."""

    def __init__(self, supply: Sequence[Item], tokenizer: Tokenizer) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(
            tokenizer=tokenizer.cut, token_pattern=None, lowercase=False
        )
        self.matrix = self.vectorizer.fit_transform([_text(i) for i in supply])
        self.ids = [item.id for item in supply]

    def __call__(self, demand: Item, k: int = 20) -> list[str]:
        query = self.vectorizer.transform([_text(demand)])
        scores = (self.matrix @ query.T).toarray().ravel()
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.ids[i] for i in order if scores[i] > 0]
