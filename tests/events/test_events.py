"""Matchmaking events through the API and pages: plan, pair, schedule, outcomes."""

from collections import Counter
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from marketplace.audit import AuditEntry
from marketplace.events.models import EventMeeting
from marketplace.matches.models import MatchFeedback
from marketplace.scenes.models import Scene


def no_double_booking(meetings: list[dict[str, Any]]) -> None:
    for key in ("table", "scene_id", "capability_id"):
        seen = [(m["slot"], m[key]) for m in meetings]
        assert len(seen) == len(set(seen)), f"two meetings share (slot, {key})"


# -- creating an event ------------------------------------------------------------
def test_center_creates_an_event_with_its_slots(kit: Any, api: Any) -> None:
    response = api.post("/events", kit.event_payload())
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "planning"
    assert [s["start"] for s in body["slots"]] == [
        "09:00",
        "09:20",
        "09:40",
        "14:00",
        "14:20",
        "14:40",
    ]
    assert body["slots"][2]["end"] == "10:00"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"meeting_minutes": 25}, "sessions", "不能被每场洽谈25分钟整除"),
        ({"max_meetings_per_scene": 7}, "max_meetings_per_scene", "只有6个时段"),
        (
            {
                "sessions": [
                    {"start": "09:00", "end": "10:00"},
                    {"start": "09:40", "end": "11:00"},
                ]
            },
            "sessions",
            "时间重叠",
        ),
        ({"sessions": [{"start": "9点", "end": "10:00"}]}, "sessions", "HH:MM"),
        ({"sessions": []}, "sessions", "非空列表"),
        ({"tables": "abc"}, "tables", "应为数字"),
        ({"tables": 0}, "tables", "应在1到500之间"),
        ({"min_score": 2}, "min_score", "应在0到1之间"),
        ({"date": "2020-01-01"}, "date", "不能早于今天"),
        ({"domain": "火星开发"}, "domain", "不是有效的领域"),
        ({"name": None}, "name", "应为文本"),
    ],
)
def test_bad_events_are_refused_with_the_field_named(
    kit: Any,
    api: Any,
    row_counts: Any,
    overrides: dict[str, Any],
    field: str,
    words: str,
) -> None:
    before = row_counts()
    response = api.post("/events", kit.event_payload(**overrides))
    assert response.status_code == 422
    body = response.get_json()
    assert words in body["error"]["fields"][field]
    assert row_counts() == before


def test_only_the_center_creates_events(
    kit: Any, client: Any, token_for: Any, make_user: Any
) -> None:
    response = client.post(
        "/api/v1/events",
        json=kit.event_payload(),
        headers=token_for(make_user("vendor")),
    )
    assert response.status_code == 403
    assert client.post("/api/v1/events", json=kit.event_payload()).status_code == 401


# -- participants -----------------------------------------------------------------
def test_adding_a_participant_twice_names_it_and_adds_nothing(
    api: Any, event: dict[str, Any], row_counts: Any, make_scene: Any
) -> None:
    new_scene = make_scene(title="梁溪区无人机消防巡查")
    before = row_counts()
    response = api.post(
        f"/events/{event['id']}/participants",
        {"scene_ids": [new_scene, event["scenes"][0]]},
    )
    assert response.status_code == 422
    assert (
        f"#{event['scenes'][0]}" in response.get_json()["error"]["fields"]["scene_ids"]
    )
    assert "已是本次活动的参会方" in response.get_json()["error"]["fields"]["scene_ids"]
    assert row_counts() == before


@pytest.mark.parametrize(
    "body",
    [
        {"scene_ids": [999999]},
        {"scene_ids": ["1"]},
        {"capability_ids": "3"},
        {"scene_ids": [5, 5]},
        {},
    ],
)
def test_bad_participant_lists_are_refused(
    api: Any, event: dict[str, Any], row_counts: Any, body: dict[str, Any]
) -> None:
    before = row_counts()
    response = api.post(f"/events/{event['id']}/participants", body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]
    assert row_counts() == before


