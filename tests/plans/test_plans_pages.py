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
        page = client.get(plan_url).get_data(as_text=True)
        assert "同意" in page and "退回修改" in page
        form_post(f"/plans/{plan_id}/transition", {"action": "approve"})
    page = client.get(plan_url).get_data(as_text=True)
    assert "已审定" in page and "市财政局" in page
    assert db.get(AnnualPlan, plan_id).status == "approved"
