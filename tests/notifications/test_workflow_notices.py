"""Review steps reach the other side of them (the center's officers for an owner's
step, the owner's organization for the center's), in the app and in the digest;
the actor never hears of their own step."""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.notifications.jobs import deliver_digests

SHANGHAI = ZoneInfo("Asia/Shanghai")


def notices(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/notifications?per_page=100", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def step(client: Any, headers: dict[str, str], scene_id: int, to: str, comment=""):
    response = client.post(
        f"/api/v1/scenes/{scene_id}/transition",
        json={"to": to, "comment": comment},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()


def test_each_review_step_reaches_the_other_side_only(
    client, make_user, make_scene, make_org, token_for
):
    organization = make_org()
    poster = make_user("unit", organization)
    colleague = make_user("unit", organization)
    outsider = make_user("unit")
    officer, second_officer = make_user("center"), make_user("center")
    reviewer = make_user("reviewer")
    scene_id = make_scene(owner=poster, status="draft", title="梁溪区电梯安全监测")
    poster_auth, officer_auth = token_for(poster), token_for(officer)

    step(client, poster_auth, scene_id, "submitted")
    for headers in (token_for(officer), token_for(second_officer)):
        (waiting,) = notices(client, headers)
        assert waiting["kind"] == "item_submitted"
        assert waiting["kind_label"] == "待审核"
        assert waiting["title"] == "待审核：场景机会“梁溪区电梯安全监测”"
        assert waiting["link"] == f"/scenes/{scene_id}"
        assert waiting["item_kind"] == "scene" and waiting["item_id"] == scene_id
    assert notices(client, poster_auth) == []  # the actor hears nothing

    step(client, officer_auth, scene_id, "returned", "请补充预算测算依据")
    step(client, poster_auth, scene_id, "submitted")
    step(client, officer_auth, scene_id, "approved", "材料齐全")
    step(client, officer_auth, scene_id, "published")

    for user in (poster, colleague):
        got = notices(client, token_for(user))
        by_kind = {n["kind"]: n for n in got}
        assert sorted(by_kind) == ["item_approved", "item_published", "item_returned"]
        assert by_kind["item_returned"]["body"] == "审核意见：请补充预算测算依据"
        assert by_kind["item_returned"]["title"] == (
            "场景机会“梁溪区电梯安全监测”被退回修改"
        )
        assert by_kind["item_published"]["title"].endswith("已发布")
    # The resubmission reached both officers as a second waiting item, marked so.
    officer_kinds = [n for n in notices(client, officer_auth)]
    resubmitted = [n for n in officer_kinds if n["kind"] == "item_submitted"]
    assert len(resubmitted) == 2
    assert any("重新提交审核" in n["body"] for n in resubmitted)
    # People who are not a side of it hear nothing.
    assert notices(client, token_for(outsider)) == []
    assert notices(client, token_for(reviewer)) == []

    # The owner withdraws a published scene: the center hears, the owner does not.
    step(client, poster_auth, scene_id, "withdrawn")
    withdrawn = [
        n for n in notices(client, officer_auth) if n["kind"] == "item_withdrawn"
    ]
    assert len(withdrawn) == 1
    assert "撤回" in withdrawn[0]["body"]
    assert not [
        n for n in notices(client, poster_auth) if n["kind"] == "item_withdrawn"
    ]
    # Back to draft is the owner's own business.
    before = len(notices(client, officer_auth))
    step(client, poster_auth, scene_id, "draft")
    assert len(notices(client, officer_auth)) == before


def test_a_returned_scene_reaches_the_owner_in_the_digest(
    app, db, client, make_user, make_scene, token_for, smtp_server, use_smtp
):
    use_smtp(smtp_server.port)
    poster, officer = make_user("unit"), make_user("center")
    row = db.get(User, poster.id)
    row.email, row.digest_frequency = "poster@wuxi.example", "daily"
    db.commit()
    scene_id = make_scene(owner=poster, status="submitted", title="太湖蓝藻巡查")
    step(client, token_for(officer), scene_id, "returned", "<b>请补充</b>航线方案")

    local = utcnow().astimezone(SHANGHAI)
    next_morning = datetime.combine(
        local.date() + timedelta(days=1), time(9, 0), SHANGHAI
    )
    assert deliver_digests(app, next_morning) == "新摘要 1 份，发出 1 封"
    (mail,) = smtp_server.messages
    assert mail.recipients == ["poster@wuxi.example"]
    assert "【退回修改】" in mail.text
    assert "场景机会“太湖蓝藻巡查”被退回修改" in mail.text
    assert "审核意见：<b>请补充</b>航线方案" in mail.text
    assert "&lt;b&gt;请补充&lt;/b&gt;" in mail.html
    assert f"https://cj.wuxi.example/scenes/{scene_id}" in mail.text


def test_the_notifications_page_shows_a_workflow_notice(
    client, make_user, make_scene, token_for, login
):
    poster, officer = make_user("unit"), make_user("center")
    scene_id = make_scene(owner=poster, status="submitted", title="新吴区园区安防")
    step(client, token_for(officer), scene_id, "returned", "请写明巡检频次")
    login(poster)
    page = client.get("/notifications").get_data(as_text=True)
    assert "退回修改" in page
    assert "场景机会“新吴区园区安防”被退回修改" in page
    assert "审核意见：请写明巡检频次" in page
