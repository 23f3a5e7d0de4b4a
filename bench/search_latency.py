"""List-page and search latency with a realistically large catalogue.

A benchmark, not a test: it builds a database of (by default) 10,000 scene
opportunities and 100,000 capabilities, then times real requests through the Flask
app's test client and prints p50 / p95 / p99 / max latency per request type.

Run from the project root (about 10 minutes on 2 cores at full size, 2 less when the
tokens are cached)::

    .venv/bin/python bench/search_latency.py                     # both backends
    .venv/bin/python bench/search_latency.py --backend sqlite
    .venv/bin/python bench/search_latency.py --backend sqlite --sqlite-analyze
    .venv/bin/python bench/search_latency.py --scenes 1000 --capabilities 10000 \
        --queries 10                                             # quick run

Progress goes to stderr, the report to stdout. What it does, per backend:

1. Builds an empty database: SQLite in a temporary file (deleted unless ``--keep``);
   PostgreSQL in the database ``marketplace_bench`` (created if missing, its public
   schema dropped and recreated; see ``--pg-url``). The schema comes from the Alembic
   migrations (``marketplace.schema.upgrade_database``), so the FTS5 table and triggers
   (SQLite) and the GIN index (PostgreSQL) are the production ones; the taxonomy is
   the seed. PostgreSQL gets a VACUUM ANALYZE after loading, as autovacuum would do;
   SQLite gets no ANALYZE, as the app never runs one (``--sqlite-analyze`` adds it).
2. Generates items by recombining sentences of the demo data (seed_data/demo) of
   the same domain, varying titles, numbers and taxonomy values; most are
   "published", like a live catalogue. A few items get rare terms (钙钛矿, 脑机接口).
   Texts are tokenised once with ``marketplace.search.index_tokens`` (jieba, in
   ``--jobs`` processes) and cached in /tmp, so both backends and later runs reuse
   them. Rows are bulk-inserted with Core ``insert()`` executemany. The load time is
   reported separately from the latencies.
3. Times, with ``create_app(...).test_client()`` (so routing, query parsing, the ORM,
   JSON / Jinja rendering are included, but no network or WSGI server):
   the API and HTML list pages (page 1, a deep page, taxonomy filters) and full-text
   search through the API and the HTML pages with single-word, multi-word, rare,
   absent and very common (智能) queries, as one anonymous visitor, one request at
   a time. Each case gets ``--warmup`` untimed requests (one if it is slower than a
   second), then ``--queries`` timed ones, fewer if ``--case-budget`` seconds run
   out. A request whose SQL runs longer than ``--timeout`` seconds is cancelled
   (SQLite progress handler, PostgreSQL statement_timeout), counted at the timeout
   and not repeated; the table then says "cut at".
4. For the slowest cases (``--explain``) it re-runs the request once with SQL
   statement timing and prints the query plan of its slowest statement
   (``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite).

"total" is the number of matching rows the page reports, "n" the number of timed
requests. Latencies are wall-clock milliseconds of the whole request. Other work on
the machine shows up in the numbers: compare runs, not single cases.
"""

import argparse
import functools
import hashlib
import json
import logging
import math
import os
import pickle
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jieba
import sqlalchemy as sa
from sqlalchemy import event, orm

from marketplace import ROOT, create_app
from marketplace.capabilities.models import Capability, CapabilityTag
from marketplace.db import get_engine, make_engine
from marketplace.organizations.models import Organization
from marketplace.scenes.models import Scene, SceneIndustry
from marketplace.schema import upgrade_database
from marketplace.search import index_tokens, query_terms
from marketplace.taxonomy import SEED_FILE, load_seed_taxonomy, seed_entries

DEMO_DIR = ROOT / "seed_data" / "demo"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench"
INSERT_CHUNK = 5000
LABEL_WIDTH = 52

# Sources whose change changes the tokens: part of the token cache key.
TOKEN_SOURCES = (
    ROOT / "marketplace" / "search.py",
    ROOT / "matching" / "tokenize.py",
    ROOT / "matching" / "data" / "userdict.txt",
    ROOT / "matching" / "data" / "stopwords.txt",
    SEED_FILE,
)

