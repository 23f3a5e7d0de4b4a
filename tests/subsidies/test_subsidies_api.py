"""POST /api/v1/subsidies/quote and the award flow, as clients and reviewers use it."""

import sqlalchemy as sa

from marketplace.audit import AuditEntry
from marketplace.subsidies.models import SubsidyAward, SubsidyGuideline, SubsidyQuote

QUOTE = "/api/v1/subsidies/quote"


def enterprise_project(make_org, make_user, make_scene):
    """An enterprise with an enterprise-category scene, a provider and their users."""
    applicant = make_org(kind="民营企业", district="新吴区")
    provider = make_org(kind="民营企业", district="新吴区")
    unit = make_user("unit", applicant)
    scene_id = make_scene(unit, category="企业类")
    return applicant, provider, unit, scene_id


def body(applicant, scene_id, **extra):
    return {
        "applicant_id": applicant.id,
        "scene_id": scene_id,
        "application_date": "2026-06-01",
        "district_supported": True,
        **extra,
    }


def line(answer, rule):
    return next(ln for ln in answer["lines"] if ln["rule"] == rule)


def count(db, model):
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_worked_loan_check_through_the_api(
    client, db, make_org, make_user, make_scene, token_for
):
    applicant, _, unit, scene_id = enterprise_project(make_org, make_user, make_scene)
    loan = {"principal": "10000000", "lpr": "3.10", "start": "2026-06-01", "months": 12}
    response = client.post(
        QUOTE, json=body(applicant, scene_id, loans=[loan]), headers=token_for(unit)
    )
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    interest = line(answer, "scene_loan_interest")
    assert interest["amount"] == "62000.00"
    assert interest["amount_before_caps"] == "62000.00"
    assert interest["applicable"] is True and interest["paid"] is True
    assert interest["exclusion_group"] == "scene_project"
    assert "第2条第（二）项" in interest["source"]
    assert answer["total"] == "62000.00"
    assert {ln["rule"] for ln in answer["lines"]} >= {
        "scene_provider_reward",
        "scene_loan_interest",
        "scene_insurance_reward",
        "scene_park_reward",
        "promotion_center_funding",
        "ai_robot_scene_opening",
        "tech_transfer_scene_support",
    }
    assert answer["id"] is not None and answer["status"] == "quoted"

    loan["principal"] = "100000000"
    answer = client.post(
        QUOTE, json=body(applicant, scene_id, loans=[loan]), headers=token_for(unit)
    ).get_json()
    assert line(answer, "scene_loan_interest")["amount"] == "500000.00"
    assert line(answer, "scene_loan_interest")["amount_before_caps"] == "620000.00"


def test_anyone_may_quote_but_only_signed_in_quotes_are_kept(
    client, db, make_org, make_user, make_scene
):
    applicant, _, _, scene_id = enterprise_project(make_org, make_user, make_scene)
    response = client.post(
        QUOTE, json=body(applicant, scene_id, project_investment="3000000")
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["id"] is None
    assert line(answer, "tech_transfer_scene_support")["amount"] == "300000.00"
    assert count(db, SubsidyQuote) == 0


def test_bad_input_is_named_field_by_field_and_nothing_is_kept(
    client, db, make_org, make_user, make_scene, token_for
):
    applicant, _, unit, scene_id = enterprise_project(make_org, make_user, make_scene)
    response = client.post(
        QUOTE,
        json={
            "applicant_id": applicant.id,
            "scene_id": scene_id,
            "application_date": "2026-02-30",
            "provider_investment": "-5",
            "robot_procurement": "一百万",
            "project_investment": 12.5,
            "district_supported": "yes",
            "loans": [
                {
                    "principal": "1000000",
                    "lpr": "35",
                    "start": "2026-03-01",
                    "months": 0,
                }
            ],
            "colour": "blue",
        },
        headers=token_for(unit),
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    fields = error["fields"]
    assert "不是有效日期" in fields["application_date"]
    assert "负数" in fields["provider_investment"]
    assert "不小于0的数字" in fields["robot_procurement"]
    assert "字符串" in fields["project_investment"]
    assert fields["district_supported"] == "应为 true 或 false"
    assert "百分数" in fields["loans[0].lpr"] and "35" in fields["loans[0].lpr"]
    assert "1到360个月" in fields["loans[0].months"]
    assert fields["colour"] == "未知字段"
    assert count(db, SubsidyQuote) == 0
    assert not db.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "subsidy.quote")
    ).all()


