"""How much each kind of evidence counts in a match score: the one place for weights.

A score is the weighted sum of features in [0, 1], so it lies in [0, 1] too:

- ``words``: TF-IDF cosine over whole jieba words (not the parts that search mode also
  cuts out of a long word; synonyms also read as their group's first word), title
  counted twice;
- ``bm25``: BM25 of the demand's words, scaled by the best score for that demand,
  which rewards covering more of its rarer terms;
- ``chars``: TF-IDF cosine over the character bigrams inside those words, which
  catches terms the dictionary cuts differently;
- ``domain``: the two share a domain (领域);
- ``industry``: share of industries in common (over the shorter list);
- ``district``: the supplier serves the scene's district (板块);
- ``maturity``: the capability's maturity suits the kind of scene.

Text carries most of the weight because the fields are coarse: dozens of items share
a domain, while the need is in the words. `fit_weights` learns them from judged pairs;
the platform refits them from the promotion center's marks.
"""

from collections.abc import Mapping, Sequence

import numpy as np

FEATURES = ("words", "bm25", "chars", "domain", "industry", "district", "maturity")

# Fitted by logistic regression on the judged pairs of bench/devset (2,476 pairs,
# `bench/matching_quality.py --fit`), rounded; maturity came out at zero there but is
# kept small, as the platform's own marks may show it matters.
DEFAULT_WEIGHTS: dict[str, float] = {
    "words": 0.20,
    "bm25": 0.40,
    "chars": 0.16,
    "domain": 0.10,
    "industry": 0.08,
    "district": 0.05,
    "maturity": 0.01,
}

LABELS = {
    "words": "文本关键词",
    "bm25": "关键词覆盖",
    "chars": "字面相近",
    "domain": "领域一致",
    "industry": "产业方向一致",
    "district": "服务板块覆盖",
    "maturity": "成熟度适配",
}


def as_vector(weights: Mapping[str, float]) -> np.ndarray:
    """Weights in FEATURES order; a missing feature counts 0."""
    unknown = set(weights) - set(FEATURES)
    if unknown:
        raise ValueError(f"未知的权重项：{'、'.join(sorted(unknown))}")
    vector = np.array([float(weights.get(f, 0.0)) for f in FEATURES], dtype=np.float32)
    if (vector < 0).any() or vector.sum() <= 0:
        raise ValueError("权重须为非负数且不全为0")
    return vector / vector.sum()


def fit_weights(
    features: np.ndarray, labels: Sequence[int], *, random_state: int = 0
) -> dict[str, float]:
    """Weights from judged pairs by logistic regression (positive coefficients kept).

    `features` is (n_pairs, len(FEATURES)); `labels` 1 for relevant, 0 for not.
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels)
    if len(set(y.tolist())) < 2:
        raise ValueError("需要同时有“相关”和“不相关”的标注才能拟合权重")
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=random_state)
    model.fit(features, y)
    coefficients = np.clip(model.coef_.ravel(), 0.0, None)
    if coefficients.sum() <= 0:
        raise ValueError("标注数据没有显示任何正相关的特征")
    coefficients = coefficients / coefficients.sum()
    return {
        name: round(float(c), 4) for name, c in zip(FEATURES, coefficients, strict=True)
    }
