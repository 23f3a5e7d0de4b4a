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


def test_the_same_company_written_differently_is_flagged_before_it_is_added(
    client, make_org, make_user, token_for, row_counts
):
    make_org(name="无锡市灵犀智能科技有限公司", kind="民营企业")
    headers = token_for(make_user("center"))
    before = row_counts()
    response = client.post(
        "/api/v1/organizations",
        json=org_payload(name="灵犀智能科技"),
        headers=headers,
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "similar_organization"
    assert "无锡市灵犀智能科技有限公司" in error["message"]
    assert row_counts()["organizations"] == before["organizations"]
    # A different company with a name that merely shares words is not flagged.
    other = client.post(
        "/api/v1/organizations",
        json=org_payload(name="无锡灵犀文化传媒有限公司"),
        headers=headers,
    )
    assert other.status_code == 201, other.get_json()
    # Confirmed as different by the person adding it.
    code17 = "91320214MA1ABCDE2"
    confirmed = client.post(
        "/api/v1/organizations?allow_similar=1",
        json=org_payload(
            name="灵犀智能科技", credit_code=code17 + check_character(code17)
        ),
        headers=headers,
    )
    assert confirmed.status_code == 201, confirmed.get_json()


def test_the_admin_page_keeps_what_was_typed_and_asks_to_confirm(
    client, make_org, make_user, login, form_post
):
    make_org(name="江苏太湖云计算信息技术股份有限公司", kind="民营企业")
    login(make_user("center"))
    form = {**org_payload(name="太湖云计算信息技术"), "credit_code": VALID_CODE}
    page = form_post("/admin/organizations", form)
    assert page.status_code == 409
    text = page.get_data(as_text=True)
    assert "可能与已有单位重复" in text and "确认不是同一单位" in text
    assert f'value="{VALID_CODE}"' in text
    confirmed = form_post("/admin/organizations", {**form, "allow_similar": "1"})
    assert confirmed.status_code == 302


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
