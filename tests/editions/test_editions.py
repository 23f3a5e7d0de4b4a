import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from marketplace.db import utcnow
from marketplace.editions import schedule
from marketplace.editions.models import Edition, EditionItem
from marketplace.editions.services import publish_edition, verify_chain
from marketplace.jobs import JobRun
from marketplace.scheduler import run_job


def publish(db, list_kind="scenes", **kwargs):
    edition = publish_edition(
        db, list_kind, now=kwargs.pop("now", utcnow()), year=2026, **kwargs
    )
    db.commit()
    return edition


def test_an_edition_freezes_published_items_and_chains_digests(db, make_scene):
    first_id = make_scene(title="太湖蓝藻水华早期预警")
    make_scene(title="草稿不应进入清单", status="draft")
    first = publish(db)
    assert (first.label, first.item_count) == ("2026年第1期", 1)
    assert first.summary["new"] == [first_id]
    assert first.previous_digest == "0" * 64
    second_id = make_scene(
        title="锡东新城智慧停车诱导", domain="城市治理", district="锡山区"
    )
    second = publish(db)
    assert second.label == "2026年第2期"
    assert second.previous_digest == first.digest
    assert second.summary["new"] == [second_id]
    assert second.summary["by_district"] == {"梁溪区": 1, "锡山区": 1}
    assert verify_chain(db).ok


def test_changes_and_withdrawals_are_reported(db, make_scene):
    kept, dropped = make_scene(), make_scene(title="将被撤回的场景")
    publish(db)
    db.execute(
        sa.text("UPDATE scenes SET status = 'withdrawn' WHERE id = :i"), {"i": dropped}
    )
    db.execute(
        sa.text("UPDATE scenes SET title = '改过标题的场景' WHERE id = :i"), {"i": kept}
    )
    db.commit()
    later = publish(db)
    assert later.summary["withdrawn"] == [dropped]
    assert later.summary["changed"] == [kept]


def test_hidden_contacts_never_reach_an_edition(db, make_scene, make_capability):
    make_scene(contact_phone="0510-11112222", contact_public=False)
    make_capability(contact_phone="13900001111", contact_public=True)
    scenes, capabilities = publish(db), publish(db, "capabilities")
    scene_items = db.scalars(
        sa.select(EditionItem.payload).where(EditionItem.edition_id == scenes.id)
    ).all()
    assert "0510-11112222" not in "".join(scene_items)
    capability_items = db.scalars(
        sa.select(EditionItem.payload).where(EditionItem.edition_id == capabilities.id)
    ).all()
    assert "13900001111" in "".join(capability_items)


def test_capabilities_not_renewed_for_a_year_leave_the_next_edition(
    db, make_capability
):
    make_capability()
    year_later = utcnow() + timedelta(days=366)
    assert publish(db, "capabilities", now=year_later).item_count == 0


def test_the_database_refuses_to_change_a_published_edition(db, make_scene):
    make_scene()
    edition = publish(db)
    for statement in (
        "UPDATE edition_items SET payload = '{}'",
        "DELETE FROM edition_items",
        f"UPDATE editions SET item_count = 99 WHERE id = {edition.id}",
        "DELETE FROM editions",
        "INSERT INTO edition_items (edition_id, position, item_id, payload) "
        f"SELECT edition_id, 1, item_id, payload FROM edition_items "
        f"WHERE edition_id = {edition.id}",
    ):
        with pytest.raises(sa.exc.DatabaseError):
            db.execute(sa.text(statement))
        db.rollback()
    assert verify_chain(db).ok


def test_verify_editions_names_the_edition_whose_items_were_altered(
    app, db, make_scene, drop_edition_triggers
):
    make_scene()
    publish(db)
    make_scene(title="第二期新增的场景")
    second = publish(db)
    publish(db)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["verify-editions"]).exit_code == 0
    drop_edition_triggers(db)
    db.execute(
        sa.text(
            "UPDATE edition_items SET payload = replace(payload, '第二期', "
            "'被篡改') WHERE edition_id = :e"
        ),
        {"e": second.id},
    )
    db.commit()
    result = runner.invoke(args=["verify-editions"])
    assert result.exit_code == 1
    assert "2026年第2期" in result.output and "被改动" in result.output


def test_publish_command_writes_the_edition_and_its_files(app, make_scene):
    make_scene(
        title='=HYPERLINK("http://x","y")',
        description="-1+1 公式开头的描述，测试导出时不会被当作公式执行的情况。",
    )
    result = app.test_cli_runner().invoke(args=["publish", "--list", "scenes"])
    assert result.exit_code == 0, result.output
    assert "2026年第1期" in result.output or "年第1期" in result.output


def recomputed_digest(edition: dict) -> str:
    """What anyone can do with a downloaded JSON file, as the README shows."""

    def canonical(value):
        return json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )

    hasher = hashlib.sha256(edition["previous_digest"].encode() + b"\n")
    covered = ["list", "year", "sequence", "published_at"]
    if edition.get("digest_version", 1) >= 2:
        covered += ["digest_version", "published_by", "item_count", "summary"]
        covered += ["period"]
    hasher.update(canonical({k: edition[k] for k in covered}).encode())
    for item in edition["items"]:
        hasher.update(b"\n" + canonical(item).encode())
    return hasher.hexdigest()


def download(client, url):
    response = client.get(url)
    data = response.data
    response.close()
    return response, data


