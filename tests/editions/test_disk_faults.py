"""RELIABILITY C7: the editions directory cannot be written.

The fault is a file standing where the directory should be: tests may run as root,
which ignores permission bits, and every runner raises the same OSError for this.
"""

import hashlib

import sqlalchemy as sa

from marketplace.editions.models import Edition, EditionFile
from marketplace.editions.services import verify_chain
from marketplace.jobs import JobRun
from marketplace.scheduler import run_job

UNWRITABLE = "下载文件暂时无法生成（文件目录的路径被文件占用）"


def last_run(db):
    db.rollback()
    return db.scalar(sa.select(JobRun).order_by(JobRun.id.desc()))


def test_unwritable_directory_keeps_the_edition_says_why_and_a_later_tick_mends_it(
    app, db, client, make_user, login, form_post, make_scene, tmp_path
):
    make_scene()
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the editions directory should be")
    working_directory = app.config["EDITIONS_DIRECTORY"]
    app.config["EDITIONS_DIRECTORY"] = str(blocker / "editions")

    # "Publish now": the edition stands, the center is told why it has no files yet.
    login(make_user("center"))
    response = form_post("/admin/publish/scenes", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert UNWRITABLE in page and "本期已发布" in page
    edition_id = db.scalar(sa.select(Edition.id))
    assert f"/editions/{edition_id}" in response.request.path
    assert db.scalar(sa.select(sa.func.count()).select_from(EditionFile)) == 0
    assert verify_chain(db).ok

    # A visitor's download is refused for now, in the API's error shape.
    response = client.get(f"/api/v1/editions/{edition_id}/export.xlsx")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    error = response.get_json()["error"]
    assert error["code"] == "edition_files_unavailable"
    assert "请稍后再下载" in error["message"]

    # The command line says so and exits non-zero; its edition stands too.
    result = app.test_cli_runner().invoke(args=["publish", "--list", "scenes"])
    assert result.exit_code == 1 and UNWRITABLE in result.output

    # The scheduled tick fails with the reason, which the jobs page shows.
    run_job(app, "publish-due-editions")
    run = last_run(db)
    assert run.status == "error" and UNWRITABLE in run.message
    assert UNWRITABLE in client.get("/admin/jobs").get_data(as_text=True)

    # The disk is back: the next tick writes every edition's files and records them.
    app.config["EDITIONS_DIRECTORY"] = working_directory
    run_job(app, "publish-due-editions")
    assert last_run(db).status == "ok"
    editions = db.scalars(sa.select(Edition.id)).all()
    assert len(editions) >= 2
    recorded = db.execute(
        sa.select(EditionFile.edition_id, EditionFile.format, EditionFile.sha256)
    ).all()
    assert {(e, f) for e, f, _ in recorded} == {
        (e, f) for e in editions for f in ("csv", "json", "xlsx")
    }
    for edition, fmt, sha256 in recorded:
        response = client.get(f"/api/v1/editions/{edition}/export.{fmt}")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == sha256
        response.close()
    assert verify_chain(db).ok
