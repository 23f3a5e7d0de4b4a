"""The data dashboard: every count is the list's total with the same filters, for the
same reader; figures are aggregates (a fixed number of queries); page, XLSX, API."""

from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from marketplace.events.models import Event, EventMeeting
from marketplace.scenes.models import Scene

SCENES = [
    # (domain, district, status)
    ("城市治理", "梁溪区", "published"),
    ("城市治理", "梁溪区", "published"),
    ("城市治理", "新吴区", "matched"),
    ("产业发展", "新吴区", "published"),
    ("产业发展", "江阴市", "contracted"),
    ("社会民生", "江阴市", "completed"),
    ("社会民生", "梁溪区", "submitted"),
    ("城市治理", "宜兴市", "returned"),
    ("产业发展", "宜兴市", "draft"),
    ("城市治理", "梁溪区", "withdrawn"),
]


@pytest.fixture
def world(make_scene, make_capability, make_user, db):
    unit, vendor = make_user("unit"), make_user("vendor")
    scenes = [
        make_scene(owner=unit, status=status, domain=domain, district=district)
        for domain, district, status in SCENES
    ]
    capabilities = [
        make_capability(owner=vendor, domains=["城市治理"], districts=["梁溪区"]),
        make_capability(
            owner=vendor, domains=["城市治理", "产业发展"], districts=["新吴区"]
        ),
        make_capability(owner=vendor, status="submitted", domains=["社会民生"]),
    ]
    # One published scene was posted last year.
    old = db.get(Scene, scenes[1])
    old.created_at = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
    db.commit()
    return {"unit": unit, "vendor": vendor, "scenes": scenes, "caps": capabilities}


def _total(client, path, headers, **args):
    response = client.get(f"{path}?{urlencode(args)}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["total"]


def _check_against_lists(client, headers, **filters):
    board = client.get(f"/api/v1/dashboard?{urlencode(filters)}", headers=headers)
    assert board.status_code == 200, board.get_json()
    body = board.get_json()
    taxonomy = client.get("/api/v1/taxonomy").get_json()
    domains = taxonomy["domains"]
    districts = taxonomy["districts"]
    checked = 0
    for kind, path in (
        ("scenes", "/api/v1/scenes"),
        ("capabilities", "/api/v1/capabilities"),
    ):
        figures = body[kind]
        # Every term, zeros included (JSON objects carry no order).
        assert set(figures["by_domain"]) == set(domains)
        assert set(figures["by_district"]) == set(districts)
        for domain, count in figures["by_domain"].items():
            args = {**filters, "domain": domain}
            if "domain" in filters and filters["domain"] != domain:
                continue
            assert count == _total(client, path, headers, **args), (kind, domain)
            checked += 1
        for district, count in figures["by_district"].items():
            if "district" in filters and filters["district"] != district:
                continue
            args = {**filters, "district": district}
            assert count == _total(client, path, headers, **args), (kind, district)
            checked += 1
        for status, count in figures["by_status_key"].items():
            assert count == _total(client, path, headers, **filters, status=status)
            checked += 1
        assert figures["total"] == _total(client, path, headers, **filters)
    return body, checked


def test_every_count_is_the_lists_total_with_the_same_filters_for_each_reader(
    client, world, make_user, token_for
):
    center = token_for(make_user("center"))
    unit = token_for(world["unit"])
    for headers in ({}, unit, center):
        for filters in (
            {},
            {"domain": "城市治理"},
            {"district": "梁溪区"},
            {"year": 2025},
            {"year": 2026, "domain": "产业发展"},
            {"industry": "物联网"},
        ):
            _, checked = _check_against_lists(client, headers, **filters)
            assert checked > 10


def test_the_public_sees_public_statuses_the_center_what_is_in_review(
    client, world, make_user, token_for
):
    public = client.get("/api/v1/dashboard").get_json()
    assert public["internal"] is False and public["signed_amount"] is None
    assert public["scenes"]["by_status"] == {
        "已发布": 3,
        "已对接": 1,
        "已签约": 1,
        "已完成": 1,
    }
    assert public["scenes"]["by_domain"]["城市治理"] == 2  # published only
    assert [s["key"] for s in public["funnel"]][0] == "published"

    center = client.get(
        "/api/v1/dashboard", headers=token_for(make_user("center"))
    ).get_json()
    assert center["internal"] is True
    by_status = center["scenes"]["by_status_key"]
    # Another organization's draft is nobody's business but its owner's.
    assert by_status["draft"] == 0
    assert by_status["submitted"] == 1 and by_status["returned"] == 1
    assert by_status["withdrawn"] == 1
    assert center["capabilities"]["by_status_key"]["submitted"] == 1
    funnel = {s["key"]: s["count"] for s in center["funnel"]}
    # Posted: all but the draft; published ever: the six with a publication time.
    assert funnel == {
        "posted": 9,
        "published": 6,
        "matched": 3,
        "intention": 3,
        "contract": 2,
        "completed": 1,
    }
    assert center["scenes"]["by_domain"]["城市治理"] == 2
    # The budget of the published scenes (1,800,000.00 each in the payload).
    assert center["budget_total"] == "5400000.00"


def test_a_signed_meeting_counts_as_a_contract_before_the_status_moves(
    client, world, db, make_user, token_for
):
    scene_id = world["scenes"][0]  # published, no event yet
    at = datetime(2026, 2, 1, tzinfo=UTC)
    event = Event(
        name="城市治理场景对接会",
        domain="城市治理",
        date=datetime(2026, 3, 5).date(),
        venue="无锡市民中心",
        sessions=[{"start": "09:00", "end": "11:00"}],
        meeting_minutes=20,
        tables=4,
        max_meetings_per_scene=3,
        max_meetings_per_capability=3,
        min_score=0.1,
        status="scheduled",
        proposal_summary={},
        created_at=at,
        updated_at=at,
    )
    db.add(event)
    db.flush()
    db.add(
        EventMeeting(
            event_id=event.id,
            scene_id=scene_id,
            capability_id=world["caps"][0],
            slot=0,
            table_number=1,
            outcome="signed",
            amount=250000,
            outcome_at=datetime(2026, 3, 5, 2, tzinfo=UTC),
        )
    )
    db.commit()
    center = token_for(make_user("center"))
    body = client.get("/api/v1/dashboard?year=2026", headers=center).get_json()
    funnel = {s["key"]: s["count"] for s in body["funnel"]}
    assert funnel["contract"] == 3 and funnel["intention"] == 4
    assert body["meetings_held"] == 1 and body["events_held"] == 1
    assert body["signed_amount"] == "250000.00"
    assert client.get("/api/v1/dashboard?year=2026").get_json()["signed_amount"] is None


def test_unknown_filters_are_named_and_refused(client):
    response = client.get("/api/v1/dashboard?year=26&domain=火星&district=x&industry=y")
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"year", "domain", "district", "industry"}
    assert "2000" in fields["year"] and "火星" in fields["domain"]
    blank = client.get("/api/v1/dashboard?industry=")
    assert blank.status_code == 422
    assert "不能为空" in blank.get_json()["error"]["fields"]["industry"]
    # A page's form sends the unused filters empty.
    assert client.get("/dashboard?year=&domain=&industry=").status_code == 200
    page = client.get("/dashboard?domain=火星").get_data(as_text=True)
    assert "领域“火星”不在分类表中" in page


