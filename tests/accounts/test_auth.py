import pytest
import sqlalchemy as sa

from marketplace.accounts.models import UserSession

from_conftest_password = "correct-horse-9"


def test_password_is_stored_hashed(db, make_user):
    user = make_user("center")
    assert from_conftest_password not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_login_page_requires_a_csrf_token(client, make_user):
    user = make_user("center")
    response = client.post(
        "/login", data={"username": user.username, "password": from_conftest_password}
    )
    assert response.status_code == 400
    assert "请刷新页面" in response.get_data(as_text=True)


def test_login_issues_a_new_session_cookie(client, make_user, login):
    user = make_user("center")
    client.get("/login")
    before = client.get_cookie("marketplace_session")
    login(user)
    after = client.get_cookie("marketplace_session")
    assert after is not None and (before is None or before.value != after.value)
    assert client.get("/review").status_code == 200


def test_wrong_password_does_not_say_which_part_was_wrong(client, make_user, form_post):
    user = make_user("center")
    wrong_password = form_post("/login", {"username": user.username, "password": "x"})
    no_such_user = form_post("/login", {"username": "nobody", "password": "x"})
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert "用户名或密码错误" in wrong_password.get_data(as_text=True)
    assert "用户名或密码错误" in no_such_user.get_data(as_text=True)


def test_logout_makes_the_old_cookie_useless(client, make_user, login, form_post):
    login(make_user("center"))
    cookie = client.get_cookie("marketplace_session").value
    assert form_post("/logout").status_code == 302
    client.set_cookie("marketplace_session", cookie)
    response = client.get("/review")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_revoked_token_is_refused(client, make_user, token_for):
    headers = token_for(make_user("unit"))
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_disabling_a_user_ends_their_tokens(
    client, make_user, token_for, form_post, login, db
):
    vendor = make_user("vendor")
    headers = token_for(vendor)
    login(make_user("admin"))
    response = form_post(f"/admin/users/{vendor.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    remaining = db.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == vendor.id)
    )
    assert remaining == 0


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        # A header break was a 500 after the session had been created.
        "/review\r\nSet-Cookie: planted=1",
        "/review\nX-Injected: 1",
        # Browsers drop tabs and line breaks in URLs: this would become //evil.
        "/\t/evil.example",
        "/\r\n/evil.example",
        # "/review\x00" is refused before sign-in, as every NUL in a form is
        # (tests/test_hostile_input.py).
    ],
)
def test_login_never_redirects_off_site(client, make_user, form_post, target):
    user = make_user("center")
    response = form_post(
        "/login",
        {"username": user.username, "password": from_conftest_password, "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "planted" not in response.headers.get("Set-Cookie", "")
    assert client.get("/review").status_code == 200


def test_login_returns_to_the_page_asked_for(client, make_user, form_post):
    user = make_user("center")
    response = form_post(
        "/login",
        {
            "username": user.username,
            "password": from_conftest_password,
            "next": "/review",
        },
    )
    assert response.headers["Location"] == "/review"


def test_bearer_header_in_a_wrong_format_is_refused(client):
    response = client.get("/api/v1/scenes", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_token"
