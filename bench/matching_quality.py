"""Matcher quality on every judged set, against BM25, TF-IDF and the sentence model
alone, in one run; and the calibration of scores and of strong matches.

    .venv/bin/python bench/matching_quality.py [--fit] [--sets devset hardset ...]

For each set prints nDCG@10, recall@50 (grade >= 2) and MRR for: BM25 over jieba
words (rank-bm25), plain TF-IDF over jieba words, dense-only (cosine of e5 vectors,
query for the need, passage for the offer), the matcher on words alone, and the
matcher with the dense stage. Sentence vectors are cached in bench/.cache/ (by text
and model), so a second run embeds nothing.

Sets: `devset` and `hardset` are for tuning (the weights and calibration are fitted
on them); `heldout` and `competing` were written apart from the matcher and are never
tuned on (reported only).

With --fit: fits weights and calibration (`matching.weights.fit_score_model`) on the
judged pairs of the tuning sets, with 5-fold cross-validation over needs (fitted on
four folds, scored on the fifth), prints the cross-validated figures, the fitted
values to put in `matching/weights.py`, and the strong-match table: for each
probability threshold, how many top-5 pairs reach it and what share of those officers
judged relevant (unjudged pairs count as not relevant).
"""

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from matching import Item, Matcher, Tokenizer
from matching.embed import CachedEmbedder, load_embedder
from matching.evaluate import BM25Baseline, TfidfBaseline
from matching.evaluate import evaluate as evaluate_ranker
from matching.synonyms import read_synonym_groups
from matching.weights import (
    DEFAULT_WEIGHTS,
    LEXICAL_WEIGHTS,
    STRONG_PROBABILITY,
    Calibration,
    fit_score_model,
)

ROOT = Path(__file__).resolve().parent
TUNING = ("devset", "hardset")
HELD_OUT = ("heldout", "competing")
Judgments = dict[str, dict[str, int]]


