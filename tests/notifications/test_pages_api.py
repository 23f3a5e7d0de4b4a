"""The notification pages and API: own records only, CSRF, escaping, audit, 422s."""

import sqlalchemy as sa

from marketplace.audit import AuditEntry
from marketplace.db import session_scope, utcnow
from marketplace.notifications.models import Notification, SavedSearch
from marketplace.notifications.store import Notice, store_notices

SCRIPT = "<script>alert(1)</script>"


def give(app, user, *titles):
    notices = [
        Notice(user.id, "strong_match", "scene", i + 1, f"capability:{i}", t, "", "")
        for i, t in enumerate(titles)
    ]
    with session_scope(app) as session:
        store_notices(session, notices, now=utcnow())
    with session_scope(app) as session:
        return list(
            session.scalars(
                sa.select(Notification.id)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            )
        )


def counts(app):
    with session_scope(app) as session:
        return {
            model.__tablename__: session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
            for model in (Notification, SavedSearch, AuditEntry)
        } | {
            "read": session.scalar(
                sa.select(sa.func.count()).where(Notification.read_at.is_not(None))
            )
        }


def actions(db, action):
    db.rollback()
    db.expire_all()
    return db.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


# -- pages --------------------------------------------------------------------------


def test_page_lists_unread_first_escaped_with_a_badge_in_the_header(
    app, client, make_user, login, form_post
):
    user = make_user("unit")
    first, second = give(app, user, "第一条通知", f"场景{SCRIPT}")
    login(user)
    form_post(f"/notifications/{first}/read")
    page = client.get("/notifications").get_data(as_text=True)
    assert SCRIPT not in page
    assert "场景&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.index("alert(1)") < page.index("第一条通知")  # unread first
    assert 'aria-label="1 条未读"' in page
    unread_only = client.get("/notifications?unread=1").get_data(as_text=True)
    assert "第一条通知" not in unread_only and "alert(1)" in unread_only

    response = form_post("/notifications/read-all")
    assert response.status_code == 302
    assert "条未读" not in client.get("/notifications").get_data(as_text=True)


def test_marking_someone_elses_notice_is_404_and_changes_nothing(
    app, client, make_user, login, form_post
):
    owner, other = make_user("unit"), make_user("vendor")
    (notice,) = give(app, owner, "别人的通知")
    login(other)
    before = counts(app)
    assert form_post(f"/notifications/{notice}/read").status_code == 404
    assert counts(app) == before
    assert "别人的通知" not in client.get("/notifications").get_data(as_text=True)


def test_forms_without_the_csrf_token_are_refused(app, client, make_user, login):
    user = make_user("unit")
    (notice,) = give(app, user, "通知")
    login(user)
    before = counts(app)
    for url, data in (
        (f"/notifications/{notice}/read", {}),
        ("/notifications/read-all", {}),
        ("/notifications/settings", {"email": "a@b.cn", "digest_frequency": "off"}),
        ("/saved-searches", {"list": "scenes", "words": "电梯"}),
    ):
        assert client.post(url, data=data).status_code == 400, url
    assert counts(app) == before


