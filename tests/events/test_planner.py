"""The pure planning algorithms: pairing proposal and meeting timetable."""

import itertools
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.events import planner
from marketplace.events.planner import (
    Candidate,
    Meeting,
    PlanningError,
    minimum_slots,
    propose_pairings,
    schedule_meetings,
)

# No example database: nothing written into the work tree, same runs everywhere.
FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- strategies ------------------------------------------------------------------


@st.composite
def pair_sets(draw, max_scenes=6, max_capabilities=6):
    """Pairs over small id ranges; scene and capability ids deliberately overlap."""
    scenes = draw(st.integers(1, max_scenes))
    capabilities = draw(st.integers(1, max_capabilities))
    everything = list(
        itertools.product(range(1, scenes + 1), range(1, capabilities + 1))
    )
    return draw(st.lists(st.sampled_from(everything), unique=True, max_size=20))


@st.composite
def events(draw):
    """Pairs, tables, and a slot count of at least what they need."""
    pairs = draw(pair_sets())
    tables = draw(st.integers(1, 4))
    slots = minimum_slots(pairs, tables) + draw(st.integers(0, 2))
    return pairs, slots, tables


@st.composite
def events_with_availability(draw):
    pairs, slots, tables = draw(events())
    slots = max(slots, 1)
    slot_sets = st.frozensets(st.integers(0, slots - 1), max_size=slots)
    scenes = sorted({s for s, _ in pairs})
    capabilities = sorted({c for _, c in pairs})
    scene_slots = {s: draw(slot_sets) for s in scenes if draw(st.booleans())}
    capability_slots = {c: draw(slot_sets) for c in capabilities if draw(st.booleans())}
    return pairs, slots, tables, scene_slots, capability_slots


# -- checks ----------------------------------------------------------------------


def assert_valid(
    schedule, pairs, slots, tables, scene_slots=None, capability_slots=None
):
    """No double booking, availability kept, every pair placed or explained once."""
    meetings = schedule.meetings
    for key in (
        lambda m: (m.slot, m.table),
        lambda m: (m.slot, m.scene_id),
        lambda m: (m.slot, m.capability_id),
    ):
        assert len({key(m) for m in meetings}) == len(meetings)
    for m in meetings:
        assert 0 <= m.slot < slots
        assert 1 <= m.table <= tables
        assert m.slot in (scene_slots or {}).get(m.scene_id, range(slots))
        assert m.slot in (capability_slots or {}).get(m.capability_id, range(slots))
    placed = [(m.scene_id, m.capability_id) for m in meetings]
    left = [(u.scene_id, u.capability_id) for u in schedule.unscheduled]
    assert sorted(placed + left) == sorted(pairs)
    assert all(u.reason for u in schedule.unscheduled)
    assert schedule.slots_used == len({m.slot for m in meetings})
    assert list(meetings) == sorted(meetings, key=lambda m: (m.slot, m.table))


def as_previous(schedule):
    return {(m.scene_id, m.capability_id): (m.slot, m.table) for m in schedule.meetings}


# -- minimum_slots and the fewest-slot timetable ---------------------------------


def test_minimum_slots_is_the_busiest_participant_or_meetings_over_tables():
    star = [(1, c) for c in range(1, 6)]
    assert minimum_slots(star, tables=10) == 5
    matching = [(i, i) for i in range(1, 10)]
    assert minimum_slots(matching, tables=4) == 3
    assert minimum_slots([], tables=3) == 0
    with pytest.raises(PlanningError):
        minimum_slots(star, tables=0)


