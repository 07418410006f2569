import pytest

from qa.retrieval.fusion import RRF_K, rrf


def test_rrf_matches_hand_computed_scores():
    fused = dict(rrf([[10, 20, 30], [30, 10]], k=60))
    assert fused[10] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[20] == pytest.approx(1 / 62)
    assert fused[30] == pytest.approx(1 / 63 + 1 / 61)
    assert [row for row, _ in rrf([[10, 20, 30], [30, 10]], k=60)] == [10, 30, 20]


def test_rrf_ties_break_by_best_rank_then_row():
    # 1 and 2 have equal fused scores (rank 1 + rank 2 each); 5 and 4 tie with equal best rank.
    assert [r for r, _ in rrf([[1, 2], [2, 1]])] == [1, 2]
    assert [r for r, _ in rrf([[5], [4]])] == [4, 5]


def test_rrf_weights_and_default_constant():
    assert RRF_K == 60
    fused = dict(rrf([[1], [2]], weights=[2.0, 1.0], k=0))
    assert fused == {1: 2.0, 2: 1.0}
    with pytest.raises(ValueError):
        rrf([[1]], weights=[1.0, 2.0])
