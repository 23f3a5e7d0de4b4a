"""The data dashboard in Debian's headless chromium over the demo city: its charts
render, and what they draw is the demo's numbers as the API gives them."""

import json
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.db import session_scope, utcnow
from marketplace.demo import load_demo


@pytest.fixture
def demo_server(sqlite_template: str, tmp_path: Path) -> Iterator[str]:
    database = tmp_path / "demo.sqlite"
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
        load_demo(session, now=utcnow())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["db"]["engine"].dispose()


def _panel(browser: WebDriver, key: str):
    return browser.find_element(By.CSS_SELECTOR, f"section#{key}")


def test_the_charts_draw_the_demo_numbers(demo_server, browser):  # noqa: F811
    with urllib.request.urlopen(f"{demo_server}/api/v1/dashboard") as response:
        figures = json.load(response)
    browser.get(f"{demo_server}/dashboard")
    assert browser.title.startswith("数据看板")

    by_domain = figures["scenes"]["by_domain"]
    assert sum(by_domain.values()) > 0
    panel = _panel(browser, "scene_domain")
    chart = panel.find_element(By.CSS_SELECTOR, "svg.chart")
    assert chart.size["width"] > 200 and chart.size["height"] > 50  # laid out
    labels = [t.text for t in chart.find_elements(By.CSS_SELECTOR, ".chart-label")]
    values = [int(t.text) for t in chart.find_elements(By.CSS_SELECTOR, ".chart-value")]
    assert dict(zip(labels, values, strict=True)) == by_domain
    # Each bar is drawn in proportion to its number, as the browser lays it out.
    widths = [
        bar.rect["width"]
        for bar in chart.find_elements(By.CSS_SELECTOR, "rect.chart-bar")
    ]
    for count, width in zip(values, widths, strict=True):
        assert width == pytest.approx(count / max(values) * max(widths), abs=1.0)
    # The table beside it holds the same numbers, each a link to the list.
    table = {
        row.find_element(By.TAG_NAME, "th").text: int(
            row.find_element(By.CSS_SELECTOR, "td a").text
        )
        for row in panel.find_elements(By.CSS_SELECTOR, "table.chart-table tbody tr")
    }
    assert table == by_domain

    funnel = _panel(browser, "funnel").find_element(By.CSS_SELECTOR, "svg.chart")
    stages = [
        int(t.text) for t in funnel.find_elements(By.CSS_SELECTOR, ".chart-value")
    ]
    assert stages == [stage["count"] for stage in figures["funnel"]]

    # The trend shows the demo's year of history: scenes posted in several months.
    trend = _panel(browser, "monthly").find_element(By.CSS_SELECTOR, "polyline")
    points = trend.get_attribute("points").split()
    assert len(points) == 12
    heights = {point.split(",")[1] for point in points}
    assert len(heights) > 3
