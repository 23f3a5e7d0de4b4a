"""Issue 12, finding 11: passwords people guess, lock-outs strangers cause, addresses
behind a proxy, and the last admin."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import LoginAttempt, User
from marketplace.accounts.passwords import password_problem
from marketplace.audit import AuditEntry
from marketplace.config import ConfigurationError, trusted_proxies
from marketplace.db import utcnow
from marketplace.errors import Invalid, TooManyRequests

PASSWORD = "correct-horse-9"  # the factories' password (conftest.py)


@pytest.mark.parametrize(
    ("password", "role", "why"),
    [
        ("12345678", "vendor", "常见"),
        ("aaaaaaaa", "vendor", "常见"),
        ("woaini1314", "unit", "常见"),
        ("dragon2026", "unit", "常见"),
        ("qwertyuiop", "unit", "常见"),
        ("zhangwei-2026", "unit", "用户名"),
        ("abcabcabcabc", "unit", "简单"),
        ("Wuxi-9-ok", "center", "至少10位"),
        ("Wuxi-9-ok", "admin", "至少10位"),
        ("Wuxi-9-ok", "reviewer", "至少10位"),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(password, role, why):
    problem = password_problem(password, username="zhangwei", role=role)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("password", "role"),
    [("Wuxi-9-ok", "vendor"), ("demo-wuxi-2026", "admin"), (PASSWORD, "center")],
)
def test_reasonable_passwords_pass(password, role):
    assert password_problem(password, username="zhangwei", role=role) is None


def test_the_admin_form_refuses_a_common_password_and_creates_nothing(
    client, make_user, login, form_post, db, make_org
):
    login(make_user("admin"))
    organization = make_org(kind="民营企业")
    response = form_post(
        "/admin/users",
        {
            "username": "newvendor",
            "password": "12345678",
            "role": "vendor",
            "organization": organization.name,
        },
        follow_redirects=True,
    )
    assert "这个密码过于常见" in response.get_data(as_text=True)
    assert db.scalar(sa.select(User).where(User.username == "newvendor")) is None


def test_create_user_refuses_a_short_staff_password(db):
    with pytest.raises(Invalid) as refused:
        accounts.create_user(db, "officer", "Wuxi-9-ok", "center", now=utcnow())
    assert refused.value.fields["password"] == "密码至少10位"


def _sign_in(client, username, password, address):
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_stranger_failing_on_an_account_does_not_lock_its_owner(client, make_user):
    official = make_user("center")
    for _ in range(5):
        assert (
            _sign_in(client, official.username, "guess", "203.0.113.9").status_code
            == 401
        )
    stranger = _sign_in(client, official.username, PASSWORD, "203.0.113.9")
    assert stranger.status_code == 429
    assert stranger.get_json()["error"]["code"] == "too_many_login_attempts"
    assert 1 <= int(stranger.headers["Retry-After"]) <= 31
    assert "秒后再试" in stranger.get_json()["error"]["message"]
    owner = _sign_in(client, official.username, PASSWORD, "198.51.100.4")
    assert owner.status_code == 201


def test_the_login_page_says_when_to_retry(client, make_user, form_post):
    user = make_user("unit")
    for _ in range(5):
        form_post("/login", {"username": user.username, "password": "guess"})
    page = form_post("/login", {"username": user.username, "password": PASSWORD})
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) >= 1
    assert "登录失败次数过多" in page.get_data(as_text=True)


def test_the_wait_doubles_with_each_further_failure(db, make_user):
    user = make_user("unit")
    start = utcnow()

    def attempt(seconds: float, password: str = "guess"):
        return accounts.authenticate(
            db,
            user.username,
            password,
            "203.0.113.9",
            now=start + timedelta(seconds=seconds),
        )

    for second in range(5):
        assert attempt(second) is None
    with pytest.raises(TooManyRequests) as waiting:
        attempt(10)
    assert waiting.value.retry_after_seconds == 25  # 30 s after the fifth, at 4 s
    assert attempt(35) is None  # the sixth failure: now 60 s
    with pytest.raises(TooManyRequests) as longer:
        attempt(90)
    assert longer.value.retry_after_seconds == 6
    assert attempt(96, PASSWORD) == user
    # Signing in wipes the pair's failures: the owner's typos do not pile up.
    assert db.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)) == 0
    assert [accounts.login_delay(n).total_seconds() for n in (4, 5, 6, 7, 20, 99)] == [
        0,
        30,
        60,
        120,
        900,
        900,
    ]


def test_one_address_trying_many_accounts_is_stopped(client, make_user):
    for n in range(accounts.MAX_FAILURES_PER_ADDRESS):
        _sign_in(client, f"guess{n}", "guess", "203.0.113.9")
    real = make_user("unit")
    assert _sign_in(client, real.username, PASSWORD, "203.0.113.9").status_code == 429
    assert _sign_in(client, real.username, PASSWORD, "198.51.100.4").status_code == 201


def test_forwarded_for_counts_only_from_a_configured_proxy(app, client, make_user, db):
    user = make_user("unit")

    def through_proxy(client_address: str, proxy: str = "10.0.0.2"):
        return client.post(
            "/api/v1/auth/token",
            json={"username": user.username, "password": "guess"},
            headers={"X-Forwarded-For": f"{client_address}, 10.0.0.3"},
            environ_base={"REMOTE_ADDR": proxy},
        )

    # Not configured: the header is the client's own word, so changing it does not
    # escape the throttle.
    for n in range(5):
        through_proxy(f"198.51.100.{n}")
    assert through_proxy("198.51.100.99").status_code == 429

    app.config["TRUSTED_PROXIES"] = trusted_proxies("10.0.0.0/24")
    # Behind the proxies, each office is its own address: a new one is not throttled.
    assert through_proxy("198.51.100.99").status_code == 401
    # A peer outside the configured networks is not believed.
    for _ in range(5):
        through_proxy("198.51.100.50", proxy="192.0.2.1")
    assert through_proxy("198.51.100.51", proxy="192.0.2.1").status_code == 429
    addresses = set(db.scalars(sa.select(LoginAttempt.remote_addr)))
    assert addresses == {"10.0.0.2", "198.51.100.99", "192.0.2.1"}


def test_a_wrong_trusted_proxy_entry_stops_the_start_and_is_named():
    with pytest.raises(ConfigurationError, match="not-an-ip"):
        trusted_proxies("10.0.0.1, not-an-ip")
    assert len(trusted_proxies(" 10.0.0.1 , ::1 ,")) == 2


def test_the_last_active_admin_cannot_be_disabled(
    client, make_user, login, form_post, db
):
    admin = make_user("admin")
    login(admin)
    page = form_post(
        f"/admin/users/{admin.id}/active", {"active": "0"}, follow_redirects=True
    )
    assert "最后一个启用的系统管理员" in page.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, admin.id).active

    second = make_user("admin")
    assert (
        form_post(f"/admin/users/{second.id}/active", {"active": "0"}).status_code
        == 302
    )
    db.expire_all()
    assert not db.get(User, second.id).active
    again = form_post(
        f"/admin/users/{admin.id}/active", {"active": "0"}, follow_redirects=True
    )
    assert "最后一个启用的系统管理员" in again.get_data(as_text=True)


def test_an_admin_resets_a_forgotten_password_and_old_logins_end(
    client, make_user, login, form_post, token_for, db
):
    vendor = make_user("vendor")
    old_token = token_for(vendor)
    login(make_user("admin"))
    weak = form_post(
        f"/admin/users/{vendor.id}/password",
        {"password": "12345678"},
        follow_redirects=True,
    )
    assert "这个密码过于常见" in weak.get_data(as_text=True)
    assert client.get("/api/v1/auth/me", headers=old_token).status_code == 200
    done = form_post(
        f"/admin/users/{vendor.id}/password",
        {"password": "Wuxi-new-2026"},
        follow_redirects=True,
    )
    assert f"已为“{vendor.username}”设置新密码" in done.get_data(as_text=True)
    assert client.get("/api/v1/auth/me", headers=old_token).status_code == 401
    signed_in = client.post(
        "/api/v1/auth/token",
        json={"username": vendor.username, "password": "Wuxi-new-2026"},
    )
    assert signed_in.status_code == 201
    audited = db.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "user.password_reset")
    )
    assert audited is not None and audited.object_id == vendor.id


def test_the_admin_finds_users_by_name_or_organization(
    client, make_user, login, make_org
):
    transport = make_org(name="江阴市交通运输局")
    make_user("unit", organization=transport, username="jiangyin.zhou")
    make_user("vendor", username="lingxi.lu")
    login(make_user("admin"))
    found = client.get("/admin/users?words=交通运输局").get_data(as_text=True)
    assert "jiangyin.zhou" in found and "lingxi.lu" not in found
    assert "没有找到用户" in client.get("/admin/users?words=紫砂").get_data(
        as_text=True
    )
