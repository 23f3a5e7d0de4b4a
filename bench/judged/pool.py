"""Rebuild a held-out set's judging pool; check that every pooled pair is judged.

Pool per scene = union of
  (a) top 20 BM25 (rank_bm25.BM25Okapi over jieba.lcut of title+description,
      punctuation dropped)
  (b) top 20 word TF-IDF cosine
      (TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None))
  (c) top 15 char 2-3-gram TF-IDF cosine
  (d) what the set's rules add (--rule, each set's README says which):
      field: every capability sharing the scene's domain and at least one industry;
      written-for: every capability written for the scene (sources.tsv, "for:<scene>");
      cluster: every capability of the scene's topic (sources.tsv, "cluster:<name>")
  (e) top 20 of the project's matcher, run only through its command line

Usage: .venv/bin/python bench/judged/pool.py SET_DIR --rule R [--rule R]
           [--no-matcher] [--dump POOL.tsv]
Exit 1 if a pooled pair is missing from qrels.tsv.
"""

import argparse
import csv
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import jieba
import numpy as np
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

ROOT = Path(__file__).resolve().parents[2]
K_BM25, K_WORD, K_CHAR, K_MATCHER = 20, 20, 15, 20

jieba.setLogLevel(60)


def load(directory, name):
    with open(directory / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def text(item):
    return f"{item['title']} {item['description']}"


def is_punct_or_space(tok):
    tok = tok.strip()
    return not tok or all(unicodedata.category(ch)[0] in "PSZ" for ch in tok)


def tokens(s):
    return [t for t in jieba.lcut(s) if not is_punct_or_space(t)]


def top(scores, k):
    return list(np.argsort(-np.asarray(scores), kind="stable")[:k])


def matcher_top(directory, k):
    cmd = [
        str(ROOT / ".venv/bin/python"),
        "-m",
        "matching",
        "rank",
        "--demand",
        str(directory / "scenes.jsonl"),
        "--supply",
        str(directory / "capabilities.jsonl"),
        "-k",
        str(k),
    ]
    out = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    res = {}
    for line in out.splitlines():
        if line.strip():
            row = json.loads(line)
            res[row["demand_id"]] = [m["supply_id"] for m in row["matches"]]
    return res


def sources(directory):
    written, cluster = {}, {}
    with open(directory / "sources.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["source"].startswith("for:"):
                written.setdefault(row["source"][4:], set()).add(row["id"])
            if row["source"].startswith("cluster:"):
                cluster[row["id"]] = row["source"][8:]
    return written, cluster


def build_pool(directory, rules, use_matcher=True):
    scenes, caps = (
        load(directory, "scenes.jsonl"),
        load(directory, "capabilities.jsonl"),
    )
    cids = [c["id"] for c in caps]
    ctext, stext = [text(c) for c in caps], [text(s) for s in scenes]

    bm25 = BM25Okapi([tokens(t) for t in ctext])
    wv = TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None, lowercase=True)
    wc = wv.fit_transform(ctext)
    ws = cosine_similarity(wv.transform(stext), wc)
    cv = TfidfVectorizer(analyzer="char", ngram_range=(2, 3))
    cc = cv.fit_transform(ctext)
    cs = cosine_similarity(cv.transform(stext), cc)

    written, cluster = sources(directory)
    mt = matcher_top(directory, K_MATCHER) if use_matcher else {}

    pool = {}
    for i, s in enumerate(scenes):
        p = set()
        p |= {cids[j] for j in top(bm25.get_scores(tokens(stext[i])), K_BM25)}
        p |= {cids[j] for j in top(ws[i], K_WORD)}
        p |= {cids[j] for j in top(cs[i], K_CHAR)}
        if "field" in rules:
            p |= {
                c["id"]
                for c in caps
                if s["domain"] in c["domains"]
                and set(s["industries"]) & set(c["industries"])
            }
        if "written-for" in rules:
            p |= written.get(s["id"], set())
        if "cluster" in rules:
            p |= {c for c in cids if cluster.get(c) == cluster[s["id"]]}
        p |= set(mt.get(s["id"], []))
        pool[s["id"]] = p
    return pool


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("directory", type=Path)
    ap.add_argument(
        "--rule", action="append", choices=("field", "written-for", "cluster")
    )
    ap.add_argument("--no-matcher", action="store_true")
    ap.add_argument("--dump", help="write the pool as scene_id<TAB>capability_id")
    args = ap.parse_args()
    pool = build_pool(args.directory.resolve(), args.rule or [], not args.no_matcher)

    sizes = {k: len(v) for k, v in pool.items()}
    total = sum(sizes.values())
    print("pool sizes:", " ".join(f"{k}:{v}" for k, v in sizes.items()))
    print(
        f"total {total}, min {min(sizes.values())}, max {max(sizes.values())}, "
        f"mean {total / len(sizes):.1f}"
    )
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for s, cs in pool.items():
                for c in sorted(cs):
                    f.write(f"{s}\t{c}\n")

    judged = set()
    qpath = args.directory / "qrels.tsv"
    if qpath.exists():
        with open(qpath, encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                judged.add((row["scene_id"], row["capability_id"]))
    missing = [
        (s, c) for s, cs in pool.items() for c in sorted(cs) if (s, c) not in judged
    ]
    print(
        f"judged pairs {len(judged)}, pooled pairs missing from qrels: {len(missing)}"
    )
    for s, c in missing[:20]:
        print("  missing", s, c)
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
