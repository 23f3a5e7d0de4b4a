"""Near-duplicates: a new submission that repeats an existing one, and organization
names that are the same company written differently (无锡XX科技有限公司 / XX科技)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from matching.items import Item
from matching.retrieve import TermIndex, top_indices
from matching.tokenize import Tokenizer, document_words, normalize

TEXT_THRESHOLD = 0.80
TITLE_THRESHOLD = 90.0
# Cosine of e5 sentence vectors: the same need rewritten in other words measured
# 0.97, two different needs of one topic (电梯困人监测 / 电梯能耗改造) 0.89-0.92.
SEMANTIC_THRESHOLD = 0.95


@dataclass(frozen=True)
class Duplicate:
    id: str
    title: str
    text_similarity: float
    title_similarity: float
    # Cosine of the two sentence vectors; None where either has none.
    semantic_similarity: float | None = None


class DuplicateFinder:
    """Finds existing items that a new one likely repeats.

    Parameters
    ----------
    tokenizer : Tokenizer
        The same tokenizer the items were cut with.

    Examples
    --------
    >>> existing = [Item("1", "太湖蓝藻预警", "卫星遥感预警蓝藻")]
    >>> finder = DuplicateFinder(Tokenizer()).fit(existing)
    >>> [d.id for d in finder.find(Item("n", "太湖蓝藻预警", "用卫星遥感预警蓝藻"))]
    ['1']
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def fit(
        self, existing: Sequence[Item], *, vectors: np.ndarray | None = None
    ) -> "DuplicateFinder":
        """Index the existing items; `vectors` (rows in their order) let `find` also
        catch the same need written in other words."""
        self.items_ = list(existing)
        self.vectors_ = vectors
        self.titles_ = [normalize(item.title) for item in self.items_]
        self.index_ = (
            TermIndex([self._words(item) for item in self.items_])
            if self.items_
            else None
        )
        return self

    def _words(self, item: Item) -> list[str]:
        if item.tokens is not None:
            return list(item.tokens)
        return document_words(self.tokenizer, item.title, item.description)

    def find(
        self, item: Item, limit: int = 5, *, vector: np.ndarray | None = None
    ) -> list[Duplicate]:
        """Existing items at or above any threshold, most similar first."""
        if self.index_ is None:
            return []
        query = self.index_.transform([self._words(item)])
        text_scores = self.index_.scores(query)
        candidates = set(top_indices(text_scores, 20).tolist())
        semantic = None
        if vector is not None and self.vectors_ is not None and vector.any():
            semantic = np.asarray(self.vectors_, np.float32) @ vector
            candidates |= set(np.flatnonzero(semantic >= SEMANTIC_THRESHOLD).tolist())
        title = normalize(item.title)
        for _, _, row in process.extract(
            title,
            self.titles_,
            scorer=fuzz.ratio,
            limit=5,
            score_cutoff=TITLE_THRESHOLD,
        ):
            candidates.add(row)
        found = []
        for row in candidates:
            text = float(text_scores[row])
            title_score = float(fuzz.ratio(title, self.titles_[row]))
            if self.items_[row].id == item.id:
                continue
            meaning = float(semantic[row]) if semantic is not None else None
            if (
                text >= TEXT_THRESHOLD
                or title_score >= TITLE_THRESHOLD
                or (meaning is not None and meaning >= SEMANTIC_THRESHOLD)
            ):
                found.append(
                    Duplicate(
                        self.items_[row].id,
                        self.items_[row].title,
                        round(text, 3),
                        round(title_score, 1),
                        round(meaning, 3) if meaning is not None else None,
                    )
                )
        found.sort(
            key=lambda d: (
                -max(
                    d.text_similarity,
                    d.title_similarity / 100,
                    d.semantic_similarity or 0.0,
                ),
                d.id,
            )
        )
        return found[:limit]


REGION_PREFIX = re.compile(
    r"^(江苏省|江苏|无锡市|无锡|江阴市|江阴|宜兴市|宜兴|梁溪区|锡山区|惠山区|滨湖区|"
    r"新吴区|无锡经开区|经开区)+"
)
LEGAL_SUFFIX = re.compile(
    r"(股份有限公司|有限责任公司|集团有限公司|集团股份有限公司|有限公司|集团|公司|"
    r"分公司|研究院|研究所)$"
)
BRACKETS = re.compile(r"[（(][^）)]*[）)]")


def organization_key(name: str) -> str:
    """The distinctive part of a name: no region, bracketed part or legal form."""
    key = BRACKETS.sub("", normalize(name)).replace(" ", "")
    previous = None
    while previous != key:
        previous = key
        key = REGION_PREFIX.sub("", key)
        key = LEGAL_SUFFIX.sub("", key)
    return key


def similar_organizations(
    name: str, names: Sequence[str], threshold: float = 90.0
) -> list[tuple[str, float]]:
    """Existing names that are likely the same organization as `name`."""
    key = organization_key(name)
    if not key:
        return []
    keys = [organization_key(n) for n in names]
    found = []
    for candidate, candidate_key in zip(names, keys, strict=True):
        if not candidate_key:
            continue
        score = float(fuzz.ratio(key, candidate_key))
        if score >= threshold:
            found.append((candidate, score))
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return found
