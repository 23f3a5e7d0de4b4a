"""Reasons for a match, in Chinese, that a person can check against the two texts."""

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from matching.features import MATURITY_LEVELS
from matching.items import Item
from matching.tokenize import DATA_DIR, normalize, read_word_list
from matching.weights import FEATURES, LABELS

MAX_TERMS = 6
MIN_SHARE = 0.05
# Words that any need or offer may say (优化、数据、试点 ...): shared, they tell a
# person nothing about why this pair fits, so no reason names them.
GENERIC_WORDS = frozenset(read_word_list(DATA_DIR / "generic.txt"))


def shared_terms(
    query_row: sparse.csr_matrix,
    doc_rows: sparse.csr_matrix,
    terms: np.ndarray,
    limit: int = MAX_TERMS,
) -> list[list[str]]:
    """For each document row, the terms it shares with the query, biggest
    contribution to the cosine first, ties in term order.

    The query's terms are looked up by binary search in one pass over all the rows'
    entries (a few hundred), not through a dense vector as wide as the vocabulary.
    """
    order = np.argsort(query_row.indices)
    query_terms = query_row.indices[order]
    query_weights = np.asarray(query_row.data, dtype=np.float32)[order]
    if len(query_terms) == 0:
        return [[] for _ in range(doc_rows.shape[0])]
    found = np.minimum(np.searchsorted(query_terms, doc_rows.indices), len(order) - 1)
    shared = query_terms[found] == doc_rows.indices
    contributions = np.where(shared, doc_rows.data * query_weights[found], 0.0)
    result = []
    for start, end in zip(doc_rows.indptr[:-1], doc_rows.indptr[1:], strict=True):
        weights, indices = contributions[start:end], doc_rows.indices[start:end]
        positive = weights > 0
        weights, indices = weights[positive], indices[positive]
        order = np.lexsort((indices, -weights))
        words = [str(t) for t in terms[indices[order]]]
        words = [w for w in words if w not in GENERIC_WORDS][: limit * 2]
        result.append(_without_parts(words)[:limit])
    return result


def _without_parts(words: list[str]) -> list[str]:
    """A part is left out when its whole word is shared too (智能 beside 人工智能)."""
    if len({len(w) for w in words}) < 2:  # bigrams: no word can hold another
        return words
    return [
        w
        for w in words
        if not any(w in other for other in words if len(other) > len(w))
    ]


@functools.lru_cache(maxsize=65536)
def _readable(word: str) -> bool:
    """A whole Chinese word worth naming to a person."""
    return (
        len(word) > 1
        and word not in GENERIC_WORDS
        and not any(c.isascii() and c.isalnum() for c in word)
    )


def _similar_words(
    bigrams: list[str],
    terms: list[str],
    demand_words: Sequence[str],
    supply_words: Sequence[str],
    limit: int = 3,
) -> list[str]:
    """Shared bigrams told as the two whole words that hold them (客流统计≈客流计数),
    never as the bare two characters (及零 of 汽车及零部件 means nothing to a reader).

    Left out: generic bigrams (高端 of 高端装备≈高端膜材料), words with Latin letters or
    digits (mm≈1mm, 50hz≈ghz), a word inside the other (缺陷检测≈缺陷, 物联网≈联网: a
    part says nothing the whole does not), and words already named as shared terms.
    """
    told: set[str] = set(terms)
    pairs: list[str] = []
    readable_demand = [w for w in dict.fromkeys(demand_words) if _readable(w)]
    readable_supply = [w for w in dict.fromkeys(supply_words) if _readable(w)]
    for gram in bigrams:
        if gram in GENERIC_WORDS:
            continue
        left = [w for w in readable_demand if gram in w and w not in told]
        right = [w for w in readable_supply if gram in w and w not in told]
        found = next(
            ((a, b) for a in left for b in right if a not in b and b not in a), None
        )
        if found is None:
            continue
        a, b = found
        pairs.append(f"{a}≈{b}")
        told.update((a, b))
        if len(pairs) == limit:
            break
    return pairs


