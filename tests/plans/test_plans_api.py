"""Annual scene plans through /api/v1/plans: the list obligation, the 30% reservation,
review by both bodies, frozen approved plans and their new versions."""

import sqlalchemy as sa

from marketplace.audit import AuditEntry
from marketplace.plans.models import AnnualPlan, PlanReview

PLANS = "/api/v1/plans"


def setup_unit(make_org, make_user, make_scene):
    unit_org = make_org(kind="政府部门", district="梁溪区")
    unit = make_user("unit", unit_org)
    published = make_scene(unit, funding_source="财政资金")
    return unit_org, unit, published


def reviewers(make_org, make_user):
    ndrc = make_user("reviewer", make_org(name="无锡市发展和改革委员会"))
    finance = make_user("reviewer", make_org(name="无锡市财政局"))
    return ndrc, finance


def plan_body(scene_id, amount="300000.00", budget="1000000.00", year=2027):
    return {
        "year": year,
        "procurement_budget": budget,
        "lines": [{"scene_id": scene_id, "amount": amount}],
    }


def act(client, headers, plan_id, action, comment=""):
    return client.post(
        f"{PLANS}/{plan_id}/transition",
        json={"action": action, "comment": comment},
        headers=headers,
    )


def test_thirty_percent_exactly_may_be_submitted_a_fen_less_may_not(
    client, make_org, make_user, make_scene, token_for
):
    _, unit, scene_id = setup_unit(make_org, make_user, make_scene)
    headers = token_for(unit)
    response = client.post(
        PLANS, json=plan_body(scene_id, amount="299999.99"), headers=headers
    )
    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    assert plan["reserved_share"] == "0.3000"  # 0.29999999 shown to four places
    assert plan["minimum_reserved"] == "300000.00"
    refused = act(client, headers, plan["id"], "submit")
    assert refused.status_code == 409
    assert "低于政策要求的30%" in refused.get_json()["error"]["message"]
    assert "至少300000.00元" in refused.get_json()["error"]["message"]
    changed = client.patch(
        f"{PLANS}/{plan['id']}",
        json={"lines": [{"scene_id": scene_id, "amount": "300000.00"}]},
        headers=headers,
    )
    assert changed.status_code == 200
    submitted = act(client, headers, plan["id"], "submit")
    assert submitted.status_code == 200
    assert submitted.get_json()["status"] == "submitted"


def test_a_fiscal_scene_must_be_on_the_list_and_someone_elses_never(
    client, make_org, make_user, make_scene, token_for
):
    _, unit, published = setup_unit(make_org, make_user, make_scene)
    headers = token_for(unit)
    unlisted = make_scene(unit, status="submitted", funding_source="财政资金")
    self_funded = make_scene(unit, status="submitted", funding_source="企业自筹")
    response = client.post(PLANS, json=plan_body(unlisted), headers=headers)
    assert response.status_code == 409
    message = response.get_json()["error"]["fields"]["lines[0].scene_id"]
    assert "须先纳入市级场景机会清单" in message
    other = make_user("unit", make_org(kind="政府部门"))
    foreign = make_scene(other, funding_source="财政资金")
    response = client.post(PLANS, json=plan_body(foreign), headers=headers)
    assert response.status_code == 403
    assert (
        "其他单位的场景" in response.get_json()["error"]["fields"]["lines[0].scene_id"]
    )
    response = client.post(PLANS, json=plan_body(self_funded), headers=headers)
    assert response.status_code == 201


def test_only_municipal_organs_and_institutions_plan(
    client, make_org, make_user, token_for
):
    company = make_user("unit", make_org(kind="民营企业"))
    response = client.post(
        PLANS,
        json={"year": 2027, "procurement_budget": "100.00", "lines": []},
        headers=token_for(company),
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_a_planning_unit"


def test_bad_input_is_named_and_nothing_is_written(
    client, db, make_org, make_user, make_scene, token_for
):
    _, unit, scene_id = setup_unit(make_org, make_user, make_scene)
    response = client.post(
        PLANS,
        json={
            "year": "2027",
            "procurement_budget": "-5",
            "lines": [{"scene_id": scene_id}, {"amount": "1.00", "scene_id": "x"}],
            "colour": "red",
        },
        headers=token_for(unit),
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) >= {
        "year",
        "procurement_budget",
        "lines[0].amount",
        "lines[1].scene_id",
        "colour",
    }
    assert db.scalar(sa.select(sa.func.count()).select_from(AnnualPlan)) == 0


def test_both_bodies_must_approve_either_may_return(
    client, db, make_org, make_user, make_scene, token_for
):
    _, unit, scene_id = setup_unit(make_org, make_user, make_scene)
    ndrc, finance = reviewers(make_org, make_user)
    headers = token_for(unit)
    plan_id = client.post(PLANS, json=plan_body(scene_id), headers=headers).get_json()[
        "id"
    ]
    assert act(client, headers, plan_id, "submit").status_code == 200
    stranger = make_user("reviewer", make_org(name="无锡市科学技术局"))
    refused = act(client, token_for(stranger), plan_id, "approve")
    assert refused.status_code == 403
    assert act(client, token_for(unit), plan_id, "approve").status_code == 403
    no_reason = act(client, token_for(finance), plan_id, "return")
    assert no_reason.status_code == 422
    returned = act(client, token_for(finance), plan_id, "return", "采购预算口径不一致")
    assert returned.get_json()["status"] == "returned"
    assert act(client, headers, plan_id, "submit").get_json()["status"] == "submitted"
    first = act(client, token_for(ndrc), plan_id, "approve")
    assert first.get_json()["status"] == "submitted"
    twice = act(client, token_for(ndrc), plan_id, "approve")
    assert twice.status_code == 409
    both = act(client, token_for(finance), plan_id, "approve")
    plan = both.get_json()
    assert plan["status"] == "approved"
    assert [(r["round"], r["body"], r["decision"]) for r in plan["reviews"]] == [
        (1, "finance", "returned"),
        (2, "ndrc", "approved"),
        (2, "finance", "approved"),
    ]
    actions = db.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.object_type == "plan")
    ).all()
    assert actions.count("plan.approve") == 2 and "plan.return" in actions


