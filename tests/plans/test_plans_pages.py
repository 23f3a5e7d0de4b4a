"""The plan pages as a unit and the two review bodies use them."""

import sqlalchemy as sa

from marketplace.plans.models import AnnualPlan


def test_a_unit_plans_in_wan_yuan_and_both_bodies_approve(
    client, db, make_org, make_user, make_scene, login, form_post
):
    unit = make_user("unit", make_org(kind="事业单位"))
    listed = make_scene(unit, title="医院门诊智能导诊试点", funding_source="事业收入")
    unlisted = make_scene(
        unit, status="submitted", title="病区物流机器人配送", funding_source="财政资金"
    )
    login(unit)
    page = client.get("/plans/new").get_data(as_text=True)
    assert "医院门诊智能导诊试点" in page and "病区物流机器人配送" in page
    assert "须先纳入市级场景机会清单" in page
    assert f'value="{unlisted}" id="pick-{unlisted}" disabled' in page
    refused = form_post(
        "/plans",
        {
            "year": "2027",
            "procurement_budget": "1000",
            "scene_id": [str(listed)],
            f"amount_{listed}": "二百",
        },
    )
    assert refused.status_code == 422
    assert "应为数字（单位万元）" in refused.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(AnnualPlan)) == 0
    db.commit()  # end the read, so that the setup below can write after the requests
    saved = form_post(
        "/plans",
        {
            "year": "2027",
            "procurement_budget": "1000",
            "scene_id": [str(listed)],
            f"amount_{listed}": "250",
        },
    )
    assert saved.status_code == 302
    plan_url = saved.headers["Location"]
    page = client.get(plan_url).get_data(as_text=True)
    submit_button = '<button type="submit">提交审核</button>'
    assert "25.00%" in page and "低于政策要求的30%" in page
    assert submit_button not in page
    plan_id = int(plan_url.rsplit("/", 1)[1])
    form_post(
        f"/plans/{plan_id}",
        {
            "procurement_budget": "1000",
            "scene_id": [str(listed)],
            f"amount_{listed}": "300",
        },
    )
    page = client.get(plan_url).get_data(as_text=True)
    assert "30.00%" in page and submit_button in page
    assert (
        form_post(f"/plans/{plan_id}/transition", {"action": "submit"}).status_code
        == 302
    )
    assert "审核中" in client.get(plan_url).get_data(as_text=True)

    for name in ("无锡市发展和改革委员会", "无锡市财政局"):
        client.post("/logout", data={"csrf_token": "x"})
        login(make_user("reviewer", make_org(name=name)))
        desk = client.get("/").get_data(as_text=True)
        assert "待本部门审核的年度计划 1 份" in desk and "2027年度计划" in desk
        page = client.get(plan_url).get_data(as_text=True)
        assert "同意" in page and "退回修改" in page
        form_post(f"/plans/{plan_id}/transition", {"action": "approve"})
    page = client.get(plan_url).get_data(as_text=True)
    assert "已审定" in page and "市财政局" in page
    assert db.get(AnnualPlan, plan_id).status == "approved"


def test_an_invited_vendor_quotes_on_the_inquiry_page(
    client, db, make_org, make_user, make_scene, make_capability, login, form_post
):
    from datetime import timedelta

    from marketplace.db import utcnow
    from marketplace.plans import inquiry, services

    unit = make_user("unit", make_org(kind="政府部门"))
    scene_id = make_scene(unit, funding_source="财政资金")
    ndrc = make_user("reviewer", make_org(name="无锡市发展和改革委员会"))
    finance = make_user("reviewer", make_org(name="无锡市财政局"))
    vendor = make_user("vendor")
    capability_id = make_capability(vendor)
    bodies = {"ndrc": "无锡市发展和改革委员会", "finance": "无锡市财政局"}
    now = utcnow()
    plan = services.create_plan(
        db,
        unit,
        {
            "year": 2027,
            "procurement_budget": "1000000.00",
            "lines": [{"scene_id": scene_id, "amount": "400000.00"}],
        },
        now=now,
    )
    for who, action in ((unit, "submit"), (ndrc, "approve"), (finance, "approve")):
        services.transition(db, who, plan.id, action, bodies=bodies, now=now)
    line_id = plan.lines[0].id
    inquiry.open_inquiry(
        db,
        ndrc,
        plan.id,
        line_id,
        {
            "capability_ids": [capability_id],
            "closes_at": (now + timedelta(days=7)).isoformat(),
        },
        bodies=bodies,
        now=now,
    )
    db.commit()
    login(vendor)
    listing = client.get("/plans").get_data(as_text=True)
    assert "统一询价邀请" in listing and "未报价" in listing
    url = f"/plans/{plan.id}/lines/{line_id}/inquiry"
    assert "提交报价" in client.get(url).get_data(as_text=True)
    bad = form_post(url + "/quote", {"amount": "三十"})
    assert bad.status_code == 302
    form_post(url + "/quote", {"amount": "36.5", "note": "含安装"})
    page = client.get(url).get_data(as_text=True)
    assert "36.5万元" in page and "截止前报价密封" in page
    assert "已报价" in client.get("/plans").get_data(as_text=True)
