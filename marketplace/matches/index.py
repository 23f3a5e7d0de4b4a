"""One fitted matcher per index and process, kept fresh without a restart.

Each index (published capabilities, which scenes are matched against, and published
scenes, for capabilities) is fitted once from the words stored with the items. Every
request compares a version counter in the database with the one it knows; when they
differ it reads only the items changed since its last look, scores the new and
edited ones beside the fitted index and hides the withdrawn ones. When the changes
pile up, it refits in a background thread and swaps the result in.
"""

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.capabilities.models import Capability
from marketplace.matches import vectors
from marketplace.matches.models import ItemVector, MatchWeights, read_index_versions
from marketplace.matches.synonyms import synonym_groups
from marketplace.scenes.models import Scene
from marketplace.search import get_tokenizer, sync_dictionary
from matching import Calibration, Item, Match, Matcher

log = logging.getLogger(__name__)

REFIT_AFTER_CHANGES = 200
CACHE_SIZE = 2000
# Overlap when reading changes, so a transaction that committed a little after its
# own timestamp is still seen.
SYNC_OVERLAP = timedelta(minutes=2)


def scene_item(scene: Scene) -> Item:
    return Item(
        id=str(scene.id),
        title=scene.title,
        description=scene.description,
        domains=(scene.domain,),
        industries=tuple(scene.industries),
        districts=(scene.district,),
        budget=float(scene.budget) if scene.budget is not None else None,
        kind=scene.kind,
        tokens=tuple(scene.search_tokens.split()),
    )


def capability_item(capability: Capability) -> Item:
    return Item(
        id=str(capability.id),
        title=capability.title,
        description=capability.description,
        domains=tuple(capability.domains),
        industries=tuple(capability.industries),
        districts=tuple(capability.districts),
        type=capability.type,
        maturity=capability.maturity,
        tokens=tuple(capability.search_tokens.split()),
    )


@dataclass(frozen=True)
class IndexSpec:
    name: str  # the IndexVersion kind: "capabilities" or "scenes"
    item_kind: str  # the ItemVector kind: "capability" or "scene"
    model: type
    to_item: Callable[[Any], Item]


SPECS = {
    "capabilities": IndexSpec(
        "capabilities", "capability", Capability, capability_item
    ),
    "scenes": IndexSpec("scenes", "scene", Scene, scene_item),
}


@dataclass(frozen=True)
class ScoreModel:
    """Weights fitted from the center's marks, with their calibration."""

    id: int
    weights: dict[str, float] | None
    calibration: Calibration | None

    def for_mode(self, dense: bool) -> "ScoreModel":
        """Weights fitted without sentence vectors do not hold with them: the dense
        stage then runs on the bundled defaults until the next fit."""
        if dense and self.weights is not None and "dense" not in self.weights:
            return ScoreModel(self.id, None, None)
        return self


def current_weights(session: orm.Session) -> ScoreModel:
    row = session.scalar(sa.select(MatchWeights).order_by(MatchWeights.id.desc()))
    if row is None:
        return ScoreModel(0, None, None)
    stored = row.calibration
    calibration = (
        Calibration(float(stored["scale"]), float(stored["intercept"]))
        if stored
        else None
    )
    return ScoreModel(row.id, dict(row.weights), calibration)


def platform_matcher(session: orm.Session, model: ScoreModel | None = None) -> Matcher:
    """An unfitted matcher as the platform runs it: its tokenizer, the synonym groups
    in use (bundled and the center's) and the given weights. It never embeds: the
    sentence vectors are the stored ones."""
    sync_dictionary(session)
    return Matcher(
        tokenizer=get_tokenizer(),
        synonym_groups=synonym_groups(session),
        weights=model.weights if model else None,
        calibration=model.calibration if model else None,
        embedder=None,
    )