def test_unknown_organizations_and_someone_elses_scene(
    client, db, make_org, make_user, make_scene, token_for
):
    applicant, _, unit, _ = enterprise_project(make_org, make_user, make_scene)
    headers = token_for(unit)
    response = client.post(
        QUOTE, json={"application_date": "2026-06-01"}, headers=headers
    )
    assert response.status_code == 422
    assert "applicant_id" in response.get_json()["error"]["fields"]
    response = client.post(
        QUOTE,
        json={
            "applicant_id": 999999,
            "provider_id": 999998,
            "application_date": "2026-06-01",
        },
        headers=headers,
    )
    assert response.status_code == 404
    fields = response.get_json()["error"]["fields"]
    assert "999999" in fields["applicant_id"] and "999998" in fields["provider_id"]
    foreign_scene = make_scene(make_user("unit"), category="企业类")
    response = client.post(QUOTE, json=body(applicant, foreign_scene), headers=headers)
    assert response.status_code == 409
    assert "不是申请单位的场景" in response.get_json()["error"]["fields"]["scene_id"]
    assert client.post(QUOTE, data="x", headers=headers).status_code == 415
    assert count(db, SubsidyQuote) == 0


def test_a_reviewer_awards_a_quote_once_and_later_quotes_count_it(
    client, db, make_org, make_user, make_scene, token_for
):
    applicant, _, unit, scene_id = enterprise_project(make_org, make_user, make_scene)
    reviewer = make_user("reviewer")
    loan = {"principal": "70000000", "lpr": "3.10", "start": "2026-06-01", "months": 12}
    first = client.post(
        QUOTE, json=body(applicant, scene_id, loans=[loan]), headers=token_for(unit)
    ).get_json()
    # 70,000,000 × 3.10% × 20% = 434,000
    assert first["total"] == "434000.00"
    award_url = f"/api/v1/subsidies/quotes/{first['id']}/award"
    assert client.post(award_url, json={}, headers=token_for(unit)).status_code == 403
    response = client.post(
        award_url, json={"comment": "项目已确认"}, headers=token_for(reviewer)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "awarded"
    again = client.post(award_url, json={}, headers=token_for(reviewer))
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_awarded"
    awards = db.scalars(sa.select(SubsidyAward)).all()
    assert [(a.rule_id, str(a.amount)) for a in awards] == [
        ("scene_loan_interest", "434000.00")
    ]
    # Another scene of the same enterprise, another such loan: only 66,000 is left
    # of the 500,000 per enterprise.
    second_scene = make_scene(unit, category="企业类")
    second = client.post(
        QUOTE,
        json=body(applicant, second_scene, loans=[loan]),
        headers=token_for(unit),
    ).get_json()
    interest = line(second, "scene_loan_interest")
    assert interest["amount_before_caps"] == "434000.00"
    assert interest["amount"] == "66000.00"
    assert "已获43.4万元" in interest["explanation"]
    actions = db.scalars(sa.select(AuditEntry.action)).all()
    assert "subsidy.award" in actions and "subsidy.quote" in actions


def test_a_quote_made_before_another_award_must_be_quoted_again(
    client, db, make_org, make_user, make_scene, token_for
):
    applicant, _, unit, scene_id = enterprise_project(make_org, make_user, make_scene)
    other_scene = make_scene(unit, category="企业类")
    reviewer = token_for(make_user("reviewer"))
    loan = {"principal": "70000000", "lpr": "3.10", "start": "2026-06-01", "months": 12}
    headers = token_for(unit)
    one = client.post(
        QUOTE, json=body(applicant, scene_id, loans=[loan]), headers=headers
    )
    two = client.post(
        QUOTE, json=body(applicant, other_scene, loans=[loan]), headers=headers
    )
    ok = client.post(
        f"/api/v1/subsidies/quotes/{one.get_json()['id']}/award",
        json={},
        headers=reviewer,
    )
    assert ok.status_code == 200
    stale = client.post(
        f"/api/v1/subsidies/quotes/{two.get_json()['id']}/award",
        json={},
        headers=reviewer,
    )
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "quote_outdated"
    assert count(db, SubsidyAward) == 1


def test_quotes_are_seen_by_their_parties_and_staff_only(
    client, make_org, make_user, make_scene, token_for
):
    applicant, _, unit, scene_id = enterprise_project(make_org, make_user, make_scene)
    made = client.post(
        QUOTE,
        json=body(applicant, scene_id, project_investment="100000"),
        headers=token_for(unit),
    ).get_json()
    url = f"/api/v1/subsidies/quotes/{made['id']}"
    assert client.get(url, headers=token_for(unit)).status_code == 200
    assert client.get(url, headers=token_for(make_user("reviewer"))).status_code == 200
    assert client.get(url, headers=token_for(make_user("vendor"))).status_code == 404
    assert client.get(url).status_code == 401
    listed = client.get(
        "/api/v1/subsidies/quotes", headers=token_for(make_user("vendor"))
    )
    assert listed.get_json()["items"] == []


def test_an_admin_versions_guideline_tiers_and_quotes_follow(
    client, db, make_org, make_user, make_scene, token_for
):
    applicant, provider, unit, scene_id = enterprise_project(
        make_org, make_user, make_scene
    )
    admin = token_for(make_user("admin"))
    url = "/api/v1/subsidies/rules/scene_provider_reward/tiers"
    tiers = [
        {"minimum": "500000", "amount": "100000"},
        {"minimum": "2000000", "amount": "400000"},
    ]
    assert (
        client.put(url, json={"tiers": tiers}, headers=token_for(unit)).status_code
        == 403
    )
    bad = client.put(
        url, json={"tiers": [{"minimum": "1", "amount": "9000000"}]}, headers=admin
    )
    assert (
        bad.status_code == 422 and "上限" in bad.get_json()["error"]["fields"]["tiers"]
    )
    bad = client.put(
        url, json={"tiers": [{"minimum": "NaN", "amount": "1"}]}, headers=admin
    )
    assert bad.status_code == 422
    response = client.put(
        url, json={"tiers": tiers, "note": "2026年申报指南"}, headers=admin
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["formula"]["guideline_version"] == 1
    assert count(db, SubsidyGuideline) == 1
    answer = client.post(
        QUOTE,
        json=body(
            applicant,
            scene_id,
            provider_id=provider.id,
            provider_investment="2500000",
        ),
        headers=token_for(unit),
    ).get_json()
    reward = line(answer, "scene_provider_reward")
    assert reward["amount"] == "400000.00"
    assert "第1版" in reward["guideline"]
    rules = client.get("/api/v1/subsidies/rules").get_json()
    assert rules["rules"][0]["formula"]["tiers"][1]["amount"] == "400000"


RACE_SETUP = """
import json, random, sys
from flask import Flask
from marketplace import db
from marketplace.accounts.models import User
from marketplace.errors import Conflict
from marketplace.subsidies import services
url, quote_id = sys.argv[1], int(sys.argv[2])
reviewer_ids = [int(i) for i in sys.argv[3].split(",")]
app = Flask("racer")
app.config.update(DATABASE_URL=url)
db.init_app(app)
"""
RACE_ACTION = """
with db.session_scope(app) as session:
    actor = session.get(User, random.choice(reviewer_ids))
    try:
        services.approve_quote(session, actor, quote_id, comment="", now=db.utcnow())
        outcome = "awarded"
    except Conflict as error:
        session.rollback()
        outcome = error.code
print(json.dumps(outcome))
"""


def test_reviewers_approving_one_quote_at_once_award_it_once(
    db, database_url, make_org, make_user, make_scene, client, token_for, run_racers
):
    applicant, _, unit, scene_id = enterprise_project(make_org, make_user, make_scene)
    loan = {"principal": "10000000", "lpr": "3.10", "start": "2026-06-01", "months": 12}
    made = client.post(
        QUOTE, json=body(applicant, scene_id, loans=[loan]), headers=token_for(unit)
    ).get_json()
    reviewers = ",".join(str(make_user("reviewer").id) for _ in range(4))
    outcomes = run_racers(
        RACE_SETUP, RACE_ACTION, [database_url, str(made["id"]), reviewers], 4
    )
    assert outcomes.count("awarded") == 1, outcomes
    assert set(outcomes) == {"awarded", "already_awarded"}
    awards = db.scalars(sa.select(SubsidyAward)).all()
    assert [str(a.amount) for a in awards] == ["62000.00"]
