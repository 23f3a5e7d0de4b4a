"""What a government service site carries: an API page for developers, a favicon,
help, privacy and contact pages, and a footer with the operator and the filing
numbers once configured."""

import re

import pytest


def test_the_api_page_renders_the_document_with_assets_of_the_project(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-spec="/api/openapi.json"' in text
    scripts = re.findall(r'<script src="([^"]+)"', text)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in scripts
    assert all(src.startswith("/static/") for src in scripts)
    assert "http" not in "".join(re.findall(r'<link[^>]+href="([^"]+)"', text))
    with client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.data


def test_favicon_is_served(client):
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


@pytest.mark.parametrize(
    ("page", "heading"),
    [("help", "使用帮助"), ("privacy", "隐私政策"), ("contact", "联系我们")],
)
def test_help_privacy_and_contact_pages(client, page, heading):
    response = client.get(f"/about/{page}")
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.get_data(as_text=True)


def test_an_unknown_site_page_is_404(client):
    assert client.get("/about/nothing").status_code == 404


def test_the_footer_names_the_operator_and_the_configured_numbers(app, client):
    footer = client.get("/").get_data(as_text=True).split('class="site-footer"')[1]
    assert "主办：无锡市场景创新促进中心" in footer and "网站标识码" not in footer
    app.config.update(
        SITE_ICP_NUMBER="苏ICP备00000000号",
        SITE_CODE="3202000000",
        SITE_CONTACT_PHONE="0510-00000000",
    )
    footer = client.get("/").get_data(as_text=True).split('class="site-footer"')[1]
    assert "苏ICP备00000000号" in footer and "网站标识码：3202000000" in footer
    contact = client.get("/about/contact").get_data(as_text=True)
    assert "0510-00000000" in contact


def test_the_api_page_is_a_page_signed_in_and_with_html_errors(
    client, make_user, login
):
    login(make_user("center"))
    assert "退出" in client.get("/api/docs").get_data(as_text=True)
    wrong = client.post("/api/docs")
    assert wrong.status_code in (400, 405) and wrong.mimetype == "text/html"


def test_the_reviewer_home_page_says_what_they_may_read(
    client, make_user, login, make_scene
):
    make_scene(funding_source="财政资金")
    login(make_user("reviewer"))
    page = client.get("/").get_data(as_text=True)
    assert "审核部门工作台" in page
    assert "使用财政资金的已发布场景 1 个" in page
    assert "funding_source=%E8%B4%A2%E6%94%BF%E8%B5%84%E9%87%91" in page
    client.post("/logout", data={"csrf_token": "test-csrf-token"})
    assert "审核部门工作台" not in client.get("/").get_data(as_text=True)
