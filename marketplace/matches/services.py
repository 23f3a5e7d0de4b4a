"""Match use cases: proposals with reasons, feedback, fitted weights, submission checks.

Services take the live indexes as an argument (a dict of `LiveIndex`), so the web app,
jobs and tests pass in whichever they use.
"""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit, policy
from marketplace.capabilities.models import Capability
from marketplace.capabilities.services import CAPABILITIES
from marketplace.errors import Invalid
from marketplace.integers import parse_int
from marketplace.items import services as items
from marketplace.matches import vectors
from marketplace.matches.index import (
    LiveIndex,
    ScoreModel,
    capability_item,
    current_weights,
    platform_matcher,
    scene_item,
)
from marketplace.matches.models import MatchFeedback, MatchWeights, bump_index_version
from marketplace.organizations.models import Organization
from marketplace.scenes.models import Scene
from marketplace.scenes.services import SCENES
from marketplace.search import get_tokenizer
from matching import Embedder, Item, Match, Matcher, fit_score_model
from matching.duplicates import Duplicate, DuplicateFinder
from matching.embed import embedding_text
from matching.evaluate import ndcg_at_k
from matching.quality import QualityIssue, assess, is_too_vague

MAX_K = 50
NEW_WINDOW = timedelta(days=14)


@dataclass
class Counterpart:
    """What a page or the API shows of a proposed item (loaded without its tags)."""

    id: int
    title: str
    organization_name: str
    published_at: datetime | None


@dataclass
class Proposal:
    """One proposed counterpart of an item, with its score and reasons."""

    item: Counterpart
    score: float  # calibrated: the estimated chance an officer judges it relevant
    reasons: list[dict[str, Any]]
    # Strong: officers agreed with at least four such pairs in five (matching.weights).
    strong: bool = False
    feedback: bool | None = None


def parse_k(raw: str | None, default: int = 10) -> int:
    if raw in (None, ""):
        return default
    try:
        return parse_int(raw, maximum=MAX_K, text=True)
    except ValueError:
        raise Invalid(
            "k 须为1到50之间的整数", fields={"k": f"须为1到{MAX_K}之间的整数"}
        ) from None


@functools.cache
def _counterparts_query(model: Any) -> sa.Select[Any]:
    """Built once per kind: on a match request, building it cost about as much as
    running it."""
    return (
        sa.select(model.id, model.title, model.published_at, Organization.name)
        .join(Organization, Organization.id == model.organization_id)
        .where(
            model.id.in_(sa.bindparam("ids", expanding=True)),
            model.status == "published",
        )
    )


def _proposals(
    session: orm.Session, model: Any, matches: list[Match]
) -> list[Proposal]:
    """The matches still published, with what is shown of them, in one query."""
    if not matches:
        return []
    ids = [int(m.supply_id) for m in matches]
    rows = {
        row.id: Counterpart(row.id, row.title, row.name, row.published_at)
        for row in session.execute(_counterparts_query(model), {"ids": ids})
    }
    return [
        Proposal(rows[int(m.supply_id)], m.score, m.reasons, m.strong)
        for m in matches
        if int(m.supply_id) in rows
    ]


def _feedback_marks(
    session: orm.Session, scene_ids: list[int], capability_ids: list[int]
) -> dict[tuple[int, int], bool]:
    rows = session.execute(
        sa.select(
            MatchFeedback.scene_id, MatchFeedback.capability_id, MatchFeedback.relevant
        ).where(
            MatchFeedback.scene_id.in_(scene_ids),
            MatchFeedback.capability_id.in_(capability_ids),
            MatchFeedback.source == "center",
        )
    ).all()
    return {(s, c): relevant for s, c, relevant in rows}


def matches_for_scene(
    session: orm.Session,
    actor: Any,
    scene_id: int,
    k: int,
    indexes: dict[str, LiveIndex],
    *,
    now: datetime,
    versions: Mapping[str, int] | None = None,
) -> list[Proposal]:
    """Capabilities for a scene the actor may see, best first."""
    scene = items.get_visible_item(session, SCENES, actor, scene_id)
    index = indexes["capabilities"]
    proposals = _ranked(
        session,
        index,
        Capability,
        scene_item(scene),
        k,
        now,
        versions,
        index.demand_vector(session, "scene", scene),
    )
    _mark(session, actor, proposals, lambda p: (scene.id, p.item.id))
    return proposals


