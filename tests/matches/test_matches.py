from zoneinfo import ZoneInfo

import sqlalchemy as sa

from marketplace import create_app
from marketplace.audit import AuditEntry
from marketplace.capabilities.models import Capability
from marketplace.matches.models import MatchFeedback, MatchWeights, bump_index_version

ELEVATOR_SCENE = {
    "title": "梁溪区老旧小区加装电梯运行安全物联网监测",
    "description": "为全区已加装的312部电梯安装振动和困人传感器，接入区城运中心，"
    "要求困人报警30秒以内推送到维保单位，误报率不超过1%。",
}


def matches(client, path, headers=None):
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_scene_matches_rank_the_fitting_capability_first_with_reasons(
    client, make_scene, make_capability
):
    scene_id = make_scene(**ELEVATOR_SCENE)
    fitting = make_capability()
    make_capability(
        title="紫砂壶数字化文创设计平台",
        domains=["文旅消费"],
        industries=["元宇宙"],
        districts=["宜兴市"],
        description="为宜兴紫砂企业提供三维建模、虚拟展厅和线上文创设计工具，"
        "已服务120家紫砂工作室。",
    )
    items = matches(client, f"/api/v1/scenes/{scene_id}/matches?k=5")
    assert items[0]["capability_id"] == fitting
    best = items[0]
    assert 0 < best["score"] <= 1
    texts = " ".join(r["text"] for r in best["reasons"])
    assert "电梯" in texts and "领域一致：城市治理" in texts
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert "推荐的场景能力" in page and "电梯困人智能识别与物联网监测终端" in page


def test_capability_matches_list_open_scenes_only(client, make_scene, make_capability):
    capability_id = make_capability()
    open_scene = make_scene(**ELEVATOR_SCENE)
    make_scene(title="已撤回的电梯监测场景", status="withdrawn")
    items = matches(client, f"/api/v1/capabilities/{capability_id}/matches")
    assert [i["scene_id"] for i in items] == [open_scene]


def test_a_draft_scene_has_no_public_matches(client, make_scene, make_user, token_for):
    unit = make_user("unit")
    draft = make_scene(owner=unit, status="draft")
    assert client.get(f"/api/v1/scenes/{draft}/matches").status_code == 404
    assert (
        client.get(
            f"/api/v1/scenes/{draft}/matches", headers=token_for(unit)
        ).status_code
        == 200
    )


def test_k_is_bounded(client, make_scene):
    scene_id = make_scene()
    for bad in ("0", "51", "abc", "-1", "1000000000", "9" * 5000, "²", "١٢"):
        response = client.get(f"/api/v1/scenes/{scene_id}/matches?k={bad}")
        assert response.status_code == 422
        assert "k" in response.get_json()["error"]["fields"]


def test_publication_is_matchable_in_another_worker_without_restart(
    app, client, make_scene, make_capability, make_user, token_for, database_url
):
    scene_id = make_scene(**ELEVATOR_SCENE)
    make_capability(
        title="智慧停车诱导系统",
        description="道路停车位地磁感知和诱导屏发布，已在梁溪区部署3000个泊位。",
    )
    assert [
        i["title"] for i in matches(client, f"/api/v1/scenes/{scene_id}/matches")
    ] == ["智慧停车诱导系统"]
    # A second app on the same database stands for another worker process.
    other_worker = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "MARKETPLACE_SCHEDULER": "off",
        }
    )
    other = other_worker.test_client()
    vendor, center = make_user("vendor"), make_user("center")
    new_id = make_capability(owner=vendor, status="approved")
    response = other.post(
        f"/api/v1/capabilities/{new_id}/transition",
        json={"to": "published"},
        headers=token_for(center),
    )
    assert response.status_code == 200
    titles = [i["title"] for i in matches(client, f"/api/v1/scenes/{scene_id}/matches")]
    assert titles[0] == "电梯困人智能识别与物联网监测终端"
    other.post(
        f"/api/v1/capabilities/{new_id}/transition",
        json={"to": "withdrawn"},
        headers=token_for(center),
    )
    titles = [i["title"] for i in matches(client, f"/api/v1/scenes/{scene_id}/matches")]
    assert "电梯困人智能识别与物联网监测终端" not in titles
    other_worker.extensions["db"]["engine"].dispose()


