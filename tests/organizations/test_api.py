from marketplace.organizations.credit_code import check_character

CODE17 = "91320214MA1ABCDE1"
VALID_CODE = CODE17 + check_character(CODE17)


def org_payload(**overrides):
    payload = {
        "name": "无锡新吴测试科技有限公司",
        "kind": "民营企业",
        "district": "新吴区",
        "credit_code": VALID_CODE,
    }
    payload.update(overrides)
    return payload


def test_center_registers_an_organization(client, make_user, token_for):
    response = client.post(
        "/api/v1/organizations",
        json=org_payload(),
        headers=token_for(make_user("center")),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["credit_code"] == VALID_CODE
    assert client.get(f"/api/v1/organizations/{body['id']}").status_code == 200


def test_credit_code_check_digit_is_verified(client, make_user, token_for, row_counts):
    before = row_counts()
    wrong = VALID_CODE[:-1] + ("0" if VALID_CODE[-1] != "0" else "1")
    response = client.post(
        "/api/v1/organizations",
        json=org_payload(credit_code=wrong),
        headers=token_for(make_user("center")),
    )
    assert response.status_code == 422
    assert "校验位" in response.get_json()["error"]["fields"]["credit_code"]
    assert row_counts()["organizations"] == before["organizations"]


def test_full_width_credit_code_is_accepted_after_normalising(
    client, make_user, token_for
):
    full_width = VALID_CODE.translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"}
    )
    response = client.post(
        "/api/v1/organizations",
        json=org_payload(credit_code=full_width),
        headers=token_for(make_user("admin")),
    )
    assert response.status_code == 201
    assert response.get_json()["credit_code"] == VALID_CODE


def test_duplicate_credit_code_is_a_conflict(client, make_user, token_for):
    headers = token_for(make_user("center"))
    client.post("/api/v1/organizations", json=org_payload(), headers=headers)
    response = client.post(
        "/api/v1/organizations",
        json=org_payload(name="另一个名字有限公司"),
        headers=headers,
    )
    assert response.status_code == 409


def test_vendor_cannot_register_or_edit_organizations(client, make_user, token_for):
    vendor = make_user("vendor")
    headers = token_for(vendor)
    assert (
        client.post(
            "/api/v1/organizations", json=org_payload(), headers=headers
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/organizations/{vendor.organization_id}",
            json={"name": "改名"},
            headers=headers,
        ).status_code
        == 403
    )


def test_contacts_of_organizations_are_hidden_from_the_public(client, make_org):
    organization = make_org()
    body = client.get(f"/api/v1/organizations/{organization.id}").get_json()
    assert "contact_phone" not in body
