"""Pure rank-fusion functions: several rankings of row ids -> one ranking.

Ties are broken deterministically (best single rank, then smaller row id), so the same inputs
always give the same order.
"""

from __future__ import annotations

from typing import Mapping, Sequence

# Reciprocal-rank fusion constant from Cormack, Clarke & Buettcher (SIGIR 2009). A large k
# flattens the 1/(k + rank) curve so that agreement between retrievers counts more than the very
# top position of either one; 60 was their best value and is robust across collections.
RRF_K = 60


def rrf(
    rankings: Sequence[Sequence[int]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: ``score(d) = sum_i w_i / (k + rank_i(d))`` with 1-based ranks.

    >>> rrf([[1, 2, 3], [3, 1]], k=60)[:2]
    [(1, 0.03252247488101534), (3, 0.032266458495966696)]
    """
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k}")
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    scores: dict[int, float] = {}
    best_rank: dict[int, int] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, row in enumerate(ranking, 1):
            scores[row] = scores.get(row, 0.0) + weight / (k + rank)
            best_rank[row] = min(best_rank.get(row, rank), rank)
    return sorted(scores.items(), key=lambda item: (-item[1], best_rank[item[0]], item[0]))


def min_max(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale scores to [0, 1] by the min and max of this candidate list (all equal -> 1).

    >>> min_max({7: 2.0, 8: 4.0, 9: 3.0})
    {7: 0.0, 8: 1.0, 9: 0.5}
    """
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return {row: 1.0 for row in scores}
    return {row: (s - low) / (high - low) for row, s in scores.items()}


def weighted_sum(
    score_lists: Sequence[Mapping[int, float]],
    weights: Sequence[float],
) -> list[tuple[int, float]]:
    """Convex combination of already comparable scores; a row missing from a list scores 0 there.

    >>> weighted_sum([{1: 1.0, 2: 0.5}, {2: 1.0}], [0.5, 0.5])
    [(2, 0.75), (1, 0.5)]
    """
    if len(weights) != len(score_lists):
        raise ValueError(f"got {len(weights)} weights for {len(score_lists)} score lists")
    combined: dict[int, float] = {}
    for scores, weight in zip(score_lists, weights):
        for row, score in scores.items():
            combined[row] = combined.get(row, 0.0) + weight * score
    for row in combined:
        combined[row] = round(combined[row], 12)  # so equal sums tie exactly, whatever the order of addition
    return sorted(combined.items(), key=lambda item: (-item[1], item[0]))
