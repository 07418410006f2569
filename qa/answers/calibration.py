"""Answer confidence as a calibrated probability: a small logistic model over answer signals.

No single score tells a question the documents answer from one they do not: a question about a
tool the documents never mention still finds passages about neighbouring tools, with similar
cosine scores. Several weak signals together do better (Kamath, Jia & Liang, ACL 2020), so the
confidence of an answer is

    P(the answer is supported) = sigmoid(intercept + sum_i coefficient_i * (signal_i - mean_i) / scale_i)

over the signals of :data:`SIGNALS`, computed by :mod:`qa.answers.answering` for every question. The
default coefficients (:data:`DEFAULT_CALIBRATION`) were fitted on the question sets in the
repository (``bench/fit_calibration.py`` reproduces them); ``qa eval --calibrate`` refits them on
a user's own set and stores them in the index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError

# What each signal measures (all computed from retrieval and the index, no model call):
SIGNALS: dict[str, str] = {
    "similarity": "cosine similarity of the best sentence of the top passages to the question",
    "coverage": "weighted share of the question's specific terms found in the passage that holds most of them",
    "support": "best passage by similarity and coverage together: sqrt(its best sentence similarity x its coverage)",
    "phrase_match": "1 when a top passage holds two neighbouring terms of the question side by side, in its order (stopwords skipped)",
    "top_score": "fused retrieval score of the top passage",
    "score_gap": "top passage score minus the best passage's that does not overlap it",
    "missing_terms": "weighted share of the question's terms that occur in no passage of the index, names such as 'PEP 695' or 'sys.monitoring' that it never holds as written counting as rare terms (shrunk for small indexes)",
}
# The signals the default model uses (bench/fit_calibration.py reports 5-fold cross-validated
# AUROC on the fitting sets with each signal added or dropped: .965 with these six, at the L2
# penalty chosen the same way). coverage adds nothing. Dropping support raises that AUROC (.965 ->
# .968) but declines answerable questions on the small sample corpus: the fitting sets hold only
# 24 small-corpus questions, so it stays. Measured and removed from the signals: the spread of
# the top-10 scores (NQC-style), BM25 of the top passage over its ceiling, the share of the top
# 10 that BM25 also matched, and the specificity of the most specific absent term.
CALIBRATION_FEATURES = ("similarity", "support", "phrase_match", "top_score", "score_gap", "missing_terms")
MIN_EXAMPLES_PER_CLASS = 10


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic model from answer signals to the probability that an answer is supported.

    >>> c = Calibration(features=("similarity",), coefficients=(2.0,), intercept=0.0, means=(0.5,), scales=(0.1,))
    >>> round(c.probability({"similarity": 0.6}), 3)
    0.881
    """

    features: tuple[str, ...]
    coefficients: tuple[float, ...]
    intercept: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    fitted_on: str = ""

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.coefficients) == len(self.means) == len(self.scales) == n):
            raise InputError(f"a calibration needs one coefficient, mean and scale per feature ({n} features)")
        unknown = [f for f in self.features if f not in SIGNALS]
        if unknown:
            raise InputError(f"unknown calibration feature(s) {unknown}; known: {', '.join(SIGNALS)}")
        if any(s <= 0 for s in self.scales):
            raise InputError("calibration scales must be > 0")

    def logit(self, signals: Mapping[str, float]) -> float:
        total = self.intercept
        for name, coefficient, mean, scale in zip(self.features, self.coefficients, self.means, self.scales):
            total += coefficient * (float(signals.get(name, mean)) - mean) / scale
        return total

    def probability(self, signals: Mapping[str, float]) -> float:
        """P(supported) for one answer's ``signals`` (a missing signal counts as its mean)."""
        return _sigmoid(self.logit(signals))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "coefficients": [round(c, 6) for c in self.coefficients],
            "intercept": round(self.intercept, 6),
            "means": [round(m, 6) for m in self.means],
            "scales": [round(s, 6) for s in self.scales],
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Calibration":
        try:
            return cls(
                features=tuple(str(f) for f in data["features"]),
                coefficients=tuple(float(c) for c in data["coefficients"]),
                intercept=float(data["intercept"]),
                means=tuple(float(m) for m in data["means"]),
                scales=tuple(float(s) for s in data["scales"]),
                fitted_on=str(data.get("fitted_on", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"invalid calibration {dict(data)!r} ({exc}); refit it with qa eval --calibrate") from None


def check_calibration_set(labels: Sequence[bool]) -> None:
    """Refuse a set that cannot calibrate anything, saying what it needs."""
    answerable = sum(1 for y in labels if y)
    unanswerable = len(labels) - answerable
    if answerable < MIN_EXAMPLES_PER_CLASS or unanswerable < MIN_EXAMPLES_PER_CLASS:
        raise InputError(
            f"calibration needs at least {MIN_EXAMPLES_PER_CLASS} answerable and {MIN_EXAMPLES_PER_CLASS} unanswerable "
            f"questions (\"evidence\": null or \"answers\": []); this set has {answerable} answerable and "
            f"{unanswerable} unanswerable — add questions your documents do not answer, then run qa eval --calibrate again"
        )


def fit_calibration(
    signals: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    *,
    features: Sequence[str] = CALIBRATION_FEATURES,
    l2: float = 1.0,
    weights: Sequence[float] | None = None,
    fitted_on: str = "",
) -> Calibration:
    """Fit the logistic model by Newton's method (L2-regularised, each class weighted to half of
    the total so a set with few unanswerable questions still counts them; ``weights`` scale
    single examples further, e.g. so that a small corpus counts as much as a large one).

    >>> signals = [{"similarity": s} for s in (0.8, 0.7, 0.75, 0.3, 0.2, 0.25)] * 4
    >>> model = fit_calibration(signals, [True, True, True, False, False, False] * 4, features=["similarity"])
    >>> model.probability({"similarity": 0.8}) > 0.9 > 0.1 > model.probability({"similarity": 0.2})
    True
    """
    if len(signals) != len(labels):
        raise InputError(f"{len(signals)} signal rows but {len(labels)} labels")
    check_calibration_set(labels)
    features = tuple(features)
    x = np.array([[float(row.get(f, 0.0)) for f in features] for row in signals], dtype=np.float64)
    y = np.array([1.0 if label else 0.0 for label in labels])
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    example = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    if example.shape != y.shape or np.any(example < 0):
        raise InputError(f"weights must be {len(y)} numbers >= 0")
    positive_total, negative_total = example[y > 0].sum(), example[y == 0].sum()
    weights = np.where(y > 0, example * 0.5 / positive_total, example * 0.5 / negative_total) * len(y)
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0  # the intercept is not shrunk
    beta = np.zeros(z.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (weights * (p - y)) + penalty * beta
        hessian = (z * (weights * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return Calibration(
        features=features,
        coefficients=tuple(float(b) for b in beta[1:]),
        intercept=float(beta[0]),
        means=tuple(float(m) for m in means),
        scales=tuple(float(s) for s in scales),
        fitted_on=fitted_on,
    )


# Fitted by bench/fit_calibration.py (L2 penalty 3, chosen by cross-validation) on pyfaq's 157
# questions, the fitting half of the unanswerable pyfaq questions and 24 questions about the
# sample article (see bench/README.md, "Answers (pyfaq)").
DEFAULT_CALIBRATION = Calibration(
    features=("similarity", "support", "phrase_match", "top_score", "score_gap", "missing_terms"),
    coefficients=(0.816677, 1.055363, 0.486615, 0.400335, 0.522897, -1.066081),
    intercept=1.924623,
    means=(0.677972, 0.667282, 0.675926, 0.620639, 0.052531, 0.098096),
    scales=(0.131375, 0.18315, 0.468028, 0.119188, 0.051023, 0.203748),
    fitted_on="bench/fit_calibration.py",
)
# Chosen by bench/fit_calibration.py on the fitting sets: the highest threshold (in steps of 0.05)
# that declines at most 3 % of their answerable questions.
DEFAULT_ABSTAIN_THRESHOLD = 0.2