# Towns, streets and parks of Wuxi, to vary titles ("梅村街道" + a demo title).
PLACES = (
    "梅村街道",
    "鸿山街道",
    "硕放街道",
    "旺庄街道",
    "新安街道",
    "华庄街道",
    "雪浪街道",
    "马山街道",
    "蠡园开发区",
    "太湖新城",
    "锡东新城",
    "惠山新城",
    "洛社镇",
    "玉祁街道",
    "东港镇",
    "鹅湖镇",
    "新桥镇",
    "周庄镇",
    "徐霞客镇",
    "丁蜀镇",
    "周铁镇",
    "和桥镇",
    "宜城街道",
    "崇安寺",
    "清名桥",
    "南长街",
)
SCENE_SUFFIXES = (
    "（二期）",
    "试点",
    "推广应用",
    "升级改造",
    "示范项目",
    "场景建设",
    "应用示范",
    "扩面工程",
)
CAPABILITY_SUFFIXES = (
    "V2.0",
    "（标准版）",
    "（企业版）",
    "解决方案",
    "一体机",
    "（轻量化部署）",
    "SaaS服务",
    "联合方案",
)
# Appended to a handful of items so that some queries are genuinely rare.
RARE_SENTENCES = (
    (0.0002, "另需兼容钙钛矿叠层光伏组件的在线缺陷检测。"),
    (0.0005, "后续可扩展至脑机接口康复训练场景。"),
    (0.002, "试点区域包括惠山古镇石板路面及沿河驳岸。"),
)
UNIT_DEPARTMENTS = (
    "交通运输局",
    "生态环境局",
    "卫生健康委员会",
    "教育局",
    "住房和城乡建设局",
    "应急管理局",
    "文化广电和旅游局",
    "农业农村局",
    "水利局",
    "城市管理局",
    "数据局",
    "工业和信息化局",
    "人民医院",
    "市场监督管理局",
    "民政局",
    "投资发展集团",
    "产业园管理办公室",
)
VENDOR_BRAND_CHARS = (
    "灵犀智算云枢数慧眼视觉芯联博远鸿途星辰瑞景天工锐思清源金石华创立方"
)
VENDOR_FIELDS = (
    "智能科技",
    "信息技术",
    "机器人",
    "数字科技",
    "传感技术",
    "环境科技",
    "医疗科技",
    "新能源科技",
    "软件",
    "航空科技",
    "生物科技",
    "物联网科技",
)
SCENE_STATUSES = {
    "published": 80,
    "matched": 3,
    "contracted": 2,
    "completed": 2,
    "submitted": 4,
    "approved": 2,
    "draft": 3,
    "returned": 1,
    "expired": 2,
    "withdrawn": 1,
}
CAPABILITY_STATUSES = {
    "published": 86,
    "submitted": 4,
    "approved": 2,
    "draft": 4,
    "returned": 2,
    "withdrawn": 2,
}
WAS_PUBLISHED = {"published", "matched", "contracted", "completed", "expired"}

SEARCH_QUERIES = (
    "无人机",
    "具身智能",
    "太湖 蓝藻 监测",
    "工业 视觉 检测",
    "智能",
    "智能 平台 数据",
    "基于大模型的政务热线工单智能分派",
    "紫砂",
    "脑机接口",
    "钙钛矿",
    "石墨烯",
)

SENTENCE_END = re.compile(r"(?<=[。；！？\n])")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


# --------------------------------------------------------------------------- data


@dataclass
class Dataset:
    organizations: list[dict[str, Any]]
    scenes: list[dict[str, Any]]
    scene_industries: list[dict[str, Any]]
    capabilities: list[dict[str, Any]]
    capability_tags: list[dict[str, Any]]
    # (title, description, keywords) of scenes, then of capabilities.
    texts: list[tuple[str, str, list[str]]]


