"""Write qrels.tsv from raw/pooled_pairs.tsv (every pair pooled and read) and
raw/grades.txt (the nonzero grades, "sNN NNNN grade"; pairs outside the pool that
were judged by hand are listed there too). A pooled pair without a line in grades.txt
was read and graded 0.
Usage (from /work/main): .venv/bin/python bench/hardset/make_qrels.py
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
grades = {}
for line in (HERE / "raw/grades.txt").read_text("utf-8").splitlines():
    if not line.strip() or line.startswith("#"):
        continue
    s, c, g = line.split()
    key = (f"hs-{s}", f"hs-c{c}")
    assert key not in grades or grades[key] == int(g), ("conflicting grade", key)
    grades[key] = int(g)
pairs = {
    tuple(line.split("\t"))
    for line in (HERE / "raw/pooled_pairs.tsv").read_text("utf-8").splitlines()
    if line
}
pairs |= set(grades)
with open(HERE / "qrels.tsv", "w", encoding="utf-8") as f:
    f.write("scene_id\tcapability_id\tgrade\n")
    for s, c in sorted(pairs):
        f.write(f"{s}\t{c}\t{grades.get((s, c), 0)}\n")
outside = len(
    set(grades)
    - {
        tuple(line.split("\t"))
        for line in (HERE / "raw/pooled_pairs.tsv").read_text("utf-8").splitlines()
        if line
    }
)
print(
    f"qrels {len(pairs)} pairs, nonzero {len(grades)},"
    f" judged outside the pool {outside}"
)
