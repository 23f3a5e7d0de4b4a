"""Structured agreement between a demand and candidate supplies, as numbers in [0, 1].

Each feature is symmetric, so either a scene or a capability can stand on either side.
Unknown values (a field missing on one side) score 0.5: neither for nor against.
"""

from collections.abc import Sequence

import numpy as np

from matching.items import Item

# Maturity levels of capabilities, from an idea to routine use.
MATURITY_LEVELS = {
    "概念验证": 1,
    "样机研制": 2,
    "中试验证": 3,
    "小批量应用": 4,
    "规模化应用": 5,
}
# The least maturity a kind of scene usually needs: technology-driven scenes are
# where unproven technology gets its first trial; the others need something working.
KIND_NEEDS = {"技术驱动类": 2, "业务驱动类": 4, "集成应用类": 4}
ALL_DISTRICTS = 8

STRUCTURED_FEATURES = ("domain", "industry", "district", "maturity")


class FieldTable:
    """One boolean column per distinct value of a list field, for fast overlaps."""

    def __init__(self, values: Sequence[tuple[str, ...]]) -> None:
        self.codes: dict[str, int] = {}
        for row in values:
            for value in row:
                self.codes.setdefault(value, len(self.codes))
        self.matrix = np.zeros((len(values), max(len(self.codes), 1)), dtype=np.float32)
        for i, row in enumerate(values):
            for value in row:
                self.matrix[i, self.codes[value]] = 1.0
        self.sizes = self.matrix.sum(axis=1)

    def encode(self, row: tuple[str, ...]) -> np.ndarray:
        vector = np.zeros(self.matrix.shape[1], dtype=np.float32)
        for value in row:
            code = self.codes.get(value)
            if code is not None:
                vector[code] = 1.0
        return vector

    def overlap(
        self, rows: Sequence[tuple[str, ...]], candidates: np.ndarray
    ) -> np.ndarray:
        """(len(rows), len(candidates)): shared values over the smaller side's count;
        0.5 where a side is empty."""
        if not rows:
            return np.zeros((0, len(candidates)), dtype=np.float32)
        encoded = np.stack([self.encode(row) for row in rows])
        shared = encoded @ self.matrix[candidates].T
        sizes = self.sizes[candidates][np.newaxis, :]
        lengths = np.array([len(row) for row in rows], dtype=np.float32)[:, np.newaxis]
        known = (sizes > 0) & (lengths > 0)
        ratio = shared / np.maximum(np.minimum(sizes, lengths), 1)
        return np.where(known, ratio, 0.5).astype(np.float32)


def maturity_fit(levels: np.ndarray, needs: np.ndarray) -> np.ndarray:
    """1 where the maturity meets the kind's need, less by 0.25 per level short, 0.5
    where either is unknown (0 marks unknown in both arrays)."""
    fit = np.clip(1.0 - 0.25 * (needs - levels), 0.0, 1.0)
    fit = np.where(levels >= needs, 1.0, fit)
    return np.where((levels == 0) | (needs == 0), 0.5, fit).astype(np.float32)


class StructuredFeatures:
    """Precomputed field tables of the supply side."""

    def __init__(self, supply: Sequence[Item]) -> None:
        self.domains = FieldTable([item.domains for item in supply])
        self.industries = FieldTable([item.industries for item in supply])
        self.districts = FieldTable([item.districts for item in supply])
        self.district_counts = np.array([len(i.districts) for i in supply])
        self.levels = np.array(
            [MATURITY_LEVELS.get(item.maturity or "", 0) for item in supply]
        )
        self.needs = np.array([KIND_NEEDS.get(item.kind or "", 0) for item in supply])

    def compute(self, demand: Item, candidates: np.ndarray) -> np.ndarray:
        """A (len(candidates), 4) array: domain, industry, district, maturity."""
        return self.compute_many([demand], candidates)[0]

    def compute_many(
        self, demands: Sequence[Item], candidates: np.ndarray
    ) -> np.ndarray:
        """(len(demands), len(candidates), 4): `compute` for several demands in whole
        array steps (an event scores every pair)."""
        domain = self.domains.overlap([d.domains for d in demands], candidates)
        domain = np.where(domain == 0.5, 0.5, (domain > 0).astype(np.float32))
        industry = self.industries.overlap([d.industries for d in demands], candidates)
        district = self.districts.overlap([d.districts for d in demands], candidates)
        # A supplier that serves the whole city agrees with any district.
        district[:, self.district_counts[candidates] >= ALL_DISTRICTS] = 1.0
        district = np.where(district == 0.5, 0.5, (district > 0).astype(np.float32))
        # Whichever side is the capability has the level, the scene the need.
        level = np.array([MATURITY_LEVELS.get(d.maturity or "", 0) for d in demands])
        need = np.array([KIND_NEEDS.get(d.kind or "", 0) for d in demands])
        levels = np.where(
            level[:, np.newaxis] > 0, level[:, np.newaxis], self.levels[candidates]
        )
        needs = np.where(
            need[:, np.newaxis] > 0, need[:, np.newaxis], self.needs[candidates]
        )
        maturity = maturity_fit(levels, needs)
        return np.stack([domain, industry, district, maturity], axis=-1)