def read_json(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


def sentences(text: str) -> list[str]:
    parts = (part.strip() for part in SENTENCE_END.split(text))
    return [p if p[-1] in "。；！？" else p + "。" for p in parts if len(p) >= 6]


def vary_numbers(rng: random.Random, text: str) -> str:
    """Scale about half of the numbers, so copies of a sentence differ."""

    def replace(match: re.Match[str]) -> str:
        raw = match.group()
        if rng.random() < 0.5:
            return raw
        if "." in raw:
            decimals = len(raw.split(".")[1])
            return f"{float(raw) * rng.uniform(0.6, 1.6):.{decimals}f}"
        value = int(raw)
        if value < 3 or 1990 <= value <= 2035:  # list numbers and years stay
            return raw
        return str(max(1, round(value * rng.uniform(0.6, 1.6))))

    return NUMBER.sub(replace, text)


@functools.cache
def title_words(title: str) -> list[str]:
    return jieba.lcut(title)


def vary_title(
    rng: random.Random, base: str, same_domain: Sequence[str], suffixes: Sequence[str]
) -> str:
    roll = rng.random()
    if roll < 0.3:
        # The head of this title with the tail of another of the same domain.
        head = title_words(base)
        tail = title_words(rng.choice(same_domain))
        title = "".join(head[: math.ceil(len(head) / 2)] + tail[len(tail) // 2 :])
    else:
        title = base
    if rng.random() < 0.35:
        title = rng.choice(PLACES) + title
    if rng.random() < 0.35:
        title += rng.choice(suffixes)
    return vary_numbers(rng, title)[:200]


def vary_description(rng: random.Random, base: str, same_domain: Sequence[str]) -> str:
    own = sentences(base) or [base]
    parts = [own[0]] + [s for s in own[1:] if rng.random() < 0.7]
    parts += rng.sample(same_domain, k=min(len(same_domain), rng.randint(0, 3)))
    for probability, sentence in RARE_SENTENCES:
        if rng.random() < probability:
            parts.append(sentence)
    return vary_numbers(rng, "".join(parts))[:5000]


def pick_statuses(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=n)


def some_of(rng: random.Random, base: list[str], names: list[str], limit: int) -> list:
    """The template's values, sometimes with one added or one replaced."""
    values = list(dict.fromkeys(base))[:limit]
    roll = rng.random()
    if roll < 0.15 and len(values) < limit:
        values.append(rng.choice(names))
    elif roll < 0.25 and values:
        values[rng.randrange(len(values))] = rng.choice(names)
    return list(dict.fromkeys(values)) or [rng.choice(names)]


def make_organizations(
    rng: random.Random, n_units: int, n_vendors: int, now: datetime
) -> tuple[list[dict[str, Any]], list[int], list[int]]:
    """Rows of the demo organizations plus generated ones; unit and vendor ids."""
    districts = [e["name"] for e in seed_entries()["districts"]]
    demo_units = read_json(DEMO_DIR / "organizations" / "units.json")
    demo_vendors = read_json(DEMO_DIR / "organizations" / "vendors_a.json")
    demo_vendors += read_json(DEMO_DIR / "organizations" / "vendors_b.json")
    rows: list[dict[str, Any]] = []
    names: set[str] = set()
    unit_ids: list[int] = []
    vendor_ids: list[int] = []

    def add(row: dict[str, Any], ids: list[int]) -> None:
        name, suffix = row["name"], 2
        while name in names:
            name, suffix = f"{row['name']}（{suffix}）", suffix + 1
        names.add(name)
        row_id = len(rows) + 1
        rows.append(
            {
                "id": row_id,
                "name": name[:100],
                "kind": row["kind"],
                "district": row["district"],
                "credit_code": f"91320200{row_id:09d}X",
                "contact_name": row.get("contact_name", ""),
                "contact_phone": row.get("contact_phone", ""),
                "contact_email": row.get("contact_email", ""),
                "created_at": now - timedelta(days=rng.randint(400, 1500)),
            }
        )
        ids.append(row_id)

    for row in demo_units[:n_units]:
        add(row, unit_ids)
    while len(unit_ids) < n_units:
        template = rng.choice(demo_units)
        place = rng.choice(districts + list(PLACES))
        kind = rng.choice(("政府部门", "事业单位", "国有企业"))
        add(
            {**template, "name": place + rng.choice(UNIT_DEPARTMENTS), "kind": kind},
            unit_ids,
        )
    for row in demo_vendors[:n_vendors]:
        add(row, vendor_ids)
    while len(vendor_ids) < n_vendors:
        template = rng.choice(demo_vendors)
        brand = "".join(rng.sample(VENDOR_BRAND_CHARS, 2))
        name = f"无锡{brand}{rng.choice(VENDOR_FIELDS)}有限公司"
        district = rng.choice(districts)
        add({**template, "name": name, "district": district}, vendor_ids)
    return rows, unit_ids, vendor_ids


def generate(n_scenes: int, n_capabilities: int, seed: int) -> Dataset:
    rng = random.Random(seed)
    jieba.setLogLevel(60)
    now = datetime.now(UTC).replace(microsecond=0)
    taxonomy = {k: [e["name"] for e in v] for k, v in seed_entries().items()}
    organizations, unit_ids, vendor_ids = make_organizations(
        rng, max(1, n_scenes // 25), max(1, n_capabilities // 50), now
    )
    contacts = {row["id"]: row for row in organizations}

    def common(status: str, organization_id: int) -> dict[str, Any]:
        published = now - timedelta(seconds=rng.randint(0, 730 * 86400))
        created = published - timedelta(seconds=rng.randint(3600, 30 * 86400))
        organization = contacts[organization_id]
        return {
            "status": status,
            "organization_id": organization_id,
            "contact_name": organization["contact_name"],
            "contact_phone": organization["contact_phone"],
            "contact_email": organization["contact_email"],
            "contact_public": rng.random() < 0.6,
            "created_at": created,
            "updated_at": published if status in WAS_PUBLISHED else created,
            "published_at": published if status in WAS_PUBLISHED else None,
            "created_by_id": None,
        }

    texts: list[tuple[str, str, list[str]]] = []

    # Scenes.
    demo_scenes = read_json(DEMO_DIR / "scenes.json")
    titles_by_domain: dict[str, list[str]] = {}
    sentences_by_domain: dict[str, list[str]] = {}
    for row in demo_scenes:
        titles_by_domain.setdefault(row["domain"], []).append(row["title"])
        sentences_by_domain.setdefault(row["domain"], []).extend(
            sentences(row["description"])
        )
    scenes, scene_industries = [], []
    statuses = pick_statuses(rng, SCENE_STATUSES, n_scenes)
    for index in range(n_scenes):
        template = rng.choice(demo_scenes)
        domain = template["domain"]
        if rng.random() < 0.1:
            domain = rng.choice(taxonomy["domains"])
        title = vary_title(
            rng, template["title"], titles_by_domain[template["domain"]], SCENE_SUFFIXES
        )
        description = vary_description(
            rng, template["description"], sentences_by_domain[template["domain"]]
        )
        industries = some_of(rng, template["industries"], taxonomy["industries"], 5)
        status = statuses[index]
        row = common(status, rng.choice(unit_ids))
        deadline_days = rng.randint(-200, -1) if status == "expired" else 0
        if not deadline_days:
            deadline_days = rng.randint(10, 400)
        budget = None
        if template.get("budget") and rng.random() < 0.85:
            factor = Decimal(str(round(rng.uniform(0.4, 2.5), 2)))
            budget = (Decimal(template["budget"]) * factor).quantize(Decimal("0.01"))
        scene_id = index + 1
        row.update(
            id=scene_id,
            title=title,
            description=description,
            category=template["category"],
            domain=domain,
            kind=template["kind"],
            district=(
                template["district"]
                if rng.random() < 0.6
                else rng.choice(taxonomy["districts"])
            ),
            budget=budget,
            funding_source=template["funding_source"],
            deadline=(now + timedelta(days=deadline_days)).date(),
        )
        scenes.append(row)
        scene_industries += [
            {"scene_id": scene_id, "name": name, "position": position}
            for position, name in enumerate(industries)
        ]
        texts.append((title, description, [domain, *industries]))

    # Capabilities.
    demo_capabilities = read_json(DEMO_DIR / "capabilities_a.json")
    demo_capabilities += read_json(DEMO_DIR / "capabilities_b.json")
    titles_by_domain, sentences_by_domain = {}, {}
    for row in demo_capabilities:
        titles_by_domain.setdefault(row["domains"][0], []).append(row["title"])
        sentences_by_domain.setdefault(row["domains"][0], []).extend(
            sentences(row["description"])
        )
    capabilities, capability_tags = [], []
    statuses = pick_statuses(rng, CAPABILITY_STATUSES, n_capabilities)
    for index in range(n_capabilities):
        template = rng.choice(demo_capabilities)
        key = template["domains"][0]
        title = vary_title(
            rng, template["title"], titles_by_domain[key], CAPABILITY_SUFFIXES
        )
        description = vary_description(
            rng, template["description"], sentences_by_domain[key]
        )
        tags = {
            "domains": some_of(rng, template["domains"], taxonomy["domains"], 5),
            "industries": some_of(
                rng, template["industries"], taxonomy["industries"], 5
            ),
            "districts": some_of(rng, template["districts"], taxonomy["districts"], 8),
        }
        capability_id = index + 1
        row = common(statuses[index], rng.choice(vendor_ids))
        row.update(
            id=capability_id,
            title=title,
            description=description,
            type=template["type"],
            maturity=template["maturity"],
        )
        capabilities.append(row)
        for tag_field, names in tags.items():
            capability_tags += [
                {
                    "capability_id": capability_id,
                    "field": tag_field,
                    "name": name,
                    "position": position,
                }
                for position, name in enumerate(names)
            ]
        texts.append((title, description, [*tags["domains"], *tags["industries"]]))

    return Dataset(
        organizations, scenes, scene_industries, capabilities, capability_tags, texts
    )


def _tokenise(text: tuple[str, str, list[str]]) -> str:
    return index_tokens(*text)


def tokenise(
    texts: list[tuple[str, str, list[str]]], jobs: int, use_cache: bool
) -> tuple[list[str], float, str]:
    """search_tokens of every text, from the cache when the same texts were seen."""
    digest = hashlib.sha256()
    for path in TOKEN_SOURCES:
        digest.update(path.read_bytes())
    for title, description, keywords in texts:
        digest.update("\x1f".join([title, description, *keywords, "\x1e"]).encode())
    cache = Path(tempfile.gettempdir()) / f"marketplace_bench_{digest.hexdigest()[:16]}"
    cache = cache.with_suffix(".tokens.pickle")
    if use_cache and cache.exists():
        started = time.perf_counter()
        tokens = pickle.loads(cache.read_bytes())
        return tokens, time.perf_counter() - started, f"cached in {cache}"
    started = time.perf_counter()
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            tokens = list(pool.map(_tokenise, texts, chunksize=500))
    else:
        tokens = [_tokenise(text) for text in texts]
    elapsed = time.perf_counter() - started
    if use_cache:
        cache.write_bytes(pickle.dumps(tokens, protocol=pickle.HIGHEST_PROTOCOL))
    chars = sum(len(t) + len(d) for t, d, _ in texts)
    rate = chars / elapsed / 1000
    return tokens, elapsed, f"{chars:,} chars, {rate:,.0f}k chars/s, {jobs} process(es)"


# --------------------------------------------------------------------------- load


def chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def reset_postgresql(url: str) -> None:
    target = sa.make_url(url)
    admin = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
            {"name": target.database},
        )
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()
    engine = sa.create_engine(target, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def load(url: str, data: Dataset, tokens: list[str], analyze_sqlite: bool) -> dict:
    """Build the schema and insert the dataset; returns timings in seconds."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    upgrade_database(url)
    timings["schema (migrations)"] = time.perf_counter() - started

    engine = make_engine(url)
    dialect = engine.dialect.name
    with orm.Session(engine) as session:
        load_seed_taxonomy(session)
        session.commit()

    n_scenes = len(data.scenes)
    for row, search_tokens in zip(data.scenes, tokens[:n_scenes], strict=True):
        row["search_tokens"] = search_tokens
    for row, search_tokens in zip(data.capabilities, tokens[n_scenes:], strict=True):
        row["search_tokens"] = search_tokens
    tables = (
        ("organizations", Organization.__table__, data.organizations),
        ("scenes (+ index)", Scene.__table__, data.scenes),
        ("scene_industries", SceneIndustry.__table__, data.scene_industries),
        ("capabilities (+ index)", Capability.__table__, data.capabilities),
        ("capability_tags", CapabilityTag.__table__, data.capability_tags),
    )
    with engine.begin() as connection:
        for label, table, rows in tables:
            started = time.perf_counter()
            for chunk in chunks(rows, INSERT_CHUNK):
                connection.execute(sa.insert(table), chunk)
            timings[f"insert {label}: {len(rows):,} rows"] = (
                time.perf_counter() - started
            )
        if dialect == "postgresql":
            for table in ("organizations", "scenes", "capabilities"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    started = time.perf_counter()
    if dialect == "postgresql":
        # What autovacuum would have done by the time a catalogue is this big.
        with engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        timings["VACUUM ANALYZE"] = time.perf_counter() - started
    else:
        # Outside a transaction: a checkpoint cannot run inside one.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if analyze_sqlite:
                cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()
        label = "ANALYZE + checkpoint" if analyze_sqlite else "WAL checkpoint"
        timings[label] = time.perf_counter() - started
    engine.dispose()
    return timings


def database_size(url: str, path: Path | None) -> str:
    if path is not None:
        return f"{path.stat().st_size / 1e6:,.0f} MB"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        size = connection.scalar(sa.text("SELECT pg_database_size(current_database())"))
    engine.dispose()
    return f"{size / 1e6:,.0f} MB"


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        version = connection.scalar(sa.text("SHOW server_version"))
    engine.dispose()
    return f"PostgreSQL {version}"


# --------------------------------------------------------------------------- measure


@dataclass
class Case:
    label: str
    path: str


@dataclass
class Result:
    case: Case
    total: int | None
    times_ms: list[float] = field(default_factory=list)
    # Requests cancelled by --timeout; their time (the timeout) is in times_ms.
    timeouts: int = 0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def url(path: str, **params: Any) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def build_cases(n_scenes: int, n_capabilities: int) -> list[Case]:
    per_page = 20
    scene_page = max(1, min(200, int(n_scenes * 0.8 / per_page)))
    capability_page = max(1, min(2000, int(n_capabilities * 0.85 / per_page)))
    cases = [
        Case("API scenes page 1", "/api/v1/scenes"),
        Case(f"API scenes page {scene_page}", url("/api/v1/scenes", page=scene_page)),
        Case(
            "API scenes domain+district",
            url("/api/v1/scenes", domain="城市治理", district="江阴市"),
        ),
        Case("API scenes industry", url("/api/v1/scenes", industry="低空经济")),
        Case("API scenes sort=deadline", url("/api/v1/scenes", sort="deadline")),
        Case("API capabilities page 1", "/api/v1/capabilities"),
        Case(
            f"API capabilities page {capability_page}",
            url("/api/v1/capabilities", page=capability_page),
        ),
        Case("API capabilities domain", url("/api/v1/capabilities", domain="城市治理")),
        Case(
            "API capabilities district", url("/api/v1/capabilities", district="宜兴市")
        ),
        Case(
            "API capabilities domain+district",
            url("/api/v1/capabilities", domain="社会民生", district="梁溪区"),
        ),
        Case(
            "API capabilities per_page=100", url("/api/v1/capabilities", per_page=100)
        ),
        Case("HTML /scenes", "/scenes"),
        Case("HTML /capabilities", "/capabilities"),
        Case("HTML /scenes?q=无人机", url("/scenes", q="无人机")),
        Case("HTML /capabilities?q=无人机", url("/capabilities", q="无人机")),
        Case("HTML /capabilities?q=智能", url("/capabilities", q="智能")),
    ]
    for kind in ("scenes", "capabilities"):
        for query in SEARCH_QUERIES:
            cases.append(Case(f"API {kind} q={query}", url(f"/api/v1/{kind}", q=query)))
    cases += [
        Case(
            "API capabilities q=智能 page 50",
            url("/api/v1/capabilities", q="智能", page=50),
        ),
        Case(
            "API capabilities q=智能 sort=newest",
            url("/api/v1/capabilities", q="智能", sort="newest"),
        ),
        Case(
            "API capabilities q=无人机 district",
            url("/api/v1/capabilities", q="无人机", district="江阴市"),
        ),
    ]
    return cases


TOTAL_IN_HTML = re.compile(r"共 (\d+) 条")


class Timeout(Exception):
    pass


class RequestTimeout:
    """Cancels a request's SQL after `seconds`, so one pathological plan cannot hold
    up the run: a progress handler on SQLite, statement_timeout on PostgreSQL."""

    def __init__(self, engine: sa.Engine, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = math.inf
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", self._on_sqlite_connect)
        else:
            event.listen(engine, "connect", self._on_postgresql_connect)

    def _on_sqlite_connect(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_progress_handler(self._expired, 20_000)

    def _expired(self) -> bool:
        return time.perf_counter() > self.deadline

    def _on_postgresql_connect(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {int(self.seconds * 1000)}")
        cursor.close()
        dbapi_connection.commit()

    def request(self, client: Any, path: str) -> tuple[float, int | None]:
        self.deadline = time.perf_counter() + self.seconds
        try:
            return request(client, path, self.seconds)
        finally:
            self.deadline = math.inf


def request(
    client: Any, path: str, timeout: float = math.inf
) -> tuple[float, int | None]:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code == 503 and elapsed >= timeout * 1000:
        raise Timeout(elapsed)
    if response.status_code != 200:
        body = response.get_data(as_text=True)[:300]
        raise RuntimeError(f"GET {path} -> {response.status_code}: {body}")
    if response.is_json:
        return elapsed, response.get_json()["total"]
    found = TOTAL_IN_HTML.search(response.get_data(as_text=True))
    return elapsed, int(found.group(1)) if found else None


def measure(
    client: Any,
    timeout: RequestTimeout,
    cases: list[Case],
    queries: int,
    warmup: int,
    budget: float,
) -> list[Result]:
    """Time each case; a case whose warm-up exceeds the timeout is not repeated."""
    results = []
    for case in cases:
        result = Result(case, None)
        spent = 0.0
        try:
            for _ in range(max(1, warmup)):
                elapsed, result.total = timeout.request(client, case.path)
                spent += elapsed / 1000
                if spent > 1:  # a slow request is not dominated by cold caches
                    break
            spent = 0.0
            while len(result.times_ms) < queries and spent < budget:
                elapsed, _ = timeout.request(client, case.path)
                result.times_ms.append(elapsed)
                spent += elapsed / 1000
        except Timeout as error:
            result.times_ms.append(error.args[0])
            result.timeouts += 1
        results.append(result)
        note = " (timed out)" if result.timeouts else ""
        print(
            f"  {pad(case.label, LABEL_WIDTH)} {result.percentile(50):9.1f} ms{note}",
            file=sys.stderr,
            flush=True,
        )
    return results


class StatementTimer:
    """Records each SQL statement an engine runs, with its parameters and time.

    A statement cancelled by the timeout keeps the time None.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[list[Any]] = []

    def _before(
        self, conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any
    ) -> None:
        entry = [None, statement, parameters, time.perf_counter()]
        self.statements.append(entry)
        conn.info.setdefault("bench_statements", []).append(entry)

    def _after(self, conn: Any, *_: Any) -> None:
        entry = conn.info["bench_statements"].pop()
        entry[0] = (time.perf_counter() - entry[3]) * 1000

    def __enter__(self) -> "StatementTimer":
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


# A select list of several columns, shortened to "…" when printing SQL.
COLUMN_LIST = re.compile(
    r"SELECT (?:(?!SELECT |FROM ).)*?,(?:(?!SELECT |FROM ).)*? FROM"
)


def one_line(sql: str, limit: int = 0) -> str:
    text = COLUMN_LIST.sub("SELECT … FROM", " ".join(sql.split()))
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def explain(
    engine: sa.Engine, statement: str, parameters: Any, analyze: bool
) -> list[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            options = "ANALYZE, BUFFERS" if analyze else "COSTS"
            rows = connection.exec_driver_sql(
                f"EXPLAIN ({options}) {statement}", parameters
            ).all()
            return [row[0] for row in rows]
        rows = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters
        ).all()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def profile(
    app: Any, timeout: RequestTimeout, results: list[Result], count: int
) -> None:
    """Re-run the slowest cases once, timing each SQL statement; explain the worst."""
    engine = get_engine(app)
    client = app.test_client()
    slowest = sorted(results, key=lambda r: r.percentile(50), reverse=True)[:count]
    for result in slowest:
        with StatementTimer(engine) as timer:
            try:
                elapsed, _ = timeout.request(client, result.case.path)
                outcome = f"{elapsed:.0f} ms"
            except Timeout:
                outcome = f"cancelled after {timeout.seconds:g} s"
        print(f"\n  {result.case.label}: {outcome}; SQL:")
        for ms, statement, _, _ in timer.statements:
            shown = "cancelled" if ms is None else f"{ms:8.1f} ms"
            print(f"    {shown:>11}  {one_line(statement, 110)}")
        worst = max(timer.statements, key=lambda s: math.inf if s[0] is None else s[0])
        ms, statement, parameters, _ = worst
        finished = ms is not None
        took = f"{ms:.0f} ms" if finished else "cancelled"
        print(f"  plan of the slowest statement ({took}):")
        print("    " + one_line(statement))
        print(f"    parameters: {parameters}")
        for line in explain(engine, statement, parameters, analyze=finished):
            print("      " + line)


# --------------------------------------------------------------------------- report


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, size: int) -> str:
    return text + " " * max(0, size - width(text))


def print_table(results: Iterable[Result], timeout: float) -> None:
    header = (
        f"{pad('case', LABEL_WIDTH)}{'total':>8} {'n':>4} "
        f"{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}   (ms)"
    )
    print(header)
    print("-" * width(header))
    for r in results:
        total = "" if r.total is None else f"{r.total:,}"
        note = ""
        if r.timeouts:
            note = f"  {r.timeouts} of {len(r.times_ms)} cut at {timeout:g} s"
        print(
            f"{pad(r.case.label, LABEL_WIDTH)}{total:>8} {len(r.times_ms):>4} "
            + "".join(f"{r.percentile(p):9.1f}" for p in (50, 95, 99, 100))
            + note
        )


def print_comparison(by_backend: dict[str, list[Result]], timeout: float) -> None:
    names = list(by_backend)
    print("\n=== p50 / p95 side by side (ms) ===")
    header = pad("case", LABEL_WIDTH) + "".join(
        f"{name + ' p50':>18}{'p95':>9} " for name in names
    )
    print(header)
    print("-" * width(header))
    for row in zip(*by_backend.values(), strict=True):
        line = "".join(
            f"{r.percentile(50):18.1f}{r.percentile(95):9.1f}"
            + ("*" if r.timeouts else " ")
            for r in row
        )
        print(pad(row[0].case.label, LABEL_WIDTH) + line.rstrip())
    print(f"* some requests were cancelled at the {timeout:g} s timeout")


# --------------------------------------------------------------------------- main


def run_backend(
    backend: str, args: argparse.Namespace, data: Dataset, tokens: list[str]
) -> list[Result]:
    sqlite_file: Path | None = None
    if backend == "sqlite":
        handle, name = tempfile.mkstemp(prefix="marketplace_bench_", suffix=".sqlite")
        os.close(handle)
        os.unlink(name)
        sqlite_file = Path(name)
        database_url = f"sqlite:///{sqlite_file}"
    else:
        database_url = args.pg_url
        reset_postgresql(database_url)
    print(f"\n=== {backend}: {server_version(database_url)} ===")
    print(f"database: {sqlite_file or sa.make_url(database_url).database}")
    try:
        started = time.perf_counter()
        timings = load(database_url, data, tokens, args.sqlite_analyze)
        load_total = time.perf_counter() - started
        print("load:")
        for label, seconds in timings.items():
            print(f"  {pad(label, 44)} {seconds:7.1f} s")
        print(f"  {pad('total load (tokens reused)', 44)} {load_total:7.1f} s")
        print(f"  database size: {database_size(database_url, sqlite_file)}")

        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "x",
                "MARKETPLACE_SCHEDULER": "off",
            }
        )
        client = app.test_client()
        timeout = RequestTimeout(get_engine(app), args.timeout)
        # The app logs each cancelled request as "database unavailable".
        logging.getLogger("marketplace.error_handlers").setLevel(logging.ERROR)
        # Load jieba in this process now, not inside the first timed search.
        query_terms("预热")
        cases = build_cases(len(data.scenes), len(data.capabilities))
        print(
            f"measuring {len(cases)} cases: {args.warmup} warm-up + up to "
            f"{args.queries} timed requests each (budget {args.case_budget:g} s/case)",
            flush=True,
        )
        started = time.perf_counter()
        results = measure(
            client, timeout, cases, args.queries, args.warmup, args.case_budget
        )
        print(f"measured in {time.perf_counter() - started:.0f} s\n")
        print_table(results, args.timeout)
        if args.explain:
            print(f"\nSQL of the {args.explain} slowest cases (by p50):")
            profile(app, timeout, results, args.explain)
        get_engine(app).dispose()
        return results
    finally:
        if sqlite_file is not None and not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="List-page and search latency on SQLite and PostgreSQL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="database(s) to measure",
    )
    parser.add_argument("--scenes", type=int, default=10_000, help="scenes to load")
    parser.add_argument(
        "--capabilities", type=int, default=100_000, help="capabilities to load"
    )
    parser.add_argument(
        "--queries", type=int, default=20, help="timed requests per case"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests")
    parser.add_argument(
        "--case-budget",
        type=float,
        default=4.0,
        help="stop timing a case after this many seconds (at least one request)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="cancel a request's SQL after this many seconds; the case is then "
        "reported as timed out and not repeated",
    )
    parser.add_argument("--seed", type=int, default=2026, help="of the generator")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="tokenising processes"
    )
    parser.add_argument(
        "--token-cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the jieba tokens in /tmp for the next run",
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help="PostgreSQL database to (re)build; its public schema is dropped",
    )
    parser.add_argument(
        "--sqlite-analyze",
        action="store_true",
        help="run ANALYZE after loading SQLite (the app itself never does)",
    )
    parser.add_argument(
        "--explain",
        type=int,
        default=3,
        help="print SQL timings and the plan of this many slowest cases (0: none)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite file afterwards"
    )
    args = parser.parse_args(argv)
    if args.scenes < 1 or args.capabilities < 1 or args.queries < 1:
        parser.error("--scenes, --capabilities and --queries must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # The app would otherwise create instance/secret_key in a fresh checkout.
    os.environ.setdefault("SECRET_KEY", "bench")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print("search latency benchmark")
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}")
    print(
        f"items: {args.scenes:,} scenes, {args.capabilities:,} capabilities  "
        f"seed: {args.seed}"
    )
    started = time.perf_counter()
    data = generate(args.scenes, args.capabilities, args.seed)
    print(
        f"generated {len(data.organizations):,} organizations, "
        f"{len(data.scene_industries):,} scene industries, "
        f"{len(data.capability_tags):,} capability tags "
        f"in {time.perf_counter() - started:.1f} s"
    )
    scene_chars = statistics.mean(len(t[1]) for t in data.texts[: args.scenes])
    capability_chars = statistics.mean(len(t[1]) for t in data.texts[args.scenes :])
    print(
        f"mean description length: scenes {scene_chars:.0f}, "
        f"capabilities {capability_chars:.0f} characters"
    )
    tokens, seconds, how = tokenise(data.texts, args.jobs, args.token_cache)
    print(f"tokenised in {seconds:.1f} s ({how})", flush=True)

    by_backend = {}
    for backend in backends:
        by_backend[backend] = run_backend(backend, args, data, tokens)
    if len(by_backend) > 1:
        print_comparison(by_backend, args.timeout)
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
