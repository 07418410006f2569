"""Pure rank-fusion functions: several rankings of row ids -> one ranking.

Ties are broken deterministically (best single rank, then smaller row id), so the same inputs
always give the same order.
"""

from __future__ import annotations

from typing import Sequence

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
