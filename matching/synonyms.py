"""Synonym groups: words read as the group's first word, in addition to themselves."""

from collections.abc import Iterable, Mapping
from pathlib import Path

from matching.tokenize import DATA_DIR, normalize

DEFAULT_SYNONYMS_FILE = DATA_DIR / "synonyms.txt"


def read_synonym_groups(path: Path = DEFAULT_SYNONYMS_FILE) -> list[list[str]]:
    """Groups from a file with one group per line (first word canonical), # comments."""
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].replace("/", " ").replace("、", " ").split()
        if len(words) >= 2:
            groups.append(words)
    return groups


def synonym_map(groups: Iterable[Iterable[str]]) -> dict[str, str]:
    """Each non-canonical word to its canonical word; the first group wins a clash."""
    mapping: dict[str, str] = {}
    for group in groups:
        words = [normalize(w) for w in group]
        canonical = words[0]
        for word in words[1:]:
            if word != canonical:
                mapping.setdefault(word, canonical)
    return mapping


def expand(words: Iterable[str], mapping: Mapping[str, str]) -> list[str]:
    """The words plus, after each synonym, its canonical word."""
    result = []
    for word in words:
        result.append(word)
        canonical = mapping.get(word)
        if canonical is not None:
            result.append(canonical)
    return result
