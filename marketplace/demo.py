"""Demo data from seed_data/demo: organizations, users for each role, scenes and
capabilities. Loading twice adds nothing: rows are matched by name and title."""

import json
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit, search
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.capabilities.models import TAG_FIELDS, Capability
from marketplace.matches import vectors
from marketplace.matches.models import bump_index_version
from marketplace.organizations.credit_code import check_character
from marketplace.organizations.models import Organization
from marketplace.scenes.models import Scene
from marketplace.taxonomy import get_taxonomy, load_seed_taxonomy
from matching import Embedder

DEMO_DIR = Path(__file__).resolve().parent.parent / "seed_data" / "demo"
DEMO_PASSWORD = "demo-wuxi-2026"
CENTER_ORGANIZATION = {
    "name": "无锡市场景创新促进中心",
    "kind": "促进机构",
    "district": "无锡经开区",
    "credit_code": "12320200C00000010",
}
REVIEWER_ORGANIZATION = {
    "name": "无锡市发展和改革委员会",
    "kind": "政府部门",
    "district": "无锡经开区",
    "credit_code": "11320200C00000020",
}
FINANCE_ORGANIZATION = {
    "name": "无锡市财政局",
    "kind": "政府部门",
    "district": "无锡经开区",
    "credit_code": "11320200C00000030",
}
LOAD_COMMENT = "演示数据导入"