@FAST
@given(events())
def test_without_availability_the_fewest_slots_hold_the_meetings_evenly(event):
    pairs, slots, tables = event
    schedule = schedule_meetings(pairs, slots=slots, tables=tables)
    assert_valid(schedule, pairs, slots, tables)
    assert not schedule.unscheduled
    k = minimum_slots(pairs, tables)
    assert {m.slot for m in schedule.meetings} == set(range(k))
    assert schedule.slots_used == k
    per_slot = Counter(m.slot for m in schedule.meetings)
    if k:
        assert set(per_slot.values()) <= {len(pairs) // k, -(-len(pairs) // k)}


def test_a_complete_bipartite_event_needs_exactly_its_degree():
    pairs = [(s, c) for s in range(1, 6) for c in range(1, 6)]
    schedule = schedule_meetings(pairs, slots=5, tables=5)
    assert_valid(schedule, pairs, 5, 5)
    assert Counter(m.slot for m in schedule.meetings) == {a: 5 for a in range(5)}


def test_too_few_slots_raise_with_the_number_needed():
    pairs = [(1, c) for c in range(1, 5)]
    with pytest.raises(PlanningError, match="需要至少 4 个时段，活动只有 3 个"):
        schedule_meetings(pairs, slots=3, tables=10)
    with pytest.raises(PlanningError, match="需要至少 3 个时段"):
        schedule_meetings([(i, i) for i in range(5)], slots=2, tables=2)


def test_duplicate_pairs_are_refused():
    with pytest.raises(PlanningError, match="配对重复"):
        schedule_meetings([(1, 2), (1, 2)], slots=3, tables=3)


def test_an_empty_event_has_an_empty_timetable():
    schedule = schedule_meetings([], slots=4, tables=2)
    assert schedule.meetings == () and schedule.slots_used == 0


# -- availability ----------------------------------------------------------------


@FAST
@given(events_with_availability())
def test_availability_is_respected_and_every_pair_is_accounted_for(event):
    pairs, slots, tables, scene_slots, capability_slots = event
    schedule = schedule_meetings(
        pairs,
        slots=slots,
        tables=tables,
        scene_slots=scene_slots,
        capability_slots=capability_slots,
    )
    assert_valid(schedule, pairs, slots, tables, scene_slots, capability_slots)


def test_an_afternoon_only_participant_meets_in_the_afternoon():
    pairs = [(1, 1), (1, 2), (2, 1)]
    afternoon = frozenset({2, 3})
    schedule = schedule_meetings(
        pairs, slots=4, tables=2, capability_slots={1: afternoon}
    )
    assert_valid(schedule, pairs, 4, 2, capability_slots={1: afternoon})
    assert not schedule.unscheduled
    assert {m.slot for m in schedule.meetings if m.capability_id == 1} == {2, 3}


def test_an_announced_meeting_moves_only_when_a_late_pairing_needs_its_slot():
    # Scene 1 can come only in slot 0, where capability 1 already meets scene 2:
    # swapping scene 2's two meetings (an alternating path) frees slot 0.
    previous = {(2, 1): (0, 1), (2, 2): (1, 1)}
    pairs = [(2, 1), (2, 2), (1, 1)]
    schedule = schedule_meetings(
        pairs, slots=2, tables=2, scene_slots={1: {0}}, previous=previous
    )
    assert_valid(schedule, pairs, 2, 2, scene_slots={1: {0}})
    assert not schedule.unscheduled
    assert {
        (m.scene_id, m.capability_id, m.old_slot, m.new_slot) for m in schedule.moved
    } == {
        (2, 1, 0, 1),
        (2, 2, 1, 0),
    }


def test_tight_availability_seats_the_most_meetings_possible():
    # Scenes 1 and 2 come only in slot 0: seating 1-2 there would leave both
    # others out; the most that fit is 1-1 and 2-2.
    pairs = [(1, 1), (1, 2), (2, 2)]
    scene_slots = {1: {0}, 2: {0}}
    schedule = schedule_meetings(pairs, slots=2, tables=3, scene_slots=scene_slots)
    assert_valid(schedule, pairs, 2, 3, scene_slots)
    assert {(m.scene_id, m.capability_id) for m in schedule.meetings} == {
        (1, 1),
        (2, 2),
    }
    assert [u.reason for u in schedule.unscheduled] == [
        "场景方在可参会时段内已无空闲时段"
    ]


@pytest.mark.parametrize(
    ("scene_slots", "capability_slots", "tables", "reason"),
    [
        ({1: {0}}, None, 2, "场景方在可参会时段内已无空闲时段"),
        (None, {1: {0}}, 2, "能力方在可参会时段内已无空闲时段"),
        ({1: {0}, 2: {0}}, {1: {0}, 2: {0}}, 1, "所有桌位已满"),
        ({1: {0}}, {2: {1}}, 2, "场景方与能力方没有共同的可参会时段"),
        ({1: set()}, None, 2, "场景方没有可参会的时段"),
    ],
)
def test_pairings_that_cannot_be_placed_say_why(
    scene_slots, capability_slots, tables, reason
):
    pairs = [(1, 1), (1, 2), (2, 1), (2, 2)]
    schedule = schedule_meetings(
        pairs,
        slots=2,
        tables=tables,
        scene_slots=scene_slots,
        capability_slots=capability_slots,
    )
    assert_valid(schedule, pairs, 2, tables, scene_slots, capability_slots)
    assert any(reason in u.reason for u in schedule.unscheduled), schedule.unscheduled


# -- determinism and rescheduling ------------------------------------------------


@FAST
@given(events_with_availability(), st.randoms(use_true_random=False))
def test_the_timetable_does_not_depend_on_input_order(event, random):
    pairs, slots, tables, scene_slots, capability_slots = event
    first = schedule_meetings(
        pairs,
        slots=slots,
        tables=tables,
        scene_slots=scene_slots,
        capability_slots=capability_slots,
    )
    shuffled = list(pairs)
    random.shuffle(shuffled)
    previous = as_previous(first)
    if previous:
        previous.pop(next(iter(previous)))
    items = list(previous.items())
    random.shuffle(items)
    again = schedule_meetings(
        shuffled,
        slots=slots,
        tables=tables,
        scene_slots=dict(reversed(list(scene_slots.items()))),
        capability_slots={c: set(s) for c, s in capability_slots.items()},
    )
    assert again == first
    once = schedule_meetings(pairs, slots=slots, tables=tables, previous=dict(items))
    twice = schedule_meetings(
        shuffled, slots=slots, tables=tables, previous=dict(sorted(items))
    )
    assert once == twice


@FAST
@given(events(), st.data())
def test_rescheduling_after_a_change_keeps_the_other_meetings_put(event, data):
    pairs, slots, tables = event
    if not pairs:
        return
    first = schedule_meetings(pairs, slots=slots, tables=tables)
    removed = data.draw(st.sampled_from(pairs))
    added = (data.draw(st.integers(1, 8)), data.draw(st.integers(1, 8)))
    changed = [p for p in pairs if p != removed]
    if added not in changed:
        changed.append(added)
    if minimum_slots(changed, tables) > slots:
        return
    previous = as_previous(first)
    again = schedule_meetings(changed, slots=slots, tables=tables, previous=previous)
    assert_valid(again, changed, slots, tables)
    assert not again.unscheduled
    gone = Meeting(*removed, *previous[removed])
    assert again.dropped == ((gone,) if removed not in changed else ())
    now = as_previous(again)
    moved = {(m.scene_id, m.capability_id) for m in again.moved}
    for pair, place in previous.items():
        if pair in now and pair not in moved:
            assert now[pair] == place
    for m in again.moved:
        assert previous[(m.scene_id, m.capability_id)] == (m.old_slot, m.old_table)
        assert now[(m.scene_id, m.capability_id)] == (m.new_slot, m.new_table)
    # Where the added pairing had a free seat, nothing else moved at all.
    others = [m for m in first.meetings if (m.scene_id, m.capability_id) != removed]
    busy = {(m.slot, "s", m.scene_id) for m in others}
    busy |= {(m.slot, "c", m.capability_id) for m in others}
    seated = Counter(m.slot for m in others)
    if added in pairs or any(
        (a, "s", added[0]) not in busy
        and (a, "c", added[1]) not in busy
        and seated[a] < tables
        for a in range(slots)
    ):
        assert again.moved == ()


def test_a_late_pairing_with_no_free_seat_moves_a_meeting_and_says_so():
    pairs = [(1, 1), (2, 2)]
    first = schedule_meetings(pairs, slots=2, tables=1)
    assert {m.slot for m in first.meetings} == {0, 1}
    again = schedule_meetings(
        [*pairs, (1, 2)], slots=3, tables=1, previous=as_previous(first)
    )
    assert_valid(again, [*pairs, (1, 2)], 3, 1)
    assert not again.unscheduled
    assert again.moved == ()  # slot 2 was free: the new meeting went there
    crowded = schedule_meetings(
        [(1, 1), (2, 2), (1, 2), (2, 1)],
        slots=2,
        tables=2,
        previous={(1, 1): (0, 1), (2, 2): (1, 1)},
    )
    assert_valid(crowded, [(1, 1), (2, 2), (1, 2), (2, 1)], 2, 2)
    assert not crowded.unscheduled
    moved = {
        (m.scene_id, m.capability_id): (m.old_slot, m.new_slot) for m in crowded.moved
    }
    assert moved == {(2, 2): (1, 0)} or moved == {(1, 1): (0, 1)}


def test_a_cancelled_pairing_is_reported_as_dropped():
    first = schedule_meetings([(1, 1), (1, 2)], slots=2, tables=1)
    again = schedule_meetings([(1, 2)], slots=2, tables=1, previous=as_previous(first))
    assert [(m.scene_id, m.capability_id) for m in again.dropped] == [(1, 1)]
    assert again.moved == ()


# -- tables ----------------------------------------------------------------------


@FAST
@given(events())
def test_each_scene_stays_at_one_table_when_there_are_enough_tables(event):
    pairs, slots, tables = event
    scenes = {s for s, _ in pairs}
    tables = max(tables, len(scenes))
    slots = max(slots, minimum_slots(pairs, tables))
    schedule = schedule_meetings(pairs, slots=slots, tables=tables)
    seats = {}
    for m in schedule.meetings:
        seats.setdefault(m.scene_id, set()).add(m.table)
    assert all(len(t) == 1 for t in seats.values())


def test_rescheduling_keeps_the_announced_table():
    previous = {(1, 1): (0, 4), (2, 2): (0, 2)}
    again = schedule_meetings(
        [(1, 1), (2, 2), (3, 3)], slots=1, tables=5, previous=previous
    )
    assert as_previous(again)[(1, 1)] == (0, 4)
    assert as_previous(again)[(2, 2)] == (0, 2)
    assert again.moved == ()


# -- pairing ---------------------------------------------------------------------


def limits_of(pairings, max_per_scene, max_per_capability, capacity):
    return (
        max(Counter(s for s, _ in pairings).values(), default=0) <= max_per_scene
        and max(Counter(c for _, c in pairings).values(), default=0)
        <= max_per_capability
        and len(pairings) <= capacity
    )


@st.composite
def pairing_problems(draw):
    pairs = draw(pair_sets(max_scenes=4, max_capabilities=4))
    pairs = pairs[:8]
    scores = [draw(st.integers(0, 20)) / 10 for _ in pairs]
    candidates = [Candidate(s, c, w) for (s, c), w in zip(pairs, scores, strict=True)]
    locked = frozenset(
        draw(st.lists(st.sampled_from(pairs), max_size=2)) if pairs else []
    )
    rest = [p for p in pairs if p not in locked]
    excluded = frozenset(
        draw(st.lists(st.sampled_from(rest), max_size=2)) if rest else []
    )
    return {
        "candidates": candidates,
        "max_per_scene": draw(st.integers(0, 3)),
        "max_per_capability": draw(st.integers(0, 3)),
        "capacity": draw(st.integers(0, 6)),
        "min_score": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "locked": locked,
        "excluded": excluded,
    }


def brute_force_best(problem, allowed=lambda chosen: True):
    """The best total over every subset within the limits (and `allowed`)."""
    score = {(c.scene_id, c.capability_id): c.score for c in problem["candidates"]}
    locked = sorted(problem["locked"])
    options = [
        p
        for p, w in sorted(score.items())
        if w >= problem["min_score"]
        and w > 0
        and p not in problem["locked"]
        and p not in problem["excluded"]
    ]
    best = None
    for size in range(len(options) + 1):
        for subset in itertools.combinations(options, size):
            chosen = locked + list(subset)
            if allowed(chosen) and limits_of(
                chosen,
                problem["max_per_scene"],
                problem["max_per_capability"],
                problem["capacity"],
            ):
                total = math.fsum(score[p] for p in chosen)
                best = total if best is None else max(best, total)
    return best


@settings(FAST, max_examples=150)
@given(pairing_problems())
def test_the_proposal_is_as_good_as_brute_force_and_within_every_limit(problem):
    best = brute_force_best(problem)
    if best is None:  # the locked pairs alone break a limit
        with pytest.raises(PlanningError, match="锁定"):
            propose_pairings(**problem)
        return
    proposal = propose_pairings(**problem)
    chosen = [(p.scene_id, p.capability_id) for p in proposal.pairings]
    assert proposal.total_score == pytest.approx(best, abs=1e-9)
    assert proposal.optimality_gap == 0.0
    assert limits_of(
        chosen,
        problem["max_per_scene"],
        problem["max_per_capability"],
        problem["capacity"],
    )
    assert set(problem["locked"]) <= set(chosen)
    assert not set(problem["excluded"]) & set(chosen)
    for p in proposal.pairings:
        if (p.scene_id, p.capability_id) not in problem["locked"]:
            assert p.score >= problem["min_score"] and p.score > 0
    assert chosen == sorted(chosen)
    assert (
        proposal.unconstrained_total + 1e-9
        >= proposal.best_within_capacity
        >= proposal.total_score - 1e-9
    )


@FAST
@given(pairing_problems(), st.randoms(use_true_random=False))
def test_the_proposal_does_not_depend_on_candidate_order(problem, random):
    try:
        first = propose_pairings(**problem)
    except PlanningError:
        return
    shuffled = list(problem["candidates"])
    random.shuffle(shuffled)
    assert propose_pairings(**{**problem, "candidates": shuffled}) == first


def test_the_proposal_is_not_greedy():
    # Greedy takes 1-1 (0.9) and stops; the best is 1-2 plus 2-1.
    candidates = [Candidate(1, 1, 0.9), Candidate(1, 2, 0.8), Candidate(2, 1, 0.85)]
    proposal = propose_pairings(
        candidates, max_per_scene=1, max_per_capability=1, capacity=10, min_score=0.1
    )
    assert [(p.scene_id, p.capability_id) for p in proposal.pairings] == [
        (1, 2),
        (2, 1),
    ]
    assert proposal.total_score == pytest.approx(1.65)
    assert proposal.unconstrained_total == pytest.approx(2.55)
    assert proposal.unconstrained_count == 3
    assert proposal.best_within_capacity == pytest.approx(2.55)
    assert proposal.scenes_at_limit == (1,)
    assert proposal.capabilities_at_limit == (1,)
    assert not proposal.capacity_binding
    assert len(proposal.binding) == 2


def test_capacity_and_min_score_bound_the_proposal():
    candidates = [
        Candidate(s, c, s / 10 + c / 100) for s in range(1, 6) for c in range(1, 6)
    ]
    proposal = propose_pairings(
        candidates, max_per_scene=5, max_per_capability=5, capacity=3, min_score=0.2
    )
    assert len(proposal.pairings) == 3
    assert all(p.scene_id == 5 for p in proposal.pairings)
    assert proposal.capacity_binding
    assert "洽谈位已排满" in proposal.binding[0]
    assert proposal.unconstrained_count == 20
    assert proposal.best_within_capacity == pytest.approx(proposal.total_score)


def test_limits_are_capped_by_the_slots_a_participant_can_attend():
    candidates = [Candidate(1, c, 1.0) for c in range(1, 10)]
    capped = propose_pairings(
        candidates,
        max_per_scene=8,
        max_per_capability=2,
        capacity=100,
        min_score=0,
        slots=3,
    )
    assert len(capped.pairings) == 3
    afternoon = propose_pairings(
        candidates,
        max_per_scene=8,
        max_per_capability=2,
        capacity=100,
        min_score=0,
        slots=3,
        slots_per_scene={1: 2},
    )
    assert len(afternoon.pairings) == 2


@FAST
@given(pairing_problems(), st.integers(1, 4), st.integers(1, 3))
def test_without_availability_every_proposal_can_be_scheduled(problem, slots, tables):
    problem = {**problem, "locked": frozenset(), "capacity": slots * tables}
    proposal = propose_pairings(**problem, slots=slots)
    pairs = [(p.scene_id, p.capability_id) for p in proposal.pairings]
    assert minimum_slots(pairs, tables) <= slots
    assert not schedule_meetings(pairs, slots=slots, tables=tables).unscheduled


def test_a_locked_pairing_missing_from_the_candidates_is_kept_at_score_zero():
    proposal = propose_pairings(
        [Candidate(1, 1, 0.9)],
        max_per_scene=1,
        max_per_capability=1,
        capacity=5,
        min_score=0.5,
        locked={(2, 2)},
        excluded={(1, 1)},
    )
    assert proposal.pairings == (Candidate(2, 2, 0.0),)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"locked": {(1, 1), (1, 2)}}, "场景 1 锁定了 2 场会面，超过其上限 1 场"),
        ({"locked": {(1, 1), (2, 1)}}, "能力 1 锁定了 2 场会面"),
        ({"locked": {(1, 1)}, "excluded": {(1, 1)}}, "既被锁定又被移除"),
        ({"capacity": 0, "locked": {(1, 1)}}, "超过活动容量"),
        ({"max_per_scene": -1}, "不能为负数"),
        ({"candidates": [Candidate(1, 1, 0.5), Candidate(1, 1, 0.6)]}, "候选配对重复"),
        ({"candidates": [Candidate(1, 1, float("nan"))]}, "分数无效"),
    ],
)
def test_impossible_requests_raise_in_chinese(arguments, message):
    problem = {
        "candidates": [Candidate(s, c, 0.5) for s in (1, 2) for c in (1, 2)],
        "max_per_scene": 1,
        "max_per_capability": 1,
        "capacity": 4,
        "min_score": 0.1,
        **arguments,
    }
    with pytest.raises(PlanningError, match=message):
        propose_pairings(**problem)


