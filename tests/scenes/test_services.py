from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.items import services as items
from marketplace.scenes.models import Scene
from marketplace.scenes.services import SCENES, expire_past_deadline

TODAY = date.today()


def create(db: Any, user: User, payload: dict[str, Any]) -> Scene:
    actor = db.get(User, user.id)
    return items.create_item(db, SCENES, actor, payload, now=utcnow(), today=TODAY)


def move(db: Any, user: User, scene_id: int, target: str, comment: str = "") -> Scene:
    actor = db.get(User, user.id)
    return items.transition_item(
        db, SCENES, actor, scene_id, target, comment=comment, now=utcnow()
    )


def test_unit_creates_a_draft_owned_by_its_organization(db, make_user, payloads):
    unit = make_user("unit")
    scene = create(db, unit, payloads.scene())
    assert scene.status == "draft"
    assert scene.organization_id == unit.organization_id
    assert scene.industries == ["物联网", "智能传感器"]
    assert str(scene.budget) == "1800000.00"
    assert "电梯" in scene.search_tokens.split()


def test_vendor_cannot_post_a_scene(db, make_user, payloads):
    with pytest.raises(Forbidden):
        create(db, make_user("vendor"), payloads.scene())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "   "),
        ("title", "x" * 201),
        ("title", "长" * 1_000_000),
        ("title", 12345),
        ("budget", "-1"),
        ("budget", "1e9"),
        ("budget", "NaN"),
        ("budget", "1,000"),
        ("budget", "0.001"),
        ("budget", "abc"),
        ("budget", 1000),
        ("deadline", "2026-02-30"),
        ("deadline", "2026-13-01"),
        ("deadline", "26-1-1"),
        ("deadline", (TODAY - timedelta(days=1)).isoformat()),
        ("domain", "Urban governance"),
        ("domain", "城市"),
        ("industries", ["物联网", "不存在的产业"]),
        ("industries", "物联网,集成电路"),
        ("district", None),
        ("description", "太短"),
        ("contact_phone", "call me"),
        ("title", "标题\x00含空字符"),
    ],
)
def test_bad_field_is_refused_with_its_name_and_nothing_is_written(
    db, make_user, payloads, field, value
):
    unit = make_user("unit")
    before = db.scalar(sa.select(sa.func.count()).select_from(Scene))
    with pytest.raises(Invalid) as error:
        create(db, unit, payloads.scene(**{field: value}))
    assert field in error.value.fields
    assert error.value.fields[field]
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Scene)) == before


def test_missing_fields_are_each_named(db, make_user):
    with pytest.raises(Invalid) as error:
        create(db, make_user("unit"), {"title": "只有标题的场景"})
    assert {"description", "category", "domain", "deadline"} <= set(error.value.fields)


def test_budget_may_be_left_open_for_negotiation(db, make_user, payloads):
    scene = create(db, make_user("unit"), payloads.scene(budget=""))
    assert scene.budget is None


def test_mass_assignment_of_status_and_owner_is_ignored(
    db, make_user, make_org, payloads
):
    unit = make_user("unit")
    other = make_org()
    scene = create(
        db,
        unit,
        payloads.scene(
            status="published", organization_id=other.id, id=999, created_by=1
        ),
    )
    assert scene.status == "draft"
    assert scene.organization_id == unit.organization_id
    assert scene.id != 999


def test_full_review_path_writes_one_audit_row_per_change(db, make_user, payloads):
    unit, center = make_user("unit"), make_user("center")
    scene = create(db, unit, payloads.scene())
    move(db, unit, scene.id, "submitted")
    move(db, center, scene.id, "returned", "请补充电梯数量和品牌分布")
    move(db, unit, scene.id, "submitted")
    move(db, center, scene.id, "approved")
    move(db, center, scene.id, "published")
    assert scene.published_at is not None
    history = [
        (e.before, e.after, e.actor_name, e.comment)
        for e in audit.list_entries(db, "scene", scene.id)
        if e.after
    ]
    assert [(b, a) for b, a, _, _ in history] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
        ("submitted", "approved"),
        ("approved", "published"),
    ]
    assert history[2][2] == center.username
    assert history[2][3] == "请补充电梯数量和品牌分布"


def test_returning_without_a_comment_is_refused(db, make_user, payloads):
    unit, center = make_user("unit"), make_user("center")
    scene = create(db, unit, payloads.scene())
    move(db, unit, scene.id, "submitted")
    with pytest.raises(Invalid) as error:
        move(db, center, scene.id, "returned")
    assert "comment" in error.value.fields


def test_owner_cannot_approve_its_own_scene(db, make_user, payloads):
    unit = make_user("unit")
    scene = create(db, unit, payloads.scene())
    move(db, unit, scene.id, "submitted")
    with pytest.raises(Conflict):
        move(db, unit, scene.id, "approved")


