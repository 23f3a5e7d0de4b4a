"""The API answers as CONTRACT.md and its own OpenAPI document say (issue 12,
finding 13): statuses, headers, bounds, enums and nullability."""

import pytest

BODY_METHODS = ("post", "patch", "put")


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").get_json()


def operations(document):
    for path, entries in document["paths"].items():
        for method, operation in entries.items():
            if method != "parameters":
                yield path, method, operation


def test_a_wrong_method_answers_405_with_an_allow_header(client):
    response = client.put("/api/v1/scenes", json={})
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {
        "GET",
        "POST",
    }
    assert response.get_json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/api/v1/scenes", "/api/v1/capabilities", "/api/v1/organizations"]
)
def test_per_page_beyond_the_documented_maximum_is_refused_with_422(
    client, document, path
):
    maximum = next(
        p["schema"]["maximum"]
        for p in document["paths"][path]["get"]["parameters"]
        if p["name"] == "per_page"
    )
    assert client.get(f"{path}?per_page={maximum}").status_code == 200
    response = client.get(f"{path}?per_page={maximum + 1}")
    assert response.status_code == 422
    assert "per_page" in response.get_json()["error"]["fields"]


def test_notifications_refuse_per_page_beyond_the_documented_maximum(
    client, make_user, token_for
):
    headers = token_for(make_user("vendor"))
    ok = client.get("/api/v1/notifications?per_page=100", headers=headers)
    assert ok.status_code == 200
    response = client.get("/api/v1/notifications?per_page=101", headers=headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path", ["/api/v1/scenes", "/api/v1/capabilities", "/api/v1/organizations"]
)
def test_a_10000_character_q_gets_the_json_error_shape(client, document, path):
    limit = next(
        p["schema"]["maxLength"]
        for p in document["paths"][path]["get"]["parameters"]
        if p["name"] == "q"
    )
    assert client.get(path, query_string={"q": "字" * limit}).status_code == 200
    response = client.get(path, query_string={"q": "字" * 10_000})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["q"]


def test_every_operation_taking_a_json_body_documents_400_415_and_422(document):
    undocumented = [
        (path, method, status)
        for path, method, operation in operations(document)
        if "requestBody" in operation
        for status in ("400", "415", "422")
        if status not in operation["responses"]
    ]
    assert undocumented == []


def test_enumerated_request_fields_list_the_current_taxonomy_names(client, document):
    taxonomy = client.get("/api/v1/taxonomy").get_json()
    names = {
        key: [t["name"] if isinstance(t, dict) else t for t in terms]
        for key, terms in taxonomy.items()
    }
    schemas = document["components"]["schemas"]
    scene = schemas["SceneInput"]["properties"]
    assert scene["domain"]["enum"] == names["domains"]
    assert scene["district"]["enum"] == names["districts"]
    assert scene["industries"]["items"]["enum"] == names["industries"]
    capability = schemas["CapabilityInput"]["properties"]
    assert capability["type"]["enum"] == names["capability_types"]
    assert capability["maturity"]["enum"] == names["maturities"]
    listed = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/scenes"]["get"]["parameters"]
    }
    assert listed["domain"]["enum"] == names["domains"]


def test_request_schemas_require_what_the_server_requires(client, document):
    from marketplace.scenes.schemas import SCENE_FIELDS

    schema = document["components"]["schemas"]["SceneInput"]
    required = {f.name for f in SCENE_FIELDS if f.required and f.kind != "bool"}
    assert set(schema["required"]) == required
    for name in required & {"title", "description"}:
        assert schema["properties"][name]["minLength"] >= 1
    assert schema["properties"]["contact_phone"]["pattern"]


def test_saved_search_filters_left_empty_come_back_null_as_documented(
    client, document, make_user, token_for
):
    response = client.post(
        "/api/v1/saved-searches",
        json={"list": "scenes", "words": "电梯"},
        headers=token_for(make_user("vendor")),
    )
    assert response.status_code == 201
    saved = response.get_json()
    assert saved["domain"] is None and saved["district"] is None
    schema = document["paths"]["/api/v1/saved-searches"]["post"]["responses"]["201"][
        "content"
    ]["application/json"]["schema"]["properties"]
    assert schema["domain"]["nullable"] is True
    assert schema["district"]["nullable"] is True
