from marketplace.items import workflow


def test_every_transition_uses_known_statuses_and_parties() -> None:
    for kind, transitions in workflow.TRANSITIONS.items():
        for t in transitions:
            assert t.source in workflow.STATUSES[kind]
            assert t.target in workflow.STATUSES[kind]
            assert t.by <= {"owner", "center", "system"}


def test_capabilities_only_use_their_six_statuses() -> None:
    assert set(workflow.CAPABILITY_STATUSES) == {
        "draft",
        "submitted",
        "returned",
        "approved",
        "published",
        "withdrawn",
    }


def test_only_the_center_approves_and_publishes() -> None:
    for kind in workflow.TRANSITIONS:
        for target in ("approved", "published", "returned"):
            for t in workflow.TRANSITIONS[kind]:
                if t.target == target and t.source != "matched":
                    assert t.by == {"center"}, t


def test_withdrawn_items_cannot_be_published_directly() -> None:
    assert workflow.find_transition("scene", "withdrawn", "published") is None
    assert workflow.find_transition("capability", "withdrawn", "published") is None


def test_only_the_system_expires_scenes() -> None:
    expiring = [t for t in workflow.SCENE_TRANSITIONS if t.target == "expired"]
    assert expiring and all(t.by == {"system"} for t in expiring)


def test_owner_sees_submit_but_not_approve_on_a_draft() -> None:
    owner = workflow.transitions_for("scene", "draft", {"owner"})
    assert [t.target for t in owner] == ["submitted"]
    assert workflow.transitions_for("scene", "submitted", {"owner"})[0].target == (
        "withdrawn"
    )
