"""The annual quantified work list: each actual equals a count computed here from
the rows themselves, evidence counts only where the platform cannot, the reviewer's
weights make the score, and an approved report no longer moves."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from marketplace.audit import AuditEntry
from marketplace.capabilities.models import Capability
from marketplace.editions.models import Edition
from marketplace.events.models import Event, EventMeeting
from marketplace.plans.models import AnnualPlan, Inquiry, PlanLine
from marketplace.scenes.models import Scene
from marketplace.worklists import services, views
from marketplace.worklists.models import WorkList

YEAR = 2026
TODAY = date(YEAR, 12, 10)
BEIJING = ZoneInfo("Asia/Shanghai")
MEASURES = (
    "scenes_collected",
    "capabilities_collected",
    "editions_published",
    "events_held",
    "meetings_held",
    "intentions",
    "contracts",
    "contract_amount",
    "planned_scenes",
)


def _utc(year, month, day, hour=4, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(autouse=True)
def december(monkeypatch):
    """The platform's clock on 10 December of the list's year (Beijing)."""
    monkeypatch.setattr(views, "local_today", lambda: TODAY)
    monkeypatch.setattr(views, "utcnow", lambda: _utc(YEAR, 12, 10, 2))


def _event(db, name, on, status="scheduled", domain="城市治理"):
    event = Event(
        name=name,
        domain=domain,
        date=on,
        venue="无锡市民中心",
        sessions=[{"start": "09:00", "end": "11:00"}],
        meeting_minutes=20,
        tables=4,
        max_meetings_per_scene=3,
        max_meetings_per_capability=3,
        min_score=0.1,
        status=status,
        proposal_summary={},
        created_at=_utc(YEAR, 1, 2),
        updated_at=_utc(YEAR, 1, 2),
    )
    db.add(event)
    db.flush()
    return event


@pytest.fixture
def records(db, make_scene, make_capability, make_user, make_org):
    """A year of records with the edges that matter: Beijing's new year falls at
    16:00 UTC, drafts and events in planning or still to come do not count."""
    unit = make_user("unit", make_org(kind="政府部门"))
    vendor = make_user("vendor")
    scene_rows = [
        # (domain, status, created_at)
        ("城市治理", "published", _utc(YEAR, 3, 1)),
        ("城市治理", "submitted", _utc(YEAR, 5, 1)),
        ("城市治理", "draft", _utc(YEAR, 6, 1)),
        ("城市治理", "published", _utc(YEAR - 1, 12, 31, 16, 30)),  # 1 Jan, Beijing
        ("城市治理", "published", _utc(YEAR, 12, 31, 16, 30)),  # next year, Beijing
        ("产业发展", "contracted", _utc(YEAR, 4, 1)),
        ("产业发展", "returned", _utc(YEAR - 1, 12, 31, 15, 59)),  # last year
    ]
    scenes = []
    for domain, status, at in scene_rows:
        scene_id = make_scene(owner=unit, status=status, domain=domain)
        db.get(Scene, scene_id).created_at = at
        scenes.append(scene_id)
    caps = []
    for domains, status, at in (
        (["城市治理"], "published", _utc(YEAR, 2, 1)),
        (["产业发展", "城市治理"], "submitted", _utc(YEAR, 7, 1)),
        (["产业发展"], "draft", _utc(YEAR, 8, 1)),
        (["产业发展"], "published", _utc(YEAR + 1, 1, 1)),
    ):
        cap_id = make_capability(owner=vendor, status=status, domains=domains)
        db.get(Capability, cap_id).created_at = at
        caps.append(cap_id)
    held = _event(db, "城市治理场景对接会", date(YEAR, 5, 10))
    industry = _event(db, "产业发展对接会", date(YEAR, 9, 1), "closed", "产业发展")
    _event(db, "筹备中的对接会", date(YEAR, 6, 1), "planning")
    coming = _event(db, "年末对接会", date(YEAR, 12, 20))
    for slot, (event, scene_id, outcome, amount) in enumerate(
        (
            (held, scenes[0], "signed", 500000),
            (held, scenes[1], "intent", None),
            (held, scenes[3], "no_show", None),
            (held, scenes[0], "follow_up", None),
            (held, scenes[1], None, None),
            (industry, scenes[5], "signed", 1250000),
            (coming, scenes[0], "signed", 90000),
        )
    ):
        db.add(
            EventMeeting(
                event_id=event.id,
                scene_id=scene_id,
                capability_id=caps[slot % 2],
                slot=slot,
                table_number=1,
                outcome=outcome,
                amount=amount,
            )
        )
    for sequence, (kind, at) in enumerate(
        (
            ("scenes", _utc(YEAR, 3, 31)),
            ("capabilities", _utc(YEAR, 6, 30)),
            ("scenes", _utc(YEAR, 9, 30)),
        ),
        start=1,
    ):
        db.add(
            Edition(
                list_kind=kind,
                year=YEAR,
                sequence=sequence,
                published_at=at,
                published_by="促进中心",
                item_count=1,
                summary={},
                previous_digest="0" * 64,
                digest=f"{sequence:064d}",
            )
        )
    plans = []
    for status, scene_ids in (
        ("approved", [scenes[0], scenes[5]]),
        ("draft", [scenes[3]]),
    ):
        plan = AnnualPlan(
            organization_id=unit.organization_id,
            year=YEAR,
            version=len(plans) + 1,
            status=status,
            procurement_budget=Decimal("10000000"),
            created_at=_utc(YEAR, 1, 5),
            updated_at=_utc(YEAR, 1, 5),
        )
        plan.lines = [
            PlanLine(scene_id=s, amount=Decimal("3000000"), position=n)
            for n, s in enumerate(scene_ids)
        ]
        db.add(plan)
        plans.append(plan)
    db.flush()
    db.add(
        Inquiry(
            plan_line_id=plans[0].lines[1].id,
            status="contracted",
            opened_by=unit.id,
            opened_at=_utc(YEAR, 6, 1),
            closes_at=_utc(YEAR, 6, 15),
            contract_number="WX-2026-001",
            contract_amount=Decimal("2800000"),
            contract_signed_on=date(YEAR, 7, 1),
        )
    )
    db.commit()
    return {"scenes": scenes, "caps": caps}


def _expected(db, scope):
    """Each measure counted in Python from the rows, as an officer would count."""

    def in_year(moment):
        return moment.astimezone(BEIJING).year == YEAR

    def scoped_scene(scene):
        return not scope or scene.domain == scope

    scenes = {s.id: s for s in db.scalars(sa.select(Scene))}
    caps = list(db.scalars(sa.select(Capability)))
    events = {
        e.id: e
        for e in db.scalars(sa.select(Event))
        if e.date.year == YEAR
        and e.date <= TODAY
        and e.status != "planning"
        and (not scope or e.domain == scope)
    }
    all_held = {
        e.id: e
        for e in db.scalars(sa.select(Event))
        if e.date.year == YEAR and e.date <= TODAY and e.status != "planning"
    }
    meetings = [
        m
        for m in db.scalars(sa.select(EventMeeting))
        if m.event_id in all_held and scoped_scene(scenes[m.scene_id])
    ]
    signed = [m for m in meetings if m.outcome == "signed"]
    inquiries = [
        i
        for i in db.scalars(sa.select(Inquiry))
        if i.contract_signed_on
        and i.contract_signed_on.year == YEAR
        and scoped_scene(scenes[db.get(PlanLine, i.plan_line_id).scene_id])
    ]
    planned = {
        line.scene_id
        for plan in db.scalars(sa.select(AnnualPlan))
        if plan.year == YEAR and plan.status in ("approved", "superseded")
        for line in plan.lines
        if scoped_scene(scenes[line.scene_id])
    }
    amount = sum(m.amount for m in signed) + sum(i.contract_amount for i in inquiries)
    return {
        "scenes_collected": sum(
            1
            for s in scenes.values()
            if s.status != "draft" and in_year(s.created_at) and scoped_scene(s)
        ),
        "capabilities_collected": sum(
            1
            for c in caps
            if c.status != "draft"
            and in_year(c.created_at)
            and (not scope or scope in c.domains)
        ),
        "editions_published": sum(
            1 for e in db.scalars(sa.select(Edition)) if e.year == YEAR
        ),
        "events_held": len(events),
        "meetings_held": sum(
            1 for m in meetings if m.outcome is not None and m.outcome != "no_show"
        ),
        "intentions": sum(1 for m in meetings if m.outcome in ("intent", "signed")),
        "contracts": len(signed) + len(inquiries),
        "contract_amount": (Decimal(amount) / 10000).quantize(Decimal("0.01")),
        "planned_scenes": len(planned),
    }


def _form(scope="", **targets):
    form = {"year": str(YEAR), "scope": scope}
    for key, target in targets.items():
        form[f"target_{key}"] = target
    return form


def _center(login, make_user):
    login(make_user("center"))


def _list(db, scope=""):
    db.commit()  # a fresh read: objects are kept across commits otherwise
    db.expire_all()
    return db.scalar(sa.select(WorkList).where(WorkList.scope == scope))


@pytest.mark.parametrize("scope", ["", "城市治理"])
def test_each_actual_equals_a_count_made_from_the_rows(
    client, db, records, login, make_user, form_post, scope
):
    _center(login, make_user)
    measures = [m for m in MEASURES if not (scope and m == "editions_published")]
    response = form_post("/worklists", _form(scope, **{m: "10" for m in measures}))
    assert response.status_code == 302, response.get_data(as_text=True)
    work_list = _list(db, scope)
    rows = services.progress(
        db,
        work_list,
        TODAY,
        bounds=(_utc(YEAR - 1, 12, 31, 16), _utc(YEAR, 12, 31, 16)),
    )
    actual = {r.indicator.measure: r.actual for r in rows}
    expected = _expected(db, scope)
    assert actual == {m: Decimal(expected[m]) for m in measures}
    # The fixture is built so that no figure is trivially zero.
    assert all(expected[m] for m in measures), expected
    page = client.get(f"/worklists/{work_list.id}").get_data(as_text=True)
    for row in rows:
        assert row.indicator.label in page
    # The report lists the records behind each figure, each linking to its page.
    report = client.get(f"/worklists/{work_list.id}/report").get_data(as_text=True)
    first = records["scenes"][0]
    assert f'href="/scenes/{first}"' in report
    draft = records["scenes"][2]
    assert f'href="/scenes/{draft}"' not in report


def test_hand_counted_figures_of_the_city_list(
    client, db, records, login, make_user, form_post
):
    """The same figures written out, so a wrong independent count cannot hide one."""
    _center(login, make_user)
    form_post("/worklists", _form(**{m: "10" for m in MEASURES}))
    work_list = _list(db)
    rows = services.progress(
        db,
        work_list,
        TODAY,
        bounds=(_utc(YEAR - 1, 12, 31, 16), _utc(YEAR, 12, 31, 16)),
    )
    assert {r.indicator.measure: r.actual for r in rows} == {
        "scenes_collected": 4,  # three of 城市治理 (one on 1 Jan Beijing) and one more
        "capabilities_collected": 2,
        "editions_published": 3,
        "events_held": 2,  # not the one in planning, not the one still to come
        "meetings_held": 4,  # recorded outcomes, no-shows excluded
        "intentions": 3,
        "contracts": 3,  # two signed at events, one inquiry contract
        "contract_amount": Decimal("455.00"),  # 50 + 125 + 280 万元
        "planned_scenes": 2,
    }


def _progress(db, list_id):
    db.commit()  # a fresh read: objects are kept across commits otherwise
    db.expire_all()
    return {
        r.indicator.label: r
        for r in services.progress(
            db,
            db.get(WorkList, list_id),
            TODAY,
            bounds=(_utc(YEAR - 1, 12, 31, 16), _utc(YEAR, 12, 31, 16)),
        )
    }


@pytest.fixture
def weighed_list(client, db, records, login, make_user, form_post):
    """The center's list with an evidence indicator, two pieces of evidence, and
    one refused piece of each kind of bad input."""
    _center(login, make_user)
    form = _form(scenes_collected="3", events_held="4", contract_amount="460")
    form.update(custom_1_label="场景创新培训", custom_1_unit="场", custom_1_target="5")
    assert form_post("/worklists", form).status_code == 302
    work_list = _list(db)
    by_label = {i.label: i.id for i in work_list.indicators}
    url = f"/worklists/{work_list.id}"

    def add(label, **fields):
        data = {"indicator_id": str(by_label[label]), "description": "举办场景创新培训"}
        data.update(fields)
        return form_post(f"{url}/evidence", data)

    assert (
        add("场景创新培训", quantity="2", happened_on=f"{YEAR}-04-02").status_code
        == 302
    )
    assert (
        add("场景创新培训", quantity="1", happened_on=f"{YEAR}-11-20").status_code
        == 302
    )
    db.commit()  # a fresh read
    before = db.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    add("场景创新培训", quantity="", happened_on=f"{YEAR}-05-01")  # no quantity
    add("场景创新培训", quantity="1", happened_on=f"{YEAR - 1}-05-01")  # last year
    add("场景创新培训", quantity="1", happened_on=f"{YEAR}-12-11")  # after today
    add("场景创新培训", quantity="-1", happened_on=f"{YEAR}-05-01")
    form_post(
        f"{url}/evidence",
        {"indicator_id": "99999", "description": "x", "happened_on": f"{YEAR}-05-01"},
    )
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before
    # A note on a counted indicator does not add to what the platform counts.
    assert (
        add("征集场景机会", quantity="50", happened_on=f"{YEAR}-06-01").status_code
        == 302
    )
    return {"id": work_list.id, "url": url, "ids": by_label}


def test_evidence_counts_only_where_the_platform_cannot_and_the_pace_is_the_year(
    db, weighed_list
):
    rows = _progress(db, weighed_list["id"])
    assert rows["场景创新培训"].actual == 3
    assert rows["征集场景机会"].actual == 4
    assert len(rows["场景创新培训"].indicator.evidence) == 2
    # 10 December is day 344 of 365.
    assert rows["签约金额"].expected == (Decimal(460) * 344 / 365).quantize(
        Decimal("0.01")
    )
    assert {label: r.state for label, r in rows.items()} == {
        "征集场景机会": "已完成",  # 4 of 3
        "举办供需对接活动": "落后于进度",  # 2 of the 3.77 due by now
        "签约金额": "符合进度",  # 455 of the 433.53 due by now, of 460
        "场景创新培训": "落后于进度",  # 3 of the 4.71 due by now
    }


def _reviewer(client, login, make_user, make_org, name="无锡市发展和改革委员会"):
    client.post("/logout", data={"csrf_token": "x"})
    user = make_user("reviewer", make_org(name=name))
    login(user)
    return user


def test_the_commission_weighs_and_approves_and_the_approved_report_stays(
    client, db, weighed_list, login, make_user, make_org, form_post, make_scene
):
    url, ids = weighed_list["url"], weighed_list["ids"]
    weights = {
        "征集场景机会": "40",
        "举办供需对接活动": "20",
        "签约金额": "20",
        "场景创新培训": "20",
    }
    form = {f"weight_{ids[label]}": w for label, w in weights.items()}
    # The center may not weigh, nor approve its own report.
    assert form_post(f"{url}/weights", form).status_code == 403
    assert form_post(f"{url}/transition", {"action": "submit"}).status_code == 302
    form_post(f"{url}/transition", {"action": "approve"})
    assert "只有市发展改革委的审核人员可以设定权重和审定绩效报告" in client.get(
        url
    ).get_data(as_text=True)
    assert _list(db).status == "submitted"
    # The Finance Bureau reviews plans, not the center's performance.
    _reviewer(client, login, make_user, make_org, "无锡市财政局")
    form_post(f"{url}/weights", form)
    page = client.get(url).get_data(as_text=True)
    assert "只有市发展改革委" in page  # the refusal, flashed
    assert "保存权重" not in page and "审定绩效报告（市发展改革委）" not in page
    db.commit()
    assert all(i.weight == 0 for i in db.get(WorkList, weighed_list["id"]).indicators)

    _reviewer(client, login, make_user, make_org)
    assert "待审定的促进中心年度绩效报告 1 份" in client.get("/").get_data(as_text=True)
    form_post(f"{url}/weights", {**form, f"weight_{ids['签约金额']}": "25"})  # 105
    assert "权重合计应为100，现为105" in client.get(url).get_data(as_text=True)
    form_post(f"{url}/transition", {"action": "approve"})  # no weights yet
    assert _list(db).status == "submitted"
    assert form_post(f"{url}/weights", form).status_code == 302
    # 40 × 1 + 20 × 2/4 + 20 × 455/460 + 20 × 3/5 = 40 + 10 + 19.78 + 12
    rows = _progress(db, weighed_list["id"])
    assert {label: r.score for label, r in rows.items()} == {
        "征集场景机会": Decimal("40.00"),
        "举办供需对接活动": Decimal("10.00"),
        "签约金额": Decimal("19.78"),
        "场景创新培训": Decimal("12.00"),
    }
    assert services.total_score(list(rows.values())) == Decimal("81.78")
    form_post(f"{url}/transition", {"action": "return"})  # a return needs a reason
    assert _list(db).status == "submitted"
    response = form_post(
        f"{url}/transition", {"action": "approve", "comment": "同意，按此安排经费"}
    )
    assert response.status_code == 302
    work_list = _list(db)
    assert work_list.status == "approved"
    # Records written after the approval do not move the approved report.
    scene = make_scene(status="published")
    db.get(Scene, scene).created_at = _utc(YEAR, 12, 9)
    db.commit()
    assert _progress(db, work_list.id)["征集场景机会"].actual == 4
    assert form_post(f"{url}/weights", form).status_code == 302  # refused, flashed
    page = client.get(url).get_data(as_text=True)
    assert "绩效报告已审定，权重不能再改" in page and "81.78" in page
    actions = [
        e.action
        for e in db.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == "work_list")
            .order_by(AuditEntry.id)
        )
    ]
    assert actions == [
        "work_list.create",
        "work_list.evidence_add",
        "work_list.evidence_add",
        "work_list.evidence_add",
        "work_list.submit",
        "work_list.weights",
        "work_list.approve",
    ]


def test_the_report_workbook_holds_numbers_and_safe_text(
    client, db, weighed_list, form_post
):
    url, ids = weighed_list["url"], weighed_list["ids"]
    form_post(
        f"{url}/evidence",
        {
            "indicator_id": str(ids["场景创新培训"]),
            "description": '=HYPERLINK("http://x")',
            "quantity": "1",
            "happened_on": f"{YEAR}-10-01",
        },
    )
    response = client.get(f"{url}/report.xlsx")
    assert response.status_code == 200
    assert (
        "%E7%BB%A9%E6%95%88%E6%8A%A5%E5%91%8A.xlsx"
        in response.headers["Content-Disposition"]
    )  # …绩效报告.xlsx
    book = load_workbook(BytesIO(response.data))
    summary = book["绩效报告"]
    header = [c.value for c in summary[3]]
    assert header[:5] == ["指标", "单位", "目标", "实际", "完成率"]
    figures = {row[0].value: row for row in summary.iter_rows(min_row=4)}
    assert figures["签约金额"][2].value == 460 and figures["签约金额"][3].value == 455
    assert figures["场景创新培训"][3].value == 4
    details = book["指标明细"]
    signed = [
        r for r in details.iter_rows(min_row=2, values_only=True) if r[0] == "签约金额"
    ]
    assert sorted(r[5] for r in signed) == [50, 125, 280]
    evidence = [c.value for c in book["佐证材料"]["D"]]
    hostile = next(
        c for c in book["佐证材料"]["D"] if c.value and "HYPERLINK" in c.value
    )
    assert hostile.data_type == "s" and "=HYPERLINK" in evidence[-1]


def test_who_may_read_and_write_and_what_a_bad_form_says(
    client, db, records, login, make_user, form_post, row_counts
):
    for role in ("unit", "vendor"):
        login(make_user(role))
        assert client.get("/worklists").status_code == 403
        client.post("/logout", data={"csrf_token": "x"})
    _center(login, make_user)
    before = row_counts()
    response = form_post(
        "/worklists",
        {
            **_form(scenes_collected="十", events_held="-2", contract_amount="0.001"),
            "custom_1_label": "培训",
            "custom_1_unit": "",
            "custom_1_target": "3",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in (
        "“征集场景机会”的目标应为数字",
        "“举办供需对接活动”的目标应大于0",
        "“签约金额”的目标最多两位小数",
        "计量单位必填",
    ):
        assert message in page
    assert 'value="十"' in page  # what was typed is kept
    assert form_post("/worklists", {"year": str(YEAR), "scope": ""}).status_code == 422
    sub = _form("城市治理", editions_published="4")
    assert "这个分中心的清单不统计此项" in form_post("/worklists", sub).get_data(
        as_text=True
    )
    assert row_counts() == before
    assert form_post("/worklists", _form(scenes_collected="5")).status_code == 302
    again = form_post("/worklists", _form(scenes_collected="6"))
    assert again.status_code == 409
    assert "年度的工作清单已经建立" in again.get_data(as_text=True)
    assert client.get("/worklists/99999").status_code == 404


def test_pace_and_states_on_hand_computed_days():
    assert services.pace(YEAR, date(YEAR - 1, 12, 31)) == 0
    assert services.pace(YEAR, date(YEAR, 1, 1)) == Decimal(1) / 365
    assert services.pace(YEAR, date(YEAR, 7, 2)) == Decimal(183) / 365
    assert services.pace(YEAR, date(YEAR, 12, 31)) == 1
    assert services.pace(2028, date(2028, 12, 30)) == Decimal(365) / 366
