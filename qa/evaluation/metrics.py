"""Pure retrieval and abstention metrics, each checked against hand-computed cases in tests.

Per-question functions take the *gains* of a ranked list (``gains[i]`` = relevance of the passage
at rank ``i + 1``, 0 when not relevant) and what an ideal ranking could reach.
"""

from __future__ import annotations

import math
import random
from typing import Callable, Sequence


def first_relevant_rank(gains: Sequence[float]) -> int | None:
    """1-based rank of the first relevant result, or ``None``.

    >>> first_relevant_rank([0, 0, 1, 1])
    3
    """
    for rank, gain in enumerate(gains, 1):
        if gain > 0:
            return rank
    return None


def hit_at_k(gains: Sequence[float], k: int) -> float:
    """1.0 if any of the top ``k`` is relevant, else 0.0.

    >>> hit_at_k([0, 1], 1), hit_at_k([0, 1], 2)
    (0.0, 1.0)
    """
    return 1.0 if any(g > 0 for g in gains[:k]) else 0.0


def reciprocal_rank(gains: Sequence[float], k: int = 10) -> float:
    """1 / rank of the first relevant result within the top ``k`` (0.0 if none).

    >>> reciprocal_rank([0, 0, 1])
    0.3333333333333333
    """
    rank = first_relevant_rank(gains[:k])
    return 1.0 / rank if rank else 0.0


def recall_at_k(gains: Sequence[float], n_relevant: int, k: int) -> float:
    """Share of the relevant items found in the top ``k``, out of ``min(n_relevant, k)`` — the most
    the top ``k`` could hold — so a perfect ranking scores 1.0 even with many relevant items.

    >>> recall_at_k([1, 0, 1, 0], n_relevant=4, k=2)
    0.5
    """
    if n_relevant <= 0:
        return 0.0
    found = sum(1 for g in gains[:k] if g > 0)
    return found / min(n_relevant, k)


def dcg(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain, ``sum gain_i / log2(i + 1)`` over ranks ``i = 1..k``.

    >>> round(dcg([3, 2, 0, 1], 4), 4)
    4.6925
    """
    return sum(g / math.log2(i + 1) for i, g in enumerate(gains[:k], 1))


def ndcg_at_k(gains: Sequence[float], ideal_gains: Sequence[float], k: int = 10) -> float:
    """DCG of the ranking over the DCG of the ideal one.

    ``ideal_gains`` are the gains of *all* relevant items in the collection (any order), not only
    the retrieved ones: a ranking that finds one of three relevant items scores below 1.

    >>> round(ndcg_at_k([0, 1], ideal_gains=[1, 1]), 4)
    0.3869
    """
    ideal = dcg(sorted(ideal_gains, reverse=True), k)
    return dcg(gains, k) / ideal if ideal > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, as numpy's default.

    >>> percentile([1, 2, 3, 4], 50)
    2.5
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def bootstrap_ci(
    values: Sequence[float],
    *,
    statistic: Callable[[Sequence[float]], float] = mean,
    samples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic`` over questions (seeded).

    >>> bootstrap_ci([1.0] * 10)
    (1.0, 1.0)
    """
    if not values:
        return (float("nan"), float("nan"))
    rng = random.Random(seed)
    n = len(values)
    stats = sorted(statistic([values[rng.randrange(n)] for _ in range(n)]) for _ in range(samples))
    tail = (1 - level) / 2
    return (percentile(stats, 100 * tail), percentile(stats, 100 * (1 - tail)))


def paired_randomization_test(a: Sequence[float], b: Sequence[float], *, trials: int = 10000, seed: int = 0) -> float:
    """Two-sided p-value that the mean of ``a - b`` differs from 0 (paired sign-flip test).

    Each trial flips the sign of every per-question difference with probability 1/2; the p-value
    is the share of trials whose mean difference is at least as extreme as the observed one.

    >>> paired_randomization_test([1, 1, 1, 1], [1, 1, 1, 1])
    1.0
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples must have equal length, got {len(a)} and {len(b)}")
    diffs = [x - y for x, y in zip(a, b)]
    if not diffs:
        return 1.0
    observed = abs(sum(diffs))
    if observed == 0:
        return 1.0
    rng = random.Random(seed)
    extreme = 0
    for _ in range(trials):
        total = sum(d if rng.random() < 0.5 else -d for d in diffs)
        if abs(total) >= observed - 1e-12:
            extreme += 1
    return (extreme + 1) / (trials + 1)


def abstention_scores(abstained: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float]:
    """Precision and recall of abstaining, where the positives are the unanswerable questions.

    >>> abstention_scores([True, True, False, False], [False, True, False, True])
    {'abstention_precision': 0.5, 'abstention_recall': 0.5, 'false_abstention_rate': 0.5}
    """
    unanswerable = [not a for a in answerable]
    true_pos = sum(1 for ab, un in zip(abstained, unanswerable) if ab and un)
    n_abstained = sum(abstained)
    n_unanswerable = sum(unanswerable)
    n_answerable = len(answerable) - n_unanswerable
    false_abstentions = sum(1 for ab, ans in zip(abstained, answerable) if ab and ans)
    return {
        "abstention_precision": true_pos / n_abstained if n_abstained else float("nan"),
        "abstention_recall": true_pos / n_unanswerable if n_unanswerable else float("nan"),
        "false_abstention_rate": false_abstentions / n_answerable if n_answerable else float("nan"),
    }


def auroc(scores: Sequence[float], positives: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half). ``nan`` when either class is missing.

    >>> auroc([0.9, 0.8, 0.3, 0.1], [True, True, False, False])
    1.0
    >>> auroc([0.5, 0.5], [True, False])
    0.5
    """
    if len(scores) != len(positives):
        raise ValueError(f"scores and labels must have equal length, got {len(scores)} and {len(positives)}")
    ranked = sorted(zip(scores, positives), key=lambda pair: pair[0])
    n_pos = sum(1 for _, p in ranked if p)
    n_neg = len(ranked) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    # Mann-Whitney U from mid-ranks, so tied scores share their rank.
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2
        rank_sum += mid_rank * sum(1 for _, p in ranked[i:j] if p)
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def risk_coverage(confidences: Sequence[float], correct: Sequence[bool]) -> list[tuple[float, float, float]]:
    """The risk-coverage curve of answering only above a confidence: for each distinct
    threshold, ``(threshold, coverage, risk)`` where coverage is the share of questions answered
    and risk the share of those answers that are wrong. Highest threshold first.

    >>> risk_coverage([0.9, 0.6, 0.2], [True, False, True])
    [(0.9, 0.3333333333333333, 0.0), (0.6, 0.6666666666666666, 0.5), (0.2, 1.0, 0.3333333333333333)]
    """
    if len(confidences) != len(correct):
        raise ValueError(f"confidences and labels must have equal length, got {len(confidences)} and {len(correct)}")
    pairs = sorted(zip(confidences, correct), key=lambda pair: -pair[0])
    curve = []
    wrong = 0
    for i, (confidence, ok) in enumerate(pairs):
        wrong += 0 if ok else 1
        if i + 1 < len(pairs) and pairs[i + 1][0] == confidence:
            continue  # one point per distinct threshold
        curve.append((confidence, (i + 1) / len(pairs), wrong / (i + 1)))
    return curve
