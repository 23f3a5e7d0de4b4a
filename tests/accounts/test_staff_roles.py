"""Staff roles never act as owners (issue 12, finding 4): refused at creation inside
a unit's organization, powerless over its items if placed there anyway, and no account
approves what it submitted."""

import pytest
import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import Invalid

PASSWORD = "correct-horse-9"  # the factories' password (conftest.py)


@pytest.mark.parametrize("role", ["center", "reviewer", "admin"])
def test_a_staff_account_is_refused_inside_an_organization_that_posts(
    app, db, make_user, make_scene, role
):
    unit = make_user("unit")
    organization = unit.organization.name
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            f"staff-{role}",
            "--password",
            "long-enough-1",
            "--role",
            role,
            "--org",
            organization,
        ]
    )
    assert result.exit_code != 0
    assert "不能属于该单位" in result.output
    db.expire_all()
    assert db.scalar(sa.select(User).where(User.username == f"staff-{role}")) is None


def test_a_unit_account_is_refused_inside_the_centers_organization(
    db, make_org, make_user
):
    center_office = make_org(name="无锡市场景创新促进中心", kind="事业单位")
    make_user("center", organization=center_office)
    with pytest.raises(Invalid) as refused:
        accounts.create_user(
            db,
            "unit-in-center",
            PASSWORD,
            "unit",
            organization_name=center_office.name,
            now=utcnow(),
        )
    assert "促进中心或审核人员" in refused.value.fields["organization"]


def test_a_staff_account_placed_in_a_units_organization_gains_no_owner_power(
    client, db, make_user, make_scene, token_for
):
    unit = make_user("unit")
    draft = make_scene(owner=unit, status="draft", title="本单位草稿")
    center = make_user("center")
    # Placed there behind the platform's back (or before this rule existed).
    db.get(User, center.id).organization_id = unit.organization_id
    db.commit()
    headers = token_for(center)
    assert client.get(f"/api/v1/scenes/{draft}", headers=headers).status_code == 404
    moved = client.post(
        f"/api/v1/scenes/{draft}/transition", json={"to": "submitted"}, headers=headers
    )
    assert moved.status_code == 404
    drafts = client.get("/api/v1/scenes?status=draft", headers=headers).get_json()
    assert drafts["items"] == []
    assert client.get("/api/v1/scenes?mine=1", headers=headers).status_code == 403
    edit = client.patch(
        f"/api/v1/scenes/{draft}", json={"title": "改掉它"}, headers=headers
    )
    assert edit.status_code in (403, 404)


def test_the_account_that_submitted_an_item_cannot_approve_it(
    client, db, make_user, make_scene, token_for
):
    unit = make_user("unit")
    scene = make_scene(owner=unit, status="draft")
    headers = token_for(unit)
    submitted = client.post(
        f"/api/v1/scenes/{scene}/transition", json={"to": "submitted"}, headers=headers
    )
    assert submitted.status_code == 200
    # The same account later given the center's role, in the same organization.
    db.get(User, unit.id).role = "center"
    db.commit()
    own = client.post(
        f"/api/v1/scenes/{scene}/transition", json={"to": "approved"}, headers=headers
    )
    assert own.status_code == 409
    assert own.get_json()["error"]["code"] == "same_account_approval"
    other = client.post(
        f"/api/v1/scenes/{scene}/transition",
        json={"to": "approved"},
        headers=token_for(make_user("center")),
    )
    assert other.status_code == 200