def test_withdrawn_scene_cannot_go_straight_to_published(db, make_user, payloads):
    unit, center = make_user("unit"), make_user("center")
    scene = create(db, unit, payloads.scene())
    for actor, target in (
        (unit, "submitted"),
        (center, "approved"),
        (center, "published"),
        (unit, "withdrawn"),
    ):
        move(db, actor, scene.id, target)
    with pytest.raises(Conflict):
        move(db, center, scene.id, "published")


def test_matched_contracted_completed_follow_publication(db, make_user, make_scene):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit)
    for target in ("matched", "contracted", "completed"):
        assert move(db, unit, scene_id, target).status == target
    with pytest.raises(Conflict):
        move(db, unit, scene_id, "published")


def test_unknown_status_is_invalid_not_a_conflict(db, make_user, make_scene):
    center = make_user("center")
    with pytest.raises(Invalid):
        move(db, center, make_scene(), "launched")


def test_another_unit_cannot_see_a_draft(db, make_user, make_scene):
    scene_id = make_scene(status="draft")
    with pytest.raises(NotFound):
        items.get_visible_item(db, SCENES, db.get(User, make_user("unit").id), scene_id)


def test_center_sees_submitted_but_not_drafts(db, make_user, make_scene):
    center = db.get(User, make_user("center").id)
    with pytest.raises(NotFound):
        items.get_visible_item(db, SCENES, center, make_scene(status="draft"))
    assert items.get_visible_item(db, SCENES, center, make_scene(status="submitted"))


def test_public_sees_published_but_not_withdrawn(db, make_scene):
    assert items.get_visible_item(db, SCENES, None, make_scene(status="published"))
    with pytest.raises(NotFound):
        items.get_visible_item(db, SCENES, None, make_scene(status="withdrawn"))


def test_only_drafts_and_returned_scenes_are_editable(db, make_user, make_scene):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="submitted")
    with pytest.raises(Conflict):
        items.update_item(
            db,
            SCENES,
            db.get(User, unit.id),
            scene_id,
            {"title": "改一下标题的场景"},
            now=utcnow(),
            today=TODAY,
        )


def test_another_unit_cannot_edit_a_published_scene(db, make_user, make_scene):
    scene_id = make_scene()
    with pytest.raises(Forbidden):
        items.update_item(
            db,
            SCENES,
            db.get(User, make_user("unit").id),
            scene_id,
            {"title": "别人的场景改标题"},
            now=utcnow(),
            today=TODAY,
        )


def test_editing_updates_the_search_words(db, make_user, make_scene):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="draft")
    scene = items.update_item(
        db,
        SCENES,
        db.get(User, unit.id),
        scene_id,
        {"title": "惠山古镇游客客流热力监测"},
        now=utcnow(),
        today=TODAY,
    )
    assert "古镇" in scene.search_tokens.split()
    assert "电梯" not in scene.search_tokens.split()[:6]


def test_only_drafts_can_be_deleted(db, make_user, make_scene):
    unit = make_user("unit")
    actor = db.get(User, unit.id)
    draft = make_scene(owner=unit, status="draft")
    items.delete_item(db, SCENES, actor, draft, now=utcnow())
    assert db.get(Scene, draft) is None
    with pytest.raises(Conflict):
        items.delete_item(
            db, SCENES, actor, make_scene(owner=unit, status="submitted"), now=utcnow()
        )


def test_expiry_job_expires_open_scenes_past_deadline_once(db, make_scene):
    open_id = make_scene()
    matched_id = make_scene(status="matched")
    later = TODAY + timedelta(days=400)
    assert expire_past_deadline(db, today=later, now=utcnow()) == 1
    assert db.get(Scene, open_id).status == "expired"
    assert db.get(Scene, matched_id).status == "matched"
    assert expire_past_deadline(db, today=later, now=utcnow()) == 0
    last = audit.list_entries(db, "scene", open_id)[-1]
    assert (last.before, last.after, last.actor_name) == (
        "published",
        "expired",
        "系统",
    )


def test_list_filters_combine(db, make_scene, app):
    make_scene(domain="城市治理", district="梁溪区", budget="500000.00")
    make_scene(
        domain="城市治理",
        district="新吴区",
        budget="3000000.00",
        industries=["低空经济"],
    )
    make_scene(domain="产业发展", district="新吴区", budget="")
    dialect = db.get_bind().dialect.name
    query = items.ItemQuery(filters={"domain": "城市治理", "district": "新吴区"})
    page = items.list_items(db, SCENES, None, query, dialect)
    assert [s.district for s in page.items] == ["新吴区"]
    from decimal import Decimal

    query = items.ItemQuery(filters={"budget_min": Decimal("1000000")})
    assert items.list_items(db, SCENES, None, query, dialect).total == 1
    query = items.ItemQuery(filters={"industry": "低空经济"})
    assert items.list_items(db, SCENES, None, query, dialect).total == 1
