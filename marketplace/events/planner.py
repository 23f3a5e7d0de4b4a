"""Planning a matchmaking event (供需对接会): who meets whom, when, and at which table.

Pure functions over ids and numbers, no Flask or database, so the service layer, the
benchmark and the tests call them alike. `propose_pairings` picks the 1:1 meetings
with the highest total match score within the event's limits, exactly (a linear
programme whose vertices are integral). `schedule_meetings` gives each accepted
pairing a slot and a table (an equitable bipartite edge colouring), keeps announced
meetings where they were, and explains what it could not place.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse
from scipy.sparse.csgraph import maximum_flow

Pair = tuple[int, int]

# Integral vertices come back within solver tolerance of 0 or 1.
_INTEGRALITY_TOLERANCE = 1e-6
# When availability leaves pairings out, an integer programme may seat more: up to
# this many (pairing, slot) variables (an event of 480 meetings in 12 slots has
# under 6,000), and this many branch-and-bound nodes.
_EXACT_VARIABLES = 30_000
_EXACT_NODES = 200


class PlanningError(ValueError):
    """The event cannot be planned as asked; the message (Chinese) is for the user."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible meeting of a scene and a capability, with its match score."""

    scene_id: int
    capability_id: int
    score: float


@dataclass(frozen=True, slots=True)
class Proposal:
    """The proposed pairings and how they compare with the unconstrained best.

    Attributes
    ----------
    pairings : tuple of Candidate
        Locked pairings plus the chosen ones, sorted by (scene_id, capability_id).
    total_score : float
        Sum of the pairings' scores.
    unconstrained_total, unconstrained_count : float, int
        Score and number of every locked or eligible pairing (score >= min_score,
        not excluded), as if there were no limits: the page shows how far the
        proposal is from it.
    best_within_capacity : float
        The best total with the event's capacity but no per-participant limit
        (locked pairings plus the best eligible ones): the distance to it is what
        the per-scene and per-capability limits cost.
    optimality_gap : float
        How much score a better proposal could add at most, from the solver's
        bound; 0.0 when the proposal is proven optimal (the usual case).
    capacity : int
        Slots x tables, the most meetings the event can hold.
    capacity_binding : bool
        The proposal fills the event and more eligible pairings were left out.
    scenes_at_limit, capabilities_at_limit : tuple of int
        Participants whose limit was reached while they had more eligible pairings.
    """

    pairings: tuple[Candidate, ...]
    total_score: float
    unconstrained_total: float
    unconstrained_count: int
    best_within_capacity: float
    optimality_gap: float
    capacity: int
    capacity_binding: bool
    scenes_at_limit: tuple[int, ...]
    capabilities_at_limit: tuple[int, ...]

    @property
    def binding(self) -> tuple[str, ...]:
        """The limits that kept pairings out, as sentences for the page."""
        reasons = []
        if self.capacity_binding:
            reasons.append(
                f"洽谈位已排满（时段数 × 洽谈桌数 = {self.capacity}）："
                "增加场次、缩短每场时长或增加洽谈桌，可以多安排"
            )
        if self.scenes_at_limit:
            reasons.append(
                f"{len(self.scenes_at_limit)} 个场景已达每个场景的洽谈上限："
                "提高“每个场景最多洽谈场数”，它们可以见更多能力方"
            )
        if self.capabilities_at_limit:
            reasons.append(
                f"{len(self.capabilities_at_limit)} 项能力已达每项能力的洽谈上限："
                "提高“每项能力最多洽谈场数”，它们可以见更多场景方"
            )
        return tuple(reasons)


@dataclass(frozen=True, slots=True)
class Meeting:
    """A scheduled meeting: slot numbered from 0 across sessions, table from 1."""

    scene_id: int
    capability_id: int
    slot: int
    table: int


@dataclass(frozen=True, slots=True)
class Unscheduled:
    """A pairing that could not be placed, and why (Chinese, for the organiser)."""

    scene_id: int
    capability_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Moved:
    """An announced meeting that rescheduling had to move."""

    scene_id: int
    capability_id: int
    old_slot: int
    old_table: int
    new_slot: int
    new_table: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """The timetable of an event.

    Attributes
    ----------
    meetings : tuple of Meeting
        Sorted by (slot, table).
    unscheduled : tuple of Unscheduled
        Pairings with no place, sorted by (scene_id, capability_id).
    moved : tuple of Moved
        Previous meetings placed elsewhere (another slot or table).
    dropped : tuple of Meeting
        Previous meetings no longer in the timetable, at their old place: the
        pairing was cancelled, or it is now among ``unscheduled``.
    slots_used : int
        Number of distinct slots holding a meeting.
    """

    meetings: tuple[Meeting, ...]
    unscheduled: tuple[Unscheduled, ...]
    moved: tuple[Moved, ...]
    dropped: tuple[Meeting, ...]
    slots_used: int


# -- pairing ----------------------------------------------------------------------


