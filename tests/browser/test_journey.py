"""The main path in Debian's headless chromium against a live server.

A unit logs in and submits a scene, the center approves and publishes it, and an
anonymous visitor finds it by a Chinese search.
"""

import json
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from selenium.common.exceptions import (
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.db import session_scope, utcnow
from marketplace.organizations.credit_code import check_character
from marketplace.organizations.models import Organization
from marketplace.taxonomy import load_seed_taxonomy

pytestmark = pytest.mark.browser
PASSWORD = "journey-pass-1"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def live_server(sqlite_template: str, tmp_path: Path) -> Iterator[str]:
    database = tmp_path / "live.sqlite"
    shutil.copy(sqlite_template, database)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "live",
            "MARKETPLACE_SCHEDULER": "off",
            "PRODUCTION": False,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    with session_scope(app) as session:
        load_seed_taxonomy(session)
        code = "11320213J00000001"
        session.add(
            Organization(
                name="无锡市梁溪区城市管理局",
                kind="政府部门",
                district="梁溪区",
                credit_code=code + check_character(code),
                created_at=utcnow(),
            )
        )
        session.flush()
        accounts.create_user(
            session,
            "liangxi",
            PASSWORD,
            "unit",
            organization_name="无锡市梁溪区城市管理局",
            now=utcnow(),
        )
        accounts.create_user(session, "center", PASSWORD, "center", now=utcnow())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["db"]["engine"].dispose()


def wait_until_gone(browser: WebDriver, page: WebElement) -> None:
    """Wait until `page` (an old <html>) has been replaced by the next page.

    Chromium reports a node of a replaced document either as stale or, at times, as
    an inspector error; both mean the old page is gone.
    """

    def gone(_driver: WebDriver) -> bool:
        try:
            page.is_enabled()
        except (StaleElementReferenceException, WebDriverException):
            return True
        return False

    WebDriverWait(browser, 15).until(gone)


def click_and_wait(browser: WebDriver, element: WebElement) -> None:
    """Click something that loads a new page, and wait until the old page is gone."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait_until_gone(browser, page)


def log_in(browser: WebDriver, base: str, username: str) -> None:
    browser.get(f"{base}/login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(
        browser,
        browser.find_element(By.CSS_SELECTOR, ".login-form button[type=submit]"),
    )
    assert "欢迎" in browser.find_element(By.CSS_SELECTOR, ".flash").text


def log_out(browser: WebDriver) -> None:
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, ".account button"))


def test_scene_goes_from_unit_to_center_to_public_search(live_server, browser):
    base = live_server
    log_in(browser, base, "liangxi")
    browser.get(f"{base}/scenes/new")
    browser.find_element(By.NAME, "title").send_keys("梁溪区背街小巷占道经营智能识别")
    browser.find_element(By.NAME, "description").send_keys(
        "在南长街、清名桥一带的背街小巷布设20路视频，利用视频分析识别占道经营和"
        "乱堆放，识别结果推送到网格员手机端，要求识别准确率不低于90%。"
    )
    for name, value in (
        ("category", "政务类"),
        ("domain", "城市治理"),
        ("kind", "技术驱动类"),
        ("district", "梁溪区"),
        ("funding_source", "财政资金"),
    ):
        Select(browser.find_element(By.NAME, name)).select_by_value(value)
    browser.find_element(
        By.CSS_SELECTOR, "input[name=industries][value='垂类模型']"
    ).click()
    browser.find_element(By.NAME, "budget").send_keys("680000.00")
    deadline = browser.find_element(By.NAME, "deadline")
    browser.execute_script(
        "arguments[0].value = arguments[1]",
        deadline,
        (date.today() + timedelta(days=60)).isoformat(),
    )
    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, "button[value=submit]")
    )
    assert "已提交审核" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert "待审核" in browser.find_element(By.CSS_SELECTOR, ".badge").text
    log_out(browser)

    log_in(browser, base, "center")
    browser.get(f"{base}/review")
    queue_item = browser.find_element(By.CSS_SELECTOR, ".queue-item")
    assert "占道经营" in queue_item.text
    click_and_wait(
        browser, queue_item.find_element(By.CSS_SELECTOR, "button[value=approved]")
    )
    click_and_wait(
        browser,
        browser.find_element(By.CSS_SELECTOR, ".queue-item button[value=published]"),
    )
    assert "已发布" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    log_out(browser)

    browser.get(f"{base}/scenes")
    search_box = browser.find_element(By.NAME, "q")
    search_box.send_keys("占道经营 识别")
    page = browser.find_element(By.TAG_NAME, "html")
    search_box.submit()
    wait_until_gone(browser, page)
    result = browser.find_element(By.CSS_SELECTOR, ".card h3 a")
    assert result.text == "梁溪区背街小巷占道经营智能识别"
    click_and_wait(browser, result)
    assert "南长街" in browser.find_element(By.CSS_SELECTOR, ".description").text
    history = browser.find_element(By.CSS_SELECTOR, ".history").text
    # The public sees that it was published, not the center's review comment.
    assert "已发布" in history and "审核通过" not in history


def test_publishing_an_edition_asks_first_and_cancelling_publishes_nothing(
    live_server, browser
):
    base = live_server
    log_in(browser, base, "center")
    browser.get(f"{base}/editions")

    def publish_button() -> WebElement:
        return browser.find_element(
            By.XPATH, "//button[contains(., '立即发布场景机会清单')]"
        )

    publish_button().click()
    question = WebDriverWait(browser, 5).until(lambda b: b.switch_to.alert)
    assert "不能修改或撤回" in question.text
    question.dismiss()
    browser.get(f"{base}/editions")
    assert "尚未发布" in browser.find_element(By.CSS_SELECTOR, ".two-columns").text
    assert "第" not in browser.find_element(By.CSS_SELECTOR, "section").text

    page = browser.find_element(By.TAG_NAME, "html")
    publish_button().click()
    WebDriverWait(browser, 5).until(lambda b: b.switch_to.alert).accept()
    wait_until_gone(browser, page)
    assert "已发布场景机会清单" in browser.find_element(By.CSS_SELECTOR, ".flash").text


def test_the_api_page_renders_every_operation_under_the_sites_csp(live_server, browser):
    browser.get(f"{live_server}/api/docs")
    WebDriverWait(browser, 20).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock")
    )
    operations = browser.find_elements(By.CSS_SELECTOR, ".opblock")
    assert len(operations) >= 40
    assert "/api/v1/scenes" in browser.find_element(By.ID, "swagger-ui").text


def _api(base: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def test_the_plan_form_shows_the_reserved_share_as_the_unit_types(live_server, browser):
    token = _api(
        live_server, "/api/v1/auth/token", {"username": "liangxi", "password": PASSWORD}
    )["token"]
    scene = _api(
        live_server,
        "/api/v1/scenes",
        {
            "title": "梁溪区背街小巷智能照明改造",
            "description": "为背街小巷路灯加装单灯控制器，按人车流量调光并上报故障。",
            "category": "政务类",
            "domain": "城市治理",
            "kind": "技术驱动类",
            "industries": ["物联网"],
            "district": "梁溪区",
            "budget": "900000.00",
            "funding_source": "企业自筹",
            "deadline": (date.today() + timedelta(days=90)).isoformat(),
            "contact_name": "王工",
            "contact_phone": "0510-81234567",
            "contact_public": False,
        },
        token,
    )
    _api(
        live_server,
        f"/api/v1/scenes/{scene['id']}/transition",
        {"to": "submitted"},
        token,
    )
    log_in(browser, live_server, "liangxi")
    browser.get(f"{live_server}/plans/new")
    share = browser.find_element(By.ID, "plan-share")
    browser.find_element(By.ID, "procurement_budget").send_keys("1000")
    browser.find_element(By.ID, f"pick-{scene['id']}").click()
    amount = browser.find_element(By.NAME, f"amount_{scene['id']}")
    amount.send_keys("250")
    assert "25.00%" in share.text and "至少还需 50.00 万元" in share.text
    amount.send_keys("\b\b\b300")
    assert "30.00%" in share.text and "已达到30%的要求" in share.text
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#plan-form button"))
    assert "计划已保存为草稿" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert "提交审核" in browser.page_source
