"""Hostile input the platform met when probed from outside (issue 12, findings 6, 7):
numbers past the database's range, absurd nesting, lists for strings, CR/LF in
`next`. Each answers 4xx in the contract shape, never 500."""

import re
from datetime import date, timedelta
from typing import Any

import pytest

# Past PostgreSQL's INTEGER ids, past SQLite's, and far past both.
BEYOND = (2**31, 2**63, 10**30)


def _fill(rule: str, number: int) -> str:
    path = re.sub(r"<int:\w+>", str(number), rule)
    return re.sub(r"<(?:\w+:)?\w+>", "x", path)


def test_every_integer_route_answers_404_for_ids_beyond_the_database_range(
    app, client, make_user, login
):
    login(make_user("admin"))
    checked = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for number in BEYOND:
                url = _fill(rule.rule, number)
                kwargs: dict[str, Any] = {}
                if method != "GET" and url.startswith("/api/"):
                    kwargs = {"json": {}}
                elif method != "GET":
                    with client.session_transaction() as browser_session:
                        browser_session["csrf"] = "probe"
                    kwargs = {"data": {"csrf_token": "probe"}}
                response = client.open(url, method=method, **kwargs)
                assert response.status_code == 404, (method, url, response.status)
                if url.startswith("/api/"):
                    assert response.get_json()["error"]["code"] == "not_found"
                checked += 1
    assert checked > 40


def test_the_largest_id_a_database_holds_still_reaches_the_view(client):
    response = client.get(f"/api/v1/scenes/{2**31 - 1}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "scene_not_found"


PAGED = (
    "/api/v1/scenes",
    "/api/v1/capabilities",
    "/api/v1/organizations",
    "/api/v1/notifications",
    "/scenes",
    "/capabilities",
    "/notifications",
)


@pytest.mark.parametrize("page", [str(2**63), str(10**30), "9" * 5000, "²", "١٢"])
def test_page_numbers_beyond_range_or_not_ascii_get_422_never_500(
    client, make_user, login, token_for, page
):
    unit = make_user("unit")
    login(unit)
    headers = token_for(unit)
    for url in PAGED:
        response = client.get(url, query_string={"page": page}, headers=headers)
        assert response.status_code in (200, 422), (url, response.status)
        if url.startswith("/api/"):
            assert response.status_code == 422, url
            assert "page" in response.get_json()["error"]["fields"], url


def test_ids_beyond_range_in_json_bodies_get_422_never_500(
    client, make_user, token_for, make_scene, make_capability
):
    center = token_for(make_user("center"))
    unit = token_for(make_user("unit"))
    event = client.post(
        "/api/v1/events",
        json={
            "name": "2026年低空经济场景供需对接会",
            "domain": "城市治理",
            "date": (date.today() + timedelta(days=30)).isoformat(),
            "venue": "无锡市民中心",
            "sessions": [{"start": "09:00", "end": "10:00"}],
            "meeting_minutes": 20,
            "tables": 2,
            "max_meetings_per_scene": 2,
            "max_meetings_per_capability": 2,
            "min_score": 0.05,
        },
        headers=center,
    )
    assert event.status_code == 201, event.get_json()
    event_id = event.get_json()["id"]
    scene, capability = make_scene(), make_capability()
    for number in BEYOND:
        probes = [
            (
                f"/api/v1/events/{event_id}/participants",
                {"scene_ids": [number], "capability_ids": []},
                center,
            ),
            (
                f"/api/v1/events/{event_id}/participants",
                {"scene_ids": [], "capability_ids": [number]},
                center,
            ),
            (
                f"/api/v1/events/{event_id}/pairings",
                {"scene_id": number, "capability_id": capability},
                center,
            ),
            (
                "/api/v1/matches/feedback",
                {"scene_id": number, "capability_id": capability, "relevant": True},
                center,
            ),
            (
                "/api/v1/matches/feedback",
                {"scene_id": scene, "capability_id": number, "relevant": True},
                center,
            ),
            ("/api/v1/notifications/read", {"ids": [number]}, unit),
        ]
        for url, body, headers in probes:
            response = client.post(url, json=body, headers=headers)
            assert response.status_code in (404, 422), (url, body, response.status)
            assert "error" in response.get_json()


def test_ids_beyond_range_in_forms_get_an_error_page_never_500(
    client, make_user, login, form_post, make_scene, make_capability
):
    login(make_user("center"))
    capability = make_capability()
    for number in BEYOND:
        response = form_post(
            "/matches/mark",
            {
                "scene_id": str(number),
                "capability_id": str(capability),
                "relevant": "1",
            },
        )
        assert response.status_code == 404, response.status
        response = form_post("/events/1/participants", {"scene_ids": str(number)})
        assert response.status_code < 500, response.status