def test_the_figures_take_the_same_queries_for_ten_items_as_for_forty(
    app, client, make_scene, make_user
):
    """Aggregates in the database: the number of statements does not grow with the
    rows."""
    unit = make_user("unit")

    def statements() -> int:
        seen: list[str] = []

        def record(connection, cursor, statement, *args):
            seen.append(statement)

        engine = app.extensions["db"]["engine"]
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get("/api/v1/dashboard").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        return len(seen)

    for _ in range(10):
        make_scene(owner=unit)
    few = statements()
    for domain in ("产业发展", "社会民生", "文旅消费"):
        for _ in range(10):
            make_scene(owner=unit, domain=domain)
    assert statements() == few
    assert few < 40, few


def test_the_page_links_each_count_to_the_list_that_holds_it(client, world):
    page = client.get("/dashboard?district=梁溪区").get_data(as_text=True)
    assert "场景转化漏斗" in page and "<svg" in page and "2030年目标进展" in page
    # The count of published city-governance scenes in 梁溪区 links to that list.
    link = "/scenes?" + urlencode({"district": "梁溪区", "domain": "城市治理"})
    link = link.replace("&", "&amp;")
    assert f'<a href="{link}">2</a>' in page
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "共 2 条" in listed


def test_the_workbook_has_every_table_as_text_safe_cells(client, world):
    response = client.get("/dashboard.xlsx?domain=城市治理")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(BytesIO(response.data))
    titles = [sheet["A1"].value for sheet in workbook.worksheets]
    assert any("场景转化漏斗" in t for t in titles)
    assert any("场景机会：按领域" in t for t in titles)
    by_domain = next(
        s for s in workbook.worksheets if "场景机会：按领域" in s["A1"].value
    )
    rows = {r[0]: r[1] for r in by_domain.iter_rows(min_row=3, values_only=True)}
    assert rows["城市治理"] == 2 and rows["产业发展"] == 0


def test_the_year_filter_of_the_lists_counts_what_was_posted_that_year(client, world):
    assert _total(client, "/api/v1/scenes", {}, year=2025) == 1
    assert _total(client, "/api/v1/scenes", {}) == 3
    response = client.get("/api/v1/scenes?year=1999")
    assert response.status_code == 422
    assert "year" in response.get_json()["error"]["fields"]
    assert _total(client, "/api/v1/capabilities", {}, year=2025) == 0
    assert client.get("/scenes?year=2025").status_code == 200


def test_mine_on_the_list_api_is_a_boolean(client, world, token_for):
    unit = token_for(world["unit"])
    wrong = client.get("/api/v1/scenes?mine=-2.8e16", headers=unit)
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["fields"]["mine"] == "应为 true 或 false"
    assert _total(client, "/api/v1/scenes", unit, mine="false") == 3
    assert _total(client, "/api/v1/scenes", unit, mine="true") == 10


def test_capabilities_in_two_domains_count_in_each(client, world):
    body = client.get("/api/v1/dashboard").get_json()
    assert body["capabilities"]["by_domain"]["城市治理"] == 2
    assert body["capabilities"]["by_domain"]["产业发展"] == 1
    assert body["capabilities"]["total"] == 2
