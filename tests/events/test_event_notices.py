"""Event steps reach the organizations taking part: the invitation, each pairing
proposed, each meeting placed or moved, each outcome; once each, never twice."""

from typing import Any


def notices(client: Any, headers: dict[str, str], kind: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/notifications?per_page=100", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [n for n in response.get_json()["items"] if n["kind"] == kind]


def test_invitations_pairings_meetings_and_outcomes_reach_both_sides(
    api: Any, event: dict[str, Any], client: Any, token_for: Any, make_user: Any
) -> None:
    event_id = event["id"]
    unit, vendor = token_for(event["unit"]), token_for(event["vendor"])
    other_vendor = token_for(event["other_vendor"])
    participants = {
        (p["kind"], p["scene_id"] or p["capability_id"]): p["id"]
        for p in api.get(f"/events/{event_id}").get_json()["participants"]
    }

    # One invitation per item, each linking to the item's agenda.
    invited = notices(client, unit, "event_invitation")
    assert len(invited) == len(event["scenes"])
    assert {n["link"] for n in invited} == {
        f"/events/{event_id}/agenda/{participants[('scene', s)]}"
        for s in event["scenes"]
    }
    assert all(
        n["title"].startswith("活动邀请：2026年低空经济场景供需对接会") for n in invited
    )
    assert len(notices(client, vendor, "event_invitation")) == 2
    assert len(notices(client, other_vendor, "event_invitation")) == 2
    assert notices(client, api.headers, "event_invitation") == []  # the center acted

    api.post(f"/events/{event_id}/proposals")
    pairings = api.get(f"/events/{event_id}").get_json()["pairings"]
    proposed = notices(client, unit, "pairing_proposed")
    assert len(proposed) == len(pairings)
    vendor_items = set(event["capabilities"][:2])
    assert len(notices(client, vendor, "pairing_proposed")) == sum(
        1 for p in pairings if p["capability_id"] in vendor_items
    )
    # Proposing again tells nobody of the same pairing twice.
    api.post(f"/events/{event_id}/proposals")
    assert len(notices(client, unit, "pairing_proposed")) == len(pairings)

    meetings = api.post(f"/events/{event_id}/schedule").get_json()["meetings"]
    placed = notices(client, unit, "meeting_scheduled")
    assert len(placed) == len(meetings)
    first = meetings[0]  # rescheduling keeps it in place (its id may change)
    assert any(
        f"第{first['table']}桌" in n["body"] and "无锡市民中心" in n["body"]
        for n in placed
        if n["item_id"] == first["scene_id"]
    )
    # Scheduling again with nothing changed announces nothing.
    again = api.post(f"/events/{event_id}/schedule").get_json()["meetings"]
    assert len(notices(client, unit, "meeting_scheduled")) == len(meetings)
    assert notices(client, unit, "meeting_moved") == []

    recorded = api.post(
        f"/events/{event_id}/meetings/{again[0]['id']}/outcome",
        {"outcome": "signed", "amount": "880000.00"},
    )
    assert recorded.status_code == 200, recorded.get_json()
    side = vendor if first["capability_id"] in vendor_items else other_vendor
    for headers in (unit, side):
        (outcome,) = notices(client, headers, "meeting_outcome")
        assert outcome["body"] == "推进中心记录为“签约”。签约金额880000.00元。"


def test_a_moved_meeting_says_where_it_went(
    api: Any, scheduled: dict[str, Any], client: Any, token_for: Any
) -> None:
    event_id = scheduled["id"]
    unit = token_for(scheduled["unit"])
    morning = next(m for m in scheduled["meetings"] if m["slot"] < 3)
    participant = next(
        p
        for p in api.get(f"/events/{event_id}").get_json()["participants"]
        if p["capability_id"] == morning["capability_id"]
    )
    # The capability can only come in the afternoon: its morning meetings move.
    answered = client.post(
        f"/api/v1/events/{event_id}/participants/{participant['id']}/response",
        json={"accept": True, "availability": [{"start": "14:00", "end": "15:00"}]},
        headers=api.headers,
    )
    assert answered.status_code == 200, answered.get_json()
    second = api.post(f"/events/{event_id}/schedule").get_json()
    moved_pairs = {(m["scene_id"], m["capability_id"]) for m in second["moved"]}
    assert (morning["scene_id"], morning["capability_id"]) in moved_pairs
    moved = notices(client, unit, "meeting_moved")
    assert len(moved) == len(moved_pairs)
    notice = next(n for n in moved if n["item_id"] == morning["scene_id"])
    assert notice["body"].startswith("改为") and "原为09:" in notice["body"]
