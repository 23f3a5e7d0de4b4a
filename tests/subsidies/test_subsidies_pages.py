"""The calculator, quote, award and rules pages as people use them."""

import sqlalchemy as sa

from marketplace.subsidies.models import SubsidyAward, SubsidyGuideline, SubsidyQuote


def loan_form(applicant_id, scene_id, **extra):
    return {
        "applicant_id": str(applicant_id),
        "scene_id": str(scene_id),
        "application_date": "2026-06-01",
        "district_supported": "1",
        "loan_principal_0": "1000",  # 万元
        "loan_lpr_0": "3.10",
        "loan_start_0": "2026-06-01",
        "loan_months_0": "12",
        **extra,
    }


def enterprise(make_org, make_user, make_scene):
    applicant = make_org(kind="民营企业", district="新吴区")
    unit = make_user("unit", applicant)
    return (
        applicant,
        unit,
        make_scene(unit, category="企业类", title="印染车间节能改造试点"),
    )


def test_anyone_can_use_the_calculator_in_wan_yuan(
    client, db, make_org, make_user, make_scene, form_post
):
    applicant, _, scene_id = enterprise(make_org, make_user, make_scene)
    page = client.get(f"/subsidies?applicant_id={applicant.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "奖补政策测算" in html and "印染车间节能改造试点" in html
    response = form_post("/subsidies", loan_form(applicant.id, scene_id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # 1000万元 × 3.10% × 20% = 6.2万元
    assert "6.2万元" in html and "场景专项贷款贴息" in html
    assert "1000万元 × LPR 3.10% × 20% × 12/12" in html
    assert "不适用的条款" in html
    assert db.scalar(sa.select(sa.func.count()).select_from(SubsidyQuote)) == 0


def test_a_wrong_entry_keeps_what_was_typed_and_says_why(
    client, db, make_org, make_user, make_scene, login, form_post
):
    applicant, unit, scene_id = enterprise(make_org, make_user, make_scene)
    login(unit)
    response = form_post(
        "/subsidies",
        loan_form(applicant.id, scene_id, loan_lpr_0="35", robot_procurement="一百"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "是否把 3.5 写成了 35" in html
    assert "应为数字（单位万元）" in html
    assert 'value="35"' in html and 'value="1000"' in html
    assert db.scalar(sa.select(sa.func.count()).select_from(SubsidyQuote)) == 0


def test_a_unit_quotes_a_reviewer_awards_and_the_notice_cites_the_article(
    client, db, make_org, make_user, make_scene, login, form_post
):
    applicant, unit, scene_id = enterprise(make_org, make_user, make_scene)
    login(unit)
    response = form_post("/subsidies", loan_form(applicant.id, scene_id))
    assert response.status_code == 302
    quote_page = response.headers["Location"]
    html = client.get(quote_page).get_data(as_text=True)
    assert "6.2万元" in html and "审定奖励" not in html
    assert "本单位的测算记录" in client.get("/subsidies").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": "x"})
    reviewer = make_user("reviewer")
    login(reviewer)
    html = client.get(quote_page).get_data(as_text=True)
    assert "审定奖励" in html and "data-confirm" in html
    quote_id = int(quote_page.rstrip("/").rsplit("/", 1)[1])
    response = form_post(f"/subsidies/quotes/{quote_id}/award", {"comment": "同意"})
    assert response.status_code == 302
    assert "已审定" in client.get(quote_page).get_data(as_text=True)
    notice = client.get(f"/subsidies/quotes/{quote_id}/notice")
    assert notice.status_code == 200
    text = notice.get_data(as_text=True)
    assert "场景创新奖补审定通知" in text and "第2条第（二）项" in text
    assert "6.2万元" in text and applicant.name in text
    assert [str(a.amount) for a in db.scalars(sa.select(SubsidyAward))] == ["62000.00"]
    # Approving again changes nothing.
    again = form_post(f"/subsidies/quotes/{quote_id}/award", {})
    assert again.status_code == 302
    assert db.scalar(sa.select(sa.func.count()).select_from(SubsidyAward)) == 1


def test_the_rules_page_shows_every_rule_and_only_the_admin_edits_tiers(
    client, db, make_user, login, form_post
):
    html = client.get("/subsidies/rules").get_data(as_text=True)
    for name in (
        "场景建设奖励",
        "场景专项贷款贴息",
        "场景保险创新奖励",
        "场景创新载体奖励",
        "场景创新促进机构专项资金",
        "具身智能机器人应用场景开放补助",
        "“科技创新+场景应用”项目资助",
    ):
        assert name in html
    assert "100万元至不足500万元：20万元" in html
    assert "调整档位" not in html
    tiers = {
        "minimum": ["500000", "2000000"],
        "value": ["100000", "400000"],
        "value_kind": ["amount", "amount"],
        "note": "2026年申报指南",
    }
    login(make_user("center"))
    assert (
        form_post("/subsidies/rules/scene_provider_reward/tiers", tiers).status_code
        == 403
    )
    client.post("/logout", data={"csrf_token": "x"})
    login(make_user("admin"))
    assert "调整档位" in client.get("/subsidies/rules").get_data(as_text=True)
    response = form_post("/subsidies/rules/scene_provider_reward/tiers", tiers)
    assert response.status_code == 302
    html = client.get("/subsidies/rules").get_data(as_text=True)
    assert "200万元及以上：40万元" in html and "第1版" in html
    rows = db.scalars(sa.select(SubsidyGuideline)).all()
    assert [(r.target, r.version) for r in rows] == [("rule:scene_provider_reward", 1)]
    bad = dict(tiers, value=["100000", "9000000"])
    response = form_post("/subsidies/rules/scene_provider_reward/tiers", bad)
    assert response.status_code == 302
    assert db.scalar(sa.select(sa.func.count()).select_from(SubsidyGuideline)) == 1
