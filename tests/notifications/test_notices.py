"""The notices job: each kind of notice once, however often the job runs."""

from datetime import date, timedelta

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.capabilities.models import Capability
from marketplace.capabilities.services import renew_capability
from marketplace.db import session_scope, utcnow
from marketplace.jobs import JobRun
from marketplace.notifications import services
from marketplace.notifications.jobs import find_and_store_notices
from marketplace.notifications.models import Notification, SavedSearch
from marketplace.scenes.models import Scene
from marketplace.scheduler import run_job

ELEVATOR_SCENE = {
    "title": "梁溪区老旧小区加装电梯运行安全物联网监测",
    "description": "为全区已加装的312部电梯安装振动和困人传感器，接入区城运中心，"
    "要求困人报警30秒以内推送到维保单位，误报率不超过1%。",
}
POTTERY = {
    "title": "紫砂壶数字化文创设计平台",
    "description": "为宜兴紫砂企业提供三维建模、虚拟展厅和线上文创设计工具，"
    "已服务120家紫砂工作室。",
    "domains": ["文旅消费"],
    "industries": ["元宇宙"],
    "districts": ["宜兴市"],
}


def stored(db, kind=None):
    db.rollback()  # a fresh snapshot: the job committed in its own sessions
    db.expire_all()
    query = sa.select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return db.scalars(query).all()


def save_search(app, user, **payload):
    with session_scope(app) as session:
        search = services.create_saved_search(
            session, session.get(User, user.id), payload, now=utcnow()
        )
        return search.id


def test_deadline_reminders_once_per_scene_and_deadline(app, db, make_user, make_scene):
    unit = make_user("unit")
    colleague = make_user("unit", organization=unit.organization)
    departed = make_user("unit", organization=unit.organization)
    db.get(User, departed.id).active = False
    db.commit()
    soon = (date.today() + timedelta(days=5)).isoformat()
    due = make_scene(owner=unit, deadline=soon)
    make_scene(owner=unit)  # deadline in 90 days
    make_scene(owner=unit, status="draft", deadline=soon)
    now = utcnow()

    find_and_store_notices(app, now)
    reminders = stored(db, "deadline_reminder")
    assert {(n.user_id, n.item_id) for n in reminders} == {
        (unit.id, due),
        (colleague.id, due),
    }
    assert "截止征集" in reminders[0].title
    assert reminders[0].link == f"/scenes/{due}"
    assert reminders[0].read_at is None and reminders[0].digest_id is None

    find_and_store_notices(app, now + timedelta(hours=1))
    assert len(stored(db, "deadline_reminder")) == 2

    # A moved deadline is a new reminder.
    db.get(Scene, due).deadline = date.today() + timedelta(days=3)
    db.commit()
    find_and_store_notices(app, now + timedelta(hours=2))
    assert len(stored(db, "deadline_reminder")) == 4


def test_renewal_requests_once_per_capability_and_renewal_period(
    app, db, make_user, make_capability
):
    vendor = make_user("vendor")
    stale = make_capability(owner=vendor)
    make_capability(owner=vendor, **POTTERY)  # updated just now: not asked
    now = utcnow()
    db.get(Capability, stale).updated_at = now - timedelta(days=400)
    db.commit()

    find_and_store_notices(app, now)
    requests = stored(db, "renewal_request")
    assert [(n.user_id, n.item_id) for n in requests] == [(vendor.id, stale)]
    assert "续期" in requests[0].title and "12个月" in requests[0].body
    assert requests[0].link == f"/capabilities/{stale}"

    find_and_store_notices(app, now + timedelta(minutes=5))
    assert len(stored(db, "renewal_request")) == 1

    with session_scope(app) as session:
        renew_capability(session, session.get(User, vendor.id), stale, now=now)
    find_and_store_notices(app, now + timedelta(days=1))
    assert len(stored(db, "renewal_request")) == 1
    # A year after the renewal, it is asked again (and so is the other one now).
    find_and_store_notices(app, now + timedelta(days=370))
    again = [n for n in stored(db, "renewal_request") if n.item_id == stale]
    assert len(again) == 2 and again[0].key != again[1].key


