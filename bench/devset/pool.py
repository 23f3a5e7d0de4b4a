"""Rebuild the judging pool for the dev set (see README.md, "How the pool was built").

Run with the project venv:  /work/main/.venv/bin/python bench/devset/pool.py
Prints pool sizes and how many pooled pairs are judged in qrels.tsv.
"""

import json
import logging
import os
import pathlib
import re

import jieba
import numpy as np
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import TfidfVectorizer

jieba.setLogLevel(logging.WARNING)
HERE = os.path.dirname(os.path.abspath(__file__))
PUNCT = re.compile(r"^[\W_]+$", re.U)


def toks(t):
    return [w for w in jieba.lcut(t) if w.strip() and not PUNCT.match(w)]


def text(x):
    return x["title"] + " " + x["description"]


def load():
    scenes = [
        json.loads(row)
        for row in pathlib.Path(os.path.join(HERE, "scenes.jsonl"))
        .read_text(encoding="utf-8")
        .splitlines(True)
    ]
    caps = [
        json.loads(row)
        for row in pathlib.Path(os.path.join(HERE, "capabilities.jsonl"))
        .read_text(encoding="utf-8")
        .splitlines(True)
    ]
    written_for = {}  # capability id -> scene ids it was written for (rule e)
    for line in (
        pathlib.Path(os.path.join(HERE, "sources.tsv"))
        .read_text(encoding="utf-8")
        .splitlines(True)
    ):
        cid, src, _ = line.rstrip("\n").split("\t")
        m = re.match(r"new:\w+ \((.*)\)", src)
        if m:
            written_for[cid] = re.findall(r"s\d{3}", m.group(1))
    return scenes, caps, written_for


def build_pool(scenes, caps, written_for, kb=30, kt=30, kc=15):
    ct = [text(c) for c in caps]
    st = [text(s) for s in scenes]
    bm = BM25Okapi([toks(t) for t in ct])
    tv = TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None)
    C = tv.fit_transform(ct)
    S = tv.transform(st)
    cv = TfidfVectorizer(analyzer="char", ngram_range=(2, 3))
    C2 = cv.fit_transform(ct)
    S2 = cv.transform(st)
    simw = (S @ C.T).toarray()
    simc = (S2 @ C2.T).toarray()
    pools = {}
    for i, s in enumerate(scenes):
        b = bm.get_scores(toks(st[i]))
        p = (
            set(np.argsort(-b)[:kb])
            | set(np.argsort(-simw[i])[:kt])
            | set(np.argsort(-simc[i])[:kc])
        )
        for j, c in enumerate(caps):
            if s["domain"] in c["domains"] and set(s["industries"]) & set(
                c["industries"]
            ):
                p.add(j)
            if s["id"] in written_for.get(c["id"], []):
                p.add(j)
        pools[s["id"]] = sorted(caps[j]["id"] for j in p)
    return pools


if __name__ == "__main__":
    scenes, caps, wf = load()
    pools = build_pool(scenes, caps, wf)
    judged = set()
    for i, row in enumerate(
        pathlib.Path(os.path.join(HERE, "qrels.tsv"))
        .read_text(encoding="utf-8")
        .splitlines(True)
    ):
        if i:
            s, c, g = row.rstrip("\n").split("\t")
            judged.add((s, c))
    pairs = {(s, c) for s, cs in pools.items() for c in cs}
    sizes = [len(v) for v in pools.values()]
    print(
        "pool pairs",
        len(pairs),
        "min/mean/max per scene",
        min(sizes),
        round(sum(sizes) / len(sizes), 1),
        max(sizes),
    )
    print("pooled pairs missing from qrels:", len(pairs - judged))
