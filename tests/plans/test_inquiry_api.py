"""Unified price inquiry on an approved plan line: sealed quotes, a reasoned choice,
contract and payments, and the scene moving along its workflow."""

from datetime import timedelta

import sqlalchemy as sa

from marketplace.db import utcnow
from marketplace.plans import api as plans_api
from marketplace.scenes.models import Scene

PLANS = "/api/v1/plans"


def approved_line(client, make_org, make_user, make_scene, token_for):
    unit = make_user("unit", make_org(kind="政府部门"))
    scene_id = make_scene(unit, funding_source="财政资金")
    ndrc = make_user("reviewer", make_org(name="无锡市发展和改革委员会"))
    finance = make_user("reviewer", make_org(name="无锡市财政局"))
    headers = token_for(unit)
    plan = client.post(
        PLANS,
        json={
            "year": 2027,
            "procurement_budget": "1000000.00",
            "lines": [{"scene_id": scene_id, "amount": "400000.00"}],
        },
        headers=headers,
    ).get_json()
    for who, action in ((unit, "submit"), (ndrc, "approve"), (finance, "approve")):
        done = client.post(
            f"{PLANS}/{plan['id']}/transition",
            json={"action": action},
            headers=token_for(who),
        )
        assert done.status_code == 200, done.get_json()
    line_id = plan["lines"][0]["id"]
    return plan["id"], line_id, scene_id, ndrc, finance


def test_sealed_quotes_a_reasoned_choice_contract_and_payments(
    monkeypatch, client, db, make_org, make_user, make_scene, make_capability, token_for
):
    plan_id, line_id, scene_id, ndrc, finance = approved_line(
        client, make_org, make_user, make_scene, token_for
    )
    vendors = [make_user("vendor") for _ in range(3)]
    capabilities = [make_capability(v) for v in vendors[:2]]
    url = f"{PLANS}/{plan_id}/lines/{line_id}/inquiry"
    closes = (utcnow() + timedelta(days=7)).isoformat()
    body = {"capability_ids": capabilities, "closes_at": closes}
    assert client.post(url, json=body, headers=token_for(finance)).status_code == 403
    opened = client.post(url, json=body, headers=token_for(ndrc))
    assert opened.status_code == 201, opened.get_json()
    assert [i["capability_id"] for i in opened.get_json()["invited"]] == capabilities
    assert client.post(url, json=body, headers=token_for(ndrc)).status_code == 409

    for vendor, amount in zip(vendors[:2], ("380000.00", "350000.00"), strict=True):
        quoted = client.post(
            url + "/quotes", json={"amount": amount}, headers=token_for(vendor)
        )
        assert quoted.status_code == 201, quoted.get_json()
    uninvited = client.post(
        url + "/quotes", json={"amount": "1.00"}, headers=token_for(vendors[2])
    )
    assert uninvited.status_code in (403, 404)
    seen_by_ndrc = client.get(url, headers=token_for(ndrc)).get_json()
    assert seen_by_ndrc["sealed"] is True and seen_by_ndrc["quotes"] == []
    assert seen_by_ndrc["quotes_received"] == 2
    own = client.get(url, headers=token_for(vendors[0])).get_json()
    assert [q["amount"] for q in own["quotes"]] == ["380000.00"]
    early = client.post(
        url + "/choice", json={"quote_id": 1, "reason": "x"}, headers=token_for(ndrc)
    )
    assert (
        early.status_code == 409
        and early.get_json()["error"]["code"] == "inquiry_sealed"
    )

    later = utcnow() + timedelta(days=8)
    with monkeypatch.context() as clock:
        clock.setattr(plans_api, "utcnow", lambda: later)
        late = client.post(
            url + "/quotes", json={"amount": "300000.00"}, headers=token_for(vendors[0])
        )
        assert late.status_code == 409
        assert late.get_json()["error"]["code"] == "inquiry_closed"
        opened = client.get(url, headers=token_for(ndrc)).get_json()
        assert opened["sealed"] is False
        cheapest = min(opened["quotes"], key=lambda q: float(q["amount"]))
        assert cheapest["amount"] == "350000.00"
        no_reason = client.post(
            url + "/choice", json={"quote_id": cheapest["id"]}, headers=token_for(ndrc)
        )
        assert no_reason.status_code == 422
        chosen = client.post(
            url + "/choice",
            json={"quote_id": cheapest["id"], "reason": "报价最低且满足技术要求"},
            headers=token_for(ndrc),
        )
        assert chosen.status_code == 200 and chosen.get_json()["status"] == "chosen"
        assert db.get(Scene, scene_id).status == "matched"
        db.commit()
        over = client.post(
            url + "/contract",
            json={
                "number": "WX-2027-001",
                "amount": "500000.00",
                "signed_on": "2027-04-01",
            },
            headers=token_for(ndrc),
        )
        assert over.status_code == 409
        contract = client.post(
            url + "/contract",
            json={
                "number": "WX-2027-001",
                "amount": "350000.00",
                "signed_on": "2027-04-01",
            },
            headers=token_for(ndrc),
        )
        assert contract.status_code == 200
        db.commit()  # a fresh read: the requests changed the scene
        assert db.get(Scene, scene_id).status == "contracted"
        pay = url + "/payments"
        first = {"amount": "200000.00", "paid_on": "2027-05-01"}
        assert client.post(pay, json=first, headers=token_for(ndrc)).status_code == 200
        too_much = {"amount": "200000.00", "paid_on": "2027-06-01"}
        assert (
            client.post(pay, json=too_much, headers=token_for(ndrc)).status_code == 409
        )
        last = {"amount": "150000.00", "paid_on": "2027-06-01", "final": True}
        done = client.post(pay, json=last, headers=token_for(ndrc)).get_json()
        assert done["status"] == "completed" and done["paid"] == "350000.00"
        db.commit()  # a fresh read: the requests changed the scene
        assert db.get(Scene, scene_id).status == "completed"
        report = client.get(f"{PLANS}/report?year=2027", headers=token_for(ndrc))
        unit = report.get_json()["units"][0]
        assert (unit["contracted"], unit["paid"]) == ("350000.00", "350000.00")
        assert (unit["scenes"], unit["scenes_completed"]) == (1, 1)
    actions = db.scalars(
        sa.select(sa.text("action")).select_from(sa.text("audit_entries"))
    ).all()
    for action in (
        "inquiry.open",
        "inquiry.quote",
        "inquiry.choose",
        "inquiry.contract",
    ):
        assert action in actions


