import random

import pytest

from qa import InputError
from qa.answers.calibration import (
    CALIBRATION_FEATURES,
    DEFAULT_CALIBRATION,
    SIGNALS,
    Calibration,
    check_calibration_set,
    fit_calibration,
)
from qa.evaluation.metrics import auroc


def _synthetic(n, seed=0):
    """Signals where answerable questions have higher similarity and fewer missing terms."""
    rng = random.Random(seed)
    rows, labels = [], []
    for i in range(n):
        yes = i % 3 != 0
        rows.append(
            {
                "similarity": rng.gauss(0.7 if yes else 0.5, 0.08),
                "missing_terms": max(0.0, rng.gauss(0.05 if yes else 0.4, 0.1)),
                "support": rng.gauss(0.6, 0.1),  # noise
            }
        )
        labels.append(yes)
    return rows, labels


def test_fit_separates_held_out_examples_and_learns_signs():
    rows, labels = _synthetic(300)
    model = fit_calibration(rows, labels, features=["similarity", "missing_terms", "support"])
    coefficient = dict(zip(model.features, model.coefficients))
    assert coefficient["similarity"] > 0 > coefficient["missing_terms"]
    assert abs(coefficient["support"]) < abs(coefficient["similarity"])
    test_rows, test_labels = _synthetic(300, seed=1)
    assert auroc([model.probability(r) for r in test_rows], test_labels) > 0.95


def test_fit_is_balanced_between_classes():
    rows, labels = _synthetic(300)
    # Only a tenth of the unanswerable examples: class weights keep the mid-point where it was.
    kept = [(r, y) for i, (r, y) in enumerate(zip(rows, labels)) if y or i % 30 == 0]
    balanced = fit_calibration([r for r, _ in kept], [y for _, y in kept], features=["similarity"])
    full = fit_calibration(rows, labels, features=["similarity"])
    middle = {"similarity": 0.6}
    assert abs(balanced.probability(middle) - full.probability(middle)) < 0.15


def test_example_weights_scale_a_group():
    rows, labels = _synthetic(120)
    flipped = [not y for y in labels[:60]] + labels[60:]
    heavy_first = fit_calibration(rows, flipped, features=["similarity"], weights=[10.0] * 60 + [0.1] * 60)
    heavy_last = fit_calibration(rows, flipped, features=["similarity"], weights=[0.1] * 60 + [10.0] * 60)
    assert heavy_first.coefficients[0] < 0 < heavy_last.coefficients[0]
    with pytest.raises(InputError, match="weights"):
        fit_calibration(rows, labels, features=["similarity"], weights=[1.0])


def test_round_trip_and_bad_models():
    rows, labels = _synthetic(60)
    model = fit_calibration(rows, labels, features=["similarity", "missing_terms"], fitted_on="set.jsonl")
    again = Calibration.from_dict(model.to_dict())
    assert again.features == model.features and again.fitted_on == "set.jsonl"
    assert again.probability(rows[0]) == pytest.approx(model.probability(rows[0]), abs=1e-5)
    with pytest.raises(InputError, match="unknown calibration feature"):
        Calibration(features=("nonsense",), coefficients=(1.0,), intercept=0.0, means=(0.0,), scales=(1.0,))
    with pytest.raises(InputError, match="one coefficient, mean and scale"):
        Calibration(features=("similarity",), coefficients=(1.0, 2.0), intercept=0.0, means=(0.0,), scales=(1.0,))
    with pytest.raises(InputError, match="refit it with qa eval --calibrate"):
        Calibration.from_dict({"features": ["similarity"]})


def test_calibration_sets_need_ten_of_each_kind():
    check_calibration_set([True] * 10 + [False] * 10)
    with pytest.raises(InputError, match="has 10 answerable and 9 unanswerable"):
        check_calibration_set([True] * 10 + [False] * 9)
    with pytest.raises(InputError, match="has 20 answerable and 0 unanswerable"):
        fit_calibration([{"similarity": 0.5}] * 20, [True] * 20, features=["similarity"])


def test_the_default_model_uses_known_signals_and_is_monotone_in_similarity():
    assert set(DEFAULT_CALIBRATION.features) == set(CALIBRATION_FEATURES) <= set(SIGNALS)
    base = dict(zip(DEFAULT_CALIBRATION.features, DEFAULT_CALIBRATION.means))
    low, high = dict(base, similarity=0.3), dict(base, similarity=0.9)
    assert DEFAULT_CALIBRATION.probability(low) < DEFAULT_CALIBRATION.probability(high)
    assert DEFAULT_CALIBRATION.probability(dict(base, missing_terms=0.9)) < DEFAULT_CALIBRATION.probability(base)