def load(directory: Path) -> tuple[list[Item], list[Item], Judgments]:
    def items(name: str) -> list[Item]:
        lines = (directory / name).read_text(encoding="utf-8").splitlines()
        return [Item.from_dict(json.loads(line)) for line in lines if line.strip()]

    judgments: Judgments = defaultdict(dict)
    for line in (directory / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        scene_id, capability_id, grade = line.split("\t")
        judgments[scene_id][capability_id] = int(grade)
    return items("scenes.jsonl"), items("capabilities.jsonl"), dict(judgments)


def evaluate(
    ranker: Callable[[Item], list[str]], demands: Sequence[Item], judgments: Judgments
) -> dict[str, float]:
    """nDCG@10, recall@50 (deep enough for full-corpus retrieval) and MRR."""
    return evaluate_ranker(ranker, demands, judgments, recall_at=50)


def matcher_ranker(matcher: Matcher) -> Callable[[Item], list[str]]:
    return lambda demand: [
        m.supply_id for m in matcher.rank(demand, 50, explain=False).matches
    ]


def dense_ranker(matcher: Matcher) -> Callable[[Item], list[str]]:
    def rank(demand: Item) -> list[str]:
        vector = matcher.query_vector(demand)
        assert vector is not None and matcher.vectors_ is not None
        order = np.argsort(-(matcher.vectors_ @ vector), kind="stable")[:50]
        return [matcher.supply_ids_[i] for i in order]

    return rank


def judged_features(
    matcher: Matcher, scenes: Sequence[Item], judgments: Judgments
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features, 0/1 labels (grade >= 2) and the need of every judged pair."""
    row_of = {item_id: row for row, item_id in enumerate(matcher.supply_ids_)}
    features, labels, needs = [], [], []
    for scene in scenes:
        judged = judgments.get(scene.id, {})
        rows = np.array([row_of[c] for c in judged if c in row_of], dtype=np.int64)
        if len(rows) == 0:
            continue
        features.append(matcher.feature_matrix(scene, rows))
        labels += [int(judged[matcher.supply_ids_[r]] >= 2) for r in rows]
        needs += [scene.id] * len(rows)
    return np.vstack(features), np.array(labels), needs


class Collection:
    """A judged set with its two fitted matchers (words alone, and with vectors)."""

    def __init__(self, name: str, tokenizer: Tokenizer, embedder: object) -> None:
        self.name = name
        self.scenes, self.capabilities, self.judgments = load(ROOT / name)
        self.tokenizer = tokenizer
        self.embedder = embedder
        self.lexical = Matcher(tokenizer=tokenizer, embedder=None).fit(
            self.capabilities
        )
        self.dense = Matcher(tokenizer=tokenizer, embedder=embedder).fit(
            self.capabilities
        )

    def with_model(
        self, weights: dict[str, float], calibration: Calibration, *, dense: bool
    ) -> Matcher:
        """The matcher with other weights, reusing the vectors when dense."""
        return Matcher(
            tokenizer=self.tokenizer,
            embedder=self.embedder if dense else None,
            weights=weights,
            calibration=calibration,
        ).fit(self.capabilities, vectors=self.dense.vectors_ if dense else None)


def report(collection: Collection) -> dict[str, dict[str, float]]:
    c = collection
    pairs = sum(len(j) for j in c.judgments.values())
    print(
        f"\n{c.name}: {len(c.scenes)} needs, {len(c.capabilities)} offers,"
        f" {pairs} judged pairs"
    )
    systems = {
        "BM25 (rank-bm25, jieba)": BM25Baseline(c.capabilities, c.tokenizer),
        "TF-IDF (jieba)": TfidfBaseline(c.capabilities, c.tokenizer),
        "dense only (e5)": dense_ranker(c.dense),
        "matcher, words only": matcher_ranker(c.lexical),
        "matcher, words + dense": matcher_ranker(c.dense),
    }
    results = {}
    print(f"{'system':28} {'nDCG@10':>8} {'recall@50':>10} {'MRR':>7} {'s':>6}")
    for name, ranker in systems.items():
        started = time.perf_counter()
        if isinstance(ranker, (BM25Baseline, TfidfBaseline)):
            results[name] = evaluate(
                lambda d, r=ranker: r(d, 50), c.scenes, c.judgments
            )
        else:
            results[name] = evaluate(ranker, c.scenes, c.judgments)
        r = results[name]
        print(
            f"{name:28} {r['ndcg@10']:8.4f} {r['recall@50']:10.4f} {r['mrr']:7.4f}"
            f" {time.perf_counter() - started:6.2f}"
        )
    bm25 = results["BM25 (rank-bm25, jieba)"]["ndcg@10"]
    for name in ("matcher, words only", "matcher, words + dense"):
        print(f"{name} nDCG@10 / BM25: {results[name]['ndcg@10'] / bm25:.3f}x")
    return results


def strong_table(
    probabilities: np.ndarray, relevant: np.ndarray, thresholds: Sequence[float]
) -> None:
    print(f"{'threshold':>9} {'top-5 pairs':>11} {'judged relevant':>16}")
    for t in thresholds:
        reached = probabilities >= t
        n = int(reached.sum())
        share = float(relevant[reached].mean()) if n else float("nan")
        print(f"{t:9.2f} {n:11d} {share:16.1%}")


def top5_pairs(
    matcher: Matcher, scenes: Sequence[Item], judgments: Judgments
) -> tuple[list[float], list[int]]:
    """Probability and relevance (grade >= 2; unjudged: 0) of every need's top 5."""
    probabilities, relevant = [], []
    for scene in scenes:
        judged = judgments.get(scene.id)
        if not judged:
            continue
        for match in matcher.rank(scene, 5, explain=False).matches:
            probabilities.append(match.score)
            relevant.append(int(judged.get(match.supply_id, 0) >= 2))
    return probabilities, relevant


def fit(collections: Sequence[Collection], *, dense: bool, folds: int = 5) -> None:
    """Cross-validated fit of weights and calibration over the tuning sets, for the
    matcher with the dense stage or on words alone."""
    mode = "words + dense" if dense else "words only"
    print(f"\n== fit ({mode}) on", ", ".join(c.name for c in collections), "==")
    data = [
        judged_features(c.dense if dense else c.lexical, c.scenes, c.judgments)
        for c in collections
    ]
    totals: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    cv_probabilities: list[float] = []
    cv_relevant: list[int] = []
    for fold in range(folds):
        x_train, y_train = [], []
        held: list[tuple[Collection, list[Item]]] = []
        for c, (x, y, needs) in zip(collections, data, strict=True):
            order = sorted({s.id for s in c.scenes if s.id in c.judgments})
            test_ids = set(order[fold::folds])
            mask = np.array([n not in test_ids for n in needs])
            x_train.append(x[mask])
            y_train.append(y[mask])
            held.append((c, [s for s in c.scenes if s.id in test_ids]))
        weights, calibration = fit_score_model(
            np.vstack(x_train), np.concatenate(y_train)
        )
        for c, test in held:
            fitted = c.with_model(weights, calibration, dense=dense)
            for name, value in evaluate(
                matcher_ranker(fitted), test, c.judgments
            ).items():
                totals[c.name][name] += [value] * len(test)
            p, r = top5_pairs(fitted, test, c.judgments)
            cv_probabilities += p
            cv_relevant += r
    for name, figures in totals.items():
        print(
            f"{name}: matcher fitted (5-fold CV) "
            + " ".join(f"{k} {float(np.mean(v)):.4f}" for k, v in figures.items())
        )
    print("\nstrong matches, cross-validated (top 5 of every need, tuning sets):")
    thresholds = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9]
    strong_table(np.array(cv_probabilities), np.array(cv_relevant), thresholds)
    x = np.vstack([d[0] for d in data])
    y = np.concatenate([d[1] for d in data])
    weights, calibration = fit_score_model(x, y)
    print(f"\nfitted on all tuning pairs ({mode}):", weights, calibration)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", nargs="*", default=[*TUNING, *HELD_OUT])
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    status = load_embedder()
    if status.embedder is None:
        sys.exit(f"需要语义模型：{status.message}")
    embedder = CachedEmbedder(status.embedder, ROOT / ".cache" / "vectors.npz")
    groups = read_synonym_groups()
    tokenizer = Tokenizer(user_words=[w for g in groups for w in g])
    print("default weights:", DEFAULT_WEIGHTS, "| words only:", LEXICAL_WEIGHTS)
    print("strong match: probability >=", STRONG_PROBABILITY)
    collections = {}
    for name in args.sets:
        if not (ROOT / name / "qrels.tsv").exists():
            print(f"\n{name}: not found, skipped")
            continue
        collections[name] = Collection(name, tokenizer, embedder)
        embedder.save()
        report(collections[name])
    embedder.save()
    if args.fit:
        tuning = [collections[n] for n in TUNING if n in collections]
        fit(tuning, dense=True)
        fit(tuning, dense=False)


if __name__ == "__main__":
    main()
