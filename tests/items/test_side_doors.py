"""Side doors (issue 12, finding 3): every route that takes an item id, in its path or
its body, treats an item the caller may not see exactly as one that does not exist."""

from typing import Any

import pytest

SECRET_TITLE = "尚未提交的草稿场景：某区地下管网机器人巡检"
SECRET_CAPABILITY = "尚未提交的草稿能力：管网巡检机器人"
MISSING = 999_999


def _answer(response: Any) -> tuple[int, str | None]:
    """What a caller learns from a response: its status and error code."""
    body = response.get_json(silent=True)
    code = body["error"]["code"] if body and "error" in body else None
    return response.status_code, code


def _call(client, rule, method, number, headers):
    url = rule.rule
    for argument in rule.arguments:
        url = url.replace(f"<int:{argument}>", str(number))
    url = url.replace("<fmt>", "csv").replace("<action>", "lock")
    if url.startswith("/api/"):
        return client.open(
            url, method=method, json={"to": "submitted"}, headers=headers
        )
    data = {"csrf_token": "side-door", "to": "submitted"} if method == "POST" else None
    with client.session_transaction() as browser_session:
        browser_session["csrf"] = "side-door"
    return client.open(url, method=method, data=data)


@pytest.mark.parametrize("role", ["center", "unit", "vendor", "reviewer"])
def test_every_item_route_answers_an_invisible_item_as_a_missing_one(
    app,
    client,
    make_user,
    make_scene,
    make_capability,
    token_for,
    login,
    row_counts,
    role,
):
    scene = make_scene(status="draft", title=SECRET_TITLE)
    capability = make_capability(status="draft", title=SECRET_CAPABILITY)
    caller = make_user(role)
    headers = token_for(caller)
    login(caller)
    before = row_counts()
    walked = 0
    for rule in app.url_map.iter_rules():
        plural = next(
            (p for p in ("scenes", "capabilities") if f"/{p}/<int:" in rule.rule), None
        )
        if plural is None:
            continue
        hidden = scene if plural == "scenes" else capability
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            seen = _call(client, rule, method, hidden, headers)
            assert seen.status_code < 500, (rule.rule, method)
            assert SECRET_TITLE not in seen.get_data(as_text=True)
            assert SECRET_CAPABILITY not in seen.get_data(as_text=True)
            missing = _call(client, rule, method, MISSING, headers)
            assert _answer(seen) == _answer(missing), (rule.rule, method)
            walked += 1
    assert walked >= 20
    assert row_counts() == before


@pytest.fixture
def hidden(make_scene, make_capability):
    return {
        "scene": make_scene(status="draft", title=SECRET_TITLE),
        "capability": make_capability(status="draft", title=SECRET_CAPABILITY),
        "public_scene": make_scene(),
        "public_capability": make_capability(),
    }


def test_center_feedback_on_a_draft_is_404_and_the_feedback_list_shows_no_draft(
    client, make_user, token_for, login, form_post, hidden, row_counts
):
    center = make_user("center")
    headers = token_for(center)
    login(center)
    before = row_counts()
    pairs = [
        (hidden["scene"], hidden["public_capability"], "scene_not_found"),
        (hidden["public_scene"], hidden["capability"], "capability_not_found"),
    ]
    for scene_id, capability_id, code in pairs:
        response = client.post(
            "/api/v1/matches/feedback",
            json={
                "scene_id": scene_id,
                "capability_id": capability_id,
                "relevant": True,
            },
            headers=headers,
        )
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"]["code"] == code
    marked = form_post(
        "/matches/mark",
        {"scene_id": hidden["scene"], "capability_id": hidden["public_capability"]},
    )
    assert marked.status_code == 404
    assert row_counts() == before
    listed = client.get("/api/v1/matches/feedback", headers=headers).get_data(
        as_text=True
    )
    assert SECRET_TITLE not in listed and SECRET_CAPABILITY not in listed
    page = client.get("/matches/feedback").get_data(as_text=True)
    assert SECRET_TITLE not in page


def test_inviting_a_draft_to_an_event_names_it_as_missing_without_its_title(
    client, make_user, token_for, hidden
):
    from datetime import date, timedelta

    headers = token_for(make_user("center"))
    event = client.post(
        "/api/v1/events",
        json={
            "name": "2026年城市治理场景供需对接会",
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
        headers=headers,
    ).get_json()["id"]
    for body, field in (
        ({"scene_ids": [hidden["scene"]]}, "scene_ids"),
        ({"capability_ids": [hidden["capability"]]}, "capability_ids"),
    ):
        seen = client.post(
            f"/api/v1/events/{event}/participants", json=body, headers=headers
        )
        missing = client.post(
            f"/api/v1/events/{event}/participants",
            json={field: [MISSING]},
            headers=headers,
        )
        assert seen.status_code == missing.status_code == 422
        reason = seen.get_json()["error"]["fields"][field]
        assert "不存在" in reason
        assert SECRET_TITLE not in reason and SECRET_CAPABILITY not in reason