def test_unpublished_items_cannot_take_part(
    api: Any, event: dict[str, Any], make_scene: Any
) -> None:
    # A submitted scene, which the center sees; a draft it does not see is simply
    # missing (tests/items/test_side_doors.py).
    pending = make_scene(status="submitted", title="待审核场景不能参会的测试")
    response = api.post(f"/events/{event['id']}/participants", {"scene_ids": [pending]})
    assert response.status_code == 422
    assert "尚未发布" in response.get_json()["error"]["fields"]["scene_ids"]


def test_suggestions_invite_fitting_vendors(
    kit: Any, api: Any, room: dict[str, Any], make_capability: Any
) -> None:
    event_id = api.post("/events", kit.event_payload()).get_json()["id"]
    api.post(f"/events/{event_id}/participants", {"scene_ids": room["scenes"][:2]})
    far = make_capability(
        title="中小学智慧食堂管理",
        description="中小学校食堂食材溯源、明厨亮灶与营养配餐管理平台，已在多所学校使用。",
    )
    found = api.get(f"/events/{event_id}/suggestions").get_json()
    ids = [s["id"] for s in found["capabilities"]]
    assert ids[0] in room["capabilities"][:2]
    # A canteen platform is no strong match for drone scenes: not suggested.
    assert far not in ids
    assert found["capabilities"][0]["fits"]


# -- pairing ----------------------------------------------------------------------
def test_proposal_respects_every_limit_and_is_exact(
    api: Any, event: dict[str, Any]
) -> None:
    response = api.post(f"/events/{event['id']}/proposals")
    assert response.status_code == 200
    body = response.get_json()
    pairings = body["pairings"]
    assert body["optimality_gap"] == 0
    assert abs(body["total_score"] - sum(p["score"] for p in pairings)) < 1e-3
    assert body["unconstrained_total"] >= body["total_score"]
    for key, limit in (("scene_id", 2), ("capability_id", 2)):
        counts: dict[int, int] = {}
        for p in pairings:
            counts[p[key]] = counts.get(p[key], 0) + 1
        assert max(counts.values()) <= limit
    assert all(p["score"] >= 0.05 for p in pairings)
    # Each drone scene gets its own drone capability.
    pairs = {(p["scene_id"], p["capability_id"]) for p in pairings}
    for scene, capability in zip(event["scenes"], event["capabilities"], strict=False):
        assert (scene, capability) in pairs


def test_removed_pairings_stay_out_and_locked_ones_stay_in(
    api: Any, event: dict[str, Any]
) -> None:
    api.post(f"/events/{event['id']}/proposals")
    pairings = api.get(f"/events/{event['id']}").get_json()["pairings"]
    first, second = pairings[0], pairings[1]
    assert (
        api.post(
            f"/events/{event['id']}/pairings/{first['id']}", {"action": "remove"}
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"/events/{event['id']}/pairings/{second['id']}", {"action": "lock"}
        ).status_code
        == 200
    )
    again = api.post(f"/events/{event['id']}/proposals").get_json()
    pairs = {(p["scene_id"], p["capability_id"]) for p in again["pairings"]}
    assert (first["scene_id"], first["capability_id"]) not in pairs
    assert (second["scene_id"], second["capability_id"]) in pairs
    again_lock = api.post(
        f"/events/{event['id']}/pairings/{second['id']}", {"action": "lock"}
    )
    assert again_lock.status_code == 409


def test_a_pairing_outside_the_event_is_refused(
    api: Any, event: dict[str, Any], make_capability: Any, row_counts: Any
) -> None:
    outsider = make_capability(title="不在活动中的能力")
    before = row_counts()
    response = api.post(
        f"/events/{event['id']}/pairings",
        {"scene_id": event["scenes"][0], "capability_id": outsider},
    )
    assert response.status_code == 422
    assert (
        "不是本次活动的参会方"
        in response.get_json()["error"]["fields"]["capability_id"]
    )
    assert row_counts() == before
    hand = api.post(
        f"/events/{event['id']}/pairings",
        {"scene_id": event["scenes"][0], "capability_id": event["capabilities"][3]},
    )
    assert hand.status_code == 201
    assert hand.get_json()["status"] == "locked"