def matches_for_capability(
    session: orm.Session,
    actor: Any,
    capability_id: int,
    k: int,
    indexes: dict[str, LiveIndex],
    *,
    now: datetime,
    versions: Mapping[str, int] | None = None,
) -> list[Proposal]:
    """Published scenes a capability should go after, best first."""
    capability = items.get_visible_item(session, CAPABILITIES, actor, capability_id)
    index = indexes["scenes"]
    proposals = _ranked(
        session,
        index,
        Scene,
        capability_item(capability),
        k,
        now,
        versions,
        index.demand_vector(session, "capability", capability),
    )
    _mark(session, actor, proposals, lambda p: (p.item.id, capability.id))
    return proposals


def _mark(
    session: orm.Session,
    actor: Any,
    proposals: list[Proposal],
    pair: Callable[[Proposal], tuple[int, int]],
) -> None:
    """Show the center its own marks (scene id, capability id) on the proposals."""
    if not proposals or not policy.can(actor, "item.review"):
        return
    pairs = [pair(p) for p in proposals]
    marks = _feedback_marks(session, [s for s, _ in pairs], [c for _, c in pairs])
    for proposal, key in zip(proposals, pairs, strict=True):
        proposal.feedback = marks.get(key)


def _ranked(
    session: orm.Session,
    index: LiveIndex,
    model: Any,
    demand: Item,
    k: int,
    now: datetime,
    versions: Mapping[str, int] | None,
    vector: np.ndarray | None,
) -> list[Proposal]:
    index.refresh(session, now, versions)
    return _proposals(session, model, index.rank(demand, k, vector=vector))


def record_feedback(
    session: orm.Session,
    actor: Any,
    scene_id: int,
    capability_id: int,
    relevant: bool,
    *,
    score: float | None,
    now: datetime,
) -> MatchFeedback:
    """A center officer's mark on a pairing; marking again replaces the mark."""
    policy.require(actor, "item.review", message="只有促进中心可以标注匹配结果")
    # Visible as on the items' own pages: a mark on a draft would show its text in
    # the feedback list (issue 12, finding 3).
    items.get_visible_item(session, SCENES, actor, scene_id)
    items.get_visible_item(session, CAPABILITIES, actor, capability_id)
    mark = session.scalar(
        sa.select(MatchFeedback).where(
            MatchFeedback.scene_id == scene_id,
            MatchFeedback.capability_id == capability_id,
            MatchFeedback.source == "center",
        )
    )
    if mark is None:
        mark = MatchFeedback(
            scene_id=scene_id,
            capability_id=capability_id,
            source="center",
            relevant=relevant,
        )
        session.add(mark)
    mark.relevant, mark.score, mark.user_id, mark.at = relevant, score, actor.id, now
    session.flush()
    audit.record(
        session,
        actor,
        "match.feedback",
        "scene",
        scene_id,
        at=now,
        details={"capability_id": capability_id, "relevant": relevant},
    )
    return mark


def list_feedback(session: orm.Session) -> list[MatchFeedback]:
    return list(session.scalars(sa.select(MatchFeedback).order_by(MatchFeedback.id)))


def feedback_records(session: orm.Session) -> list[dict[str, Any]]:
    """The marks as labelled data: both texts, the label, who and when."""
    rows = session.execute(
        sa.select(MatchFeedback, Scene, Capability)
        .join(Scene, Scene.id == MatchFeedback.scene_id)
        .join(Capability, Capability.id == MatchFeedback.capability_id)
        .order_by(MatchFeedback.id)
    ).all()
    return [
        {
            "scene_id": s.id,
            "scene_title": s.title,
            "scene_description": s.description,
            "capability_id": c.id,
            "capability_title": c.title,
            "capability_description": c.description,
            "relevant": int(f.relevant),
            "score": f.score,
            "source": f.source,
            "marked_at": f.at.isoformat(),
        }
        for f, s, c in rows
    ]