def propose_pairings(
    candidates: Iterable[Candidate],
    *,
    max_per_scene: int,
    max_per_capability: int,
    capacity: int,
    min_score: float,
    slots: int | None = None,
    slots_per_scene: Mapping[int, int] | None = None,
    slots_per_capability: Mapping[int, int] | None = None,
    locked: Collection[Pair] = frozenset(),
    excluded: Collection[Pair] = frozenset(),
    scene_party: Mapping[int, Hashable] | None = None,
    capability_party: Mapping[int, Hashable] | None = None,
    party_meetings: Mapping[Hashable, int] | None = None,
) -> Proposal:
    """Pairings with the highest total score within every limit, solved exactly.

    People attend, not items: ``scene_party`` / ``capability_party`` name the
    delegation that holds an item's meetings (its organization), and
    ``party_meetings`` caps a delegation's meetings over all its items (the slots
    it can attend times its people). Items nest in their delegation, so each side's
    rows stay a laminar family and the programme stays exact.

    A participant meets at most ``min(limit, slots it can attend)`` times: its slots
    come from ``slots_per_scene`` / ``slots_per_capability``, else ``slots`` (the
    event's slot count), else the limit alone. Capping by slots keeps every proposal
    schedulable when nobody has availability limits (`schedule_meetings` then needs
    max(most meetings of one participant, meetings / tables) slots).

    Locked pairings are always kept and count against the limits, whatever their
    score; a locked pairing missing from ``candidates`` scores 0. Excluded pairings
    are never proposed. Otherwise a pairing needs ``score >= min_score`` and a
    positive score (a pairing worth nothing takes a table and adds nothing).

    The problem is a b-matching with one cardinality row. Its constraint matrix is
    the incidence matrix of two laminar families, so totally unimodular: a basic
    optimum of the linear relaxation (HiGHS dual simplex) is integral, hence an
    optimal proposal. Only promising pairings enter the linear programme; the
    others are priced with its duals and added until none could improve it (column
    generation), so the answer is exact for all candidates. ``optimality_gap`` is
    the LP dual bound minus the total, 0.0 once proven optimal; should a vertex ever
    come back fractional, HiGHS's MIP solver takes over and gives its gap. Input
    order does not matter: everything is sorted first.

    Raises
    ------
    PlanningError
        Negative limits, duplicate or non-finite candidates, a pairing both locked
        and excluded, or locked pairings beyond a participant's limit or the event's
        capacity (the message names the participant).
    """
    for name, value in (
        ("每个场景方的会面上限", max_per_scene),
        ("每个能力方的会面上限", max_per_capability),
        ("活动容量", capacity),
    ):
        if value < 0:
            raise PlanningError(f"{name}不能为负数")
    locked_pairs = sorted({(int(s), int(c)) for s, c in locked})
    excluded_pairs = {(int(s), int(c)) for s, c in excluded}
    for scene, capability in locked_pairs:
        if (scene, capability) in excluded_pairs:
            raise PlanningError(
                f"配对既被锁定又被移除：场景 {scene} 与能力 {capability}"
            )
    table = _CandidateTable(list(candidates), locked_pairs)
    scores = table.score
    invalid = np.flatnonzero(~np.isfinite(scores))
    if invalid.size:
        scene, capability = table.pair(int(invalid[0]))
        raise PlanningError(f"配对分数无效：场景 {scene} 与能力 {capability}")

    def limit(own: Mapping[int, int] | None, largest: int, participant: int) -> int:
        attendable = (own or {}).get(participant, slots)
        return largest if attendable is None else min(largest, attendable)

    scene_limit = np.array(
        [limit(slots_per_scene, max_per_scene, int(s)) for s in table.scenes],
        dtype=np.int64,
    )
    capability_limit = np.array(
        [
            limit(slots_per_capability, max_per_capability, int(c))
            for c in table.capabilities
        ],
        dtype=np.int64,
    )
    is_locked = table.flags(locked_pairs)
    locked_scenes = np.bincount(table.scene[is_locked], minlength=len(table.scenes))
    locked_capabilities = np.bincount(
        table.capability[is_locked], minlength=len(table.capabilities)
    )
    for label, ids, count, most in (
        ("场景", table.scenes, locked_scenes, scene_limit),
        ("能力", table.capabilities, locked_capabilities, capability_limit),
    ):
        over = np.flatnonzero(count > most)
        if over.size:
            i = over[0]
            raise PlanningError(
                f"{label} {ids[i]} 锁定了 {count[i]} 场会面，超过其上限 {most[i]} 场"
            )
    if len(locked_pairs) > capacity:
        raise PlanningError(
            f"锁定的会面共 {len(locked_pairs)} 场，超过活动容量 {capacity} 场"
        )

    eligible = (
        (scores >= min_score)
        & (scores > 0)
        & ~is_locked
        & ~table.flags(sorted(excluded_pairs))
    )
    scene_room = scene_limit - locked_scenes
    capability_room = capability_limit - locked_capabilities
    free = np.flatnonzero(
        eligible
        & (scene_room[table.scene] > 0)
        & (capability_room[table.capability] > 0)
    )
    party_rows = _PartyRows(
        table, scene_party or {}, capability_party or {}, party_meetings or {}
    )
    party_room = party_rows.room(is_locked)
    crowded = np.flatnonzero(party_room < 0)
    if crowded.size:
        raise PlanningError(
            f"{party_rows.labels[crowded[0]]}锁定的会面超过该单位代表可参加的场次："
            "请减少锁定的配对，或允许该单位多派代表"
        )
    picked, gap = _best_subset(
        table.scene[free],
        table.capability[free],
        scores[free],
        scene_room,
        capability_room,
        capacity - len(locked_pairs),
        party_rows.scene_row[free],
        party_rows.capability_row[free],
        party_room,
    )
    chosen = np.zeros(len(scores), dtype=bool)
    chosen[free[picked]] = True
    chosen |= is_locked
    wanted = eligible | is_locked
    per_scene = np.bincount(table.scene[chosen], minlength=len(table.scenes))
    per_capability = np.bincount(
        table.capability[chosen], minlength=len(table.capabilities)
    )
    wanted_scenes = np.bincount(table.scene[wanted], minlength=len(table.scenes))
    wanted_capabilities = np.bincount(
        table.capability[wanted], minlength=len(table.capabilities)
    )
    pairings = tuple(
        Candidate(*table.pair(i), float(scores[i])) for i in np.flatnonzero(chosen)
    )
    room = max(0, capacity - len(locked_pairs))
    best_free = np.sort(scores[eligible])[::-1][:room]
    return Proposal(
        pairings=pairings,
        total_score=math.fsum(p.score for p in pairings),
        unconstrained_total=math.fsum(scores[wanted].tolist()),
        unconstrained_count=int(wanted.sum()),
        best_within_capacity=math.fsum(
            [*scores[is_locked].tolist(), *best_free.tolist()]
        ),
        optimality_gap=gap,
        capacity=capacity,
        capacity_binding=len(pairings) >= capacity and int(wanted.sum()) > capacity,
        scenes_at_limit=tuple(
            int(table.scenes[i])
            for i in np.flatnonzero(
                (per_scene >= scene_limit) & (wanted_scenes > scene_limit)
            )
        ),
        capabilities_at_limit=tuple(
            int(table.capabilities[i])
            for i in np.flatnonzero(
                (per_capability >= capability_limit)
                & (wanted_capabilities > capability_limit)
            )
        ),
    )


