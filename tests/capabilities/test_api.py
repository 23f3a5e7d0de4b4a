from marketplace.capabilities.models import Capability


def test_vendor_lists_a_capability_and_center_publishes_it(
    client, make_user, token_for, payloads
):
    vendor, center = make_user("vendor"), make_user("center")
    created = client.post(
        "/api/v1/capabilities", json=payloads.capability(), headers=token_for(vendor)
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["domains"] == ["城市治理"]
    assert body["districts"] == ["梁溪区", "新吴区"]
    capability_id = body["id"]
    client.post(
        f"/api/v1/capabilities/{capability_id}/transition",
        json={"to": "submitted"},
        headers=token_for(vendor),
    )
    center_auth = token_for(center)
    for target in ("approved", "published"):
        response = client.post(
            f"/api/v1/capabilities/{capability_id}/transition",
            json={"to": target},
            headers=center_auth,
        )
        assert response.status_code == 200, response.get_json()
    public = client.get(f"/api/v1/capabilities/{capability_id}").get_json()
    assert public["status"] == "published"
    assert public["contact_phone"] == "13800000000"  # the vendor made them public


def test_capabilities_have_no_matched_status(
    client, make_user, make_capability, token_for
):
    center = make_user("center")
    capability_id = make_capability()
    response = client.post(
        f"/api/v1/capabilities/{capability_id}/transition",
        json={"to": "matched"},
        headers=token_for(center),
    )
    assert response.status_code == 422


def test_unit_cannot_list_a_capability(client, make_user, token_for, payloads):
    response = client.post(
        "/api/v1/capabilities",
        json=payloads.capability(),
        headers=token_for(make_user("unit")),
    )
    assert response.status_code == 403


def test_vendor_never_sees_another_vendors_draft(
    client, make_user, make_capability, token_for
):
    draft = make_capability(status="draft")
    other = token_for(make_user("vendor"))
    assert client.get(f"/api/v1/capabilities/{draft}", headers=other).status_code == 404
    for query in ("", "?status=draft", "?q=电梯"):
        body = client.get(f"/api/v1/capabilities{query}", headers=other).get_json()
        assert draft not in [item["id"] for item in body["items"]]


def test_vendor_edits_its_returned_capability_and_tags_change(
    client, make_user, make_capability, token_for, fetch
):
    vendor = make_user("vendor")
    capability_id = make_capability(owner=vendor, status="returned")
    response = client.patch(
        f"/api/v1/capabilities/{capability_id}",
        headers=token_for(vendor),
        json={"domains": ["社会民生", "城市治理"], "districts": ["江阴市"]},
    )
    assert response.status_code == 200
    stored = fetch(Capability, capability_id)
    assert stored.domains == ["社会民生", "城市治理"]
    assert stored.districts == ["江阴市"]
    assert stored.industries == ["物联网", "智能传感器"]


def test_capability_filters_by_list_fields(client, make_capability):
    make_capability(domains=["文旅消费"], districts=["宜兴市"], type="新方案")
    make_capability()
    body = client.get(
        "/api/v1/capabilities",
        query_string={"domain": "文旅消费", "district": "宜兴市", "type": "新方案"},
    ).get_json()
    assert body["total"] == 1
    assert body["items"][0]["domains"] == ["文旅消费"]


def test_unknown_list_value_names_the_field(client, make_user, token_for, payloads):
    response = client.post(
        "/api/v1/capabilities",
        headers=token_for(make_user("vendor")),
        json=payloads.capability(domains=["Culture"]),
    )
    assert response.status_code == 422
    assert "domains" in response.get_json()["error"]["fields"]


def test_vendor_renews_a_published_capability_and_it_stays_listed(
    client, make_user, make_capability, token_for, db
):
    from datetime import timedelta

    import sqlalchemy as sa

    from marketplace.db import utcnow
    from marketplace.editions.services import publish_edition

    vendor = make_user("vendor")
    capability_id = make_capability(owner=vendor)
    year_ago = utcnow() - timedelta(days=400)
    db.execute(
        sa.update(Capability)
        .where(Capability.id == capability_id)
        .values(updated_at=year_ago)
    )
    db.commit()
    assert publish_edition(db, "capabilities", now=utcnow(), year=2026).item_count == 0
    db.commit()
    response = client.post(
        f"/api/v1/capabilities/{capability_id}/renew", headers=token_for(vendor)
    )
    assert response.status_code == 200
    db.rollback()
    assert publish_edition(db, "capabilities", now=utcnow(), year=2026).item_count == 1
    db.commit()


def test_only_the_owner_renews_and_only_published_capabilities(
    client, make_user, make_capability, token_for
):
    vendor = make_user("vendor")
    draft = make_capability(owner=vendor, status="draft")
    other = make_capability()
    headers = token_for(vendor)
    assert (
        client.post(f"/api/v1/capabilities/{draft}/renew", headers=headers).status_code
        == 409
    )
    assert (
        client.post(f"/api/v1/capabilities/{other}/renew", headers=headers).status_code
        == 403
    )


def test_vendor_renews_from_the_capability_page(
    client, make_user, make_capability, login, form_post
):
    vendor = make_user("vendor")
    capability_id = make_capability(owner=vendor)
    login(vendor)
    page = client.get(f"/capabilities/{capability_id}").get_data(as_text=True)
    assert "续期" in page
    response = form_post(f"/capabilities/{capability_id}/renew", follow_redirects=True)
    assert "已续期" in response.get_data(as_text=True)
