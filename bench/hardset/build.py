"""Assemble the hard set from the hand-written raw files in raw/.

raw/scenes.txt: one need a line, fields separated by "|":
    key|domain|industries(,)|district|budget or null|kind|title|description
raw/targeted.txt and raw/d*.txt: capabilities, one a line.
    "# <domain> ; <industry>,<industry>"   sets the metadata for the lines below it
    "[fNN] ..." written to serve need NN, "[tNN] ..." a near-miss trap against it
    "title | description"                  catalogue-style offer
    "title"                                keyword-only offer (description "")
raw/late.txt: items added after judging began; they get the next ids in file order,
so earlier ids do not change. Add new items only there (never to the other files),
or ids shift.
The text of every line is hand-written; this script only assigns ids (in a shuffled
order, so ids carry no information), type, maturity and districts (seeded by the title),
and, for keyword-only titles, joins some of the spaces between Chinese words so that
titles are not uniformly word-split.

Usage (from /work/main): .venv/bin/python bench/hardset/build.py
"""

import hashlib
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw"
TAX = json.loads((HERE.parents[1] / "seed_data/taxonomy.json").read_text("utf-8"))
INDUSTRIES = {i["name"] for i in TAX["industries"]}
DISTRICTS = TAX["districts"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def rng_for(text):
    return random.Random(int(hashlib.md5(text.encode("utf-8")).hexdigest()[:12], 16))


def join_spaces(title, r, prob):
    parts = title.split()
    out = [parts[0]]
    for p in parts[1:]:
        prev = out[-1]
        if (
            CJK.match(prev[-1])
            and CJK.match(p[0])
            and len(prev) + len(p) <= 9
            and r.random() < prob
        ):
            out[-1] = prev + p
        else:
            out.append(p)
    return " ".join(out)


def product_title(title):
    # catalogue titles: no spaces between Chinese words, keep them next to Latin words
    return re.sub(r"(?<=[\u4e00-\u9fff）)]) (?=[\u4e00-\u9fff（(])", "", title).strip()


def cap_type(title, desc, r):
    t = title + desc[:30]
    if re.search(r"方法|工艺|算法|模型|机理", title):
        return "新技术"
    if re.search(
        r"方案|服务|平台|咨询|EPC|运营|CRO|CDMO|外包|托管|策划|审核|审计|认证|培训|改造",
        t,
    ):
        return "新方案"
    if not desc:
        return "新技术" if r.random() < 0.65 else "新产品"
    return "新产品" if r.random() < 0.85 else "新技术"


def maturity(desc, r):
    if desc:
        return r.choices(["中试验证", "小批量应用", "规模化应用"], [2, 4, 4])[0]
    return r.choices(["概念验证", "样机研制", "中试验证", "小批量应用"], [3, 3, 3, 1])[
        0
    ]


def load_caps():
    items = []
    files = [RAW / "targeted.txt"] + sorted(RAW.glob("d*.txt")) + [RAW / "late.txt"]
    for f in files:
        dom, inds = [], []
        for n, line in enumerate(f.read_text("utf-8").splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                d, _, i = line[1:].partition(";")
                dom = [x.strip() for x in d.split(",") if x.strip()]
                inds = [x.strip() for x in i.split(",") if x.strip()]
                assert set(dom) <= set(TAX["domains"]), (f, n, dom)
                assert set(inds) <= INDUSTRIES, (f, n, inds)
                continue
            src = "distractor"
            m = re.match(r"\[([ft])(\d\d)\]\s*(.*)", line)
            if m:
                src = ("for:" if m.group(1) == "f" else "trap:") + "hs-s" + m.group(2)
                line = m.group(3)
            title, _, desc = line.partition(" | ")
            items.append(
                dict(
                    title=title.strip(),
                    desc=desc.strip(),
                    dom=dom,
                    inds=inds,
                    src=src,
                    where=f"{f.name}:{n}",
                )
            )
    return items


def main():
    # scenes
    scenes, ssrc = [], []
    for line in (RAW / "scenes.txt").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        key, dom, inds, dist, budget, kind, title, desc = line.split("|")
        inds = inds.split(",")
        assert dom in TAX["domains"] and set(inds) <= INDUSTRIES, key
        assert dist in DISTRICTS and kind in TAX["scene_kinds"], key
        sid = "hs-" + key
        scenes.append(
            dict(
                id=sid,
                title=title,
                description=desc,
                domain=dom,
                industries=inds,
                district=dist,
                budget=None if budget == "null" else f"{float(budget):.2f}",
                kind=kind,
            )
        )
        ssrc.append((sid, "new:hardset", f"scene: {title}"))

    items = load_caps()
    seen, uniq, dropped = set(), [], []
    for it in items:
        k = re.sub(r"\s+", "", it["title"])
        if k in seen:
            dropped.append(it)
            continue
        seen.add(k)
        uniq.append(it)
    n_late = sum(1 for it in uniq if it["where"].startswith("late.txt"))
    order = list(range(len(uniq) - n_late))
    random.Random(20240607).shuffle(order)
    order += list(range(len(uniq) - n_late, len(uniq)))  # late items keep file order

    caps, csrc = [], []
    for new_i, old_i in enumerate(order, 1):
        it = uniq[old_i]
        r = rng_for(it["title"])
        desc = it["desc"]
        if desc:
            title = product_title(it["title"])
            doms, inds = it["dom"], it["inds"]
            districts = (
                list(DISTRICTS)
                if r.random() < 0.3
                else sorted(r.sample(DISTRICTS, r.randint(1, 3)), key=DISTRICTS.index)
            )
        else:
            title = join_spaces(it["title"], r, 0.5)
            doms = it["dom"] if r.random() < 0.6 else []
            inds = (
                it["inds"][: r.randint(1, len(it["inds"]))] if r.random() < 0.8 else []
            )
            districts = [r.choice(DISTRICTS)] if r.random() < 0.4 else []
        cid = f"hs-c{new_i:04d}"
        caps.append(
            dict(
                id=cid,
                title=title,
                description=desc,
                type=cap_type(title, desc, r),
                maturity=maturity(desc, r),
                domains=doms,
                industries=inds,
                districts=districts,
            )
        )
        csrc.append((cid, it["src"], f"{it['where']} {title}"))

    with open(HERE / "scenes.jsonl", "w", encoding="utf-8") as f:
        for s in scenes:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    with open(HERE / "capabilities.jsonl", "w", encoding="utf-8") as f:
        for c in caps:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    with open(HERE / "sources.tsv", "w", encoding="utf-8") as f:
        f.write("id\tsource\tnote\n")
        for row in ssrc + csrc:
            f.write("\t".join(row) + "\n")
    kw = sum(1 for c in caps if not c["description"])
    print(
        f"scenes {len(scenes)}, capabilities {len(caps)} "
        f"(keyword-only {kw}, catalogue {len(caps) - kw}),"
        f" dropped duplicates {len(dropped)}"
    )
    for it in dropped:
        print("  dup:", it["where"], it["title"], it["src"])


if __name__ == "__main__":
    main()
