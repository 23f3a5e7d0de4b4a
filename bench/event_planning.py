"""Planning one large matchmaking event: exact pairing, then the timetable.

A benchmark, not a test. Run from the project root (a few seconds; about a minute
with ``--matcher``)::

    .venv/bin/python bench/event_planning.py                 # 300 x 1,000, 12 x 40
    .venv/bin/python bench/event_planning.py --matcher       # real matcher scores
    .venv/bin/python bench/event_planning.py --scenes 1000 --capabilities 5000 \\
        --slots 16 --tables 120                              # a bigger event

What it prints, after the machine's core count:

1. Scores: ``--scenes`` x ``--capabilities`` match scores. By default a seeded
   synthetic matrix shaped like the matcher's: a few popular domains, topic
   similarity, a per-vendor quality skew, most pairs weak, rounded to 4 decimals
   as the service stores them. ``--matcher`` scores a corpus generated as in
   bench/matching_speed.py with ``Matcher.score_all`` instead (jieba included).
2. For each of ``--repeat`` runs, timed separately: building one `Candidate` per
   pair (as ``marketplace.events.services.propose_pairings`` does), the pairing
   (`propose_pairings`, limits ``--per-scene`` / ``--per-capability``, capacity
   slots x tables, ``--min-score``), and the timetable without availability
   (`schedule_meetings`). Then the figures of the last run: optimality gap (0 for
   a proven optimum), total score against the unconstrained best, binding limits,
   slots used against `minimum_slots`, meetings, and a check of the timetable.
3. Variants: a third of the scenes only in the morning and a quarter of the
   capabilities only in the afternoon, on the same pairings (meetings placed, left
   out and why) and on pairings proposed with the pairs that share no slot
   excluded; and a late change (one pairing cancelled, one added) rescheduled
   against the first timetable (meetings moved).

Medians (and best) of the runs are printed; goal: pairing + timetable < 5 s.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from marketplace.events.planner import (
    Candidate,
    Schedule,
    minimum_slots,
    propose_pairings,
    schedule_meetings,
)

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 5.0


def synthetic_scores(scenes: int, capabilities: int, seed: int) -> np.ndarray:
    """Scores in [0, 1] with the matcher's shape: mostly weak, a few strong."""
    rng = np.random.default_rng(seed)
    domains = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    scene_domain = rng.choice(len(domains), size=scenes, p=domains)
    capability_domain = rng.choice(len(domains), size=capabilities, p=domains)
    # Topic vectors: sparse-ish nonnegative, so cosine similarity is mostly small.
    scene_topics = rng.gamma(0.3, size=(scenes, 24))
    capability_topics = rng.gamma(0.3, size=(capabilities, 24))
    scene_topics /= np.linalg.norm(scene_topics, axis=1, keepdims=True)
    capability_topics /= np.linalg.norm(capability_topics, axis=1, keepdims=True)
    similarity = scene_topics @ capability_topics.T
    same_domain = scene_domain[:, None] == capability_domain[None, :]
    quality = rng.beta(2, 5, size=capabilities)  # a few vendors match everything
    scores = 0.55 * similarity**2 + 0.25 * same_domain + 0.2 * quality[None, :]
    return np.round(np.clip(scores, 0, 1), 4)


def matcher_scores(scenes: int, capabilities: int, seed: int) -> np.ndarray:
    """``Matcher.score_all`` on a corpus generated as bench/matching_speed.py does."""
    sys.path.insert(0, str(ROOT / "bench"))
    import jieba
    import matching_speed

    from matching import Matcher

    jieba.setLogLevel(60)
    corpus = matching_speed.generate(capabilities, scenes, seed)
    matcher = Matcher().fit(corpus.capability_items())
    scores = matcher.score_all(corpus.scene_items())
    return np.round(np.asarray(scores, dtype=np.float64), 4)