def test_center_marks_are_stored_shown_and_survive_a_rebuild(
    app, client, make_scene, make_capability, make_user, login, form_post, db
):
    scene_id = make_scene(**ELEVATOR_SCENE)
    capability_id = make_capability()
    login(make_user("center"))
    response = form_post(
        "/matches/mark",
        {
            "scene_id": scene_id,
            "capability_id": capability_id,
            "relevant": "0",
            "score": "0.5",
        },
    )
    assert response.status_code == 302
    form_post(
        "/matches/mark",
        {"scene_id": scene_id, "capability_id": capability_id, "relevant": "1"},
    )
    marks = db.scalars(sa.select(MatchFeedback)).all()
    assert [(m.relevant, m.source) for m in marks] == [(True, "center")]
    app.extensions.pop("match_indexes", None)  # recompute every suggestion
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert "已标注：相关" in page
    listing = client.get("/matches/feedback").get_data(as_text=True)
    assert "电梯困人智能识别与物联网监测终端" in listing


def test_vendors_cannot_mark_pairings(
    client, make_scene, make_capability, make_user, token_for
):
    response = client.post(
        "/api/v1/matches/feedback",
        json={
            "scene_id": make_scene(),
            "capability_id": make_capability(),
            "relevant": True,
        },
        headers=token_for(make_user("vendor")),
    )
    assert response.status_code == 403


def test_feedback_export_is_safe_in_a_spreadsheet(
    client, make_scene, make_capability, make_user, token_for, login
):
    scene_id = make_scene(title='=HYPERLINK("http://x","y")电梯监测')
    center = make_user("center")
    client.post(
        "/api/v1/matches/feedback",
        headers=token_for(center),
        json={
            "scene_id": scene_id,
            "capability_id": make_capability(),
            "relevant": True,
        },
    )
    login(center)
    response = client.get("/matches/feedback.csv")
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    records = client.get(
        "/api/v1/matches/feedback", headers=token_for(center)
    ).get_json()["items"]
    assert records[0]["scene_title"].startswith("=HYPERLINK")


def mark_twelve_pairs(client, headers, make_scene, make_capability):
    """Three elevator scenes, each marked relevant to two fitting capabilities and
    not to two teapot-design ones; returns the scene ids."""
    scene_ids = [make_scene(**ELEVATOR_SCENE) for _ in range(3)]
    good = [make_capability() for _ in range(2)]
    bad = [
        make_capability(
            title=f"紫砂壶文创设计平台{i}",
            domains=["文旅消费"],
            industries=["元宇宙"],
            description="三维建模与虚拟展厅，服务紫砂工作室，已在宜兴丁蜀镇推广。",
        )
        for i in range(2)
    ]
    for scene_id in scene_ids:
        for capability_id, relevant in [(g, True) for g in good] + [
            (b, False) for b in bad
        ]:
            client.post(
                "/api/v1/matches/feedback",
                headers=headers,
                json={
                    "scene_id": scene_id,
                    "capability_id": capability_id,
                    "relevant": relevant,
                },
            )
    return scene_ids


def test_fitting_weights_from_marks_reports_and_takes_effect(
    app, client, make_scene, make_capability, make_user, token_for, db
):
    center = token_for(make_user("center"))
    scene_ids = mark_twelve_pairs(client, center, make_scene, make_capability)
    matches(client, f"/api/v1/scenes/{scene_ids[0]}/matches")
    result = app.test_cli_runner().invoke(args=["fit-match-weights"])
    assert result.exit_code == 0, result.output
    assert "拟合前" in result.output and "拟合后" in result.output
    stored = db.scalars(sa.select(MatchWeights)).one()
    assert stored.pairs == 12 and abs(sum(stored.weights.values()) - 1) < 0.01
    index = app.extensions["match_indexes"]["capabilities"]
    matches(client, f"/api/v1/scenes/{scene_ids[0]}/matches")
    assert index.weights_id == stored.id


def test_fitting_needs_enough_marks(app):
    result = app.test_cli_runner().invoke(args=["fit-match-weights"])
    assert result.exit_code != 0 and "至少需要10条标注" in result.output