class LiveIndex:
    """A fitted Matcher over the published items of one kind, plus recent changes."""

    def __init__(
        self,
        spec: IndexSpec,
        session_factory: Callable[[], orm.Session],
        *,
        refit_after: int = REFIT_AFTER_CHANGES,
        model_name: str | None = None,
        vectors_directory: str | None = None,
    ) -> None:
        self.spec = spec
        self.session_factory = session_factory
        self.refit_after = refit_after
        # The sentence model whose stored vectors the index reads; None: words only.
        self.model_name = model_name
        self.vectors_directory = vectors_directory
        self.added_vectors: dict[str, np.ndarray] = {}
        self.lock = threading.Lock()
        self.matcher: Matcher | None = None
        self.version: int | None = None
        self.weights_id: int | None = None
        # The versions of what every fit depends on: weights and synonym groups.
        self.model_version: tuple[int, int] | None = None
        self.synced_at: datetime | None = None
        self.added: dict[str, Item] = {}
        self.removed: set[str] = set()
        self.refitting = False
        self.synonym_groups: list[list[str]] | None = None
        # Answers by (demand, k, exclude, explain), valid while `state` is unchanged.
        self.cache: OrderedDict[tuple[Item, int, frozenset[str], bool], list[Match]] = (
            OrderedDict()
        )
        self.state = 0

    @property
    def versions(self) -> tuple[int | None, ...]:
        """The versions this process's view reflects: index, weights, synonyms."""
        return (self.version, *(self.model_version or (None, None)))

    # -- building ----------------------------------------------------------------
    @property
    def dense(self) -> bool:
        return self.model_name is not None

    def _build(self, session: orm.Session) -> tuple[Matcher | None, int]:
        model = current_weights(session).for_mode(self.dense)
        matcher = platform_matcher(session, model)
        self.synonym_groups = matcher.synonym_groups
        rows = session.scalars(
            sa.select(self.spec.model)
            .where(self.spec.model.status == "published")
            .order_by(self.spec.model.id)
        ).all()
        items = [self.spec.to_item(row) for row in rows]
        if not items:
            return None, model.id
        return matcher.fit(items, vectors=self._vectors(session, rows)), model.id

    def _vectors(self, session: orm.Session, rows: list[Any]) -> np.ndarray | None:
        """The published items' stored vectors, mapped from the host's shared file."""
        if self.model_name is None:
            return None
        model_name, kind = self.model_name, self.spec.item_kind
        if self.vectors_directory is None:
            return vectors.stored_vectors(session, kind, rows, model_name)[0]
        return vectors.shared_matrix(
            self.vectors_directory,
            self.spec.name,
            model_name,
            rows,
            lambda: vectors.stored_vectors(session, kind, rows, model_name)[0],
            vectors.vectors_stamp(session, kind, model_name),
        )

    def demand_vector(
        self, session: orm.Session, kind: str, item: Any
    ) -> np.ndarray | None:
        """The stored vector of a demand (of the other kind), if the index is dense."""
        if self.model_name is None:
            return None
        return vectors.stored_vector(session, kind, item, self.model_name)

    def refresh(
        self,
        session: orm.Session,
        now: datetime,
        versions: Mapping[str, int] | None = None,
    ) -> None:
        """Bring this process's view up to the database's version (cheap if current).

        `versions` are the index versions when the caller has just read them.
        """
        if versions is None:
            versions = read_index_versions(session)
        version = versions.get(self.spec.name, 0)
        model_version = (versions.get("weights", 0), sync_dictionary(session, versions))
        with self.lock:
            if version == self.version and model_version == self.model_version:
                return
            if self.synced_at is None or model_version != self.model_version:
                self.matcher, self.weights_id = self._build(session)
                self.model_version = model_version
                self.added, self.removed, self.added_vectors = {}, set(), {}
            else:
                self._apply_changes(session)
            self.version = version
            self.synced_at = now
            self._changed()
            if len(self.added) + len(self.removed) > self.refit_after:
                self._refit_in_background(now)

    def _changed(self) -> None:
        """Forget cached answers (the caller holds the lock)."""
        self.state += 1
        self.cache.clear()

    def _apply_changes(self, session: orm.Session) -> None:
        assert self.synced_at is not None
        model = self.spec.model
        since = self.synced_at - SYNC_OVERLAP
        changed = model.updated_at >= since
        if self.model_name is not None:
            # A vector computed since (by `flask embed` or the job) changes it too.
            revectored = sa.select(ItemVector.item_id).where(
                ItemVector.kind == self.spec.item_kind, ItemVector.computed_at >= since
            )
            changed = sa.or_(changed, model.id.in_(revectored))
        rows = session.scalars(sa.select(model).where(changed)).all()
        published = [row for row in rows if row.status == "published"]
        if self.model_name is not None and published:
            found, _ = vectors.stored_vectors(
                session, self.spec.item_kind, published, self.model_name
            )
            self.added_vectors.update(
                (str(row.id), vector)
                for row, vector in zip(published, found, strict=True)
            )
        for row in rows:
            key = str(row.id)
            if row.status == "published":
                self.added[key] = self.spec.to_item(row)
            else:
                self.added.pop(key, None)
                self.added_vectors.pop(key, None)
            # Whatever the fitted index holds for it is out of date now.
            self.removed.add(key)

    def _refit_in_background(self, now: datetime) -> None:
        if self.refitting:
            return
        self.refitting = True

        def refit() -> None:
            session = self.session_factory()
            try:
                matcher, weights_id = self._build(session)
                with self.lock:
                    self._changed()
                    self.matcher, self.weights_id = matcher, weights_id
                    self.added, self.removed, self.added_vectors = {}, set(), {}
                    # Re-read what changed while the refit ran.
                    self.synced_at = now
                    self.version = None
            except Exception:  # a failed refit leaves the working index in place
                log.exception("refit of the %s index failed", self.spec.name)
            finally:
                session.close()
                self.refitting = False

        threading.Thread(
            target=refit, name=f"refit-{self.spec.name}", daemon=True
        ).start()

    # -- ranking -----------------------------------------------------------------
    def rank(
        self,
        demand: Item,
        k: int,
        *,
        exclude: frozenset[str] = frozenset(),
        explain: bool = True,
        vector: np.ndarray | None = None,
    ) -> list[Match]:
        """The k best published items for `demand`: fitted index and recent changes;
        with reasons unless `explain` is False. `vector` is the demand's stored
        sentence vector.

        Answers are kept until the index changes (any refresh that finds a new version
        empties the cache); an edited demand is a different key, as the key is the
        demand itself (a new vector for it bumps the index version).
        """
        key = (demand, k, exclude, explain)
        with self.lock:
            cached = self.cache.get(key)
            if cached is not None:
                self.cache.move_to_end(key)
                return cached
            matcher, added, removed = (
                self.matcher,
                list(self.added.values()),
                set(self.removed),
            )
            added_vectors = dict(self.added_vectors)
            state = self.state
        if matcher is None:
            if not added:
                return []
            matcher = Matcher(
                tokenizer=get_tokenizer(),
                synonym_groups=self.synonym_groups,
                embedder=None,
            ).fit(added, vectors=self._vectors_of(added, added_vectors))
            fitted = matcher.rank(
                demand, k + len(exclude), explain=explain, vector=vector
            ).matches
            extra: list[Match] = []
        else:
            hidden = removed | exclude
            fitted = [
                m
                for m in matcher.rank(
                    demand, k + len(hidden), explain=explain, vector=vector
                ).matches
                if m.supply_id not in hidden
            ]
            others = [a for a in added if a.id not in exclude]
            extra = matcher.score_items(
                demand,
                others,
                vector=vector,
                other_vectors=self._vectors_of(others, added_vectors),
            )
        merged = [m for m in fitted + extra if m.supply_id not in exclude]
        merged.sort(key=lambda m: (-m.score, m.supply_id))
        result = merged[:k]
        with self.lock:
            if self.state == state:
                self.cache[key] = result
                if len(self.cache) > CACHE_SIZE:
                    self.cache.popitem(last=False)
        return result

    def _vectors_of(
        self, items: list[Item], found: Mapping[str, np.ndarray]
    ) -> np.ndarray | None:
        if self.model_name is None:
            return None
        matrix = np.zeros((len(items), vectors.DIM), dtype=np.float32)
        for i, item in enumerate(items):
            if item.id in found:
                matrix[i] = found[item.id]
        return matrix

    def similar(
        self, item: Item, limit: int, *, vector: np.ndarray | None = None
    ) -> list[Item]:
        """Published items closest to `item` in words and, with a vector, in meaning
        (duplicate candidates)."""
        with self.lock:
            matcher, added = self.matcher, list(self.added.values())
        found: list[Item] = list(added)
        if matcher is not None:
            by_id = {s.id: s for s in matcher.supply_}
            ranked = matcher.rank(item, limit, explain=False, vector=vector).matches
            found += [by_id[m.supply_id] for m in ranked]
        return found


def get_indexes(app: Any) -> dict[str, LiveIndex]:
    """This process's live indexes, created on first use."""
    indexes = app.extensions.get("match_indexes")
    if indexes is None:
        factory = app.extensions["db"]["sessionmaker"]
        model_name = vectors.vector_model(app.config)
        indexes = {
            name: LiveIndex(
                spec,
                factory,
                model_name=model_name,
                vectors_directory=app.config.get("VECTORS_DIRECTORY"),
            )
            for name, spec in SPECS.items()
        }
        app.extensions["match_indexes"] = indexes
    return indexes