def timed(action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """The action's result and its wall-clock seconds."""
    started = time.perf_counter()
    result = action(*args, **kwargs)
    return result, time.perf_counter() - started


def all_candidates(scores: np.ndarray) -> list[Candidate]:
    """One candidate per pair, ids from 1, as the event service builds them."""
    return [
        Candidate(i + 1, j + 1, float(scores[i, j]))
        for i in range(scores.shape[0])
        for j in range(scores.shape[1])
    ]


def check(schedule: Schedule) -> str:
    """'ok' when nobody and no table is in two meetings at once."""
    meetings = schedule.meetings
    for key in (
        lambda m: (m.slot, m.table),
        lambda m: (m.slot, m.scene_id),
        lambda m: (m.slot, m.capability_id),
    ):
        if len({key(m) for m in meetings}) != len(meetings):
            return "DOUBLE BOOKING"
    return "ok"


def median_line(label: str, seconds: list[float]) -> str:
    return (
        f"  {label:<34} median {statistics.median(seconds):7.3f} s"
        f"   best {min(seconds):7.3f} s"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Event planning speed: exact pairing and timetable.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--scenes", type=int, default=300)
    add("--capabilities", type=int, default=1000)
    add("--slots", type=int, default=12)
    add("--tables", type=int, default=40)
    add("--per-scene", type=int, default=4, help="most meetings of one scene")
    add("--per-capability", type=int, default=6, help="most meetings of a capability")
    add("--min-score", type=float, default=0.35)
    add("--repeat", type=int, default=5, help="timed runs")
    add("--seed", type=int, default=2026)
    add("--matcher", action="store_true", help="real matcher scores (slower)")
    args = parser.parse_args(argv)
    if min(args.scenes, args.capabilities, args.slots, args.tables, args.repeat) < 1:
        parser.error("sizes and --repeat must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print("event planning benchmark")
    print(
        f"cores: {os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})"
        f"  python {platform.python_version()}  numpy {np.__version__}"
        f"  scipy {scipy.__version__}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")

    source = matcher_scores if args.matcher else synthetic_scores
    scores, seconds = timed(source, args.scenes, args.capabilities, args.seed)
    eligible = int((scores >= args.min_score).sum())
    print(
        f"\n1. scores: {scores.shape[0]} scenes x {scores.shape[1]} capabilities"
        f" ({'matcher' if args.matcher else 'synthetic'}, {seconds:.1f} s);"
        f" {eligible:,} pairs ({eligible / scores.size:.1%}) >= min score"
        f" {args.min_score}; quantiles 50/90/99%:"
        f" {' / '.join(f'{q:.3f}' for q in np.quantile(scores, [0.5, 0.9, 0.99]))}"
    )
    capacity = args.slots * args.tables
    limits = {
        "max_per_scene": args.per_scene,
        "max_per_capability": args.per_capability,
        "capacity": capacity,
        "min_score": args.min_score,
        "slots": args.slots,
    }
    print(
        f"\n2. {args.slots} slots x {args.tables} tables = {capacity} meetings at most;"
        f" limits {args.per_scene} per scene, {args.per_capability} per capability"
    )
    building, pairing, scheduling = [], [], []
    for _ in range(args.repeat):
        candidates, seconds = timed(all_candidates, scores)
        building.append(seconds)
        proposal, seconds = timed(propose_pairings, candidates, **limits)
        pairing.append(seconds)
        pairs = [(p.scene_id, p.capability_id) for p in proposal.pairings]
        schedule, seconds = timed(
            schedule_meetings, pairs, slots=args.slots, tables=args.tables
        )
        scheduling.append(seconds)
    both = [p + s for p, s in zip(pairing, scheduling, strict=True)]
    print(median_line(f"build {len(candidates):,} candidates", building))
    print(median_line("propose_pairings", pairing))
    print(median_line("schedule_meetings", scheduling))
    verdict = "met" if statistics.median(both) < GOAL_SECONDS else "MISSED"
    print(
        median_line("pairing + timetable", both)
        + f"   [goal < {GOAL_SECONDS} s: {verdict}]"
    )
    gap_pct = 1 - proposal.total_score / proposal.unconstrained_total
    print(
        f"  pairings {len(proposal.pairings)}, total score {proposal.total_score:.4f},"
        f" optimality gap {proposal.optimality_gap:g}"
    )
    print(
        f"  unconstrained best {proposal.unconstrained_total:.4f}"
        f" ({proposal.unconstrained_count:,} pairs): the proposal has"
        f" {proposal.total_score / proposal.unconstrained_total:.1%} of it"
        f" ({gap_pct:.1%} below)"
    )
    print(
        f"  best within capacity alone {proposal.best_within_capacity:.4f}: the"
        " per-participant limits cost"
        f" {1 - proposal.total_score / proposal.best_within_capacity:.1%}"
    )
    print(f"  binding: {'; '.join(proposal.binding) or 'none'}")
    per_slot = Counter(m.slot for m in schedule.meetings)
    print(
        f"  timetable: {len(schedule.meetings)} meetings in {schedule.slots_used} slots"
        f" (minimum_slots {minimum_slots(pairs, args.tables)}), per slot"
        f" {min(per_slot.values(), default=0)}..{max(per_slot.values(), default=0)},"
        f" unscheduled {len(schedule.unscheduled)}, check {check(schedule)}"
    )
    seats: dict[int, set[int]] = {}
    for m in schedule.meetings:
        seats.setdefault(m.scene_id, set()).add(m.table)
    seated = sum(len(t) == 1 for t in seats.values())
    print(f"  scenes seated at one table all day: {seated} of {len(seats)}")

    print("\n3. variants")
    morning = frozenset(range(args.slots // 2))
    afternoon = frozenset(range(args.slots // 2, args.slots))
    scene_slots = {s: morning for s in range(1, args.scenes + 1) if s % 3 == 0}
    capability_slots = {
        c: afternoon for c in range(1, args.capabilities + 1) if c % 4 == 0
    }
    limited, seconds = timed(
        schedule_meetings,
        pairs,
        slots=args.slots,
        tables=args.tables,
        scene_slots=scene_slots,
        capability_slots=capability_slots,
    )
    reasons = Counter(u.reason for u in limited.unscheduled)
    print(
        "  availability (1/3 of scenes morning only, 1/4 of capabilities"
        f" afternoon only): {seconds:.3f} s,"
        f" placed {len(limited.meetings)}, left out {len(limited.unscheduled)},"
        f" check {check(limited)}"
    )
    for reason, count in reasons.most_common():
        print(f"    {count:4d}  {reason}")
    # The pairing sees slot counts, not which slots: pairs with no common slot
    # go in `excluded`, and the proposal then fits the availability.
    apart = {
        (s, c)
        for s in scene_slots
        for c in capability_slots
        if not scene_slots[s] & capability_slots[c]
    }
    aware, seconds = timed(propose_pairings, candidates, **limits, excluded=apart)
    aware_pairs = [(p.scene_id, p.capability_id) for p in aware.pairings]
    fitted = schedule_meetings(
        aware_pairs,
        slots=args.slots,
        tables=args.tables,
        scene_slots=scene_slots,
        capability_slots=capability_slots,
    )
    print(
        f"  same, {len(apart):,} pairs with no common slot excluded from the pairing:"
        f" {seconds:.3f} s, {len(aware.pairings)} pairings (total"
        f" {aware.total_score:.4f}), placed {len(fitted.meetings)}, left out"
        f" {len(fitted.unscheduled)}, check {check(fitted)}"
    )
    previous = {
        (m.scene_id, m.capability_id): (m.slot, m.table) for m in schedule.meetings
    }
    unused = scores.copy()
    for scene, capability in pairs:
        unused[scene - 1, capability - 1] = -np.inf
    best = np.unravel_index(np.argmax(unused), unused.shape)
    added = (int(best[0]) + 1, int(best[1]) + 1)
    changed = [*pairs[1:], added]
    again, seconds = timed(
        schedule_meetings,
        changed,
        slots=args.slots,
        tables=args.tables,
        previous=previous,
    )
    print(
        f"  late change (cancel {pairs[0]}, add {added}): {seconds:.3f} s,"
        f" moved {len(again.moved)}, dropped {len(again.dropped)},"
        f" unscheduled {len(again.unscheduled)}, check {check(again)}"
    )


if __name__ == "__main__":
    main()