def test_only_approved_plans_are_inquired(
    client, make_org, make_user, make_scene, make_capability, token_for
):
    unit = make_user("unit", make_org(kind="政府部门"))
    scene_id = make_scene(unit, funding_source="财政资金")
    ndrc = make_user("reviewer", make_org(name="无锡市发展和改革委员会"))
    plan = client.post(
        PLANS,
        json={
            "year": 2027,
            "procurement_budget": "1000000.00",
            "lines": [{"scene_id": scene_id, "amount": "400000.00"}],
        },
        headers=token_for(unit),
    ).get_json()
    response = client.post(
        f"{PLANS}/{plan['id']}/lines/{plan['lines'][0]['id']}/inquiry",
        json={
            "capability_ids": [make_capability()],
            "closes_at": (utcnow() + timedelta(days=7)).isoformat(),
        },
        headers=token_for(ndrc),
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "plan_not_approved"


def test_the_yearly_report_counts_plans_contracts_payments_and_outstanding_units(
    client, db, make_org, make_user, make_scene, token_for, login
):
    from io import BytesIO

    from openpyxl import load_workbook

    plan_id, line_id, _, ndrc, finance = approved_line(
        client, make_org, make_user, make_scene, token_for
    )
    other = make_user("unit", make_org(name="=HYPERLINK(1)", kind="事业单位"))
    client.post(
        PLANS,
        json={
            "year": 2027,
            "procurement_budget": "2000000.00",
            "lines": [
                {
                    "scene_id": make_scene(other, funding_source="财政资金"),
                    "amount": "500000.00",
                }
            ],
        },
        headers=token_for(other),
    )
    mark = f"{PLANS}/{plan_id}/outstanding"
    no_note = client.post(mark, json={"outstanding": True}, headers=token_for(finance))
    assert no_note.status_code == 422
    marked = client.post(
        mark,
        json={"outstanding": True, "note": "场景开放数量和质量居前"},
        headers=token_for(finance),
    )
    assert marked.status_code == 200 and marked.get_json()["outstanding"] is True
    report = client.get(f"{PLANS}/report?year=2027", headers=token_for(ndrc)).get_json()
    units = {u["organization_name"]: u for u in report["units"]}
    assert len(units) == 2
    approved = next(u for u in units.values() if u["status"] == "approved")
    assert (
        approved["reserved"] == "400000.00" and approved["reserved_share"] == "0.4000"
    )
    assert approved["approved"] == "400000.00" and approved["outstanding"] is True
    draft = units["=HYPERLINK(1)"]
    assert draft["approved"] == "0" and draft["reserved_share"] == "0.2500"
    city = report["citywide"]
    assert city["procurement_budget"] == "3000000.00"
    assert city["reserved"] == "900000.00" and city["reserved_share"] == "0.3000"
    assert city["outstanding_units"] == 1
    assert client.get(f"{PLANS}/report", headers=token_for(ndrc)).status_code == 422
    assert (
        client.get(f"{PLANS}/report?year=2027", headers=token_for(other)).status_code
        == 403
    )

    login(ndrc)
    page = client.get("/plans/report?year=2027").get_data(as_text=True)
    assert "2027年度场景建设计划执行情况" in page and "场景开放数量和质量居前" in page
    response = client.get("/plans/report.xlsx?year=2027")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    names = [r[0] for r in rows[2:]]
    assert "=HYPERLINK(1)" in names and names[-1] == "全市合计"
    injected = next(c for c in sheet["A"] if c.value == "=HYPERLINK(1)")
    assert injected.data_type == "s"
    assert rows[-1][3] == 3000000 and rows[-1][5] == 0.3
