"""Issue 14: a returned item says why at the top of its page, with the way to fix
it; the review-comment field is labelled for reviewers only."""


def test_a_returned_scene_shows_the_reason_and_the_way_back(
    client, make_user, make_scene, token_for, login
):
    unit, center = make_user("unit"), make_user("center")
    scene = make_scene(owner=unit, status="submitted")
    returned = client.post(
        f"/api/v1/scenes/{scene}/transition",
        json={"to": "returned", "comment": "预算依据不足，请补充测算"},
        headers=token_for(center),
    )
    assert returned.status_code == 200

    login(unit)
    page = client.get(f"/scenes/{scene}").get_data(as_text=True)
    notice = page.split('class="callout return-notice"')[1].split("</div>")[0]
    assert "已退回修改" in notice and "预算依据不足，请补充测算" in notice
    assert f"/scenes/{scene}/edit" in notice and "按意见修改" in notice
    # The owner's own note is optional; the review-comment wording is not theirs.
    assert "说明（可选）" in page and "审核意见" not in page


def test_the_reviewer_sees_the_review_comment_field(
    client, make_user, make_scene, login
):
    scene = make_scene(status="submitted")
    login(make_user("center"))
    page = client.get(f"/scenes/{scene}").get_data(as_text=True)
    assert "审核意见（退回时必填" in page and "return-notice" not in page