class _CandidateTable:
    """Candidates (and locked pairs, at score 0 unless a candidate) as sorted arrays.

    ``scene`` and ``capability`` index ``scenes`` and ``capabilities`` (sorted ids);
    rows are sorted by (scene id, capability id), whatever the input order.
    """

    def __init__(self, candidates: list[Candidate], locked: list[Pair]) -> None:
        if locked:
            wanted = set(locked)
            known = {
                key
                for c in candidates
                if (key := (c.scene_id, c.capability_id)) in wanted
            }
            candidates = candidates + [
                Candidate(s, c, 0.0) for s, c in locked if (s, c) not in known
            ]
        n = len(candidates)
        scene_ids = np.fromiter((c.scene_id for c in candidates), np.int64, n)
        capability_ids = np.fromiter((c.capability_id for c in candidates), np.int64, n)
        score = np.fromiter((c.score for c in candidates), np.float64, n)
        order = np.lexsort((capability_ids, scene_ids))
        self.scenes, self.scene = np.unique(scene_ids[order], return_inverse=True)
        self.capabilities, self.capability = np.unique(
            capability_ids[order], return_inverse=True
        )
        self.score = score[order]
        self.key = self.scene * len(self.capabilities) + self.capability
        repeated = np.flatnonzero(self.key[1:] == self.key[:-1])
        if len(repeated):
            scene, capability = self.pair(int(repeated[0]))
            raise PlanningError(f"候选配对重复：场景 {scene} 与能力 {capability}")

    def pair(self, position: int) -> Pair:
        return (
            int(self.scenes[self.scene[position]]),
            int(self.capabilities[self.capability[position]]),
        )

    def flags(self, pairs: Sequence[Pair]) -> np.ndarray:
        """A mask of the rows that are among ``pairs``."""
        scene_index = {int(s): i for i, s in enumerate(self.scenes)}
        capability_index = {int(c): j for j, c in enumerate(self.capabilities)}
        keys = [
            scene_index[s] * len(self.capabilities) + capability_index[c]
            for s, c in pairs
            if s in scene_index and c in capability_index
        ]
        return np.isin(self.key, np.array(keys, dtype=np.int64))


class _PartyRows:
    """The delegations that have a meeting cap, as extra rows of the programme.

    ``scene_row`` / ``capability_row`` give, per candidate row of the table, the
    index of its scene's / capability's capped delegation, or -1.
    """

    def __init__(
        self,
        table: "_CandidateTable",
        scene_party: Mapping[int, Hashable],
        capability_party: Mapping[int, Hashable],
        party_meetings: Mapping[Hashable, int],
    ) -> None:
        index: dict[tuple[str, Hashable], int] = {}
        self.labels: list[str] = []
        self.limits: list[int] = []

        def rows(
            side: str, ids: np.ndarray, party: Mapping[int, Hashable]
        ) -> np.ndarray:
            found = np.full(len(ids), -1, dtype=np.int64)
            for i, item in enumerate(ids.tolist()):
                key = party.get(item)
                if key is None or key not in party_meetings:
                    continue
                if (side, key) not in index:
                    index[side, key] = len(self.limits)
                    role = "场景" if side == "scene" else "能力"
                    self.labels.append(f"“{key}”的{role}方代表")
                    self.limits.append(int(party_meetings[key]))
                found[i] = index[side, key]
            return found

        self.scene_row = rows("scene", table.scenes, scene_party)[table.scene]
        self.capability_row = rows("capability", table.capabilities, capability_party)[
            table.capability
        ]

    def room(self, is_locked: np.ndarray) -> np.ndarray:
        """Each delegation's cap less the locked meetings it already holds."""
        used = np.zeros(len(self.limits), dtype=np.int64)
        for row in (self.scene_row, self.capability_row):
            held = row[is_locked & (row >= 0)]
            used += np.bincount(held, minlength=len(self.limits))
        return np.array(self.limits, dtype=np.int64) - used


