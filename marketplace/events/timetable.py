"""An event's day: sessions cut into meeting slots, and availability windows.

Slots are numbered from 0 across all sessions, in time order (CONTRACT.md).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Slot:
    number: int
    session: int
    start: str
    end: str


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def clock(total_minutes: int) -> str:
    return f"{total_minutes // 60:02d}:{total_minutes % 60:02d}"


def parse_windows(value: Any, label: str) -> list[dict[str, str]]:
    """A list of {"start": "HH:MM", "end": "HH:MM"}, each ending after it starts.

    Raises ValueError with a Chinese reason naming the first bad window.
    """
    if not isinstance(value, list) or not value:
        raise ValueError(
            f'{label}应为非空列表，如 [{{"start": "09:00", "end": "11:30"}}]'
        )
    if len(value) > 12:
        raise ValueError(f"{label}最多12段")
    windows = []
    for number, window in enumerate(value, start=1):
        if not isinstance(window, dict):
            raise ValueError(f"第{number}段应为含 start 和 end 的对象")
        start, end = window.get("start"), window.get("end")
        for name, text in (("开始", start), ("结束", end)):
            if not isinstance(text, str) or not TIME_PATTERN.match(text.strip()):
                raise ValueError(f"第{number}段的{name}时间应为 HH:MM，如 09:30")
        start, end = start.strip(), end.strip()  # type: ignore[union-attr]
        if minutes(end) <= minutes(start):
            raise ValueError(f"第{number}段的结束时间应晚于开始时间")
        windows.append({"start": start, "end": end})
    return windows


def check_sessions(sessions: list[dict[str, str]], meeting_minutes: int) -> None:
    """Sessions must not overlap and each must hold a whole number of meetings."""
    ordered = sorted(sessions, key=lambda s: minutes(s["start"]))
    if ordered != sessions:
        raise ValueError("场次应按时间先后排列")
    for number, session in enumerate(sessions, start=1):
        length = minutes(session["end"]) - minutes(session["start"])
        if length % meeting_minutes:
            raise ValueError(
                f"第{number}场 {session['start']}–{session['end']} 共{length}分钟，"
                f"不能被每场洽谈{meeting_minutes}分钟整除"
            )
    for earlier, later in zip(sessions, sessions[1:], strict=False):
        if minutes(later["start"]) < minutes(earlier["end"]):
            raise ValueError(
                f"场次 {earlier['start']}–{earlier['end']} 与 "
                f"{later['start']}–{later['end']} 时间重叠"
            )


def slots_of(sessions: Sequence[dict[str, str]], meeting_minutes: int) -> list[Slot]:
    result: list[Slot] = []
    for index, session in enumerate(sessions):
        start, end = minutes(session["start"]), minutes(session["end"])
        for begin in range(start, end - meeting_minutes + 1, meeting_minutes):
            result.append(
                Slot(len(result), index, clock(begin), clock(begin + meeting_minutes))
            )
    return result


def check_within_sessions(
    windows: list[dict[str, str]], sessions: Sequence[dict[str, str]]
) -> None:
    """Availability must lie inside the event's sessions."""
    for window in windows:
        start, end = minutes(window["start"]), minutes(window["end"])
        if not any(
            minutes(s["start"]) <= start and end <= minutes(s["end"]) for s in sessions
        ):
            spans = "、".join(f"{s['start']}–{s['end']}" for s in sessions)
            raise ValueError(
                f"可参会时间 {window['start']}–{window['end']} "
                f"不在活动场次内（{spans}）"
            )


def slots_within(
    slots: Sequence[Slot], windows: list[dict[str, str]] | None
) -> frozenset[int]:
    """The slots that lie wholly inside one of the windows (all slots for None)."""
    if windows is None:
        return frozenset(slot.number for slot in slots)
    spans = [(minutes(w["start"]), minutes(w["end"])) for w in windows]
    return frozenset(
        slot.number
        for slot in slots
        if any(a <= minutes(slot.start) and minutes(slot.end) <= b for a, b in spans)
    )