# -- scheduling -------------------------------------------------------------------
def test_schedule_has_no_double_booking_and_uses_fewest_slots(
    api: Any, event: dict[str, Any]
) -> None:
    pairings = api.post(f"/events/{event['id']}/proposals").get_json()["pairings"]
    response = api.post(f"/events/{event['id']}/schedule")
    assert response.status_code == 200
    body = response.get_json()
    meetings = body["meetings"]
    assert len(meetings) == len(pairings)
    assert body["unscheduled"] == []
    no_double_booking(meetings)
    # People attend, not items: the unit's three scenes share its one delegate,
    # so the unit is in one meeting per slot, and so is each vendor.
    organization_of = {
        (p["kind"], p["scene_id"] or p["capability_id"]): p["organization_id"]
        for p in api.get(f"/events/{event['id']}").get_json()["participants"]
    }
    degree: dict[Any, int] = {}
    for m in meetings:
        for key in (
            ("s", organization_of["scene", m["scene_id"]]),
            ("c", organization_of["capability", m["capability_id"]]),
        ):
            degree[key] = degree.get(key, 0) + 1
        assert (
            sum(
                1
                for other in meetings
                if other["slot"] == m["slot"]
                and organization_of["scene", other["scene_id"]]
                == organization_of["scene", m["scene_id"]]
            )
            == 1
        )
    fewest = max(max(degree.values()), -(-len(meetings) // 2))
    assert {m["slot"] for m in meetings} == set(range(fewest))
    assert all(1 <= m["table"] <= 2 for m in meetings)
    assert meetings[0]["start"] == "09:00" and meetings[0]["end"] == "09:20"
    assert api.get(f"/events/{event['id']}/schedule").get_json()["meetings"] == meetings


def test_rescheduling_keeps_announced_meetings_and_reports_moves(
    api: Any, event: dict[str, Any]
) -> None:
    event_id = event["id"]
    api.post(f"/events/{event_id}/proposals")
    first = api.post(f"/events/{event_id}/schedule").get_json()["meetings"]
    pairings = api.get(f"/events/{event_id}").get_json()["pairings"]
    cancelled = pairings[0]
    api.post(f"/events/{event_id}/pairings/{cancelled['id']}", {"action": "remove"})
    taken = {(p["scene_id"], p["capability_id"]) for p in pairings}
    extra = next(
        (s, c)
        for s in event["scenes"]
        for c in event["capabilities"]
        if (s, c) not in taken
        and sum(1 for p in pairings[1:] if p["scene_id"] == s) < 2
        and sum(1 for p in pairings[1:] if p["capability_id"] == c) < 2
    )
    added = api.post(
        f"/events/{event_id}/pairings",
        {"scene_id": extra[0], "capability_id": extra[1]},
    )
    assert added.status_code == 201, added.get_json()
    second = api.post(f"/events/{event_id}/schedule").get_json()
    no_double_booking(second["meetings"])
    before = {(m["scene_id"], m["capability_id"]): m["slot"] for m in first}
    after = {(m["scene_id"], m["capability_id"]): m["slot"] for m in second["meetings"]}
    assert (cancelled["scene_id"], cancelled["capability_id"]) not in after
    assert extra in after
    moved = {(m["scene_id"], m["capability_id"]) for m in second["moved"]}
    for pair, slot in before.items():
        if pair in after and pair not in moved:
            assert after[pair] == slot


def test_availability_is_respected_and_checked(
    api: Any, event: dict[str, Any], client: Any, token_for: Any, row_counts: Any
) -> None:
    event_id = event["id"]
    vendor_headers = token_for(event["vendor"])
    mine = api.get(f"/events/{event_id}", headers=vendor_headers).get_json()
    participant = mine["participants"][0]
    before = row_counts()
    outside = client.post(
        f"/api/v1/events/{event_id}/participants/{participant['id']}/response",
        json={"accept": True, "availability": [{"start": "12:00", "end": "13:00"}]},
        headers=vendor_headers,
    )
    assert outside.status_code == 422
    assert "不在活动场次内" in outside.get_json()["error"]["fields"]["availability"]
    assert row_counts() == before
    afternoon = client.post(
        f"/api/v1/events/{event_id}/participants/{participant['id']}/response",
        json={"accept": True, "availability": [{"start": "14:00", "end": "15:00"}]},
        headers=vendor_headers,
    )
    assert afternoon.status_code == 200
    api.post(f"/events/{event_id}/proposals")
    meetings = api.post(f"/events/{event_id}/schedule").get_json()["meetings"]
    own = [m for m in meetings if m["capability_id"] == participant["capability_id"]]
    assert own and all(m["slot"] >= 3 for m in own)
    no_double_booking(meetings)


def test_scheduling_without_pairings_is_a_clear_error(
    api: Any, event: dict[str, Any]
) -> None:
    response = api.post(f"/events/{event['id']}/schedule")
    assert response.status_code == 422
    assert "配对" in response.get_json()["error"]["message"]


# -- participants' view -----------------------------------------------------------
def test_vendor_sees_only_its_own_invitations_and_answers_them(
    api: Any, event: dict[str, Any], client: Any, token_for: Any, make_user: Any
) -> None:
    event_id = event["id"]
    vendor_headers = token_for(event["vendor"])
    listed = client.get("/api/v1/events", headers=vendor_headers).get_json()
    assert [e["id"] for e in listed["items"]] == [event_id]
    own = api.get(f"/events/{event_id}", headers=vendor_headers).get_json()
    assert {p["capability_id"] for p in own["participants"]} == set(
        event["capabilities"][:2]
    )
    assert "pairings" not in own
    stranger = token_for(make_user("vendor"))
    assert client.get(f"/api/v1/events/{event_id}", headers=stranger).status_code == 404
    assert client.get("/api/v1/events", headers=stranger).get_json()["items"] == []
    assert (
        client.post(
            f"/api/v1/events/{event_id}/proposals", headers=vendor_headers
        ).status_code
        == 403
    )
    others = api.get(f"/events/{event_id}").get_json()["participants"]
    foreign = next(p for p in others if p["capability_id"] == event["capabilities"][3])
    refused = client.post(
        f"/api/v1/events/{event_id}/participants/{foreign['id']}/response",
        json={"accept": False},
        headers=vendor_headers,
    )
    assert refused.status_code == 404

    api.post(f"/events/{event_id}/proposals")
    api.post(f"/events/{event_id}/schedule")
    declined = own["participants"][0]
    answer = client.post(
        f"/api/v1/events/{event_id}/participants/{declined['id']}/response",
        json={"accept": False},
        headers=vendor_headers,
    )
    assert answer.status_code == 200 and answer.get_json()["status"] == "declined"
    meetings = api.get(f"/events/{event_id}/schedule").get_json()["meetings"]
    assert declined["capability_id"] not in {m["capability_id"] for m in meetings}


# -- outcomes ---------------------------------------------------------------------
def test_outcomes_feed_the_matcher_and_move_the_scene(
    api: Any, scheduled: dict[str, Any], fetch: Any, db: Any
) -> None:
    event_id = scheduled["id"]
    first, second, third = scheduled["meetings"][:3]
    path = f"/events/{event_id}/meetings/{{}}/outcome"
    missing = api.post(path.format(first["id"]), {"outcome": "signed"})
    assert (
        missing.status_code == 422 and "amount" in missing.get_json()["error"]["fields"]
    )
    assert api.post(path.format(first["id"]), {"outcome": "maybe"}).status_code == 422

    signed = api.post(
        path.format(first["id"]), {"outcome": "signed", "amount": "880000.00"}
    )
    assert signed.status_code == 200
    assert fetch(Scene, first["scene_id"]).status == "contracted"
    transitions = db.scalars(
        sa.select(AuditEntry.after)
        .where(
            AuditEntry.object_type == "scene",
            AuditEntry.object_id == first["scene_id"],
            AuditEntry.action == "scene.transition",
        )
        .order_by(AuditEntry.id)
    ).all()
    assert transitions == ["matched", "contracted"]

    no_interest = api.post(path.format(second["id"]), {"outcome": "no_interest"})
    assert no_interest.status_code == 200, no_interest.get_json()
    assert api.post(path.format(third["id"]), {"outcome": "no_show"}).status_code == 200
    db.commit()  # end the read snapshot taken above
    feedback = {
        (f.scene_id, f.capability_id): f.relevant
        for f in db.scalars(
            sa.select(MatchFeedback).where(MatchFeedback.source == "event")
        )
    }
    assert feedback == {
        (first["scene_id"], first["capability_id"]): True,
        (second["scene_id"], second["capability_id"]): False,
    }
    funnel = api.get(f"/events/{event_id}").get_json()["funnel"]
    stages = {s["key"]: s["count"] for s in funnel["stages"]}
    assert stages == {
        "scheduled": len(scheduled["meetings"]),
        "held": 2,
        "interested": 1,
        "intent": 1,
        "signed": 1,
    }
    assert funnel["signed_amount"] == "880000.00"


def test_outcomes_wait_for_the_event_day(
    kit: Any, api: Any, room: dict[str, Any], row_counts: Any, confirm: Any
) -> None:
    later = (kit.wuxi_today() + timedelta(days=10)).isoformat()
    event_id = api.post("/events", kit.event_payload(date=later)).get_json()["id"]
    api.post(
        f"/events/{event_id}/participants",
        {"scene_ids": room["scenes"], "capability_ids": room["capabilities"]},
    )
    confirm(event_id)
    api.post(f"/events/{event_id}/proposals")
    meeting = api.post(f"/events/{event_id}/schedule").get_json()["meetings"][0]
    before = row_counts()
    response = api.post(
        f"/events/{event_id}/meetings/{meeting['id']}/outcome", {"outcome": "intent"}
    )
    assert response.status_code == 409
    assert row_counts() == before


# -- pages and files --------------------------------------------------------------
def test_event_pages_schedule_workbook_and_agendas(
    kit: Any,
    api: Any,
    client: Any,
    login: Any,
    center: Any,
    scheduled: dict[str, Any],
    make_user: Any,
) -> None:
    event_id = scheduled["id"]
    login(center)
    page = client.get(f"/events/{event_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "已是最优安排" in text and "1号桌" in text
    workbook = load_workbook(
        BytesIO(client.get(f"/events/{event_id}/schedule.xlsx").data)
    )
    assert workbook.sheetnames == ["洽谈总表", "桌位总览"]
    rows = list(workbook["洽谈总表"].iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(scheduled["meetings"])
    assert {r[5] for r in rows} <= {t for t, _ in kit.scene_texts}
    cards = client.get(f"/events/{event_id}/cards").get_data(as_text=True)
    assert "1号桌" in cards and "print.js" in cards

    participants = api.get(f"/events/{event_id}").get_json()["participants"]
    vendor_part = next(
        p for p in participants if p["capability_id"] == scheduled["capabilities"][0]
    )
    client.post("/logout", data={"csrf_token": "test-csrf-token"})
    login(scheduled["vendor"])
    agenda = client.get(f"/events/{event_id}/agenda/{vendor_part['id']}")
    assert agenda.status_code == 200
    assert kit.capability_texts[0][0] in agenda.get_data(as_text=True)
    foreign = next(
        p for p in participants if p["capability_id"] == scheduled["capabilities"][3]
    )
    assert client.get(f"/events/{event_id}/agenda/{foreign['id']}").status_code == 404
    assert client.get(f"/events/{event_id}/schedule.xlsx").status_code == 403

    # A reviewer reads every agenda the event page links to, and changes nothing.
    client.post("/logout", data={"csrf_token": "test-csrf-token"})
    login(make_user("reviewer"))
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert f"/events/{event_id}/agenda/{foreign['id']}" in page
    assert client.get(f"/events/{event_id}/agenda/{foreign['id']}").status_code == 200
    everyone = client.get(f"/events/{event_id}/agendas")
    assert everyone.status_code == 200
    assert kit.capability_texts[3][0] in everyone.get_data(as_text=True)
    assert client.get(f"/events/{event_id}/agenda/999999").status_code == 404
    declined = client.post(
        f"/events/{event_id}/participants/{foreign['id']}/respond",
        data={"csrf_token": "test-csrf-token", "accept": "0"},
        follow_redirects=True,
    )
    assert "参会邀请不存在或无权查看" in declined.get_data(as_text=True)
    status = api.get(f"/events/{event_id}").get_json()["participants"]
    assert (
        next(p for p in status if p["id"] == foreign["id"])["status"]
        == (foreign["status"])
    )


def test_master_schedule_neutralises_formulas(
    kit: Any,
    api: Any,
    client: Any,
    login: Any,
    center: Any,
    make_user: Any,
    make_scene: Any,
    make_capability: Any,
    confirm: Any,
) -> None:
    scene = make_scene(
        title='=HYPERLINK("http://x","无人机巡检")',
        description="用无人机对园区屋顶和周界做自动巡检，发现异常即时告警。",
    )
    capability = make_capability(
        title="+无人机巡检系统",
        description="无人机自动巡检系统，支持园区周界与屋顶的定时巡检和告警。",
    )
    event_id = api.post("/events", kit.event_payload(min_score=0)).get_json()["id"]
    api.post(
        f"/events/{event_id}/participants",
        {"scene_ids": [scene], "capability_ids": [capability]},
    )
    confirm(event_id)
    api.post(f"/events/{event_id}/proposals")
    assert len(api.post(f"/events/{event_id}/schedule").get_json()["meetings"]) == 1
    login(center)
    workbook = load_workbook(
        BytesIO(client.get(f"/events/{event_id}/schedule.xlsx").data)
    )
    row = next(workbook["洽谈总表"].iter_rows(min_row=3))
    assert row[5].value.startswith("=HYPERLINK") and row[5].data_type == "s"
    assert row[8].value == "+无人机巡检系统" and row[8].data_type == "s"


def test_center_plans_an_event_through_the_pages(
    kit: Any,
    client: Any,
    login: Any,
    center: Any,
    room: dict[str, Any],
    form_post: Any,
    db: Any,
) -> None:
    login(center)
    created = form_post(
        "/events",
        {
            "name": "智慧水务场景对接会",
            "domain": "城市治理",
            "date": kit.wuxi_today().isoformat(),
            "venue": "无锡国际会议中心",
            "session_start": ["09:00", "14:00"],
            "session_end": ["10:00", "15:00"],
            "meeting_minutes": "20",
            "tables": "2",
            "max_meetings_per_scene": "2",
            "max_meetings_per_capability": "2",
            "min_score": "0.05",
        },
    )
    assert created.status_code == 302
    detail = created.headers["Location"]
    # Participants are found by words of their titles and chosen by ticking them:
    # no internal number is typed or shown.
    found = client.get(detail + "?find=scene&words=无人机").get_data(as_text=True)
    assert "找到 3 项" in found and 'data-select-all="scene_id"' in found
    for t, _ in kit.scene_texts:
        assert t in found
    form_post(detail + "/participants", {"scene_id": [str(i) for i in room["scenes"]]})
    found = client.get(detail + "?find=capability&words=").get_data(as_text=True)
    assert "找到 4 项" in found
    form_post(
        detail + "/participants",
        {"capability_id": [str(i) for i in room["capabilities"]]},
    )
    again = client.get(detail + "?find=scene&words=无人机").get_data(as_text=True)
    assert "没有找到尚未参会的已发布场景" in again
    form_post(detail + "/propose")
    form_post(detail + "/schedule")
    # Nobody has answered the invitations yet: no meeting is put in their day,
    # and the page says who has not confirmed and what to change.
    page = client.get(detail).get_data(as_text=True)
    assert "7 个参会方尚未确认参会" in page and "尚未确认参会（确认后重新排期" in page
    assert db.scalar(sa.select(sa.func.count()).select_from(EventMeeting)) == 0
    saved = form_post(detail + "/edit", {"schedule_unconfirmed": "1"})
    assert "活动信息已保存" in client.get(saved.headers["Location"]).get_data(
        as_text=True
    )
    form_post(detail + "/schedule")
    page = client.get(detail).get_data(as_text=True)
    assert "已排期" in page and kit.scene_texts[0][0] in page
    db.rollback()  # a fresh snapshot: the count above read the old one
    assert db.scalar(sa.select(sa.func.count()).select_from(EventMeeting)) > 0
    refused = form_post(detail + "/participants", {"scene_id": str(room["scenes"][0])})
    assert "已是本次活动的参会方" in client.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    without_token = client.post(detail + "/schedule")
    assert without_token.status_code in (400, 403)


def test_a_meeting_with_an_outcome_stays_put(
    api: Any, scheduled: dict[str, Any]
) -> None:
    event_id = scheduled["id"]
    held = scheduled["meetings"][0]
    api.post(
        f"/events/{event_id}/meetings/{held['id']}/outcome", {"outcome": "follow_up"}
    )
    pairing = next(
        p
        for p in api.get(f"/events/{event_id}").get_json()["pairings"]
        if (p["scene_id"], p["capability_id"])
        == (held["scene_id"], held["capability_id"])
    )
    refused = api.post(
        f"/events/{event_id}/pairings/{pairing['id']}", {"action": "remove"}
    )
    assert refused.status_code == 409
    again = api.post(f"/events/{event_id}/schedule").get_json()
    kept = next(
        m
        for m in again["meetings"]
        if m["scene_id"] == held["scene_id"]
        and m["capability_id"] == held["capability_id"]
    )
    assert (kept["slot"], kept["table"], kept["outcome"]) == (
        held["slot"],
        held["table"],
        "follow_up",
    )


def test_an_organization_sending_two_people_holds_two_meetings_at_once(
    api: Any,
    event: dict[str, Any],
    token_for: Any,
    row_counts: Any,
    login: Any,
    center: Any,
    form_post: Any,
) -> None:
    unit_org = event["unit"].organization_id
    api.post(f"/events/{event['id']}/proposals")
    login(center)

    def most_at_once() -> int:
        # From a cleared timetable: rescheduling keeps announced meetings put.
        form_post(f"/events/{event['id']}/schedule/clear")
        meetings = api.post(f"/events/{event['id']}/schedule").get_json()["meetings"]
        per_slot = Counter(m["slot"] for m in meetings if m["scene_id"] in scenes)
        return max(per_slot.values())

    scenes = set(event["scenes"])

    # The room's three scenes are one unit's: one person, one meeting at a time.
    assert most_at_once() == 1
    path = f"/events/{event['id']}/delegations/{unit_org}"
    answer = api.put(path, {"people": 2})
    assert answer.status_code == 200
    assert answer.get_json() == {"organization_id": unit_org, "people": 2}
    assert api.get(f"/events/{event['id']}").get_json()["delegates"] == {
        str(unit_org): 2
    }
    assert most_at_once() == 2

    before = row_counts()
    too_many = api.put(path, {"people": 4})
    assert too_many.status_code == 422
    assert "1到3" in too_many.get_json()["error"]["fields"]["people"]
    assert api.put(path, {"people": "2"}).status_code == 422
    outsider = api.put(f"/events/{event['id']}/delegations/999999", {"people": 1})
    assert outsider.status_code == 404
    assert row_counts() == before
    vendor = api.put(path, {"people": 1}, headers=token_for(event["vendor"]))
    assert vendor.status_code == 403


def test_participants_who_have_not_confirmed_wait_for_their_answer(
    kit: Any, api: Any, room: dict[str, Any], confirm: Any
) -> None:
    event_id = api.post("/events", kit.event_payload()).get_json()["id"]
    api.post(
        f"/events/{event_id}/participants",
        {"scene_ids": room["scenes"], "capability_ids": room["capabilities"]},
    )
    assert api.post(f"/events/{event_id}/proposals").get_json()["pairings"]
    schedule = api.post(f"/events/{event_id}/schedule").get_json()
    assert schedule["meetings"] == []
    assert schedule["unscheduled"] and all(
        "尚未确认参会" in u["reason"] for u in schedule["unscheduled"]
    )
    confirm(event_id)
    schedule = api.post(f"/events/{event_id}/schedule").get_json()
    assert schedule["meetings"] and schedule["unscheduled"] == []


def test_an_organizations_agenda_holds_all_its_items_meetings_in_time_order(
    api: Any, client: Any, login: Any, scheduled: dict[str, Any], center: Any
) -> None:
    event_id = scheduled["id"]
    participants = api.get(f"/events/{event_id}").get_json()["participants"]
    first_scene = next(p for p in participants if p["kind"] == "scene")
    login(scheduled["unit"])
    page = client.get(f"/events/{event_id}/agenda/{first_scene['id']}")
    text = page.get_data(as_text=True)
    assert "本单位条目" in text  # the unit brings three scenes
    own = [m for m in scheduled["meetings"] if m["scene_id"] in scheduled["scenes"]]
    times = [f"{m['start']}–{m['end']}" for m in sorted(own, key=lambda m: m["slot"])]
    assert [t for t in times if t in text] == times
    positions = [text.index(t) for t in times]
    assert positions == sorted(positions)
    # The printed agendas are one page per organization: the unit, two vendors.
    login(center)
    printed = client.get(f"/events/{event_id}/agendas").get_data(as_text=True)
    assert printed.count('class="print-page agenda"') == 3


def test_the_finder_matches_organization_names_domains_and_districts(
    kit: Any,
    api: Any,
    client: Any,
    login: Any,
    center: Any,
    make_scene: Any,
    make_capability: Any,
    make_user: Any,
    make_org: Any,
) -> None:
    transport = make_user("unit", organization=make_org(name="江阴市交通运输局"))
    make_scene(owner=transport, title="长江大桥交通事件自动检测", district="江阴市")
    make_scene(title="梁溪区老旧小区电梯监测", district="梁溪区")
    make_scene(owner=transport, status="draft", title="交通草稿不应出现")
    make_capability(title="无人机巡检平台", domains=["产业发展"])
    event_id = api.post("/events", kit.event_payload()).get_json()["id"]
    login(center)
    page = f"/events/{event_id}"

    def titles(query: str) -> str:
        return client.get(f"{page}?{query}").get_data(as_text=True)

    by_name = titles("find=scene&words=交通运输局")
    assert "长江大桥交通事件自动检测" in by_name and "老旧小区电梯" not in by_name
    assert "交通草稿不应出现" not in by_name
    by_district = titles("find=scene&district=梁溪区")
    assert "老旧小区电梯" in by_district and "长江大桥" not in by_district
    assert "无人机巡检平台" in titles("find=capability&domain=产业发展")
    assert "无人机巡检平台" not in titles("find=capability&domain=文旅消费")
    # Percent signs are words, not wildcards.
    assert "没有找到" in titles("find=scene&words=%25")
