"""Write seed_data/demo/vectors.npz: the sentence vectors of every demo scene and
capability, so `make run` loads them instead of embedding 550 texts on a fresh machine.

    .venv/bin/python seed_data/demo/tools/embed_demo.py

Run it again after editing a demo text or changing the model; `load-demo` computes
any vector the file lacks, and tests/matches/test_vectors.py checks the file against
the model.
"""

import json
from pathlib import Path

from marketplace.matches.vectors import SEED_VECTORS, write_seed_vectors
from matching import load_embedder
from matching.embed import embedding_text

DEMO = Path(__file__).resolve().parent.parent


def demo_texts() -> list[str]:
    rows = json.loads((DEMO / "scenes.json").read_text(encoding="utf-8"))
    for path in sorted(DEMO.glob("capabilities_*.json")):
        rows += json.loads(path.read_text(encoding="utf-8"))
    return [embedding_text(row["title"], row.get("description") or "") for row in rows]


def main() -> None:
    status = load_embedder()
    if status.embedder is None:
        raise SystemExit(status.message)
    count = write_seed_vectors(DEMO / SEED_VECTORS, demo_texts(), status.embedder)
    print(f"{count} vectors of {status.embedder.name} written to {DEMO / SEED_VECTORS}")


if __name__ == "__main__":
    main()
