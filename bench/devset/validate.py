"""Check the dev set: JSON validity, ids, taxonomy values, qrels integrity, coverage.

Run:  /work/main/.venv/bin/python bench/devset/validate.py
Exits non-zero on any failure; prints counts used in README.md.
"""

import collections
import json
import os
import pathlib
import re
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
TAX = json.loads(
    pathlib.Path(
        os.path.join(HERE, "..", "..", "seed_data", "taxonomy.json")
    ).read_text(encoding="utf-8")
)
DOMAINS = set(TAX["domains"])
DISTRICTS = set(TAX["districts"])
KINDS = set(TAX["scene_kinds"])
INDS = {x["name"] for x in TAX["industries"]}
TYPES = set(TAX["capability_types"])
MAT = set(TAX["maturities"])
errors = []


def err(msg):
    errors.append(msg)


def read_jsonl(name, keys):
    rows = []
    for n, line in enumerate(
        pathlib.Path(os.path.join(HERE, name))
        .read_text(encoding="utf-8")
        .splitlines(True),
        1,
    ):
        try:
            x = json.loads(line)
        except Exception as e:
            err(f"{name}:{n} invalid JSON: {e}")
            continue
        if set(x) != set(keys):
            err(f"{name}:{n} keys {sorted(x)} != {sorted(keys)}")
        rows.append(x)
    return rows


scenes = read_jsonl(
    "scenes.jsonl",
    [
        "id",
        "title",
        "description",
        "domain",
        "industries",
        "district",
        "budget",
        "kind",
    ],
)
caps = read_jsonl(
    "capabilities.jsonl",
    [
        "id",
        "title",
        "description",
        "type",
        "maturity",
        "domains",
        "industries",
        "districts",
    ],
)

for rows, pat, name in [
    (scenes, r"^s\d{3}$", "scene"),
    (caps, r"^c\d{3}$", "capability"),
]:
    ids = [r["id"] for r in rows]
    if len(ids) != len(set(ids)):
        err(f"duplicate {name} ids")
    for i in ids:
        if not re.match(pat, i):
            err(f"bad {name} id {i}")
    titles = [r["title"] for r in rows]
    if len(titles) != len(set(titles)):
        err(f"duplicate {name} titles")

for s in scenes:
    if s["domain"] not in DOMAINS:
        err(f"{s['id']} domain {s['domain']}")
    if s["district"] not in DISTRICTS:
        err(f"{s['id']} district {s['district']}")
    if s["kind"] not in KINDS:
        err(f"{s['id']} kind {s['kind']}")
    if not s["industries"] or set(s["industries"]) - INDS:
        err(f"{s['id']} industries {s['industries']}")
    if s["budget"] is not None:
        try:
            Decimal(s["budget"])
            assert isinstance(s["budget"], str)
        except Exception:
            err(f"{s['id']} budget {s['budget']!r}")
    if not s["title"].strip() or not s["description"].strip():
        err(f"{s['id']} empty text")
for c in caps:
    if c["type"] not in TYPES:
        err(f"{c['id']} type {c['type']}")
    if c["maturity"] not in MAT:
        err(f"{c['id']} maturity {c['maturity']}")
    if not c["domains"] or set(c["domains"]) - DOMAINS:
        err(f"{c['id']} domains {c['domains']}")
    if not c["industries"] or set(c["industries"]) - INDS:
        err(f"{c['id']} industries {c['industries']}")
    if not c["districts"] or set(c["districts"]) - DISTRICTS:
        err(f"{c['id']} districts {c['districts']}")

sid = {s["id"] for s in scenes}
cid = {c["id"] for c in caps}
lines = (
    pathlib.Path(os.path.join(HERE, "qrels.tsv"))
    .read_text(encoding="utf-8")
    .splitlines()
)
if lines[0] != "scene_id\tcapability_id\tgrade":
    err("qrels header")
q = {}
for n, row in enumerate(lines[1:], 2):
    parts = row.split("\t")
    if len(parts) != 3:
        err(f"qrels:{n} malformed")
        continue
    s, c, g = parts
    if s not in sid:
        err(f"qrels:{n} unknown scene {s}")
    if c not in cid:
        err(f"qrels:{n} unknown capability {c}")
    if g not in {"0", "1", "2", "3"}:
        err(f"qrels:{n} grade {g}")
    if (s, c) in q:
        err(f"qrels:{n} duplicate pair {s} {c}")
    q[(s, c)] = int(g)

per_scene = collections.defaultdict(lambda: collections.Counter())
for (s, _c), g in q.items():
    per_scene[s][g] += 1
for s in sorted(sid):
    if per_scene[s][2] + per_scene[s][3] < 2:
        err(f"{s} has fewer than 2 capabilities graded >= 2")
dom = collections.Counter(s["domain"] for s in scenes)
for d in DOMAINS:
    if dom[d] < 7:
        err(f"domain {d} has only {dom[d]} scenes")

src = {}
for row in (
    pathlib.Path(os.path.join(HERE, "sources.tsv"))
    .read_text(encoding="utf-8")
    .splitlines()[1:]
):
    i, so, _ = row.split("\t")
    src[i] = so.split(":")[0]

print("scenes", len(scenes), dict(collections.Counter(src[s["id"]] for s in scenes)))
print("capabilities", len(caps), dict(collections.Counter(src[c["id"]] for c in caps)))
print("scenes per domain", dict(sorted(dom.items())))
print(
    "capabilities per domain (multi-label)",
    dict(sorted(collections.Counter(d for c in caps for d in c["domains"]).items())),
)
print(
    "judged pairs",
    len(q),
    "grade histogram",
    dict(sorted(collections.Counter(q.values()).items())),
)
sdom = {s["id"]: s["domain"] for s in scenes}
byd = collections.defaultdict(collections.Counter)
for (s, _c), g in q.items():
    byd[sdom[s]][g] += 1
for d in sorted(byd):
    print("  ", d, "judged", sum(byd[d].values()), dict(sorted(byd[d].items())))
rel = [per_scene[s][2] + per_scene[s][3] for s in sorted(sid)]
print(
    "grade>=2 per scene: min",
    min(rel),
    "mean",
    round(sum(rel) / len(rel), 2),
    "max",
    max(rel),
    "| scenes with a grade-3:",
    sum(1 for s in sid if per_scene[s][3] > 0),
)
if errors:
    print("\nFAILED:")
    [print(" -", e) for e in errors]
    sys.exit(1)
print("OK")
