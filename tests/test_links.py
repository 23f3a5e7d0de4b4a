"""Every page a role is shown a link to opens for that role, over the demo city.

Walks the links of the HTML pages each demo user (and an anonymous visitor) can
reach from the home page, a few pages of each kind (item pages differ only in
their data), and asserts none answers with an error: a link the page offers must
not lead to 403, 404 or 500.
"""

import re
from collections import Counter, deque
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest

from marketplace.db import session_scope, utcnow
from marketplace.demo import load_demo

DEMO_PASSWORD = "demo-wuxi-2026"
PER_KIND = 2
# Downloads and feeds are not pages; logging out would end the walk.
NOT_PAGES = re.compile(r"/logout|/download/|/export|\.(xlsx|csv|json|atom)$|/static/")
LINK = re.compile(r'href="([^"#]+)"')


def walk(client) -> tuple[int, list[tuple[int, str, str]]]:
    """(pages opened, [(status, page, the page that linked to it)] that failed)."""
    queue, seen, kinds, failures = deque([("/", "")]), {"/"}, Counter(), []
    opened = 0
    while queue:
        path, source = queue.popleft()
        kind = re.sub(r"\d+", "N", urlsplit(path).path)
        kinds[kind] += 1
        if kinds[kind] > PER_KIND:
            continue
        response = client.get(path)
        opened += 1
        if response.status_code >= 400:
            failures.append((response.status_code, path, source))
        if "text/html" not in response.content_type or response.status_code != 200:
            continue
        for href in LINK.findall(response.get_data(as_text=True)):
            target = urlsplit(urljoin(f"http://localhost{path}", unescape(href)))
            link = target.path + (f"?{target.query}" if target.query else "")
            if target.netloc != "localhost" or NOT_PAGES.search(target.path):
                continue
            if link not in seen:
                seen.add(link)
                queue.append((link, path))
    return opened, failures


@pytest.fixture
def demo_city(app):
    with session_scope(app) as session:
        load_demo(session, now=utcnow())
    return app


@pytest.mark.parametrize(
    "username", [None, "unit", "vendor", "center", "reviewer", "admin"]
)
def test_every_link_a_role_is_shown_opens(demo_city, client, form_post, username):
    if username is not None:
        response = form_post(
            "/login", {"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    opened, failures = walk(client)
    assert opened >= 10, f"only {opened} pages reached"
    assert failures == []