def test_an_approved_plan_is_frozen_and_changes_as_a_new_version(
    client, db, make_org, make_user, make_scene, token_for
):
    _, unit, scene_id = setup_unit(make_org, make_user, make_scene)
    ndrc, finance = reviewers(make_org, make_user)
    headers = token_for(unit)
    plan_id = client.post(PLANS, json=plan_body(scene_id), headers=headers).get_json()[
        "id"
    ]
    act(client, headers, plan_id, "submit")
    act(client, token_for(ndrc), plan_id, "approve")
    act(client, token_for(finance), plan_id, "approve")
    frozen = client.patch(
        f"{PLANS}/{plan_id}", json={"procurement_budget": "5.00"}, headers=headers
    )
    assert (
        frozen.status_code == 409
        and frozen.get_json()["error"]["code"] == "plan_frozen"
    )
    again = client.post(PLANS, json=plan_body(scene_id), headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "year_already_approved"
    revised = act(client, headers, plan_id, "revise").get_json()
    assert revised["version"] == 2 and revised["status"] == "draft"
    assert revised["replaces_id"] == plan_id
    assert (
        client.get(f"{PLANS}/{plan_id}", headers=headers).get_json()["status"]
        == "approved"
    )
    client.patch(
        f"{PLANS}/{revised['id']}",
        json={"procurement_budget": "900000.00"},
        headers=headers,
    )
    act(client, headers, revised["id"], "submit")
    act(client, token_for(ndrc), revised["id"], "approve")
    act(client, token_for(finance), revised["id"], "approve")
    assert (
        client.get(f"{PLANS}/{plan_id}", headers=headers).get_json()["status"]
        == "superseded"
    )
    listed = client.get(f"{PLANS}?year=2027", headers=token_for(ndrc)).get_json()[
        "items"
    ]
    assert [(p["version"], p["status"]) for p in listed] == [
        (2, "approved"),
        (1, "superseded"),
    ]


RACE_SETUP = """
import json, sys
from flask import Flask
from marketplace import db
from marketplace.accounts.models import User
from marketplace.plans import services
url, plan_id = sys.argv[1], int(sys.argv[2])
app = Flask("racer")
app.config.update(DATABASE_URL=url)
db.init_app(app)
bodies = {"ndrc": "无锡市发展和改革委员会", "finance": "无锡市财政局"}
"""
RACE_ACTION = """
import os
with db.session_scope(app) as session:
    user_id = int(sys.argv[3 + int(os.environ["RACER_INDEX"])])
    actor = session.get(User, user_id)
    services.transition(session, actor, plan_id, "approve", bodies=bodies,
                        now=db.utcnow())
print(json.dumps("done"))
"""


def test_both_reviewers_approving_at_once_lose_nothing(
    client, db, database_url, make_org, make_user, make_scene, token_for, run_racers
):
    _, unit, scene_id = setup_unit(make_org, make_user, make_scene)
    ndrc, finance = reviewers(make_org, make_user)
    headers = token_for(unit)
    plan_id = client.post(PLANS, json=plan_body(scene_id), headers=headers).get_json()[
        "id"
    ]
    act(client, headers, plan_id, "submit")
    results = run_racers(
        RACE_SETUP,
        RACE_ACTION,
        [database_url, str(plan_id), str(ndrc.id), str(finance.id)],
        2,
    )
    assert results == ["done", "done"]
    reviews = db.scalars(sa.select(PlanReview.body).order_by(PlanReview.body)).all()
    assert reviews == ["finance", "ndrc"]
    assert db.get(AnnualPlan, plan_id).status == "approved"