def test_check_flags_vague_text_and_duplicates(
    client, make_user, make_scene, token_for
):
    unit = make_user("unit")
    make_scene(owner=unit, status="submitted", **ELEVATOR_SCENE)
    headers = token_for(unit)
    vague = client.post(
        "/api/v1/scenes/check",
        headers=headers,
        json={
            "title": "智慧化提升",
            "description": "打造智能平台，全面提升管理水平和服务效率，助力数字化转型。",
        },
    ).get_json()
    assert vague["too_vague"] is True
    assert {q["code"] for q in vague["quality"]} >= {"generic", "no_place"}
    repeat = client.post(
        "/api/v1/scenes/check", headers=headers, json=ELEVATOR_SCENE
    ).get_json()
    assert repeat["quality"] == []
    assert [d["title"] for d in repeat["duplicates"]] == [ELEVATOR_SCENE["title"]]


def test_owner_sees_new_strong_matches(
    client, make_user, make_scene, make_capability, login
):
    unit = make_user("unit")
    make_scene(owner=unit, **ELEVATOR_SCENE)
    make_capability()
    login(unit)
    page = client.get("/my").get_data(as_text=True)
    assert "新的强匹配" in page and "电梯困人智能识别与物联网监测终端" in page


def test_repeated_answers_are_reused_until_something_they_depend_on_changes(
    app, client, make_scene, make_capability, make_user, token_for, db
):
    from marketplace.matches.answers import get_answer_cache
    from marketplace.scenes.models import Scene

    unit, vendor, center = make_user("unit"), make_user("vendor"), make_user("center")
    scene_id = make_scene(owner=unit, **ELEVATOR_SCENE)
    capability_id = make_capability(owner=vendor)
    path = f"/api/v1/scenes/{scene_id}/matches"
    first = client.get(path).data
    assert client.get(path).data == first
    cache = get_answer_cache(app)
    assert ("scene", scene_id, 10) in cache.entries

    # The vendor's organization is renamed by an admin: the answer shows the new name.
    admin = make_user("admin")
    renamed = client.patch(
        f"/api/v1/organizations/{vendor.organization_id}",
        json={"name": "无锡改名后的物联科技有限公司"},
        headers=token_for(admin),
    )
    assert renamed.status_code == 200, renamed.get_json()
    names = [i["organization_name"] for i in matches(client, path)]
    assert names == ["无锡改名后的物联科技有限公司"]

    # The center's answer carries its marks and is not what the public gets.
    marked = client.post(
        "/api/v1/matches/feedback",
        json={"scene_id": scene_id, "capability_id": capability_id, "relevant": True},
        headers=token_for(center),
    )
    assert marked.status_code in (200, 201)
    assert matches(client, path, token_for(center))[0]["feedback"] is True
    assert matches(client, path)[0]["feedback"] is None

    # The scene is withdrawn: the stored answer is not served; the public gets 404.
    scene = db.get(Scene, scene_id)
    scene.status = "withdrawn"
    db.commit()
    assert client.get(path).status_code == 404


def test_a_first_answer_takes_three_queries_and_a_repeat_one(
    app, client, make_scene, make_capability
):
    """Round trips bound the matches API's throughput: the item's stamp (with the
    index versions), the item with its tags, the counterparts' rows; a repeat only
    the stamp."""
    make_capability()
    warm_up = make_scene(title="电梯物联网监测预热场景")
    scene_id = make_scene(**ELEVATOR_SCENE)
    matches(client, f"/api/v1/scenes/{warm_up}/matches")  # fits the index
    statements: list[str] = []

    def record(connection, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's explicit transaction start
            statements.append(statement)

    engine = app.extensions["db"]["engine"]
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        first = matches(client, f"/api/v1/scenes/{scene_id}/matches")
        first_count = len(statements)
        assert matches(client, f"/api/v1/scenes/{scene_id}/matches") == first
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert first[0]["title"] == "电梯困人智能识别与物联网监测终端"
    assert first_count == 3, statements
    assert len(statements) == 4, statements[first_count:]


def test_the_center_refits_the_weights_from_the_feedback_page(
    app, client, make_scene, make_capability, make_user, token_for, db, login, form_post
):
    officer = make_user("center")
    center = token_for(officer)
    login(officer)
    page = client.get("/matches/feedback").get_data(as_text=True)
    assert "用标注重新拟合匹配权重" in page and "flask" not in page
    too_few = form_post("/matches/fit", follow_redirects=True)
    assert "至少需要10条标注" in too_few.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchWeights)) == 0

    mark_twelve_pairs(client, center, make_scene, make_capability)
    done = form_post("/matches/fit", follow_redirects=True).get_data(as_text=True)
    assert "已用 12 条标注重新拟合匹配权重" in done and "拟合后" in done
    assert db.scalars(sa.select(MatchWeights)).one().pairs == 12
    audited = db.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "match.weights_fit")
    )
    assert audited is not None and audited.actor_id == officer.id
    # Times on the page are Beijing time, as everywhere else (it showed UTC).
    marked = db.scalars(sa.select(MatchFeedback)).first().at
    beijing = marked.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert f"<td>{beijing}</td>" in done


