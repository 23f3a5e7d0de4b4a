import re
from datetime import date, timedelta

from marketplace.scenes.models import Scene


def form_of(payload):
    data = dict(payload)
    data["contact_public"] = "1" if data.pop("contact_public") else ""
    return data


def test_public_list_shows_published_scenes_only(client, make_scene):
    make_scene(title="太湖蓝藻水华早期预警与智能打捞调度", status="published")
    make_scene(title="尚未发布的草稿场景名称", status="draft")
    page = client.get("/scenes").get_data(as_text=True)
    assert "太湖蓝藻水华早期预警与智能打捞调度" in page
    assert "尚未发布的草稿场景名称" not in page


def test_filters_and_search_show_in_the_page(client, make_scene):
    make_scene(
        title="马山半岛环太湖低空观光航线合作运营",
        domain="文旅消费",
        district="滨湖区",
        industries=["低空经济"],
    )
    make_scene(title="锡东新城智慧停车诱导系统", domain="城市治理")
    page = client.get("/scenes?q=低空&domain=文旅消费").get_data(as_text=True)
    assert "马山半岛环太湖低空观光航线合作运营" in page
    assert "锡东新城智慧停车诱导系统" not in page
    assert "共 1 条" in page


def test_bad_filter_is_explained_not_crashed(client):
    response = client.get("/scenes?budget_min=abc&page=-3")
    assert response.status_code == 200
    assert "金额应为" in response.get_data(as_text=True)


def test_detail_page_escapes_html_and_shows_the_history(client, make_scene):
    scene_id = make_scene(title="<script>alert(1)</script>场景标题")
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;场景标题" in page
    assert "状态记录" in page


def test_hidden_contacts_are_not_on_the_public_page(client, make_scene):
    scene_id = make_scene(contact_phone="0510-88886666", contact_public=False)
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert "0510-88886666" not in page
    assert "未公开" in page


def test_unit_saves_a_draft_through_the_form_after_seeing_the_checks(
    client, make_user, login, form_post, payloads, db
):
    unit = make_user("unit")
    login(unit)
    assert "发布场景机会" in client.get("/scenes/new").get_data(as_text=True)
    form = {**form_of(payloads.scene()), "action": "save"}
    first = form_post("/scenes/new", form)
    assert first.status_code == 200
    assert "请写明希望达到的指标" in first.get_data(as_text=True)
    assert db.query(Scene).count() == 0
    db.rollback()  # end the snapshot, to see what the next request writes
    response = form_post("/scenes/new", {**form, "checked": "1"})
    assert response.status_code == 302
    scene = db.query(Scene).one()
    assert scene.status == "draft" and scene.organization_id == unit.organization_id


def test_a_specific_scene_saves_at_once(
    client, make_user, login, form_post, payloads, db
):
    login(make_user("unit"))
    description = (
        "为梁溪区已加装的312部电梯安装振动和困人传感器，接入区城运中心，"
        "要求困人报警30秒以内推送到维保单位，误报率不超过1%。"
    )
    response = form_post(
        "/scenes/new",
        {**form_of(payloads.scene()), "description": description, "action": "submit"},
    )
    assert response.status_code == 302
    assert db.query(Scene).one().status == "submitted"


def test_a_repeated_need_is_flagged_before_saving(
    client, make_user, make_scene, login, form_post, payloads
):
    unit = make_user("unit")
    make_scene(owner=unit, status="draft")
    login(unit)
    page = form_post("/scenes/new", {**form_of(payloads.scene()), "action": "save"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        "可能与已有条目重复" in text
        and "梁溪区老旧小区加装电梯运行安全物联网监测" in text
    )


def test_form_errors_are_shown_in_chinese_and_nothing_is_saved(
    client, make_user, login, form_post, payloads, row_counts
):
    login(make_user("unit"))
    before = row_counts()
    past = (date.today() - timedelta(days=3)).isoformat()
    response = form_post(
        "/scenes/new",
        {
            **form_of(payloads.scene()),
            "title": "",
            "budget": "abc",
            "deadline": past,
            "action": "submit",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "场景名称：不能为空" in page
    assert "金额应为" in page
    assert row_counts()["scenes"] == before["scenes"]


def test_form_without_csrf_token_is_refused(
    client, make_user, login, payloads, row_counts
):
    login(make_user("unit"))
    before = row_counts()
    response = client.post("/scenes/new", data=form_of(payloads.scene()))
    assert response.status_code == 400
    assert row_counts() == before


def test_center_works_through_the_review_queue(
    client, make_user, make_scene, login, form_post, fetch
):
    scene_id = make_scene(status="submitted", title="无锡地铁隧道巡检机器人试点")
    login(make_user("center"))
    queue = client.get("/review").get_data(as_text=True)
    assert "无锡地铁隧道巡检机器人试点" in queue
    response = form_post(
        f"/scenes/{scene_id}/transition",
        {"to": "returned", "comment": "", "next_review": "1"},
    )
    assert response.status_code == 302
    assert fetch(Scene, scene_id).status == "submitted"  # a return needs a comment
    form_post(f"/scenes/{scene_id}/transition", {"to": "approved"})
    form_post(f"/scenes/{scene_id}/transition", {"to": "published"})
    assert fetch(Scene, scene_id).status == "published"


def test_pages_ask_for_login_then_refuse_wrong_roles(client, make_user, login):
    response = client.get("/scenes/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(make_user("vendor"))
    assert client.get("/scenes/new").status_code == 403
    assert client.get("/review").status_code == 403


def test_unknown_scene_page_is_404_in_chinese(client):
    response = client.get("/scenes/424242")
    assert response.status_code == 404
    assert "不存在" in response.get_data(as_text=True)


def test_home_page_counts_by_domain(client, make_scene):
    make_scene(domain="文旅消费")
    page = client.get("/").get_data(as_text=True)
    assert "文旅消费" in page and "1 个场景" in page


def test_a_new_form_leaves_contact_details_private_until_ticked(
    client, make_user, login
):
    for role, path in (("unit", "/scenes/new"), ("vendor", "/capabilities/new")):
        login(make_user(role))
        page = client.get(path).get_data(as_text=True)
        box = re.search(r'<input type="checkbox" name="contact_public"[^>]*>', page)
        assert box is not None, path
        assert "checked" not in box.group(0), path
