import math

import pytest

from qa.evaluation import metrics as M


def test_hits_rr_and_ranks_by_hand():
    gains = [0, 0, 1, 0, 1]
    assert M.first_relevant_rank(gains) == 3
    assert [M.hit_at_k(gains, k) for k in (1, 2, 3, 10)] == [0.0, 0.0, 1.0, 1.0]
    assert M.reciprocal_rank(gains) == pytest.approx(1 / 3)
    assert M.reciprocal_rank(gains, k=2) == 0.0
    assert M.first_relevant_rank([0, 0]) is None


def test_recall_at_k_caps_the_denominator_at_k():
    assert M.recall_at_k([1, 1, 0], n_relevant=2, k=3) == 1.0
    assert M.recall_at_k([1, 0, 0], n_relevant=5, k=2) == 0.5
    assert M.recall_at_k([0], n_relevant=0, k=1) == 0.0


def test_ndcg_uses_every_relevant_item_for_the_ideal():
    # One relevant item at rank 2 out of two relevant in the collection:
    # DCG = 1/log2(3); IDCG = 1 + 1/log2(3).
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert M.ndcg_at_k([0, 1, 0], ideal_gains=[1, 1], k=10) == pytest.approx(expected)
    # Graded: ranking [3, 2, 0, 1] against ideal [3, 2, 1].
    dcg = 3 + 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 3 + 2 / math.log2(3) + 1 / math.log2(4)
    assert M.ndcg_at_k([3, 2, 0, 1], ideal_gains=[1, 3, 2], k=10) == pytest.approx(dcg / idcg)
    assert M.ndcg_at_k([1, 0], ideal_gains=[1]) == 1.0
    assert M.ndcg_at_k([0, 0], ideal_gains=[]) == 0.0


def test_ndcg_cuts_at_k():
    assert M.ndcg_at_k([0, 1], ideal_gains=[1], k=1) == 0.0


def test_percentile_matches_numpy_linear():
    import numpy as np

    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 25, 50, 95, 100):
        assert M.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert math.isnan(M.percentile([], 50))


def test_bootstrap_ci_contains_the_mean_and_is_seeded():
    values = [1.0, 0.0] * 50
    low, high = M.bootstrap_ci(values)
    assert low < 0.5 < high
    assert (low, high) == M.bootstrap_ci(values)
    assert 0.3 < low and high < 0.7


def test_paired_randomization_test():
    same = [0.5, 0.2, 0.9]
    assert M.paired_randomization_test(same, same) == 1.0
    better = [1.0] * 30
    worse = [0.0] * 30
    assert M.paired_randomization_test(better, worse) < 0.001
    noisy_a = [1, 0] * 10
    noisy_b = [0, 1] * 10
    assert M.paired_randomization_test(noisy_a, noisy_b) == 1.0
    with pytest.raises(ValueError):
        M.paired_randomization_test([1], [1, 2])


def test_abstention_scores_by_hand():
    # Questions: unanswerable+abstained, answerable+abstained, unanswerable+answered, answerable+answered.
    scores = M.abstention_scores([True, True, False, False], [False, True, False, True])
    assert scores == {"abstention_precision": 0.5, "abstention_recall": 0.5, "false_abstention_rate": 0.5}
    none = M.abstention_scores([False, False], [True, True])
    assert math.isnan(none["abstention_precision"]) and math.isnan(none["abstention_recall"])


def test_auroc_against_brute_force_pairs():
    import random

    from qa.evaluation.metrics import auroc

    rng = random.Random(3)
    scores = [round(rng.random(), 1) for _ in range(40)]  # rounded: many ties
    labels = [rng.random() < 0.5 for _ in range(40)]
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    brute = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    assert auroc(scores, labels) == pytest.approx(brute)
    assert math.isnan(auroc([0.1, 0.2], [True, True]))


def test_risk_coverage_against_brute_force():
    from qa.evaluation.metrics import risk_coverage

    confidences = [0.9, 0.8, 0.8, 0.4, 0.1]
    correct = [True, False, True, True, False]
    curve = risk_coverage(confidences, correct)
    for threshold, coverage, risk in curve:
        answered = [ok for c, ok in zip(confidences, correct) if c >= threshold]
        assert coverage == pytest.approx(len(answered) / len(confidences))
        assert risk == pytest.approx(answered.count(False) / len(answered))
    assert [t for t, _, _ in curve] == [0.9, 0.8, 0.4, 0.1]
