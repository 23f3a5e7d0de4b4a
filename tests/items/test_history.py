"""An item's status history (issue 12, finding 2): refused changes stay in the audit
log, marked, and never reach the public; repeated refusals are rate-limited."""

from datetime import timedelta

import sqlalchemy as sa

from marketplace import create_app
from marketplace.audit import AuditEntry
from marketplace.items.services import MAX_REFUSALS


def _move(client, scene_id, target, headers, comment=""):
    return client.post(
        f"/api/v1/scenes/{scene_id}/transition",
        json={"to": target, "comment": comment},
        headers=headers,
    )


def _refusals(db, scene_id):
    db.expire_all()
    return db.scalar(
        sa.select(sa.func.count()).where(
            AuditEntry.object_id == scene_id,
            AuditEntry.action == "scene.transition_denied",
        )
    )


def test_refused_changes_stay_out_of_the_public_history_and_are_marked_for_the_owner(
    client, make_user, make_scene, token_for, db
):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="published")
    stranger = token_for(make_user("vendor"))
    for _ in range(3):
        assert _move(client, scene_id, "completed", stranger).status_code == 409
    assert _refusals(db, scene_id) == 3

    public = client.get(f"/api/v1/scenes/{scene_id}").get_json()
    assert all(h["to"] != "completed" for h in public["history"])
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert "已完成" not in page.split("状态记录")[1]

    owner_view = client.get(
        f"/api/v1/scenes/{scene_id}", headers=token_for(unit)
    ).get_json()
    refused = [h for h in owner_view["history"] if h["refused"]]
    assert [(h["from"], h["to"]) for h in refused] == [("published", "completed")] * 3
    assert all(not h["refused"] for h in owner_view["history"] if h not in refused)


def test_the_public_history_shows_public_moments_without_names_or_comments(
    client, make_user, make_scene, token_for, login
):
    unit, center = make_user("unit"), make_user("center")
    owner, staff = token_for(unit), token_for(center)
    scene_id = make_scene(owner=unit, status="draft")
    steps = [
        (owner, "submitted", ""),
        (staff, "returned", "预算依据不足（内部意见）"),
        (owner, "submitted", ""),
        (staff, "approved", "材料齐全（内部意见）"),
        (staff, "published", ""),
        (owner, "matched", ""),
        (owner, "published", ""),
        (owner, "withdrawn", ""),
    ]
    for headers, target, comment in steps:
        assert _move(client, scene_id, target, headers, comment).status_code == 200
    # Withdrawn items are no longer public; put it back to read the public view.
    for headers, target in ((owner, "draft"), (owner, "submitted")):
        assert _move(client, scene_id, target, headers).status_code == 200
    for target in ("approved", "published"):
        assert _move(client, scene_id, target, staff).status_code == 200

    public = client.get(f"/api/v1/scenes/{scene_id}").get_json()["history"]
    assert [(h["from"], h["to"]) for h in public] == [
        (None, "published"),
        ("published", "matched"),
        ("matched", "published"),
        ("published", "withdrawn"),
        (None, "published"),
    ]
    assert {h["actor"] for h in public} == {None}
    assert {h["comment"] for h in public} == {""}
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    history = page.split("状态记录")[1]
    assert "内部意见" not in history and center.username not in history
    assert "待审核" not in history

    for reader in (owner, staff):
        full = client.get(f"/api/v1/scenes/{scene_id}", headers=reader).get_json()
        assert len(full["history"]) == 1 + len(steps) + 4  # with the creation
        assert "材料齐全（内部意见）" in {h["comment"] for h in full["history"]}
    login(center)
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert "预算依据不足（内部意见）" in page


def test_repeated_refusals_get_429_with_retry_after_counted_in_the_database(
    app, client, make_user, make_scene, token_for, db
):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="published")
    stranger = token_for(make_user("vendor"))
    for _ in range(MAX_REFUSALS):
        assert _move(client, scene_id, "completed", stranger).status_code == 409
    limited = _move(client, scene_id, "completed", stranger)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_refused_transitions"
    assert 0 < int(limited.headers["Retry-After"]) <= 15 * 60 + 1
    assert _refusals(db, scene_id) == MAX_REFUSALS  # the flood writes nothing more

    # Another worker (another app on the same database) agrees.
    other_worker = create_app(dict(app.config))
    try:
        again = other_worker.test_client().post(
            f"/api/v1/scenes/{scene_id}/transition",
            json={"to": "completed"},
            headers=stranger,
        )
        assert again.status_code == 429
    finally:
        other_worker.extensions["db"]["engine"].dispose()

    # The owner, who was refused nothing, still moves its item.
    assert _move(client, scene_id, "matched", token_for(unit)).status_code == 200
    # Once the refusals are older than the window, the stranger is heard again.
    db.commit()  # a fresh snapshot: SQLite refuses writes from an older one
    for entry in db.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "scene.transition_denied")
    ):
        entry.at -= timedelta(minutes=16)
    db.commit()
    assert _move(client, scene_id, "completed", stranger).status_code == 409