def _read(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


def _with_check_character(partial_code: str) -> str:
    return partial_code + check_character(partial_code)


def load_demo(
    session: orm.Session, *, now: datetime, embedder: Embedder | None = None
) -> dict[str, int]:
    """Load everything missing; returns how many rows of each kind were added.

    With an `embedder`, every item gets its sentence vector: the shipped one
    (seed_data/demo/vectors.npz) where it was made from the same text by the same
    model, computed otherwise.
    """
    counts = {"分类条目": load_seed_taxonomy(session)}
    organizations = _load_organizations(session, now)
    counts["单位"] = organizations
    counts["用户"] = _load_users(session, now)
    search.sync_dictionary(session)  # the center's words are cut whole here too
    counts["场景机会"] = _load_scenes(session, now)
    counts["场景能力"] = _load_capabilities(session, now)
    counts["语义向量"] = vectors.seed_vectors(
        session, DEMO_DIR / vectors.SEED_VECTORS, embedder, now=now
    )
    if counts["场景机会"] or counts["场景能力"] or counts["语义向量"]:
        bump_index_version(session, "scenes")
        bump_index_version(session, "capabilities")
    model = embedder.name if embedder is not None else None
    counts["清单期次"] = _load_editions(session, now)
    counts["对接活动"] = _load_event(session, now, model)
    counts["奖补测算"] = _load_subsidy_quotes(session, now)
    counts["年度计划"] = _load_plans(session, now)
    counts["工作清单"] = _load_work_list(session, now)
    return counts


# The center's list for this year: (measure, target as a multiple of what the
# records hold at loading, at least this), so the page shows targets met, on pace
# and behind. Training is counted from the evidence below.
DEMO_TARGETS = [
    ("scenes_collected", Decimal("0.9"), 10),
    ("capabilities_collected", Decimal("1.05"), 10),
    ("editions_published", Decimal("2"), 12),
    ("events_held", Decimal("1"), 4),
    ("meetings_held", Decimal("1"), 40),
    ("contracts", Decimal("1"), 6),
    ("contract_amount", Decimal("1"), 2000),
]
DEMO_TRAINING = [
    ("3", "03-20", "面向市级部门的场景清单填报培训", "锡场景办〔2026〕3号"),
    ("2", "09-12", "人工智能场景开放专题培训（两期）", ""),
]
DEMO_WEIGHTS = ["20", "15", "10", "10", "15", "10", "10", "10"]


def _load_work_list(session: orm.Session, now: datetime) -> int:
    from marketplace.clock import year_bounds_in
    from marketplace.taxonomy import get_taxonomy
    from marketplace.worklists import indicators
    from marketplace.worklists import services as worklists
    from marketplace.worklists.models import WorkList

    users = {u.username: u for u in session.scalars(sa.select(User))}
    if session.scalar(sa.select(WorkList.id).limit(1)) or "center" not in users:
        return 0
    zone = ZoneInfo("Asia/Shanghai")
    today = now.astimezone(zone).date()
    period = worklists.period_of(today.year, year_bounds_in(today.year, zone), today)
    targets = {}
    for key, factor, least in DEMO_TARGETS:
        counted = indicators.actual(session, indicators.MEASURES[key], period, "")
        targets[key] = f"{max((counted * factor).to_integral_value(), least):f}"
    training = worklists.CustomRow(None, "场景创新培训", "场", "8")
    work_list = worklists.create_work_list(
        session,
        users["center"],
        year=today.year,
        scope="",
        targets=targets,
        custom=[training],
        taxonomy=get_taxonomy(session),
        now=now,
        today=today,
    )
    trained = work_list.indicators[-1]
    for quantity, day, description, reference in DEMO_TRAINING:
        on = min(date.fromisoformat(f"{today.year}-{day}"), today)
        worklists.add_evidence(
            session,
            users["center"],
            work_list,
            trained.id,
            description=description,
            quantity=quantity,
            happened_on=on.isoformat(),
            reference=reference,
            now=now,
            today=today,
        )
    if "reviewer" in users:
        worklists.set_weights(
            session,
            users["reviewer"],
            work_list,
            dict(zip([i.id for i in work_list.indicators], DEMO_WEIGHTS, strict=True)),
            bodies={"ndrc": REVIEWER_ORGANIZATION["name"]},
            now=now,
        )
    return 1


# (username, goods-procurement budget, amounts of its first plannable scenes, who
# approves): 梁溪区城市管理局's plan is approved by both bodies, 江阴市交通运输局's
# waits for the Finance Bureau.
DEMO_PLANS = [
    ("unit3", "8000000", ["1200000", "900000", "500000"], ("reviewer", "finance")),
    ("unit", "15000000", ["2600000", "1400000", "800000"], ("reviewer",)),
]


def _load_plans(session: orm.Session, now: datetime) -> int:
    from marketplace.plans import services as plans
    from marketplace.plans.models import AnnualPlan

    if session.scalar(sa.select(AnnualPlan.id).limit(1)):
        return 0
    users = {u.username: u for u in session.scalars(sa.select(User))}
    # The demo's own review bodies (the settings' defaults name the same ones).
    bodies = {
        "ndrc": REVIEWER_ORGANIZATION["name"],
        "finance": FINANCE_ORGANIZATION["name"],
    }
    year = now.astimezone(ZoneInfo("Asia/Shanghai")).year + 1
    added = 0
    for username, budget, amounts, approvers in DEMO_PLANS:
        unit = users.get(username)
        if unit is None:
            continue
        scenes = [
            scene
            for scene, reason in plans.plannable_scenes(session, unit.organization_id)
            if reason is None
        ][: len(amounts)]
        body = {
            "year": year,
            "procurement_budget": budget,
            "lines": [
                {"scene_id": scene.id, "amount": amount}
                for scene, amount in zip(scenes, amounts, strict=False)
            ],
        }
        plan = plans.create_plan(session, unit, body, now=now)
        plans.transition(session, unit, plan.id, "submit", bodies=bodies, now=now)
        for approver in approvers:
            plans.transition(
                session, users[approver], plan.id, "approve", bodies=bodies, now=now
            )
        if plan.status == "approved":
            _open_demo_inquiry(session, users, plan, bodies, now)
        added += 1
    return added


def _open_demo_inquiry(
    session: orm.Session,
    users: dict[str, User],
    plan: Any,
    bodies: dict[str, str],
    now: datetime,
) -> None:
    """An inquiry on the approved plan's first line: the demo vendors are invited,
    `vendor` has quoted (sealed until the closing time), `vendor2` has not yet."""
    from marketplace.plans import inquiry

    vendors = [users[name] for name in ("vendor", "vendor2") if name in users]
    capability_ids = [
        session.scalar(
            sa.select(Capability.id)
            .where(
                Capability.organization_id == vendor.organization_id,
                Capability.status == "published",
            )
            .order_by(Capability.id)
            .limit(1)
        )
        for vendor in vendors
    ]
    if not vendors or None in capability_ids:
        return
    line = plan.lines[0]
    closes_at = now + timedelta(days=14)
    body = {"capability_ids": capability_ids, "closes_at": closes_at.isoformat()}
    inquiry.open_inquiry(
        session, users["reviewer"], plan.id, line.id, body, bodies=bodies, now=now
    )
    price = (line.amount * Decimal("0.92")).quantize(Decimal("0.01"))
    quote = {"amount": str(price), "note": "含三年运维"}
    inquiry.submit_quote(session, vendors[0], plan.id, line.id, quote, now=now)


DEMO_QUOTES = [
    # (scene title, request beyond applicant, scene and date, approved by the reviewer)
    (
        "西装吊挂生产线人形机器人辅助工位试点",
        {
            "provider": 0,
            "provider_investment": "2600000",
            "robot_procurement": "1800000",
            "loans": [{"principal": "8000000", "lpr": "3.10", "months": 12}],
        },
        True,
    ),
    (
        "精纺呢绒面料疵点在线视觉检测",
        {
            "provider": 1,
            "provider_investment": "6000000",
            "insurer": "华锡财产保险股份有限公司无锡分公司",
            "insurance_kind": "中试综合保险",
            "insurance_premium": "600000",
            "loans": [{"principal": "20000000", "lpr": "3.10", "months": 24}],
        },
        False,
    ),
]


def _load_subsidy_quotes(session: orm.Session, now: datetime) -> int:
    """Two quotes of an enterprise's scenes, one approved by the reviewer, so that the
    calculator, the award ledger and the printable notice show something."""
    from marketplace.subsidies import services as subsidies
    from marketplace.subsidies.models import SubsidyQuote

    if session.scalar(sa.select(SubsidyQuote.id).limit(1)):
        return 0
    reviewer = session.scalar(sa.select(User).where(User.username == "reviewer"))
    vendors = _read(DEMO_DIR / "organizations" / "vendors_a.json")
    ids = _organization_ids(session)
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    added = 0
    for title, extra, approve in DEMO_QUOTES:
        scene = session.scalar(sa.select(Scene).where(Scene.title == title))
        if reviewer is None or scene is None:
            continue
        body: dict[str, Any] = {
            "applicant_id": scene.organization_id,
            "scene_id": scene.id,
            "application_date": today.isoformat(),
            "district_supported": True,
            "provider_id": ids.get(vendors[extra["provider"]]["name"]),
            "loans": [
                {**loan, "start": (today - timedelta(days=30)).isoformat()}
                for loan in extra["loans"]
            ],
        }
        body.update(
            {
                k: v
                for k, v in extra.items()
                if k not in ("provider", "insurer", "loans")
            }
        )
        if "insurer" in extra:
            body["insurer_id"] = ids.get(extra["insurer"])
        _, stored = subsidies.make_quote(session, reviewer, body, now=now)
        if approve and stored is not None:
            subsidies.approve_quote(
                session, reviewer, stored.id, comment="项目已确认，同意支持", now=now
            )
        added += 1
    return added


def _load_editions(session: orm.Session, now: datetime) -> int:
    """Two editions of each list, so that “what changed” and the feed show something.

    Made as the center would: the first edition with four scenes marked 已对接 (a
    matched scene leaves the list), then those scenes restored and three
    capabilities withdrawn, and the second edition: it lists 4 new scenes and 3
    capabilities taken off.
    """
    from marketplace.capabilities.services import CAPABILITIES
    from marketplace.editions.models import LISTS, Edition
    from marketplace.editions.services import publish_edition
    from marketplace.items.services import transition_item
    from marketplace.scenes.services import SCENES

    if session.scalar(sa.select(Edition.id).limit(1)):
        return 0
    center = session.scalar(sa.select(User).where(User.username == "center"))
    scenes = session.scalars(
        sa.select(Scene.id).where(Scene.status == "published").order_by(Scene.id.desc())
    ).all()[:4]
    capabilities = session.scalars(
        sa.select(Capability.id)
        .where(Capability.status == "published")
        .order_by(Capability.id.desc())
    ).all()[:3]
    if center is None or len(scenes) < 4 or len(capabilities) < 3:
        return 0
    year = now.astimezone(ZoneInfo("Asia/Shanghai")).year

    def move(kind: Any, item_id: int, target: str, comment: str) -> None:
        transition_item(
            session, kind, center, item_id, target, comment=comment, now=now
        )

    for scene_id in scenes:
        move(SCENES, scene_id, "matched", LOAD_COMMENT)
    for list_kind in LISTS:
        publish_edition(session, list_kind, now=now, year=year, actor=center)
    for scene_id in scenes:
        move(SCENES, scene_id, "published", LOAD_COMMENT)
    for capability_id in capabilities:
        move(CAPABILITIES, capability_id, "withdrawn", LOAD_COMMENT)
    for list_kind in LISTS:
        publish_edition(session, list_kind, now=now, year=year, actor=center)
    return 2 * len(LISTS)


DEMO_EVENT = "2026年低空经济与城市治理场景供需对接会"


def _load_event(session: orm.Session, now: datetime, vector_model: str | None) -> int:
    """One planned and scheduled event, so its pages have something to show.

    It goes through the same services as the center's clicks (invite, propose,
    schedule); the demo unit's and vendor's items are among the participants so
    those logins see their invitations.
    """
    from marketplace.events import pairing, scheduling
    from marketplace.events import services as events
    from marketplace.events.models import Event

    if session.scalar(sa.select(Event.id).where(Event.name == DEMO_EVENT)):
        return 0
    center = session.scalar(sa.select(User).where(User.username == "center"))
    logins = {
        u.username: u
        for u in session.scalars(
            sa.select(User).where(User.username.in_(["unit", "vendor"]))
        )
    }
    if center is None or len(logins) < 2:
        return 0
    domain = "城市治理"
    scenes = session.scalars(
        sa.select(Scene)
        .where(Scene.status == "published", Scene.domain == domain)
        .order_by(
            (Scene.organization_id == logins["unit"].organization_id).desc(), Scene.id
        )
        .limit(10)
    ).all()
    in_domain = [
        c
        for c in session.scalars(
            sa.select(Capability)
            .where(Capability.status == "published")
            .order_by(Capability.id)
        )
        if domain in c.domains
    ]
    if not scenes or not in_domain:
        return 0
    # The vendors that fit these scenes best, and the demo vendor's two best items.
    best = pairing.score_matrix(
        session, scenes, in_domain, vector_model=vector_model
    ).max(axis=0)
    ranked = sorted(range(len(in_domain)), key=lambda j: (-best[j], in_domain[j].id))
    own = [
        j
        for j in ranked
        if in_domain[j].organization_id == logins["vendor"].organization_id
    ]
    chosen = sorted(set(ranked[:18]) | set(own[:2]))
    capabilities = [in_domain[j] for j in chosen]
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    event = events.create_event(
        session,
        center,
        {
            "name": DEMO_EVENT,
            "domain": domain,
            "date": (today + timedelta(days=14)).isoformat(),
            "venue": "无锡市民中心 3号会议厅",
            "sessions": [
                {"start": "09:00", "end": "11:40"},
                {"start": "14:00", "end": "16:40"},
            ],
            "meeting_minutes": 20,
            "tables": 6,
            "max_meetings_per_scene": 4,
            "max_meetings_per_capability": 3,
            "min_score": 0.3,
        },
        get_taxonomy(session),
        now=now,
        today=today,
    )
    events.add_participants(
        session,
        center,
        event.id,
        [s.id for s in scenes],
        [c.id for c in capabilities],
        now=now,
    )
    # Most invitations are answered; two vendors have not replied yet, so the page
    # shows who is unconfirmed and that their meetings wait for the reply.
    invited = sorted(
        (p for p in event.participants),
        key=lambda p: (p.kind != "scene", p.id),
    )
    for participant in invited[:-2]:
        events.respond_to_invitation(
            session, center, event.id, participant.id, accept=True, now=now
        )
    pairing.propose_pairings(
        session, center, event.id, now=now, vector_model=vector_model
    )
    scheduling.schedule_event(session, center, event.id, now=now)
    return 1


def _load_organizations(session: orm.Session, now: datetime) -> int:
    rows = [
        {
            **CENTER_ORGANIZATION,
            "credit_code": _with_check_character(CENTER_ORGANIZATION["credit_code"]),
        },
        {
            **REVIEWER_ORGANIZATION,
            "credit_code": _with_check_character(REVIEWER_ORGANIZATION["credit_code"]),
        },
        {
            **FINANCE_ORGANIZATION,
            "credit_code": _with_check_character(FINANCE_ORGANIZATION["credit_code"]),
        },
    ]
    for path in sorted((DEMO_DIR / "organizations").glob("*.json")):
        rows += _read(path)
    existing = set(session.scalars(sa.select(Organization.name)))
    added = 0
    for row in rows:
        if row["name"] in existing:
            continue
        session.add(
            Organization(
                name=row["name"],
                kind=row["kind"],
                district=row["district"],
                credit_code=row["credit_code"],
                contact_name=row.get("contact_name", ""),
                contact_phone=row.get("contact_phone", ""),
                contact_email=row.get("contact_email", ""),
                created_at=now,
            )
        )
        existing.add(row["name"])
        added += 1
    session.flush()
    return added


def demo_users(session: orm.Session) -> list[tuple[str, str, str | None, str]]:
    """(username, role, organization, display name) of the demo logins."""
    units = _read(DEMO_DIR / "organizations" / "units.json")
    vendors = _read(DEMO_DIR / "organizations" / "vendors_a.json")
    return [
        ("admin", "admin", None, "平台管理员"),
        ("center", "center", CENTER_ORGANIZATION["name"], "促进中心审核员"),
        ("reviewer", "reviewer", REVIEWER_ORGANIZATION["name"], "发改委审核员"),
        ("finance", "reviewer", FINANCE_ORGANIZATION["name"], "财政局审核员"),
        ("unit", "unit", units[0]["name"], units[0].get("contact_name", "")),
        ("unit2", "unit", units[1]["name"], units[1].get("contact_name", "")),
        ("unit3", "unit", units[6]["name"], units[6].get("contact_name", "")),
        ("vendor", "vendor", vendors[0]["name"], vendors[0].get("contact_name", "")),
        ("vendor2", "vendor", vendors[1]["name"], vendors[1].get("contact_name", "")),
    ]


def _load_users(session: orm.Session, now: datetime) -> int:
    existing = set(session.scalars(sa.select(User.username)))
    added = 0
    for username, role, organization, display_name in demo_users(session):
        if username in existing:
            continue
        accounts.create_user(
            session,
            username,
            DEMO_PASSWORD,
            role,
            organization_name=organization,
            display_name=display_name,
            now=now,
        )
        added += 1
    return added


def _organization_ids(session: orm.Session) -> dict[str, int]:
    return dict(session.execute(sa.select(Organization.name, Organization.id)).all())


def _future_deadline(value: str, today: date, index: int) -> date:
    """Seed deadlines are fixed dates; keep a demo loaded later still open."""
    deadline = date.fromisoformat(value)
    if deadline <= today:
        deadline = today + timedelta(days=60 + index % 240)
    return deadline


# The demo's items were posted over the past year (newest last), so the dashboard's
# trend and the work list's pace have a year of history to show.
HISTORY_DAYS = 360
REVIEW_DAYS = 3  # from posting to publication


def _posting_days(now: datetime, count: int) -> list[datetime]:
    """When each of `count` rows was posted: evenly over the past year, in an order
    shuffled the same way each time (the seed files are grouped by domain)."""
    days = [
        now - timedelta(days=HISTORY_DAYS - n * HISTORY_DAYS // max(count, 1))
        for n in range(count)
    ]
    random.Random(HISTORY_DAYS).shuffle(days)
    return days


def _common(
    row: dict[str, Any], organization_id: int, now: datetime, posted: datetime
) -> dict[str, Any]:
    published = row["status"] in ("published", "matched", "contracted", "completed")
    return {
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "organization_id": organization_id,
        "contact_name": row.get("contact_name", ""),
        "contact_phone": row.get("contact_phone", ""),
        "contact_email": row.get("contact_email", ""),
        "contact_public": bool(row.get("contact_public", False)),
        "created_at": posted,
        "updated_at": posted,
        "published_at": min(posted + timedelta(days=REVIEW_DAYS), now)
        if published
        else None,
    }


def _existing_titles(session: orm.Session, model: Any) -> set[tuple[int, str]]:
    return set(session.execute(sa.select(model.organization_id, model.title)).all())


def _record_loaded(session: orm.Session, kind: str, item: Any, now: datetime) -> None:
    audit.record(
        session,
        None,
        f"{kind}.transition",
        kind,
        item.id,
        at=now,
        before=None,
        after=item.status,
        comment=LOAD_COMMENT,
    )


def _contacts_from_organization(
    row: dict[str, Any], organizations: dict[str, dict[str, Any]]
) -> None:
    source = organizations.get(row["organization"], {})
    for name in ("contact_name", "contact_phone", "contact_email"):
        row.setdefault(name, source.get(name, ""))


def _organization_rows() -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted((DEMO_DIR / "organizations").glob("*.json")):
        rows.update({row["name"]: row for row in _read(path)})
    return rows


def _load_scenes(session: orm.Session, now: datetime) -> int:
    ids = _organization_ids(session)
    organizations = _organization_rows()
    existing = _existing_titles(session, Scene)
    today = now.date()
    added = 0
    rows = _read(DEMO_DIR / "scenes.json")
    posting = _posting_days(now, len(rows))
    for index, row in enumerate(rows):
        organization_id = ids[row["organization"]]
        if (organization_id, row["title"]) in existing:
            continue
        _contacts_from_organization(row, organizations)
        posted = posting[index]
        scene = Scene(
            **_common(row, organization_id, now, posted),
            category=row["category"],
            domain=row["domain"],
            kind=row["kind"],
            district=row["district"],
            budget=Decimal(row["budget"]) if row.get("budget") else None,
            funding_source=row["funding_source"],
            deadline=_future_deadline(row["deadline"], today, index),
        )
        scene.industries = row["industries"]
        scene.search_tokens = search.index_tokens(
            scene.title, scene.description, scene.keywords
        )
        session.add(scene)
        session.flush()
        _record_loaded(session, "scene", scene, posted)
        added += 1
    return added


def _load_capabilities(session: orm.Session, now: datetime) -> int:
    ids = _organization_ids(session)
    organizations = _organization_rows()
    existing = _existing_titles(session, Capability)
    added = 0
    rows = [
        row
        for path in sorted(DEMO_DIR.glob("capabilities_*.json"))
        for row in _read(path)
    ]
    posting = _posting_days(now, len(rows))
    for index, row in enumerate(rows):
        organization_id = ids[row["organization"]]
        if (organization_id, row["title"]) in existing:
            continue
        _contacts_from_organization(row, organizations)
        posted = posting[index]
        capability = Capability(
            **_common(row, organization_id, now, posted),
            type=row["type"],
            maturity=row["maturity"],
        )
        for field in TAG_FIELDS:
            capability.set_tags(field, row[field])
        capability.search_tokens = search.index_tokens(
            capability.title, capability.description, capability.keywords
        )
        session.add(capability)
        session.flush()
        _record_loaded(session, "capability", capability, posted)
        existing.add((organization_id, row["title"]))
        added += 1
    return added
