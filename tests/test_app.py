import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from click.testing import CliRunner
from flask.cli import cli as flask_cli

from marketplace import ROOT, create_app
from marketplace.accounts.models import User
from marketplace.capabilities.models import Capability
from marketplace.config import ConfigurationError
from marketplace.editions.models import Edition
from marketplace.events.models import Event, EventMeeting
from marketplace.scenes.models import Scene
from marketplace.scheduler import JOBS, build_scheduler

PASSWORD = "correct-horse-9"  # the factories' password (conftest.py)


def test_every_endpoint_declares_who_may_call_it(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and getattr(app.view_functions[rule.endpoint], "access", None) is None
    ]
    assert undeclared == []


def openapi_path(rule: str) -> str:
    """Flask's first <int:scene_id> is the document's {id}; later parameters keep
    their names ({participant_id})."""
    rule = re.sub(r"<int:\w+>", "{id}", rule, count=1)
    return re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule)


def test_openapi_documents_exactly_the_api_routes(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    served = {
        (openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served


def test_openapi_lists_every_scene_field_the_server_accepts(client):
    from marketplace.scenes.schemas import SCENE_FIELDS

    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    assert set(schema["SceneInput"]["properties"]) == {f.name for f in SCENE_FIELDS}


def test_security_headers_on_pages_api_and_signed_in_pages(client, make_user, login):
    for url in ("/", "/api/v1/scenes"):
        headers = client.get(url).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    login(make_user("center"))
    assert client.get("/review").headers["Cache-Control"] == "no-store"


def test_production_settings_are_safe_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", "configured-by-the-operator")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite")
    app = create_app()
    assert app.debug is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024
    assert app.config["MARKETPLACE_TIMEZONE"] == "Asia/Shanghai"
    assert app.config["MARKETPLACE_SCHEDULER"] == "off"
    assert "scheduler" not in app.extensions


def _instance_files() -> dict[str, int]:
    instance = Path(ROOT) / "instance"
    return {p.name: p.stat().st_mtime_ns for p in instance.glob("*")}


def test_production_refuses_to_start_without_a_secret_key_and_says_so(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite")
    before = _instance_files()
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()
    result = CliRunner().invoke(
        flask_cli, ["--app", "marketplace:create_app()", "migrate"], env={}
    )
    assert result.exit_code != 0
    assert "SECRET_KEY 未设置" in str(result.exception) + result.output
    # Nothing was made up and written beside the code.
    assert _instance_files() == before


def test_plain_flask_run_on_127_0_0_1_signs_in_over_plain_http(
    app, make_user, monkeypatch
):
    """`flask run` without MARKETPLACE_ENV: cookies without Secure, which a browser
    would drop over http://127.0.0.1 and then fail the sign-in with csrf_failed."""
    user = make_user("center")
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", "local")
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    served = {}
    monkeypatch.setattr(
        "flask.cli.run_simple", lambda host, port, wsgi, **_: served.update(app=wsgi)
    )
    result = CliRunner().invoke(
        flask_cli, ["--app", "marketplace:create_app()", "run"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    dev_app = served["app"]
    assert dev_app.config["SESSION_COOKIE_SECURE"] is False
    browser = dev_app.test_client()
    form = browser.get("/login", base_url="http://127.0.0.1:5000")
    assert "Secure" not in form.headers.get("Set-Cookie", "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    signed_in = browser.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
        base_url="http://127.0.0.1:5000",
    )
    assert signed_in.status_code == 302, signed_in.text[:300]
    assert "Secure" not in signed_in.headers["Set-Cookie"]
    dev_app.extensions["db"]["engine"].dispose()


def test_taxonomy_api_serves_every_vocabulary(client):
    body = client.get("/api/v1/taxonomy").get_json()
    assert set(body) >= {
        "districts",
        "domains",
        "scene_kinds",
        "scene_categories",
        "industries",
        "capability_types",
        "maturities",
        "funding_sources",
    }
    assert len(body["districts"]) == 8
    assert {"name": "低空经济", "group": "未来产业（X）"} in body["industries"]


def test_migrate_is_safe_to_run_again(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["migrate"]).exit_code == 0


def test_load_demo_loads_the_city_and_adds_nothing_the_second_time(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["load-demo"])
    assert first.exit_code == 0, first.output
    counts = {
        model.__name__: db.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Scene, Capability, User, Event)
    }
    assert counts["Scene"] >= 150 and counts["Capability"] >= 400
    districts = db.scalars(sa.text("SELECT DISTINCT district FROM organizations")).all()
    assert len(districts) == 8
    assert db.scalar(sa.select(sa.func.count()).select_from(EventMeeting)) > 10
    # Two editions of each list, the second with something changed, and a chain
    # that verifies.
    editions = db.scalars(sa.select(Edition).order_by(Edition.id)).all()
    assert [(e.list_kind, e.sequence) for e in editions] == [
        ("scenes", 1),
        ("capabilities", 1),
        ("scenes", 2),
        ("capabilities", 2),
    ]
    assert len(editions[2].summary["new"]) == 4
    assert len(editions[3].summary["withdrawn"]) == 3
    verified = runner.invoke(args=["verify-editions"])
    assert verified.exit_code == 0, verified.output
    second = runner.invoke(args=["load-demo"])
    assert second.exit_code == 0
    db.expire_all()
    assert {
        model.__name__: db.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Scene, Capability, User, Event, Edition)
    } == {**counts, "Edition": 4}


def test_create_user_command_checks_its_input(app, make_org):
    organization = make_org(name="无锡测试科技有限公司", kind="民营企业")
    runner = app.test_cli_runner()
    ok = runner.invoke(
        args=[
            "create-user",
            "li.ming",
            "--password",
            "long-enough-1",
            "--role",
            "vendor",
            "--org",
            organization.name,
        ]
    )
    assert ok.exit_code == 0, ok.output
    missing_org = runner.invoke(
        args=["create-user", "wang", "--password", "long-enough-1", "--role", "unit"]
    )
    assert missing_org.exit_code != 0 and "单位" in missing_org.output
    short = runner.invoke(
        args=["create-user", "zhao", "--password", "short", "--role", "center"]
    )
    assert short.exit_code != 0 and "密码" in short.output


def test_scheduler_registers_the_declared_jobs_without_starting(app):
    scheduler = build_scheduler(app, BackgroundScheduler)
    assert not scheduler.running
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {job.id for job in JOBS}
    trigger = jobs["expire-past-deadline"].trigger
    assert isinstance(trigger, CronTrigger)
    assert str(trigger.timezone) == "Asia/Shanghai"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_unknown_method_is_405_in_the_contract_shape(client, method):
    response = getattr(client, method)("/api/v1/taxonomy")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
