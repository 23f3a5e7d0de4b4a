from typing import Any

import pytest

from marketplace.scenes.models import Scene


def test_unit_posts_submits_and_center_publishes_through_the_api(
    client, make_user, token_for, payloads
):
    unit, center = make_user("unit"), make_user("center")
    unit_auth, center_auth = token_for(unit), token_for(center)
    created = client.post("/api/v1/scenes", json=payloads.scene(), headers=unit_auth)
    assert created.status_code == 201
    scene = created.get_json()
    assert scene["status"] == "draft" and scene["budget"] == "1800000.00"
    scene_id = scene["id"]
    assert client.get(f"/api/v1/scenes/{scene_id}").status_code == 404

    steps = [
        (unit_auth, "submitted", ""),
        (center_auth, "approved", "材料齐全"),
        (center_auth, "published", ""),
    ]
    for headers, target, comment in steps:
        response = client.post(
            f"/api/v1/scenes/{scene_id}/transition",
            json={"to": target, "comment": comment},
            headers=headers,
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == target

    public = client.get(f"/api/v1/scenes/{scene_id}").get_json()
    assert public["status"] == "published"
    assert public["contact_phone"] is None  # the unit did not make contacts public
    assert [(h["from"], h["to"]) for h in public["history"]] == [(None, "published")]
    owner_view = client.get(f"/api/v1/scenes/{scene_id}", headers=unit_auth)
    assert [(h["from"], h["to"]) for h in owner_view.get_json()["history"]] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "approved"),
        ("approved", "published"),
    ]
    listed = client.get("/api/v1/scenes").get_json()
    assert [item["id"] for item in listed["items"]] == [scene_id]


def test_list_answers_the_contract_shape_with_paging(client, make_scene):
    for _ in range(3):
        make_scene()
    body = client.get("/api/v1/scenes?per_page=2&page=2").get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (
        3,
        2,
        2,
        1,
    )


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=abc",
        "per_page=0",
        "domain=Urban",
        "status=launched",
        "budget_min=abc",
        "sort=random",
        "q=" + "长" * 5000,
    ],
)
def test_bad_list_parameters_get_422_with_the_field(client, query):
    response = client.get(f"/api/v1/scenes?{query}")
    assert response.status_code == 422
    name = query.split("=")[0]
    assert name in response.get_json()["error"]["fields"]


def test_huge_per_page_is_refused_as_the_document_says(client, make_scene):
    make_scene()
    response = client.get("/api/v1/scenes?per_page=100000")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["per_page"] == "应为1到100之间的整数"


@pytest.mark.parametrize(
    "q",
    [
        "' OR 1=1 --",
        "%",
        "_",
        "\\",
        "NEAR(",
        '"',
        "*",
        # "\x00" is refused with 422 like any NUL (tests/test_hostile_input.py).
        "AND OR NOT",
        '具身智能"',
        "😀🤖",
    ],
)
def test_hostile_search_text_never_errors(client, make_scene, q):
    make_scene()
    response = client.get("/api/v1/scenes", query_string={"q": q})
    assert response.status_code == 200
    assert "items" in response.get_json()


def test_vendor_cannot_create_a_scene(
    client, make_user, token_for, payloads, row_counts
):
    before = row_counts()
    response = client.post(
        "/api/v1/scenes", json=payloads.scene(), headers=token_for(make_user("vendor"))
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    after = row_counts()
    assert after["scenes"] == before["scenes"]


def test_anonymous_write_gets_401(client, payloads):
    response = client.post("/api/v1/scenes", json=payloads.scene())
    assert response.status_code == 401
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}