@dataclass
class WeightFit:
    weights: dict[str, float]
    calibration: dict[str, float]
    before: dict[str, float]
    after: dict[str, float]
    pairs: int


def _feedback_metrics(
    matcher: Matcher,
    scenes: dict[int, Item],
    marks: dict[int, dict[str, int]],
    scene_vectors: Mapping[int, np.ndarray | None],
) -> dict[str, float]:
    """nDCG@10 of each marked scene's marked capabilities, ranked by the matcher."""
    row_of = {item_id: row for row, item_id in enumerate(matcher.supply_ids_)}
    values = []
    for scene_id, judged in marks.items():
        rows = np.array([row_of[c] for c in judged if c in row_of], dtype=np.int64)
        if len(rows) == 0 or not any(judged.values()):
            continue
        features = matcher.feature_matrix(
            scenes[scene_id], rows, vector=scene_vectors.get(scene_id)
        )
        scores = features @ matcher.weight_vector_
        ranked = [
            matcher.supply_ids_[rows[i]] for i in np.argsort(-scores, kind="stable")
        ]
        values.append(ndcg_at_k(ranked, judged, 10))
    return {
        "ndcg@10": round(float(np.mean(values)), 4) if values else 0.0,
        "scenes": len(values),
    }


def fit_weights_from_feedback(
    session: orm.Session,
    *,
    now: datetime,
    vector_model: str | None = None,
    actor: Any = None,
) -> WeightFit:
    """Fit the feature weights and their calibration on every mark, store them, and
    report before/after.

    `vector_model` names the sentence model of the stored vectors in use, whose dense
    weight is then learnt too. Every worker switches on its next request.
    """
    marks_rows = list_feedback(session)
    if len(marks_rows) < 10:
        raise Invalid(
            f"至少需要10条标注才能拟合权重（现有{len(marks_rows)}条）",
            fields={"feedback": "标注太少"},
        )
    scene_ids = {m.scene_id for m in marks_rows}
    capability_ids = {m.capability_id for m in marks_rows}
    scenes = {
        s.id: scene_item(s)
        for s in session.scalars(sa.select(Scene).where(Scene.id.in_(scene_ids)))
    }
    marks: dict[int, dict[str, int]] = {}
    for mark in marks_rows:
        marks.setdefault(mark.scene_id, {})[str(mark.capability_id)] = int(
            mark.relevant
        )
    # The dense weight is learnt too where the items have vectors of the model in use.
    model_name = vector_model
    capability_rows = session.scalars(
        sa.select(Capability)
        .where(Capability.id.in_(capability_ids))
        .order_by(Capability.id)
    ).all()
    capability_vectors = None
    scene_vectors: dict[int, np.ndarray | None] = {}
    if model_name is not None:
        capability_vectors = vectors.stored_vectors(
            session, "capability", capability_rows, model_name
        )[0]
        scene_vectors = {
            s.id: vectors.stored_vector(session, "scene", s, model_name)
            for s in session.scalars(sa.select(Scene).where(Scene.id.in_(scene_ids)))
        }
    capabilities = [capability_item(c) for c in capability_rows]
    old = current_weights(session).for_mode(model_name is not None)
    before = platform_matcher(session, old).fit(
        capabilities, vectors=capability_vectors
    )
    features, labels = [], []
    row_of = {item_id: row for row, item_id in enumerate(before.supply_ids_)}
    for scene_id, judged in marks.items():
        rows = np.array([row_of[c] for c in judged], dtype=np.int64)
        features.append(
            before.feature_matrix(
                scenes[scene_id], rows, vector=scene_vectors.get(scene_id)
            )
        )
        labels += [judged[before.supply_ids_[r]] for r in rows]
    try:
        weights, calibration = fit_score_model(np.vstack(features), labels)
    except ValueError as error:
        raise Invalid(str(error)) from None
    if model_name is None:
        weights.pop("dense", None)
    after = platform_matcher(session, ScoreModel(0, weights, calibration)).fit(
        capabilities, vectors=capability_vectors
    )
    result = WeightFit(
        weights,
        {"scale": calibration.scale, "intercept": calibration.intercept},
        _feedback_metrics(before, scenes, marks, scene_vectors),
        _feedback_metrics(after, scenes, marks, scene_vectors),
        len(labels),
    )
    session.add(
        MatchWeights(
            weights=weights,
            calibration=result.calibration,
            pairs=len(labels),
            created_at=now,
            metrics={"before": result.before, "after": result.after},
        )
    )
    bump_index_version(session, "weights")
    audit.record(
        session,
        actor,
        "match.weights_fit",
        "match_weights",
        None,
        at=now,
        details={"pairs": result.pairs, "before": result.before, "after": result.after},
    )
    return result


