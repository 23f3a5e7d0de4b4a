"""How much each kind of evidence counts in a match, and what a score means: the one
place for weights and their calibration.

A pair's raw score is the weighted sum of features in [0, 1]:

- ``words``: TF-IDF cosine over whole jieba words (not the parts that search mode also
  cuts out of a long word; synonyms also read as their group's first word), title
  counted twice;
- ``bm25``: BM25 of the demand's words, scaled by the best score for that demand,
  which rewards covering more of its rarer terms;
- ``chars``: TF-IDF cosine over the character bigrams inside those words, which
  catches terms the dictionary cuts differently;
- ``dense``: cosine of the two texts' sentence vectors (`matching.embed`), rescaled
  from the band where the model's cosines live (DENSE_FLOOR..DENSE_CEILING) to [0, 1];
  it finds pairs that share intent but no words;
- ``domain``: the two share a domain (领域);
- ``industry``: share of industries in common (over the shorter list);
- ``district``: the supplier serves the scene's district (板块);
- ``maturity``: the capability's maturity suits the kind of scene.

The score a person sees is the raw score passed through a fitted logistic curve
(`Calibration`): the estimated probability that a promotion-center officer judges the
pair relevant (grade 2 or 3 of the judged sets). A **strong match** is one whose
probability reaches STRONG_PROBABILITY, the least value at which officers agreed with
at least four pairs in five on the judged sets (`bench/matching_quality.py --fit`
prints the table it was read from).

Without the sentence model the matcher runs on words alone, with weights and a
calibration fitted that way (LEXICAL_*).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

FEATURES = (
    "words",
    "bm25",
    "chars",
    "dense",
    "domain",
    "industry",
    "district",
    "maturity",
)
TEXT_FEATURES = FEATURES[:4]
STRUCTURED_FEATURES = FEATURES[4:]

# e5's cosines of Chinese texts hardly fall below 0.75 even for unrelated pairs: on
# the judged sets a need's median cosine is 0.86 and relevant pairs lie at 0.87-0.92.
# The band starts near the median, so an ordinary pair gets no semantic credit.
DENSE_FLOOR = 0.85
DENSE_CEILING = 0.95

# Fitted by logistic regression on the 4,909 judged pairs of bench/devset and
# bench/hardset (`bench/matching_quality.py --fit`), rounded. District and maturity
# came out at zero there; they stay in the score so the center's marks can give them
# weight (`flask fit-match-weights`).
DEFAULT_WEIGHTS: dict[str, float] = {
    "words": 0.11,
    "bm25": 0.19,
    "chars": 0.11,
    "dense": 0.36,
    "domain": 0.08,
    "industry": 0.15,
    "district": 0.0,
    "maturity": 0.0,
}
LEXICAL_WEIGHTS: dict[str, float] = {
    "words": 0.25,
    "bm25": 0.26,
    "chars": 0.24,
    "domain": 0.09,
    "industry": 0.15,
    "district": 0.01,
    "maturity": 0.0,
}

LABELS = {
    "words": "文本关键词",
    "bm25": "关键词覆盖",
    "chars": "字面相近",
    "dense": "语义相近",
    "domain": "领域一致",
    "industry": "产业方向一致",
    "district": "服务板块覆盖",
    "maturity": "成熟度适配",
}


@dataclass(frozen=True)
class Calibration:
    """probability = 1 / (1 + exp(-(scale * raw + intercept)))."""

    scale: float
    intercept: float

    def probability(self, raw: np.ndarray) -> np.ndarray:
        z = np.clip(
            self.scale * np.asarray(raw, dtype=np.float64) + self.intercept, -30, 30
        )
        return 1.0 / (1.0 + np.exp(-z))

    def raw_for(self, probability: float) -> float:
        """The raw score at which the probability is reached."""
        return (math.log(probability / (1 - probability)) - self.intercept) / self.scale


# Fitted with the weights above (Platt scaling on their weighted sum).
DEFAULT_CALIBRATION = Calibration(scale=11.81, intercept=-7.12)
LEXICAL_CALIBRATION = Calibration(scale=11.08, intercept=-6.06)
# Cross-validated over the tuning sets, 85% of the top-5 pairs at or above it were
# judged relevant (87% on words alone; 84% and 79% at 0.5), unjudged pairs counted
# as not relevant.
STRONG_PROBABILITY = 0.6


def as_vector(weights: Mapping[str, float], *, dense: bool = True) -> np.ndarray:
    """Weights in FEATURES order, normalised to sum to 1; a missing feature counts 0,
    and without the dense stage its weight is dropped."""
    unknown = set(weights) - set(FEATURES)
    if unknown:
        raise ValueError(f"未知的权重项：{'、'.join(sorted(unknown))}")
    vector = np.array(
        [
            float(weights.get(f, 0.0)) if dense or f != "dense" else 0.0
            for f in FEATURES
        ],
        dtype=np.float32,
    )
    if (vector < 0).any() or vector.sum() <= 0:
        raise ValueError("权重须为非负数且不全为0")
    return vector / vector.sum()


def dense_feature(cosines: np.ndarray) -> np.ndarray:
    """Cosines of sentence vectors mapped from the model's band to [0, 1]."""
    span = DENSE_CEILING - DENSE_FLOOR
    return np.clip((cosines - DENSE_FLOOR) / span, 0.0, 1.0).astype(np.float32)


def fit_weights(
    features: np.ndarray, labels: Sequence[int], *, random_state: int = 0
) -> dict[str, float]:
    """Weights from judged pairs by logistic regression (positive coefficients kept).

    `features` is (n_pairs, len(FEATURES)); `labels` 1 for relevant, 0 for not. A
    feature that is constant in the data (the dense one when no vectors were there)
    gets weight 0.
    """
    return fit_score_model(features, labels, random_state=random_state)[0]


def fit_score_model(
    features: np.ndarray, labels: Sequence[int], *, random_state: int = 0
) -> tuple[dict[str, float], Calibration]:
    """Weights and the calibration of their sum, both from judged pairs.

    The weights are the positive coefficients of a logistic regression over the
    features, normalised; the calibration is a one-feature logistic regression (Platt
    scaling) of the labels on the weighted sum those weights give.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    if len(set(y.tolist())) < 2:
        raise ValueError("需要同时有“相关”和“不相关”的标注才能拟合权重")
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=random_state)
    model.fit(x, y)
    coefficients = np.clip(model.coef_.ravel(), 0.0, None)
    coefficients[x.std(axis=0) == 0] = 0.0
    if coefficients.sum() <= 0:
        raise ValueError("标注数据没有显示任何正相关的特征")
    coefficients = coefficients / coefficients.sum()
    weights = {
        name: round(float(c), 4) for name, c in zip(FEATURES, coefficients, strict=True)
    }
    raw = x @ as_vector(weights).astype(np.float64)
    platt = LogisticRegression(C=100.0, max_iter=1000, random_state=random_state)
    platt.fit(raw[:, np.newaxis], y)
    calibration = Calibration(
        scale=round(float(platt.coef_.ravel()[0]), 4),
        intercept=round(float(platt.intercept_[0]), 4),
    )
    return weights, calibration