def test_the_fallback_integer_programme_agrees(monkeypatch):
    candidates = [
        Candidate(s, c, (s * 7 + c * 3) % 10 / 10) for s in range(6) for c in range(6)
    ]
    limits = {
        "max_per_scene": 2,
        "max_per_capability": 2,
        "capacity": 7,
        "min_score": 0.1,
    }
    exact = propose_pairings(candidates, **limits)

    class Failed:
        status = 4

    monkeypatch.setattr(planner.optimize, "linprog", lambda *a, **k: Failed())
    fallback = propose_pairings(candidates, **limits)
    assert fallback.total_score == pytest.approx(exact.total_score)
    assert fallback.optimality_gap == pytest.approx(0.0, abs=1e-6)


def test_the_planner_imports_without_flask_or_sqlalchemy():
    path = Path(planner.__file__)
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('planner', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['planner'] = module\n"
        "spec.loader.exec_module(module)\n"
        "assert not {'flask', 'sqlalchemy', 'marketplace'} & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- delegations: people attend, not items ----------------------------------------


@st.composite
def events_with_delegations(draw):
    """Pairs whose items belong to a few organizations on each side."""
    pairs = draw(pair_sets())
    tables = draw(st.integers(1, 4))
    scene_party = {
        s: f"unit-{draw(st.integers(1, 3))}" for s in sorted({s for s, _ in pairs})
    }
    capability_party = {
        c: f"vendor-{draw(st.integers(1, 3))}" for c in sorted({c for _, c in pairs})
    }
    parties = {"scene_party": scene_party, "capability_party": capability_party}
    slots = minimum_slots(pairs, tables, **parties) + draw(st.integers(0, 2))
    return pairs, slots, tables, parties


@FAST
@given(events_with_delegations())
def test_an_organization_is_in_one_meeting_at_a_time_in_the_fewest_slots(event):
    pairs, slots, tables, parties = event
    schedule = schedule_meetings(pairs, slots=slots, tables=tables, **parties)
    assert_valid(schedule, pairs, slots, tables)
    for side, party in (
        ("scene_id", "scene_party"),
        ("capability_id", "capability_party"),
    ):
        seen = Counter(
            (m.slot, parties[party][getattr(m, side)]) for m in schedule.meetings
        )
        assert max(seen.values(), default=1) == 1
    assert not schedule.unscheduled
    assert schedule.slots_used == minimum_slots(pairs, tables, **parties)


def test_four_scenes_of_one_unit_meet_one_after_another_not_at_four_tables():
    # The demo event's fault: 江阴市交通运输局's four scenes at tables 1-4 at 09:00.
    pairs = [(1, 11), (2, 12), (3, 13), (4, 14)]
    one_unit = {"scene_party": {1: "交通局", 2: "交通局", 3: "交通局", 4: "交通局"}}
    assert minimum_slots(pairs, 4) == 1
    assert minimum_slots(pairs, 4, **one_unit) == 4
    schedule = schedule_meetings(pairs, slots=4, tables=4, **one_unit)
    assert sorted(m.slot for m in schedule.meetings) == [0, 1, 2, 3]
    with pytest.raises(PlanningError, match="一个单位代表最多 4 场会面"):
        schedule_meetings(pairs, slots=3, tables=4, **one_unit)


def test_a_unit_sending_two_people_holds_two_meetings_at_once():
    pairs = [(1, 11), (2, 12), (3, 13), (4, 14)]
    two_people = {
        "scene_party": {
            1: ("交通局", 1),
            2: ("交通局", 2),
            3: ("交通局", 1),
            4: ("交通局", 2),
        }
    }
    schedule = schedule_meetings(pairs, slots=2, tables=4, **two_people)
    assert Counter(m.slot for m in schedule.meetings) == {0: 2, 1: 2}


@st.composite
def pairing_problems_with_delegations(draw):
    problem = draw(pairing_problems())
    scenes = sorted({c.scene_id for c in problem["candidates"]})
    capabilities = sorted({c.capability_id for c in problem["candidates"]})
    problem["scene_party"] = {s: f"u{draw(st.integers(1, 2))}" for s in scenes}
    problem["capability_party"] = {
        c: f"v{draw(st.integers(1, 2))}" for c in capabilities
    }
    problem["party_meetings"] = {
        key: draw(st.integers(0, 3))
        for key in ("u1", "u2", "v1", "v2")
        if draw(st.booleans())
    }
    return problem


@settings(FAST, max_examples=150)
@given(pairing_problems_with_delegations())
def test_delegation_caps_are_kept_and_the_proposal_is_still_the_best(problem):
    caps = problem["party_meetings"]

    def within_caps(chosen):
        load = Counter(problem["scene_party"][s] for s, _ in chosen)
        load.update(problem["capability_party"][c] for _, c in chosen)
        return all(load[key] <= cap for key, cap in caps.items())

    best = brute_force_best(problem, within_caps)
    if best is None:
        with pytest.raises(PlanningError, match="锁定"):
            propose_pairings(**problem)
        return
    proposal = propose_pairings(**problem)
    chosen = [(p.scene_id, p.capability_id) for p in proposal.pairings]
    assert within_caps(chosen)
    assert proposal.total_score == pytest.approx(best, abs=1e-9)
    assert proposal.optimality_gap == 0.0
