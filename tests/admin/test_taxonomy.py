from marketplace.taxonomy import TaxonomyTerm


def test_admin_adds_a_term_that_then_validates(
    client, make_user, login, form_post, token_for, payloads
):
    login(make_user("admin"))
    response = form_post(
        "/admin/taxonomy",
        {"vocabulary": "industries", "name": "脑机接口", "group": "未来产业（X）"},
    )
    assert response.status_code == 302
    names = [i["name"] for i in client.get("/api/v1/taxonomy").get_json()["industries"]]
    assert "脑机接口" in names
    created = client.post(
        "/api/v1/scenes",
        headers=token_for(make_user("unit")),
        json=payloads.scene(industries=["脑机接口"]),
    )
    assert created.status_code == 201


def test_retired_term_is_no_longer_accepted(
    client, make_user, login, form_post, db, token_for, payloads
):
    term = db.query(TaxonomyTerm).filter_by(vocabulary="districts", name="宜兴市").one()
    login(make_user("admin"))
    form_post(f"/admin/taxonomy/{term.id}/active", {"active": "0"})
    assert "宜兴市" not in client.get("/api/v1/taxonomy").get_json()["districts"]
    response = client.post(
        "/api/v1/scenes",
        headers=token_for(make_user("unit")),
        json=payloads.scene(district="宜兴市"),
    )
    assert response.status_code == 422


def test_duplicate_term_is_refused_with_a_message(client, make_user, login, form_post):
    login(make_user("admin"))
    response = form_post(
        "/admin/taxonomy",
        {"vocabulary": "domains", "name": "社会民生"},
        follow_redirects=True,
    )
    assert "已存在" in response.get_data(as_text=True)


def test_only_admins_edit_the_taxonomy(client, make_user, login, form_post):
    login(make_user("center"))
    assert client.get("/admin/taxonomy").status_code == 403
    response = form_post("/admin/taxonomy", {"vocabulary": "domains", "name": "新领域"})
    assert response.status_code == 403
