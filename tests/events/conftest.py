"""Fixtures for event tests: a center officer, a room of drone scenes and
capabilities, an API client with the officer's token, an event, a scheduled event."""

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

SCENE_TEXTS = [
    (
        "惠山区低空物流无人机配送航线规划",
        "在惠山区开通无人机配送航线，覆盖社区快递末端配送和医疗样本转运。",
    ),
    (
        "太湖蓝藻水华无人机巡查与预警",
        "利用无人机和多光谱遥感巡查太湖沿岸蓝藻水华，自动预警并推送到治理部门。",
    ),
    (
        "新吴区工业园区无人机安防巡检",
        "园区周界、屋顶光伏和危化品仓库的无人机自动巡检，发现异常即时告警。",
    ),
]
CAPABILITY_TEXTS = [
    (
        "低空物流无人机配送系统",
        "载重5公斤的物流无人机与航线规划调度平台，已在多地开通社区配送航线。",
    ),
    (
        "多光谱遥感水质监测无人机",
        "搭载多光谱相机的无人机，识别蓝藻水华与水体污染，生成预警报告。",
    ),
    (
        "无人机自动机场与巡检平台",
        "无人机自动机场，支持园区、光伏电站和仓库的定时自动巡检与异常告警。",
    ),
    ("智慧停车诱导系统", "城市停车场车位检测与诱导屏，提升停车周转率。"),
]


def wuxi_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def event_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "2026年低空经济场景供需对接会",
        "domain": "城市治理",
        "date": wuxi_today().isoformat(),
        "venue": "无锡市民中心",
        "sessions": [
            {"start": "09:00", "end": "10:00"},
            {"start": "14:00", "end": "15:00"},
        ],
        "meeting_minutes": 20,
        "tables": 2,
        "max_meetings_per_scene": 2,
        "max_meetings_per_capability": 2,
        "min_score": 0.05,
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def center(make_user: Any) -> Any:
    return make_user("center")


@pytest.fixture
def room(make_user: Any, make_scene: Any, make_capability: Any) -> dict[str, Any]:
    """Three drone scenes from one unit and four capabilities from two vendors."""
    unit, vendor, other_vendor = (
        make_user("unit"),
        make_user("vendor"),
        make_user("vendor"),
    )
    scenes = [
        make_scene(owner=unit, title=t, description=d, industries=["低空经济"])
        for t, d in SCENE_TEXTS
    ]
    capabilities = [
        make_capability(
            owner=vendor if i < 2 else other_vendor,
            title=t,
            description=d,
            industries=["低空经济"],
        )
        for i, (t, d) in enumerate(CAPABILITY_TEXTS)
    ]
    return {
        "unit": unit,
        "vendor": vendor,
        "other_vendor": other_vendor,
        "scenes": scenes,
        "capabilities": capabilities,
    }


@pytest.fixture
def api(client: Any, token_for: Any, center: Any) -> Any:
    headers = center_headers = token_for(center)

    class Api:
        headers = center_headers

        def get(self, path: str, **kw: Any) -> Any:
            return client.get("/api/v1" + path, headers=kw.pop("headers", headers))

        def post(self, path: str, body: Any = None, **kw: Any) -> Any:
            return client.post(
                "/api/v1" + path, json=body or {}, headers=kw.pop("headers", headers)
            )

        def put(self, path: str, body: Any = None, **kw: Any) -> Any:
            return client.put(
                "/api/v1" + path, json=body or {}, headers=kw.pop("headers", headers)
            )

    return Api()


@pytest.fixture
def event(api: Any, room: dict[str, Any], accept_invitations: Any) -> dict[str, Any]:
    created = api.post("/events", event_payload())
    assert created.status_code == 201, created.get_json()
    event_id = created.get_json()["id"]
    added = api.post(
        f"/events/{event_id}/participants",
        {"scene_ids": room["scenes"], "capability_ids": room["capabilities"]},
    )
    assert added.status_code == 201, added.get_json()
    accept_invitations(event_id, api.headers)
    return {"id": event_id, **created.get_json(), **room}


@pytest.fixture
def confirm(api: Any, accept_invitations: Any) -> Any:
    """confirm(event_id): every invited participant of the event accepts."""
    return lambda event_id: accept_invitations(event_id, api.headers)


@pytest.fixture
def scheduled(api: Any, event: dict[str, Any]) -> dict[str, Any]:
    api.post(f"/events/{event['id']}/proposals")
    meetings = api.post(f"/events/{event['id']}/schedule").get_json()["meetings"]
    return {**event, "meetings": meetings}


@pytest.fixture
def kit() -> SimpleNamespace:
    """The shared texts and the event payload builder, for tests to use directly."""
    return SimpleNamespace(
        scene_texts=SCENE_TEXTS,
        capability_texts=CAPABILITY_TEXTS,
        event_payload=event_payload,
        wuxi_today=wuxi_today,
    )