def _best_subset(
    scene: np.ndarray,
    capability: np.ndarray,
    weight: np.ndarray,
    scene_room: np.ndarray,
    capability_room: np.ndarray,
    room: int,
    scene_party: np.ndarray | None = None,
    capability_party: np.ndarray | None = None,
    party_room: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Positions of the pairs with the most total weight within every room, and gap.

    Rows: one per scene, per capability, one for the event, and one per capped
    delegation (``scene_party`` / ``capability_party``: a pair's delegation row on
    each side, -1 for none; ``party_room``: the caps).

    Column generation: start from each participant's best pairings and the overall
    best, solve, and add every pairing whose reduced cost under the duals is
    positive; when none is, the restricted optimum is optimal for all pairings.
    """
    n = len(weight)
    if n == 0 or room <= 0:
        return np.zeros(0, dtype=np.int64), 0.0
    n_scenes, n_capabilities = len(scene_room), len(capability_room)
    if party_room is None or scene_party is None or capability_party is None:
        party_room = np.zeros(0, dtype=np.int64)
        scene_party = capability_party = np.full(n, -1, dtype=np.int64)
    first_party = n_scenes + n_capabilities + 1
    bounds = np.concatenate([scene_room, capability_room, [room], party_room]).astype(
        np.float64
    )
    # Each pair's rows; -1 where it has no capped delegation.
    rows = [
        scene,
        n_scenes + capability,
        np.full(n, n_scenes + n_capabilities),
        np.where(scene_party >= 0, first_party + scene_party, -1),
        np.where(capability_party >= 0, first_party + capability_party, -1),
    ]
    tolerance = 1e-9 * max(1.0, float(np.abs(weight).max()))
    active = _promising(scene, capability, weight, scene_room, capability_room, room)
    while True:
        columns = np.flatnonzero(active)
        matrix = _constraints([row[columns] for row in rows], bounds.size)
        result = optimize.linprog(
            -weight[columns],
            A_ub=matrix,
            b_ub=bounds,
            bounds=(0, 1),
            method="highs-ds",
        )
        if result.status != 0:
            break
        duals = np.maximum(-result.ineqlin.marginals, 0.0)
        padded = np.append(duals, 0.0)  # row -1: no delegation row
        reduced = weight - sum(padded[row] for row in rows)
        entering = np.flatnonzero(~active & (reduced > tolerance))
        if entering.size:
            active[entering] = True
            continue
        x = result.x
        rounded = np.round(x)
        if np.max(np.abs(x - rounded)) > _INTEGRALITY_TOLERANCE:
            break
        picked = columns[rounded > 0.5]
        # The dual bound over all pairings (b.y plus every positive reduced cost)
        # meets the total up to rounding: proven optimal.
        total = float(weight[picked].sum())
        bound = float(bounds @ duals + np.maximum(reduced, 0.0).sum())
        gap = bound - total
        return picked, (gap if gap > 1e-7 * max(1.0, abs(total)) else 0.0)
    return _best_subset_mip(rows, weight, bounds)


def _promising(
    scene: np.ndarray,
    capability: np.ndarray,
    weight: np.ndarray,
    scene_room: np.ndarray,
    capability_room: np.ndarray,
    room: int,
) -> np.ndarray:
    """Each participant's best 2 x room pairings and the best 2 x capacity overall."""
    active = np.zeros(len(weight), dtype=bool)
    for side, side_room in ((scene, scene_room), (capability, capability_room)):
        order = np.lexsort((-weight, side))
        grouped = side[order]
        first = np.searchsorted(grouped, grouped)
        rank = np.arange(len(order)) - first
        active[order[rank < 2 * side_room[grouped]]] = True
    best = np.argsort(-weight, kind="stable")[: 2 * room]
    active[best] = True
    return active


def _constraints(rows: list[np.ndarray], n_rows: int) -> sparse.csr_matrix:
    """A column per pair with a 1 in each of its rows (-1: none)."""
    n = rows[0].size if rows else 0
    columns = np.arange(n)
    row_of = np.concatenate(rows)
    column_of = np.concatenate([columns] * len(rows))
    kept = row_of >= 0
    return sparse.csr_matrix(
        (np.ones(int(kept.sum())), (row_of[kept], column_of[kept])),
        shape=(n_rows, n),
    )


def _best_subset_mip(
    rows: list[np.ndarray], weight: np.ndarray, bounds: np.ndarray
) -> tuple[np.ndarray, float]:
    """HiGHS's MIP on every pair, should the LP route ever end fractional."""
    result = optimize.milp(
        -weight,
        constraints=optimize.LinearConstraint(
            _constraints(rows, bounds.size), -np.inf, bounds
        ),
        integrality=np.ones(weight.size),
        bounds=optimize.Bounds(0, 1),
    )
    if result.x is None:
        raise RuntimeError(f"配对求解失败：{result.message}")
    picked = np.flatnonzero(result.x > 0.5)
    total = float(weight[picked].sum())
    bound = -float(getattr(result, "mip_dual_bound", -total))
    return picked, max(0.0, bound - total)


# -- scheduling -------------------------------------------------------------------


def minimum_slots(
    pairs: Iterable[Pair],
    tables: int,
    *,
    scene_party: Mapping[int, Hashable] | None = None,
    capability_party: Mapping[int, Hashable] | None = None,
) -> int:
    """Fewest slots that can hold ``pairs`` at ``tables`` tables.

    Nobody can be in two meetings at once: with ``scene_party`` /
    ``capability_party`` (item -> the delegation attending for it) the busiest
    delegation counts, else the busiest item. A slot holds at most ``tables``
    meetings, so at least max(most meetings of one delegation, ceil(meetings /
    tables)) slots are needed; by König's theorem (bipartite multigraphs included)
    and de Werra's equitable colouring that many always suffice.
    """
    if tables < 1:
        raise PlanningError("桌位数必须大于 0")
    unique = set(pairs)
    if not unique:
        return 0
    return max(
        _busiest(unique, scene_party, capability_party), -(-len(unique) // tables)
    )


def _busiest(
    pairs: Iterable[Pair],
    scene_party: Mapping[int, Hashable] | None,
    capability_party: Mapping[int, Hashable] | None,
) -> int:
    """The most meetings one delegation (or item without one) holds."""
    scene_load = Counter(_party(scene_party, s) for s, _ in pairs)
    capability_load = Counter(_party(capability_party, c) for _, c in pairs)
    return max(max(scene_load.values()), max(capability_load.values()))


def _party(parties: Mapping[int, Hashable] | None, item: int) -> Hashable:
    return (parties or {}).get(item, ("item", item))


def schedule_meetings(
    pairs: Sequence[Pair],
    *,
    slots: int,
    tables: int,
    scene_slots: Mapping[int, Collection[int]] | None = None,
    capability_slots: Mapping[int, Collection[int]] | None = None,
    previous: Mapping[Pair, tuple[int, int]] | None = None,
    scene_party: Mapping[int, Hashable] | None = None,
    capability_party: Mapping[int, Hashable] | None = None,
) -> Schedule:
    """A slot and a table for every pairing: nobody and no table twice in one slot.

    "Nobody" are the delegations: ``scene_party`` / ``capability_party`` map an
    item to the delegation that attends its meetings (one per organization unless
    it sends more people), so an organization with four scenes is in one meeting
    at a time, not four. An item without one is its own delegation.

    Without availability limits and without ``previous``, the timetable uses exactly
    `minimum_slots` slots (0 .. k-1) with the meetings spread evenly (each slot
    holds floor(m/k) or ceil(m/k)): König colouring by alternating-path swaps, then
    de Werra's rebalancing. With availability (``scene_slots`` /
    ``capability_slots``: the slot numbers a participant can attend; absent means
    all), as many as possible are placed: most constrained first, each in a free
    slot, else after an alternating-path swap or moving one meeting out of a full
    slot; then, if a max-flow bound says more could fit, an integer programme
    (HiGHS, limited by nodes so the answer is the same on any machine) re-places
    them when it seats more. The rest come back in ``unscheduled`` with a reason.

    With ``previous`` ({pair: (slot, table)}, the timetable already announced),
    every previous meeting still valid keeps its slot, and its table when free; new
    pairings go around them. An announced meeting moves only when a pairing could
    not be placed otherwise (reported in ``moved``); without availability limits
    every pairing is placed, recolouring from scratch if needed and then matching
    the new slots to the old ones to keep as many meetings put as possible.

    Within a slot, tables are 1 .. ``tables``; each scene keeps one table across its
    meetings when it can (the demand side stays seated, vendors rotate). The result
    does not depend on the order of the input.

    Raises
    ------
    PlanningError
        Duplicate pairings, no tables, or, without availability limits, fewer slots
        than `minimum_slots` (the API answers 422 with the message).
    """
    if tables < 1:
        raise PlanningError("桌位数必须大于 0")
    if slots < 0:
        raise PlanningError("时段数不能为负数")
    edges = sorted({(int(s), int(c)) for s, c in pairs})
    if len(edges) != len(pairs):
        duplicate = Counter((int(s), int(c)) for s, c in pairs).most_common(1)[0][0]
        raise PlanningError(f"配对重复：场景 {duplicate[0]} 与能力 {duplicate[1]}")
    scene_allowed = _limited(scene_slots, slots)
    capability_allowed = _limited(capability_slots, slots)
    old = {
        (int(s), int(c)): (int(slot), int(table))
        for (s, c), (slot, table) in (previous or {}).items()
    }
    needed = minimum_slots(
        edges, tables, scene_party=scene_party, capability_party=capability_party
    )
    limited = any(s in scene_allowed for s, _ in edges) or any(
        c in capability_allowed for _, c in edges
    )
    if not limited and needed > slots:
        busiest = _busiest(edges, scene_party, capability_party)
        raise PlanningError(
            f"需要至少 {needed} 个时段，活动只有 {slots} 个"
            f"（一个单位代表最多 {busiest} 场会面；共 {len(edges)} 场会面，"
            f"每时段 {tables} 张桌）："
            "请增加时段或桌位，或减少配对"
        )

    board = _Board(edges, scene_party, capability_party)
    allowed: list[list[int]] = []
    unplaced: list[int] = []
    if not old and not limited:
        _equitable_colouring(board, needed)
    else:
        everything = frozenset(range(slots))
        allowed = [
            sorted(
                scene_allowed.get(s, everything) & capability_allowed.get(c, everything)
            )
            for s, c in edges
        ]
        unplaced = _place_around(board, allowed, old, tables, needed)
        if unplaced and not limited:
            # Announced meetings boxed the new ones in; a fresh colouring always
            # fits, and renumbering its slots keeps as many meetings put as it can.
            board = _Board(edges, scene_party, capability_party)
            _equitable_colouring(board, needed)
            _match_slots_to(board, old, needed, slots)
            unplaced = []
        elif len(edges) - len(unplaced) < _most_seatable(board, allowed, tables) and (
            _place_exactly(board, allowed, old, tables)
        ):
            # A node-limited search may stop short: top up by the usual moves.
            placer = _Placer(board, allowed, tables, needed, pinned=set())
            unplaced = [
                e
                for e, slot in enumerate(board.colour)
                if slot < 0 and not placer.place(e)
            ]

    slot_of = {e: board.colour[e] for e in range(len(edges)) if board.colour[e] >= 0}
    keep_table = {
        e: old[edges[e]][1]
        for e, slot in slot_of.items()
        if edges[e] in old and old[edges[e]][0] == slot
    }
    table_of = _assign_tables(edges, slot_of, tables, keep_table)
    meetings = tuple(
        sorted(
            (
                Meeting(edges[e][0], edges[e][1], slot_of[e], table_of[e])
                for e in slot_of
            ),
            key=lambda m: (m.slot, m.table),
        )
    )
    placed = {(m.scene_id, m.capability_id): m for m in meetings}
    reasons = _reasons(
        board, unplaced, allowed, scene_allowed, capability_allowed, slots, tables
    )
    return Schedule(
        meetings=meetings,
        unscheduled=tuple(
            Unscheduled(edges[e][0], edges[e][1], reasons[e]) for e in sorted(unplaced)
        ),
        moved=tuple(
            Moved(pair[0], pair[1], *old[pair], placed[pair].slot, placed[pair].table)
            for pair in sorted(old)
            if pair in placed and (placed[pair].slot, placed[pair].table) != old[pair]
        ),
        dropped=tuple(
            Meeting(pair[0], pair[1], *old[pair])
            for pair in sorted(old)
            if pair not in placed
        ),
        slots_used=len({m.slot for m in meetings}),
    )


def _limited(
    availability: Mapping[int, Collection[int]] | None, slots: int
) -> dict[int, frozenset[int]]:
    """Participants who cannot attend every slot, with the slots they can attend."""
    limited = {}
    for participant, allowed in (availability or {}).items():
        inside = frozenset(int(a) for a in allowed if 0 <= a < slots)
        if len(inside) < slots:
            limited[int(participant)] = inside
    return limited


class _Board:
    """Slots as colours of the edges of the delegation graph.

    A vertex is a delegation (an item without one is its own): scene-side ones are
    0 .. S-1 and capability-side ones follow, so an edge never joins two of a side,
    and two meetings of the same two delegations are parallel edges. ``busy[vertex]``
    maps a slot to the edge that vertex meets in.
    """

    def __init__(
        self,
        edges: list[Pair],
        scene_party: Mapping[int, Hashable] | None = None,
        capability_party: Mapping[int, Hashable] | None = None,
    ) -> None:
        scene_keys = [_party(scene_party, s) for s, _ in edges]
        capability_keys = [_party(capability_party, c) for _, c in edges]
        scene_vertex = {k: i for i, k in enumerate(sorted(set(scene_keys), key=repr))}
        capability_vertex = {
            k: len(scene_vertex) + i
            for i, k in enumerate(sorted(set(capability_keys), key=repr))
        }
        self.pairs = edges
        self.ends = [
            (scene_vertex[a], capability_vertex[b])
            for a, b in zip(scene_keys, capability_keys, strict=True)
        ]
        self.busy: list[dict[int, int]] = [
            {} for _ in range(len(scene_vertex) + len(capability_vertex))
        ]
        self.colour = [-1] * len(edges)
        self.count: Counter[int] = Counter()

    def place(self, edge: int, slot: int) -> None:
        u, v = self.ends[edge]
        self.busy[u][slot] = self.busy[v][slot] = edge
        self.colour[edge] = slot
        self.count[slot] += 1

    def lift(self, edge: int) -> None:
        u, v = self.ends[edge]
        slot = self.colour[edge]
        del self.busy[u][slot], self.busy[v][slot]
        self.colour[edge] = -1
        self.count[slot] -= 1

    def chain(self, start: int, a: int, b: int) -> list[int]:
        """The a/b alternating path from ``start`` (free in b), first edge in a."""
        path, vertex, want = [], start, a
        while (edge := self.busy[vertex].get(want)) is not None:
            path.append(edge)
            u, v = self.ends[edge]
            vertex = v if vertex == u else u
            want = b if want == a else a
        return path

    def swap(self, path: list[int], a: int, b: int) -> None:
        """Exchange slots a and b along ``path`` (a Kempe chain)."""
        before = [self.colour[e] for e in path]
        for edge in path:
            self.lift(edge)
        for edge, slot in zip(path, before, strict=True):
            self.place(edge, b if slot == a else a)


def _least(slots: Iterable[int], board: _Board) -> int:
    return min(slots, key=lambda slot: (board.count[slot], slot))


def _equitable_colouring(board: _Board, k: int) -> None:
    """Colour every edge with k >= max degree colours, class sizes within one."""
    if not board.ends:
        return
    for edge, (u, v) in enumerate(board.ends):
        free_u = [a for a in range(k) if a not in board.busy[u]]
        common = [a for a in free_u if a not in board.busy[v]]
        if common:
            board.place(edge, _least(common, board))
            continue
        # König: flip the a/b path from v; it cannot reach u (bipartite parity), so
        # afterwards a is free at both ends.
        a = _least(free_u, board)
        b = _least((c for c in range(k) if c not in board.busy[v]), board)
        board.swap(board.chain(v, a, b), a, b)
        board.place(edge, a)
    # de Werra: while the largest class exceeds the smallest by two or more, the
    # union of the two has a path with one more edge of the larger: swap it.
    while True:
        high = max(range(k), key=lambda a: (board.count[a], -a))
        low = min(range(k), key=lambda a: (board.count[a], a))
        if board.count[high] - board.count[low] <= 1:
            return
        for edge, slot in enumerate(board.colour):
            if slot != high:
                continue
            ends = [x for x in board.ends[edge] if low not in board.busy[x]]
            path = next(
                (p for x in ends if len(p := board.chain(x, high, low)) % 2), None
            )
            if path is not None:
                board.swap(path, high, low)
                break
        else:  # pragma: no cover - impossible by the argument above
            raise AssertionError("no alternating path to rebalance")


def _place_around(
    board: _Board,
    allowed: list[list[int]],
    previous: Mapping[Pair, tuple[int, int]],
    tables: int,
    needed: int,
) -> list[int]:
    """Keep valid previous meetings, place the rest; returns the edges left out."""
    index = {pair: e for e, pair in enumerate(board.pairs)}
    pinned: set[int] = set()
    for pair, (slot, _table) in sorted(previous.items(), key=lambda kv: (kv[1], kv[0])):
        edge = index.get(pair)
        if edge is None or slot not in allowed[edge]:
            continue
        u, v = board.ends[edge]
        if (
            slot in board.busy[u]
            or slot in board.busy[v]
            or board.count[slot] >= tables
        ):
            continue
        board.place(edge, slot)
        pinned.add(edge)
    # Stay within the slots already in use (or the minimum) while that is possible.
    window = max([needed, *(board.colour[e] + 1 for e in pinned)])
    degree = Counter(x for ends in board.ends for x in ends)

    def hardest(edge: int) -> tuple[int, int, int]:
        u, v = board.ends[edge]
        return (len(allowed[edge]), -(degree[u] + degree[v]), edge)

    waiting = sorted((e for e in range(len(allowed)) if e not in pinned), key=hardest)
    placer = _Placer(board, allowed, tables, window, pinned)
    # Announced meetings stay put in the first round and may move in the second.
    # Rounds repeat while they place something: a later move can open a slot for
    # an earlier pairing, and the reasons given for the rest must hold at the end.
    for movable in (False, True):
        placer.movable = movable
        while waiting:
            still = [e for e in waiting if not placer.place(e)]
            if len(still) == len(waiting):
                break
            waiting = still
        if not waiting or not pinned:
            break
    return waiting


class _Placer:
    """Places one edge at a time: a free slot, else a Kempe swap, else a single move."""

    def __init__(
        self,
        board: _Board,
        allowed: list[list[int]],
        tables: int,
        window: int,
        pinned: set[int],
    ) -> None:
        self.board = board
        self.allowed = [set(a) for a in allowed]
        self.options = allowed
        self.tables = tables
        self.window = window
        self.pinned = pinned
        self.movable = False

    def preference(self, slot: int) -> tuple[bool, int, int]:
        return (slot >= self.window, self.board.count[slot], slot)

    def fixed(self, edge: int) -> bool:
        return edge in self.pinned and not self.movable

    def place(self, edge: int) -> bool:
        board, tables = self.board, self.tables
        u, v = board.ends[edge]
        options = sorted(self.options[edge], key=self.preference)
        for slot in options:
            if (
                slot not in board.busy[u]
                and slot not in board.busy[v]
                and board.count[slot] < tables
            ):
                board.place(edge, slot)
                return True
        return any(self.kempe(edge, slot) for slot in options) or any(
            self.make_room(edge, slot) for slot in options
        )

    def kempe(self, edge: int, a: int) -> bool:
        """Free slot a for the end busy in it by swapping a and b along a path."""
        board = self.board
        u, v = board.ends[edge]
        for free, busy in ((u, v), (v, u)):
            if a in board.busy[free] or a not in board.busy[busy]:
                continue
            others = sorted(
                (
                    b
                    for b in self.allowed[board.busy[busy][a]]
                    if b not in board.busy[busy]
                ),
                key=self.preference,
            )
            for b in others:
                path = board.chain(busy, a, b)
                if not self.can_swap(path, a, b):
                    continue
                in_a = sum(1 for e in path if board.colour[e] == a)
                if board.count[a] - in_a + (len(path) - in_a) + 1 > self.tables:
                    continue
                if board.count[b] - (len(path) - in_a) + in_a > self.tables:
                    continue
                board.swap(path, a, b)
                board.place(edge, a)
                return True
        return False

    def can_swap(self, path: list[int], a: int, b: int) -> bool:
        board = self.board
        return all(
            not self.fixed(e) and (b if board.colour[e] == a else a) in self.allowed[e]
            for e in path
        )

    def make_room(self, edge: int, a: int) -> bool:
        """Slot a is free for both but full: move one of its meetings elsewhere."""
        board = self.board
        u, v = board.ends[edge]
        if a in board.busy[u] or a in board.busy[v]:
            return False
        sitting = sorted(e for e, slot in enumerate(board.colour) if slot == a)
        for other in sitting:
            if self.fixed(other):
                continue
            x, y = board.ends[other]
            for b in sorted(self.allowed[other], key=self.preference):
                if (
                    b != a
                    and b not in board.busy[x]
                    and b not in board.busy[y]
                    and board.count[b] < self.tables
                ):
                    board.lift(other)
                    board.place(other, b)
                    board.place(edge, a)
                    return True
        return False


def _most_seatable(board: _Board, allowed: list[list[int]], tables: int) -> int:
    """An upper bound on the meetings any timetable seats: two maximum flows.

    Forget one side's conflicts: pairing -> (its scene, slot) -> slot -> sink, with
    capacities 1, 1 and ``tables``, is a flow problem whose maximum bounds the
    true one. Do it for either side and take the smaller; when the heuristic
    reaches it, it is proven optimal and no integer programme is needed.
    """
    edge = np.array([e for e, options in enumerate(allowed) for _ in options])
    if edge.size == 0:
        return 0
    slot = np.array([a for options in allowed for a in options])
    ends = np.array(board.ends)
    width = int(slot.max()) + 1
    n_edges = len(allowed)
    best = edge.size
    for side in (0, 1):
        seats, seat = np.unique(ends[edge, side] * width + slot, return_inverse=True)
        first_seat = 1 + n_edges
        first_slot = first_seat + seats.size
        sink = first_slot + width
        tails = np.concatenate(
            [np.zeros(n_edges), 1 + edge, first_seat + np.arange(seats.size)]
        )
        heads = np.concatenate(
            [1 + np.arange(n_edges), first_seat + seat, first_slot + seats % width]
        )
        capacity = np.ones(tails.size, dtype=np.int32)
        graph = sparse.csr_array(
            (capacity, (tails.astype(np.int64), heads.astype(np.int64))),
            shape=(sink + 1, sink + 1),
        )
        slot_arcs = sparse.csr_array(
            (
                np.full(width, tables, dtype=np.int32),
                (first_slot + np.arange(width), np.full(width, sink)),
            ),
            shape=(sink + 1, sink + 1),
        )
        flow = maximum_flow((graph + slot_arcs).tocsr(), 0, sink)
        best = min(best, int(flow.flow_value))
    return best


def _place_exactly(
    board: _Board,
    allowed: list[list[int]],
    previous: Mapping[Pair, tuple[int, int]],
    tables: int,
) -> bool:
    """Re-place everything by integer programme if that seats more; True if it did.

    One 0/1 variable per pairing and slot it may take; each pairing at most once,
    each participant and slot at most once, each slot at most ``tables``. Each
    meeting counts 1, keeping an announced slot adds less than 1 in all, so the
    most meetings come first, then the fewest moves. HiGHS is deterministic, and
    bounded by nodes, not time, so the answer does not depend on the machine.
    """
    edge = np.array([e for e, options in enumerate(allowed) for _ in options])
    slot = np.array([a for options in allowed for a in options])
    n = edge.size
    placed = sum(1 for s in board.colour if s >= 0)
    if n == 0 or n > _EXACT_VARIABLES:
        return False
    ends = np.array(board.ends)
    width = int(slot.max()) + 1
    seats = np.concatenate([ends[edge, 0] * width + slot, ends[edge, 1] * width + slot])
    _, seat_row = np.unique(seats, return_inverse=True)
    n_edges, n_seats = len(allowed), int(seat_row.max()) + 1
    columns = np.arange(n)
    matrix = sparse.csr_matrix(
        (
            np.ones(4 * n),
            (
                np.concatenate([edge, n_edges + seat_row, n_edges + n_seats + slot]),
                np.concatenate([columns, columns, columns, columns]),
            ),
        ),
        shape=(n_edges + n_seats + width, n),
    )
    bounds = np.ones(matrix.shape[0])
    bounds[n_edges + n_seats :] = tables
    kept = np.array(
        [
            previous.get(board.pairs[e], (-1, 0))[0] == a
            for e, a in zip(edge, slot, strict=True)
        ]
    )
    result = optimize.milp(
        -(1.0 + kept / (len(previous) + 1)),
        constraints=optimize.LinearConstraint(matrix, -np.inf, bounds),
        integrality=np.ones(n),
        bounds=optimize.Bounds(0, 1),
        options={"node_limit": _EXACT_NODES},
    )
    if result.x is None or int((result.x > 0.5).sum()) <= placed:
        return False
    for e, s in enumerate(board.colour):
        if s >= 0:
            board.lift(e)
    for j in np.flatnonzero(result.x > 0.5):
        board.place(int(edge[j]), int(slot[j]))
    return True


def _match_slots_to(
    board: _Board, previous: Mapping[Pair, tuple[int, int]], k: int, slots: int
) -> None:
    """Renumber colours 0 .. k-1 as event slots so most meetings keep their old slot."""
    overlap = np.zeros((k, slots))
    for edge, colour in enumerate(board.colour):
        old = previous.get(board.pairs[edge])
        if old is not None and 0 <= old[0] < slots:
            overlap[colour, old[0]] += 1
    rows, columns = optimize.linear_sum_assignment(overlap, maximize=True)
    target = dict(zip(rows.tolist(), columns.tolist(), strict=True))
    before = list(board.colour)
    for edge in range(len(before)):
        board.lift(edge)
    for edge, colour in enumerate(before):
        board.place(edge, target[colour])


def _assign_tables(
    edges: list[Pair], slot_of: Mapping[int, int], tables: int, keep: Mapping[int, int]
) -> dict[int, int]:
    """Tables 1 .. tables in each slot, each scene at one table where it can."""
    table_of: dict[int, int] = {}
    taken: defaultdict[int, set[int]] = defaultdict(set)
    kept_tables: defaultdict[int, Counter[int]] = defaultdict(Counter)
    for edge in sorted(keep, key=lambda e: (slot_of[e], keep[e], e)):
        slot, table = slot_of[edge], keep[edge]
        if 1 <= table <= tables and table not in taken[slot]:
            table_of[edge] = table
            taken[slot].add(table)
            kept_tables[edges[edge][0]][table] += 1
    waiting: defaultdict[int, list[int]] = defaultdict(list)
    for edge in sorted(slot_of):
        if edge not in table_of:
            waiting[edges[edge][0]].append(edge)
    # Busiest scenes first (first-fit decreasing): each takes the table free in most
    # of its slots, its already kept table when that ties.
    for scene in sorted(waiting, key=lambda s: (-len(waiting[s]), s)):
        mine = waiting[scene]
        kept = kept_tables[scene]
        home = min(
            range(1, tables + 1),
            key=lambda t: (sum(t in taken[slot_of[e]] for e in mine), -kept[t], t),
        )
        for edge in mine:
            if home not in taken[slot_of[edge]]:
                table_of[edge] = home
                taken[slot_of[edge]].add(home)
    for edge in sorted(slot_of, key=lambda e: (slot_of[e], e)):
        if edge not in table_of:
            slot = slot_of[edge]
            table = next(t for t in range(1, tables + 1) if t not in taken[slot])
            table_of[edge] = table
            taken[slot].add(table)
    return table_of


def _reasons(
    board: _Board,
    unplaced: list[int],
    allowed: list[list[int]],
    scene_allowed: Mapping[int, frozenset[int]],
    capability_allowed: Mapping[int, frozenset[int]],
    slots: int,
    tables: int,
) -> dict[int, str]:
    """Why each edge left out found no slot, judged on the final timetable."""
    everything = frozenset(range(slots))
    reasons = {}
    for edge in unplaced:
        scene, capability = board.pairs[edge]
        u, v = board.ends[edge]
        scene_can = scene_allowed.get(scene, everything)
        capability_can = capability_allowed.get(capability, everything)
        both_free = [
            a
            for a in allowed[edge]
            if a not in board.busy[u] and a not in board.busy[v]
        ]
        if not scene_can:
            reason = "场景方没有可参会的时段"
        elif not capability_can:
            reason = "能力方没有可参会的时段"
        elif not allowed[edge]:
            reason = "场景方与能力方没有共同的可参会时段"
        elif scene_can <= board.busy[u].keys():
            reason = "场景方在可参会时段内已无空闲时段"
        elif capability_can <= board.busy[v].keys():
            reason = "能力方在可参会时段内已无空闲时段"
        elif both_free and all(board.count[a] >= tables for a in both_free):
            reason = f"所有桌位已满（双方都空闲的 {len(both_free)} 个时段）"
        else:
            reason = (
                "场景方与能力方的空闲时段没有交集（共同可参会的时段里总有一方已有会面）"
            )
        reasons[edge] = reason
    return reasons
