"""Format, id, taxonomy and coverage checks for a held-out set (bench/heldout,
bench/competing); topic clusters are checked where sources.tsv names them.

Prints counts; exit 1 on error.

Usage: .venv/bin/python bench/judged/validate.py SET_DIR
"""

import collections
import csv
import json
import re
import sys
from pathlib import Path

HERE = Path(sys.argv[1]).resolve()
TAX = json.loads(
    (Path(__file__).resolve().parents[2] / "seed_data/taxonomy.json").read_text(
        encoding="utf-8"
    )
)
INDUSTRIES = {i["name"] for i in TAX["industries"]}
errors = []


def err(msg):
    errors.append(msg)


def load(name):
    with open(HERE / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


scenes, caps = load("scenes.jsonl"), load("capabilities.jsonl")
S_FIELDS = [
    "id",
    "title",
    "description",
    "domain",
    "industries",
    "district",
    "budget",
    "kind",
]
C_FIELDS = [
    "id",
    "title",
    "description",
    "type",
    "maturity",
    "domains",
    "industries",
    "districts",
]

for s in scenes:
    if list(s) != S_FIELDS:
        err(f"{s.get('id')}: fields {list(s)}")
    if not re.fullmatch(r"[a-z]-s\d\d", s["id"]):
        err(f"bad scene id {s['id']}")
    if s["domain"] not in TAX["domains"]:
        err(f"{s['id']}: domain {s['domain']}")
    if not s["industries"] or set(s["industries"]) - INDUSTRIES:
        err(f"{s['id']}: industries {s['industries']}")
    if s["district"] not in TAX["districts"]:
        err(f"{s['id']}: district {s['district']}")
    if s["kind"] not in TAX["scene_kinds"]:
        err(f"{s['id']}: kind {s['kind']}")
    if s["budget"] is not None and not re.fullmatch(r"\d+(\.\d+)?", s["budget"]):
        err(f"{s['id']}: budget {s['budget']}")
    if not 60 <= len(s["description"]) <= 500:
        err(f"{s['id']}: description length {len(s['description'])}")

for c in caps:
    if list(c) != C_FIELDS:
        err(f"{c.get('id')}: fields {list(c)}")
    if not re.fullmatch(r"[a-z]-c\d{3}", c["id"]):
        err(f"bad capability id {c['id']}")
    if c["type"] not in TAX["capability_types"]:
        err(f"{c['id']}: type {c['type']}")
    if c["maturity"] not in TAX["maturities"]:
        err(f"{c['id']}: maturity {c['maturity']}")
    if not c["domains"] or set(c["domains"]) - set(TAX["domains"]):
        err(f"{c['id']}: domains {c['domains']}")
    if not c["industries"] or set(c["industries"]) - INDUSTRIES:
        err(f"{c['id']}: industries {c['industries']}")
    if not c["districts"] or set(c["districts"]) - set(TAX["districts"]):
        err(f"{c['id']}: districts {c['districts']}")
    if not 40 <= len(c["description"]) <= 400:
        err(f"{c['id']}: description length {len(c['description'])}")

sids, cids = [s["id"] for s in scenes], [c["id"] for c in caps]
for name, ids in (("scene", sids), ("capability", cids)):
    dup = [k for k, n in collections.Counter(ids).items() if n > 1]
    if dup:
        err(f"duplicate {name} ids {dup}")

qrels = {}
with open(HERE / "qrels.tsv", encoding="utf-8") as f:
    rows = list(csv.DictReader(f, delimiter="\t"))
for r in rows:
    key = (r["scene_id"], r["capability_id"])
    if key in qrels:
        err(f"duplicate qrel {key}")
    if r["scene_id"] not in sids or r["capability_id"] not in cids:
        err(f"unknown id in qrel {key}")
    if r["grade"] not in {"0", "1", "2", "3"}:
        err(f"bad grade {key} {r['grade']}")
    qrels[key] = int(r["grade"])

with open(HERE / "sources.tsv", encoding="utf-8") as f:
    src = {r["id"]: r["source"] for r in csv.DictReader(f, delimiter="\t")}
if set(cids) - set(src):
    err(f"capabilities without source: {sorted(set(cids) - set(src))}")

per_scene = collections.defaultdict(list)
for (s, _c), g in qrels.items():
    per_scene[s].append(g)
for s in sids:
    gs = per_scene[s]
    if sum(g >= 2 for g in gs) < 2:
        err(f"{s}: fewer than 2 capabilities graded >= 2")
    if 3 not in gs:
        err(f"{s}: no grade 3")

print(f"scenes {len(scenes)}:", dict(collections.Counter(s["domain"] for s in scenes)))
print(
    f"capabilities {len(caps)}:",
    dict(collections.Counter(d for c in caps for d in c["domains"])),
    "(multi-label)",
)
print(
    "capability sources:",
    dict(collections.Counter(v.split(":")[0] for k, v in src.items() if k in cids)),
)
print(
    f"judged pairs {len(qrels)}; grades",
    dict(sorted(collections.Counter(qrels.values()).items())),
)
dom = {s["id"]: s["domain"] for s in scenes}
for d in TAX["domains"]:
    c = collections.Counter(g for (s, _), g in qrels.items() if dom[s] == d)
    print(
        f"  {d}: judged {sum(c.values())}, "
        + ", ".join(f"{g}:{c[g]}" for g in range(4))
    )
rel = [sum(g >= 2 for g in per_scene[s]) for s in sids]
mean = sum(rel) / len(rel)
print(f"graded >=2 per scene: min {min(rel)}, max {max(rel)}, mean {mean:.1f}")
cluster = {k: v[8:] for k, v in src.items() if v.startswith("cluster:")}
if cluster and set(sids) - set(cluster):
    err(f"scenes without cluster: {sorted(set(sids) - set(cluster))}")
for cl in sorted(set(cluster[s] for s in sids if s in cluster)):
    cs = [c for c in cids if cluster.get(c) == cl]
    ss = [s for s in sids if cluster.get(s) == cl]
    for s in ss:
        for c in cs:
            if (s, c) not in qrels:
                err(f"same-cluster pair not judged: {s} {c}")
    hist = collections.Counter(qrels.get((s, c), 0) for s in ss for c in cs)
    print(
        f"  cluster {cl}: {len(ss)} scenes, {len(cs)} capabilities, "
        + ", ".join(f"{g}:{hist[g]}" for g in range(4))
    )
lens = [len(s["description"]) for s in scenes]
print(f"scene description length {min(lens)}-{max(lens)}")
lens = [len(c["description"]) for c in caps]
print(f"capability description length {min(lens)}-{max(lens)}")
if errors:
    print("ERRORS:")
    for e in errors:
        print(" ", e)
    sys.exit(1)
print("OK")