def test_strong_matches_reach_both_owners_once_per_pair(
    app, db, make_user, make_scene, make_capability
):
    unit, vendor = make_user("unit"), make_user("vendor")
    scene = make_scene(owner=unit, **ELEVATOR_SCENE)
    capability = make_capability(owner=vendor)
    make_capability(**POTTERY)

    find_and_store_notices(app, utcnow())
    found = {(n.user_id, n.item_kind, n.item_id, n.key) for n in stored(db)}
    assert (unit.id, "scene", scene, f"capability:{capability}") in found
    assert (vendor.id, "capability", capability, f"scene:{scene}") in found
    matches = stored(db, "strong_match")
    assert all("高匹配" in n.title and "匹配度" in n.body for n in matches)
    assert not any("紫砂" in n.title for n in matches)

    find_and_store_notices(app, utcnow())
    assert len(stored(db, "strong_match")) == len(matches)


def test_saved_search_tells_of_new_matching_items_since_its_mark(
    app, db, make_user, make_capability
):
    searcher = make_user("unit")
    vendor = make_user("vendor")
    make_capability(owner=vendor)  # published before the search was saved
    search_id = save_search(
        app, searcher, list="capabilities", words="电梯", district="梁溪区"
    )
    fitting = make_capability(owner=vendor, title="电梯物联网远程监测平台")
    make_capability(owner=vendor, title="电梯远程监测平台", districts=["宜兴市"])
    make_capability(owner=vendor, **POTTERY)
    now = utcnow()

    find_and_store_notices(app, now)
    found = stored(db, "saved_search")
    assert [(n.user_id, n.item_id, n.key) for n in found] == [
        (searcher.id, fitting, f"search:{search_id}")
    ]
    assert "电梯、梁溪区" in found[0].title and found[0].link.endswith(f"/{fitting}")
    db.rollback()
    db.expire_all()
    assert db.get(SavedSearch, search_id).checked_until == now

    find_and_store_notices(app, now + timedelta(minutes=1))
    assert len(stored(db, "saved_search")) == 1

    later = make_capability(owner=vendor, title="加装电梯困人报警终端")
    find_and_store_notices(app, utcnow())
    assert [n.item_id for n in stored(db, "saved_search")] == [fitting, later]


def test_saved_search_leaves_out_the_searchers_own_items(
    app, db, make_user, make_scene
):
    unit = make_user("unit")
    save_search(app, unit, list="scenes", domain="城市治理")
    make_scene(owner=unit)
    other = make_scene()
    find_and_store_notices(app, utcnow())
    assert [n.item_id for n in stored(db, "saved_search")] == [other]


def test_the_job_run_is_recorded(app, db, make_scene):
    make_scene(deadline=(date.today() + timedelta(days=2)).isoformat())
    run_job(app, "create-notices")
    run_job(app, "create-notices")
    db.rollback()
    db.expire_all()
    runs = db.scalars(sa.select(JobRun).where(JobRun.job_id == "create-notices")).all()
    assert [r.status for r in runs] == ["ok", "ok"]
    assert runs[0].message.startswith("新通知 1 条")
    assert runs[1].message.startswith("新通知 0 条")


def test_notify_command_runs_both_jobs_and_the_jobs_page_lists_them(
    app, client, make_user, login, make_scene
):
    make_scene(deadline=(date.today() + timedelta(days=1)).isoformat())
    result = app.test_cli_runner().invoke(args=["notify"])
    assert result.exit_code == 0, result.output
    assert "生成提醒与匹配通知完成：新通知 1 条" in result.output
    assert "发送通知摘要邮件完成：未配置邮件服务器" in result.output
    login(make_user("center"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "生成提醒与匹配通知" in page and "发送通知摘要邮件" in page
    assert "create-notices" not in page  # staff read names, not job ids
    assert "每天 07:30" in page
