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

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.capabilities.models import Capability
from marketplace.matches.models import MatchWeights, read_index_versions
from marketplace.matches.synonyms import synonym_groups
from marketplace.scenes.models import Scene
from marketplace.search import get_tokenizer, sync_dictionary
from matching import Item, Match, Matcher

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
    model: type
    to_item: Callable[[Any], Item]


SPECS = {
    "capabilities": IndexSpec("capabilities", Capability, capability_item),
    "scenes": IndexSpec("scenes", Scene, scene_item),
}


def current_weights(session: orm.Session) -> tuple[int, dict[str, float] | None]:
    row = session.scalar(sa.select(MatchWeights).order_by(MatchWeights.id.desc()))
    return (row.id, row.weights) if row else (0, None)


def platform_matcher(
    session: orm.Session, weights: Mapping[str, float] | None = None
) -> Matcher:
    """An unfitted matcher as the platform runs it: its tokenizer, the synonym groups
    in use (bundled and the center's) and the given weights."""
    sync_dictionary(session)
    return Matcher(
        tokenizer=get_tokenizer(),
        synonym_groups=synonym_groups(session),
        weights=weights,
    )


class LiveIndex:
    """A fitted Matcher over the published items of one kind, plus recent changes."""

    def __init__(
        self,
        spec: IndexSpec,
        session_factory: Callable[[], orm.Session],
        *,
        refit_after: int = REFIT_AFTER_CHANGES,
    ) -> None:
        self.spec = spec
        self.session_factory = session_factory
        self.refit_after = refit_after
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
    def _build(self, session: orm.Session) -> tuple[Matcher | None, int]:
        weights_id, weights = current_weights(session)
        matcher = platform_matcher(session, weights)
        self.synonym_groups = matcher.synonym_groups
        rows = session.scalars(
            sa.select(self.spec.model).where(self.spec.model.status == "published")
        ).all()
        items = [self.spec.to_item(row) for row in rows]
        if not items:
            return None, weights_id
        return matcher.fit(items), weights_id

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
                self.added, self.removed = {}, set()
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
        changed = session.scalars(
            sa.select(model).where(model.updated_at >= self.synced_at - SYNC_OVERLAP)
        ).all()
        for row in changed:
            key = str(row.id)
            if row.status == "published":
                self.added[key] = self.spec.to_item(row)
            else:
                self.added.pop(key, None)
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
                    self.added, self.removed = {}, set()
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
    ) -> list[Match]:
        """The k best published items for `demand`: fitted index and recent changes;
        with reasons unless `explain` is False.

        Answers are kept until the index changes (any refresh that finds a new version
        empties the cache); an edited demand is a different key, as the key is the
        demand itself.
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
            state = self.state
        if matcher is None:
            if not added:
                return []
            matcher = Matcher(
                tokenizer=get_tokenizer(), synonym_groups=self.synonym_groups
            ).fit(added)
            fitted = matcher.rank(demand, k + len(exclude), explain=explain).matches
            extra: list[Match] = []
        else:
            hidden = removed | exclude
            fitted = [
                m
                for m in matcher.rank(demand, k + len(hidden), explain=explain).matches
                if m.supply_id not in hidden
            ]
            extra = matcher.score_items(
                demand, [a for a in added if a.id not in exclude]
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

    def similar(self, item: Item, limit: int) -> list[Item]:
        """Published items whose words are closest to `item` (duplicate candidates)."""
        with self.lock:
            matcher, added = self.matcher, list(self.added.values())
        found: list[Item] = list(added)
        if matcher is not None:
            by_id = {s.id: s for s in matcher.supply_}
            ranked = matcher.rank(item, limit, explain=False).matches
            found += [by_id[m.supply_id] for m in ranked]
        return found


def get_indexes(app: Any) -> dict[str, LiveIndex]:
    """This process's live indexes, created on first use."""
    indexes = app.extensions.get("match_indexes")
    if indexes is None:
        factory = app.extensions["db"]["sessionmaker"]
        indexes = {name: LiveIndex(spec, factory) for name, spec in SPECS.items()}
        app.extensions["match_indexes"] = indexes
    return indexes