def _precompute(app):
    from marketplace.jobs import JobRun
    from marketplace.scheduler import run_job

    run_job(app, "precompute-match-answers")
    with app.extensions["db"]["sessionmaker"]() as session:
        run = session.scalar(sa.select(JobRun).order_by(JobRun.id.desc()))
        assert (run.job_id, run.status) == ("precompute-match-answers", "ok"), (
            run.message
        )
        return run.message


def _stored(app, kind, item_id):
    """The shared answer as the job left it, read in a session of its own."""
    from marketplace.matches.models import MatchAnswer

    with app.extensions["db"]["sessionmaker"]() as session:
        row = session.get(MatchAnswer, (kind, item_id, 10))
        return None if row is None else row.body


def _mark_stored(app, kind, item_id, body):
    from marketplace.matches.models import MatchAnswer

    with app.extensions["db"]["sessionmaker"]() as session:
        session.get(MatchAnswer, (kind, item_id, 10)).body = body
        session.commit()


def test_answers_computed_ahead_are_what_a_first_visitor_gets_until_a_change(
    app, client, db, make_scene, make_capability, make_user, token_for
):
    """The job stores the public answer of every public item; a worker that never
    answered the item serves it (one query); a change retires it."""
    from marketplace.matches.answers import get_answer_cache

    unit, vendor = make_user("unit"), make_user("vendor")
    scene_id = make_scene(owner=unit, **ELEVATOR_SCENE)
    capability_id = make_capability(owner=vendor)
    draft = make_scene(owner=unit, status="draft", title="草稿里的电梯监测场景")
    path = f"/api/v1/scenes/{scene_id}/matches"
    live = client.get(path).data
    get_answer_cache(app).entries.clear()

    assert _precompute(app) == "更新匹配结果 2 条"  # the scene's and the capability's
    assert _stored(app, "scene", scene_id) == live
    assert _stored(app, "scene", draft) is None  # never shared: not public
    assert _precompute(app) == "更新匹配结果 0 条"  # nothing changed since

    # What a worker serves is the stored row: mark it to tell it apart.
    marked = live.replace(b'"items"', b'"items" ', 1)
    _mark_stored(app, "scene", scene_id, marked)
    get_answer_cache(app).entries.clear()
    assert client.get(path).data == marked
    # The center's answer carries its marks and is never the shared one.
    center = make_user("center")
    assert client.get(path, headers=token_for(center)).data != marked

    # A second capability is published: the stored answer is stale and not served.
    second = make_capability(
        owner=vendor,
        title="电梯困人报警与维保派单平台",
        description="电梯困人报警30秒内推送维保单位，自动派单并跟踪到场时间，"
        "已在两个区的老旧小区加装电梯上运行。",
    )
    bump_index_version(db, "capabilities")  # as its publication does
    db.commit()
    assert client.get(path).data != marked
    fresh = matches(client, path)
    assert {i["capability_id"] for i in fresh} == {capability_id, second}
    # The scene's answer and the new capability's; the first capability's still holds.
    assert _precompute(app) == "更新匹配结果 2 条"
    assert _stored(app, "scene", scene_id) == client.get(path).data

    # A withdrawn capability's stored answer goes at the next run.
    withdrawn = db.get(Capability, second)
    withdrawn.status = "withdrawn"
    bump_index_version(db, "capabilities")
    db.commit()
    _precompute(app)
    assert _stored(app, "capability", second) is None