def reasons(
    demand: Item,
    supply: Item,
    features: np.ndarray,
    weights: np.ndarray,
    terms: list[str],
    bigrams: list[str],
    *,
    demand_words: Sequence[str] = (),
    supply_words: Sequence[str] = (),
    synonyms: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One reason per kind of evidence that contributed, with its share of the score.

    The two word scores (cosine and BM25) rest on the same shared words, so they are
    told as one reason. `demand_words` and `supply_words` are the two items' whole
    words, from which a shared bigram is told as the pair of words holding it.
    """
    # Taxonomy terms are indexed with the text, but the field reasons tell them.
    tagged = {
        normalize(v)
        for v in (
            *demand.domains,
            *demand.industries,
            *supply.domains,
            *supply.industries,
        )
    }
    # A term is named as each text writes it: a synonym group's first word that one
    # text never says would puzzle the reader, so it reads 雨污混接≈管网错接.
    written = []
    demand_text, supply_text = _plain(demand), _plain(supply)
    for term in terms:
        if term in tagged:
            continue
        left = _as_written(term, demand_text, demand_words, synonyms or {})
        right = _as_written(term, supply_text, supply_words, synonyms or {})
        if left and right:
            written.append(left if left == right else f"{left}≈{right}")
    terms = list(dict.fromkeys(written))[:MAX_TERMS]
    contributions = dict(zip(FEATURES, (features * weights).tolist(), strict=True))
    contributions["words"] += contributions.pop("bm25")
    total = sum(contributions.values()) or 1.0
    values = dict(zip(FEATURES, features.tolist(), strict=True))
    similar = _similar_words(bigrams, terms, demand_words, supply_words)
    result = []
    for name, amount in sorted(contributions.items(), key=lambda kv: -kv[1]):
        share = amount / total
        text = _describe(name, values[name], demand, supply, terms, similar)
        # Reasons under 5% of the score (a district, a maturity) add only noise.
        if text is None or share < MIN_SHARE:
            continue
        result.append(
            {
                "factor": name,
                "label": LABELS[name],
                "share": round(share, 3),
                "text": f"{text}（占{share:.0%}）",
            }
        )
    return result


def _plain(item: Item) -> str:
    return normalize(f"{item.title} {item.description}")


def _as_written(
    term: str, text: str, words: Sequence[str], synonyms: Mapping[str, str]
) -> str | None:
    """The term as the text writes it: itself, or a word of its synonym group."""
    if term in text:
        return term
    return next((w for w in words if synonyms.get(w) == term and w in text), None)


def _describe(
    name: str,
    value: float,
    demand: Item,
    supply: Item,
    terms: list[str],
    similar: list[str],
) -> str | None:
    if name == "words":
        return f"共同关键词：{'、'.join(terms)}" if terms else None
    if name == "chars":
        return f"字面相近：{'；'.join(similar)}" if similar else None
    if name == "dense":
        if value >= 0.55:
            return "语义高度相近：两段文字讲的是同一类问题和做法"
        if value >= 0.25:
            return "语义相近：两段文字讲的事情相关"
        return "语义略有关联" if value > 0 else None
    if value <= 0.5 and name != "industry":
        return None
    if name == "domain":
        shared = sorted(set(demand.domains) & set(supply.domains))
        return f"领域一致：{'、'.join(shared)}" if shared else None
    if name == "industry":
        shared = [i for i in demand.industries if i in supply.industries]
        return f"产业方向一致：{'、'.join(shared)}" if shared else None
    if name == "district":
        shared = [d for d in demand.districts if d in supply.districts]
        if shared:
            return f"服务板块覆盖：{'、'.join(shared)}"
        return "服务全市各板块" if len(supply.districts) >= 8 else None
    maturity = supply.maturity or demand.maturity
    kind = demand.kind or supply.kind
    if maturity in MATURITY_LEVELS and kind:
        return f"成熟度“{maturity}”适合{kind}场景"
    return None


SENTENCE_END = re.compile(r"[。！？；!?;\n]+")
# Only the first few matches and sentences: each costs an embedding (raw-text path).
SENTENCE_MATCHES = 3
SENTENCES_PER_TEXT = 4
SENTENCE_CHARS = 40


def sentences(item: Item) -> list[str]:
    """The title and the first sentences of the description, each bounded."""
    parts = [item.title.strip()]
    parts += [p.strip() for p in SENTENCE_END.split(item.description or "")]
    kept = [p[:SENTENCE_CHARS] for p in parts if len(p.strip()) >= 4]
    return list(dict.fromkeys(kept))[:SENTENCES_PER_TEXT]


def name_closest_sentences(
    embedder: Any,
    demand: Item,
    supplies: Sequence[Item],
    reasons_of: list[list[dict[str, Any]]],
) -> None:
    """Add to the semantic reason of the first matches which sentence of each text
    the model found closest (需求中“…”与能力中“…”最接近), where it weighs in.

    It embeds the sentences, so it runs only where the matcher has a model (the
    command line, the intake check), never on the platform's read path.
    """
    wanted = [
        (i, reason)
        for i, found in enumerate(reasons_of[:SENTENCE_MATCHES])
        for reason in found
        if reason["factor"] == "dense" and reason["share"] >= 0.15
    ]
    left = sentences(demand)
    if not wanted or len(left) < 2:
        return
    left_vectors = embedder.queries(left)
    for i, reason in wanted:
        right = sentences(supplies[i])
        if not right:
            continue
        closeness = left_vectors @ embedder.passages(right).T
        a, b = np.unravel_index(int(np.argmax(closeness)), closeness.shape)
        head, share = reason["text"].rsplit("（占", 1)
        label = head.split("：", 1)[0]
        reason["text"] = f"{label}：“{left[a]}”与“{right[b]}”最接近（占{share}"