@dataclass
class SubmissionCheck:
    issues: list[QualityIssue]
    duplicates: list[Duplicate]

    @property
    def too_vague(self) -> bool:
        return is_too_vague(self.issues)

    @property
    def clean(self) -> bool:
        return not self.issues and not self.duplicates

    def to_json(self) -> dict[str, Any]:
        return {
            "too_vague": self.too_vague,
            "quality": [{"code": i.code, "message": i.message} for i in self.issues],
            "duplicates": [
                {
                    "id": int(d.id),
                    "title": d.title,
                    "text_similarity": d.text_similarity,
                    "title_similarity": d.title_similarity,
                    "semantic_similarity": d.semantic_similarity,
                }
                for d in self.duplicates
            ],
        }


def check_submission(
    session: orm.Session,
    kind: items.ItemKind,
    title: str,
    description: str,
    organization_id: int | None,
    indexes: dict[str, LiveIndex],
    *,
    own_id: int | None = None,
    now: datetime,
    embedder: Embedder | None = None,
) -> SubmissionCheck:
    """Quality flags and likely duplicates of a need or offer, before it is saved.

    With an `embedder` (this is a write path: the text is new), duplicates also
    include the same need written in other words.
    """
    tokenizer = get_tokenizer()
    issues = assess(title, description, tokenizer, offer=kind is CAPABILITIES)
    probe = Item(id=str(own_id or 0), title=title, description=description)
    index = indexes[kind.plural]
    index.refresh(session, now)
    vector = None
    if embedder is not None and index.model_name == embedder.name:
        vector = embedder.passages([embedding_text(title, description)])[0]
    candidates = index.similar(probe, 20, vector=vector)
    if organization_id is not None:
        own = session.scalars(
            sa.select(kind.model).where(
                kind.model.organization_id == organization_id,
                kind.model.status.notin_(("withdrawn", "expired")),
            )
        ).all()
        to_item = scene_item if kind is SCENES else capability_item
        candidates += [to_item(row) for row in own]
    unique = list({c.id: c for c in candidates if c.id != str(own_id)}.values())
    known = (
        vectors.stored_vectors(session, kind.name, unique, index.model_name)[0]
        if vector is not None and unique and index.model_name is not None
        else None
    )
    finder = DuplicateFinder(tokenizer).fit(unique, vectors=known)
    return SubmissionCheck(issues, finder.find(probe, vector=vector))


def new_strong_matches(
    session: orm.Session, actor: Any, indexes: dict[str, LiveIndex], *, now: datetime
) -> list[tuple[Any, Proposal]]:
    """For the actor's published items: strong counterparts published recently."""
    if actor is None or actor.organization_id is None:
        return []
    result = []
    since = now - NEW_WINDOW
    # The items are the actor's own and published: no visibility check per item, and
    # each index is brought up to date once, not once per item.
    for kind, index, counterpart, to_item in (
        (SCENES, indexes["capabilities"], Capability, scene_item),
        (CAPABILITIES, indexes["scenes"], Scene, capability_item),
    ):
        own = session.scalars(
            sa.select(kind.model).where(
                kind.model.organization_id == actor.organization_id,
                kind.model.status == "published",
            )
        ).all()
        if not own:
            continue
        index.refresh(session, now)
        for item in own:
            ranked = index.rank(to_item(item), 5, explain=False)  # scores suffice
            for proposal in _proposals(session, counterpart, ranked):
                published = proposal.item.published_at
                if proposal.strong and published and published >= since:
                    result.append((item, proposal))
    result.sort(key=lambda pair: -pair[1].score)
    return result


FINDERS = {"scene": matches_for_scene, "capability": matches_for_capability}