def test_downloads_are_real_files_and_safe_in_a_spreadsheet(app, client, make_scene):
    make_scene(
        title='=HYPERLINK("http://x","y")',
        description="@SUM(A1) 开头的描述，测试导出时不会被当作公式执行的情况。",
    )
    app.test_cli_runner().invoke(args=["publish", "--list", "scenes"])
    edition = client.get("/api/v1/editions?list=scenes").get_json()["items"][0]
    xlsx, data = download(client, f"/api/v1/editions/{edition['id']}/export.xlsx")
    assert xlsx.headers["Content-Disposition"].startswith("attachment")
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["汇总", "场景机会清单"]
    sheet = workbook["场景机会清单"]
    assert sheet.freeze_panes == "A2"
    assert sheet["B1"].value == "场景名称"
    assert sheet.column_dimensions["B"].width == 40
    title = sheet["B2"]
    assert title.value.startswith("=HYPERLINK") and title.data_type == "s"
    assert title.quotePrefix
    csv_text = download(client, f"/api/v1/editions/{edition['id']}/export.csv")[
        1
    ].decode()
    assert csv_text.startswith("\ufeff编号,")
    assert "'=HYPERLINK" in csv_text and "'@SUM(A1)" in csv_text
    body = json.loads(
        download(client, f"/api/v1/editions/{edition['id']}/export.json")[1]
    )
    assert body["items"][0]["title"].startswith("=HYPERLINK")
    assert body["digest"] == edition["digest"]
    assert recomputed_digest(body) == body["digest"]  # the README's recipe
    page = client.get(f"/editions/{edition['id']}").get_data(as_text=True)
    assert edition["digest"] in page and "SHA-256" in page


def test_atom_feed_announces_editions(client, db, make_scene):
    make_scene()
    edition = publish(db)
    feed = client.get("/editions/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    assert f"urn:sha256:{edition.digest}" in feed.get_data(as_text=True)


def test_atom_feed_links_come_from_the_base_url_never_from_the_host_header(
    app, client, db, make_scene
):
    app.config["BASE_URL"] = "https://changjing.wuxi.example/"
    make_scene()
    edition = publish(db)
    feed = client.get(
        "/editions/feed.atom",
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    ).get_data(as_text=True)
    assert "evil.example" not in feed
    assert (
        '<link rel="self" href="https://changjing.wuxi.example/editions/feed.atom"/>'
        in feed
    )
    assert "<id>https://changjing.wuxi.example/editions</id>" in feed
    assert f'href="https://changjing.wuxi.example/editions/{edition.id}"' in feed


def test_scheduled_tick_publishes_a_due_period_once(
    app, db, make_scene, monthly_schedule
):
    make_scene()
    factory = app.extensions["db"]["sessionmaker"]
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    first = schedule.publish_due(factory, now=now, timezone="Asia/Shanghai")
    again = schedule.publish_due(
        factory, now=now + timedelta(minutes=1), timezone="Asia/Shanghai"
    )
    assert len(first) == 1 and again == []
    keys = db.scalars(
        sa.select(Edition.period_key).where(Edition.list_kind == "scenes")
    )
    assert list(keys) == ["2026-11-01T09:00:00+08:00"]


def test_job_runs_are_recorded_with_their_result(app, db):
    run_job(app, "publish-due-editions")
    run = db.scalars(sa.select(JobRun)).one()
    assert run.job_id == "publish-due-editions" and run.status == "ok"
    page_runner = app.test_client()
    assert page_runner.get("/admin/jobs").status_code == 302  # login first


def test_jobs_page_shows_jobs_and_center_publishes_now(
    client, make_user, login, form_post, make_scene
):
    make_scene()
    login(make_user("center"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "按计划发布清单" in page and "清单发布计划" in page
    # The center cannot change the publication plan: it reads it, with no controls.
    assert 'name="cadence"' not in page and 'name="cron"' not in page
    assert "每月1日 09:00，已启用" in page and "发布计划由系统管理员设置" in page
    response = form_post("/admin/publish/scenes")
    assert response.status_code == 302
    assert "/editions/" in response.headers["Location"]


def test_the_admin_sets_the_plan_with_cron_behind_an_advanced_fold(
    client, make_user, login
):
    login(make_user("admin"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert 'name="cadence"' in page
    fold = page.index("<summary>自定义时间（高级）</summary>")
    assert page.index('name="cron"') > fold > page.index('name="cadence"')


def test_bad_cron_is_refused_with_a_message(client, make_user, login, form_post):
    login(make_user("admin"))
    response = form_post(
        "/admin/schedule/scenes",
        {"cadence": "cron", "cron": "every monday", "enabled": "1"},
        follow_redirects=True,
    )
    assert "cron 表达式无效" in response.get_data(as_text=True)


def test_vendors_cannot_publish(client, make_user, login, form_post):
    login(make_user("vendor"))
    assert form_post("/admin/publish/scenes").status_code == 403


def test_the_feed_is_atom_for_readers_and_a_page_for_browsers(client, make_scene):
    make_scene()
    reader = client.get(
        "/editions/feed.atom", headers={"Accept": "application/atom+xml"}
    )
    assert reader.mimetype == "application/atom+xml"
    assert client.get("/editions/feed.atom").mimetype == "application/atom+xml"
    browser = client.get(
        "/editions/feed.atom",
        headers={
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        },
    )
    assert browser.mimetype == "text/html"
    text = browser.get_data(as_text=True)
    assert "添加到 RSS/Atom 阅读器" in text and "/editions/feed.atom" in text
    assert all("Accept" in r.headers["Vary"] for r in (reader, browser))