def test_bad_token_gets_401(client):
    response = client.get("/api/v1/scenes", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_invalid_fields_get_422_naming_each_field_and_write_nothing(
    client, make_user, token_for, payloads, row_counts
):
    headers = token_for(make_user("unit"))
    before = row_counts()
    response = client.post(
        "/api/v1/scenes",
        headers=headers,
        json=payloads.scene(
            title="x" * 1_000_000, budget="abc", domain="Urban", deadline="2020-01-01"
        ),
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"title", "budget", "domain"} <= set(fields)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[1, 2]", "application/json", 400),
        ("not json", "application/json", 400),
        ('"a string"', "application/json", 400),
        ("title=x", "text/plain", 415),
    ],
)
def test_malformed_bodies_get_a_clear_error(
    client, make_user, token_for, body, content_type, status
):
    response = client.post(
        "/api/v1/scenes",
        data=body,
        content_type=content_type,
        headers=token_for(make_user("unit")),
    )
    assert response.status_code == status
    assert response.get_json()["error"]["message"]


def test_oversized_body_gets_413(client, make_user, token_for):
    headers = token_for(make_user("unit"))
    body = '{"title": "' + "x" * (6 * 1024 * 1024) + '"}'
    response = client.post(
        "/api/v1/scenes", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_unknown_scene_is_404_in_the_contract_shape(client):
    response = client.get("/api/v1/scenes/999999")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "scene_not_found"


def test_forbidden_transition_is_409_and_audited(
    client, make_user, make_scene, token_for, db
):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="withdrawn")
    response = client.post(
        f"/api/v1/scenes/{scene_id}/transition",
        json={"to": "published"},
        headers=token_for(unit),
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "transition_not_allowed"
    from marketplace import audit

    denied = [
        e
        for e in audit.list_entries(db, "scene", scene_id)
        if e.action == "scene.transition_denied"
    ]
    assert len(denied) == 1 and denied[0].after == "published"


def test_vendor_patching_status_or_owner_changes_nothing(
    client, make_user, make_scene, token_for, fetch
):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="draft")
    response = client.patch(
        f"/api/v1/scenes/{scene_id}",
        json={"status": "published", "organization_id": 1},
        headers=token_for(make_user("vendor")),
    )
    assert response.status_code in (403, 404)
    scene = fetch(Scene, scene_id)
    assert (scene.status, scene.organization_id) == ("draft", unit.organization_id)


def test_owner_patch_ignores_status_and_owner_fields(
    client, make_user, make_scene, token_for, fetch
):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="draft")
    response = client.patch(
        f"/api/v1/scenes/{scene_id}",
        headers=token_for(unit),
        json={
            "title": "新吴区路口AI视频分析试点",
            "status": "published",
            "organization_id": 12345,
        },
    )
    assert response.status_code == 200
    scene = fetch(Scene, scene_id)
    assert scene.title == "新吴区路口AI视频分析试点"
    assert (scene.status, scene.organization_id) == ("draft", unit.organization_id)


def test_other_unit_cannot_delete_or_see_a_draft(
    client, make_user, make_scene, token_for, fetch
):
    scene_id = make_scene(status="draft")
    headers = token_for(make_user("unit"))
    assert client.get(f"/api/v1/scenes/{scene_id}", headers=headers).status_code == 404
    assert (
        client.delete(f"/api/v1/scenes/{scene_id}", headers=headers).status_code == 404
    )
    assert fetch(Scene, scene_id) is not None


def test_owner_deletes_its_draft(client, make_user, make_scene, token_for, fetch):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="draft")
    response = client.delete(f"/api/v1/scenes/{scene_id}", headers=token_for(unit))
    assert response.status_code == 204
    assert fetch(Scene, scene_id) is None


def test_owner_lists_its_own_drafts_with_mine(client, make_user, make_scene, token_for):
    unit = make_user("unit")
    mine = make_scene(owner=unit, status="draft")
    make_scene(status="draft")
    body: dict[str, Any] = client.get(
        "/api/v1/scenes?mine=1", headers=token_for(unit)
    ).get_json()
    assert [item["id"] for item in body["items"]] == [mine]


def test_vendor_listing_drafts_sees_none_of_other_orgs(
    client, make_user, make_scene, token_for
):
    make_scene(status="draft")
    body = client.get(
        "/api/v1/scenes?status=draft", headers=token_for(make_user("vendor"))
    ).get_json()
    assert body["total"] == 0