def test_pages_need_a_signed_in_user(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_settings_are_validated_saved_and_audited(
    app, db, client, make_user, login, form_post
):
    user = make_user("vendor")
    login(user)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert 'value="daily" checked' in page

    before = counts(app)
    for bad in ("not-an-address", "a@b.cn\r\nBcc: x@evil.example", "张三@例子.中国"):
        response = form_post(
            "/notifications/settings", {"email": bad, "digest_frequency": "weekly"}
        )
        assert response.status_code == 422
        assert "接收邮箱" in response.get_data(as_text=True)
    response = form_post(
        "/notifications/settings", {"email": "", "digest_frequency": "hourly"}
    )
    assert response.status_code == 422
    assert counts(app) == before

    response = form_post(
        "/notifications/settings",
        {"email": "li@vendor.example", "digest_frequency": "weekly"},
    )
    assert response.status_code == 302
    db.rollback()
    db.expire_all()
    stored = db.get(type(user), user.id)
    assert (stored.email, stored.digest_frequency) == ("li@vendor.example", "weekly")
    (entry,) = actions(db, "notification.settings")
    assert (entry.before, entry.after, entry.details["email_changed"]) == (
        "daily",
        "weekly",
        True,
    )


def test_save_this_search_from_the_list_then_delete_it(
    app, db, client, make_user, login, form_post
):
    user = make_user("vendor")
    login(user)
    page = client.get("/scenes?q=电梯&district=梁溪区").get_data(as_text=True)
    assert "保存此搜索" in page and 'name="csrf_token"' in page
    assert "保存此搜索" not in client.get("/scenes").get_data(as_text=True)

    response = form_post(
        "/saved-searches",
        {"list": "scenes", "words": "电梯", "domain": "", "district": "梁溪区"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/scenes?q=")
    again = form_post(
        "/saved-searches", {"list": "scenes", "words": "电梯", "district": "梁溪区"}
    )
    assert again.status_code == 302
    assert "已保存过相同的搜索" in client.get("/scenes").get_data(as_text=True)

    listing = client.get("/saved-searches").get_data(as_text=True)
    assert "电梯、梁溪区" in listing and "场景机会" in listing
    db.rollback()
    db.expire_all()
    (search,) = db.scalars(sa.select(SavedSearch)).all()
    assert (search.words, search.domain, search.district) == ("电梯", "", "梁溪区")
    search_id = search.id
    assert form_post(f"/saved-searches/{search_id}/delete").status_code == 302
    assert "还没有保存的搜索" in client.get("/saved-searches").get_data(as_text=True)
    assert [e.object_id for e in actions(db, "saved_search.create")] == [search_id]
    assert [e.object_id for e in actions(db, "saved_search.delete")] == [search_id]


def test_someone_elses_saved_search_cannot_be_deleted(
    app, make_user, login, form_post, token_for, client
):
    owner, other = make_user("unit"), make_user("unit")
    created = client.post(
        "/api/v1/saved-searches",
        json={"list": "capabilities", "words": "机器人"},
        headers=token_for(owner),
    )
    search_id = created.get_json()["id"]
    login(other)
    before = counts(app)
    assert form_post(f"/saved-searches/{search_id}/delete").status_code == 404
    response = client.delete(
        f"/api/v1/saved-searches/{search_id}", headers=token_for(other)
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "saved_search_not_found"
    assert counts(app)["saved_searches"] == before["saved_searches"] == 1


# -- API ----------------------------------------------------------------------------


def test_api_lists_and_marks_the_callers_notices(app, client, make_user, token_for):
    user, other = make_user("unit"), make_user("vendor")
    ids = give(app, user, "一", "二", SCRIPT)
    (foreign,) = give(app, other, "别人的")
    headers = token_for(user)

    body = client.get("/api/v1/notifications?per_page=2", headers=headers).get_json()
    assert (body["total"], body["unread"], body["per_page"]) == (3, 3, 2)
    assert len(body["items"]) == 2
    assert {"id", "kind", "kind_label", "title", "link", "read_at"} <= set(
        body["items"][0]
    )

    before = counts(app)
    response = client.post(
        "/api/v1/notifications/read", json={"ids": [ids[0], foreign]}, headers=headers
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "notification_not_found"
    for bad in ({}, {"ids": []}, {"ids": ["1"]}, {"ids": [True]}, {"all": "yes"}):
        response = client.post("/api/v1/notifications/read", json=bad, headers=headers)
        assert response.status_code == 422, bad
        assert "ids" in response.get_json()["error"]["fields"]
    assert counts(app) == before

    response = client.post(
        "/api/v1/notifications/read", json={"ids": [ids[0]]}, headers=headers
    )
    assert response.get_json() == {"updated": 1, "unread": 2}
    unread = client.get("/api/v1/notifications?unread=true", headers=headers)
    assert [n["id"] for n in unread.get_json()["items"]] == [ids[2], ids[1]]
    assert unread.get_json()["items"][0]["title"] == SCRIPT  # JSON carries it verbatim
    response = client.post(
        "/api/v1/notifications/read", json={"all": True}, headers=headers
    )
    assert response.get_json() == {"updated": 2, "unread": 0}
    other_view = client.get("/api/v1/notifications", headers=token_for(other))
    assert other_view.get_json()["unread"] == 1

    assert (
        client.get("/api/v1/notifications?page=0", headers=headers).status_code == 422
    )
    assert client.get("/api/v1/notifications").status_code == 401


def test_api_saved_searches_validate_and_write_nothing_on_bad_input(
    app, db, client, make_user, token_for
):
    user = make_user("unit")
    headers = token_for(user)
    before = counts(app)
    cases = [
        ({"words": "电梯"}, "list"),
        ({"list": "events", "words": "电梯"}, "list"),
        ({"list": "scenes"}, "words"),
        ({"list": "scenes", "domain": "Urban"}, "domain"),
        ({"list": "scenes", "district": "上海市"}, "district"),
        ({"list": "scenes", "words": "字" * 201}, "words"),
        ({"list": "scenes", "words": "电梯", "name": "名" * 101}, "name"),
        ({"list": "scenes", "words": 5}, "words"),
    ]
    for payload, field in cases:
        response = client.post("/api/v1/saved-searches", json=payload, headers=headers)
        assert response.status_code == 422, payload
        assert field in response.get_json()["error"]["fields"], payload
    response = client.post(
        "/api/v1/saved-searches", data="list=scenes", headers=headers
    )
    assert response.status_code == 415
    assert counts(app) == before

    response = client.post(
        "/api/v1/saved-searches",
        json={"list": "scenes", "words": "电梯 监测", "domain": "城市治理"},
        headers=headers,
    )
    assert response.status_code == 201
    created = response.get_json()
    assert created["name"] == "电梯 监测、城市治理" and created["district"] is None
    assert (
        client.post(
            "/api/v1/saved-searches",
            json={"list": "scenes", "words": "电梯 监测", "domain": "城市治理"},
            headers=headers,
        ).status_code
        == 409
    )
    listed = client.get("/api/v1/saved-searches", headers=headers).get_json()
    assert [s["id"] for s in listed["items"]] == [created["id"]]
    response = client.delete(f"/api/v1/saved-searches/{created['id']}", headers=headers)
    assert response.status_code == 204
    assert client.get("/api/v1/saved-searches", headers=headers).get_json() == {
        "items": [],
        "total": 0,
    }
    assert len(actions(db, "saved_search.create")) == 1
    assert len(actions(db, "saved_search.delete")) == 1
