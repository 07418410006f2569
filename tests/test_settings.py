import pytest

from qa import InputError
from qa.answers.answering import AnswerSettings
from qa.retrieval.hybrid import SearchSettings
from qa.settings import convert_setting


def test_false_means_false_on_the_command_line():
    # Regression: bool("false") is True, so --set diversify=false used to turn diversification on.
    assert SearchSettings().with_overrides({"diversify": "false"}).diversify is False
    assert SearchSettings(diversify=True).with_overrides({"diversify": "off"}).diversify is False
    assert SearchSettings().with_overrides({"diversify": "yes"}).diversify is True
    assert AnswerSettings().with_overrides({"widen": "0"}).widen is False
    with pytest.raises(InputError, match="diversify must be true or false"):
        SearchSettings().with_overrides({"diversify": "maybe"})


@pytest.mark.parametrize("settings", [SearchSettings(), AnswerSettings()])
def test_every_field_converts_by_its_type_and_round_trips(settings):
    for name, value in settings.to_dict().items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        assert settings.with_overrides({name: text}) == settings, name
    assert type(settings).from_dict(settings.to_dict()) == settings
    assert type(settings).from_dict({**settings.to_dict(), "a_key_of_an_older_version": 1}) == settings


@pytest.mark.parametrize(
    "overrides",
    [{"candidates": "2.7"}, {"candidates": 2.7}, {"candidates": True}, {"dense_weight": "heavy"}, {"dense_weight": False}, {"mode": 3}],
)
def test_lossy_or_wrong_values_are_refused_for_search(overrides):
    with pytest.raises(InputError):
        SearchSettings().with_overrides(overrides)


def test_int_and_float_conversions():
    assert convert_setting("x", "n", "40", int) == 40 and convert_setting("x", "n", 40.0, int) == 40
    assert convert_setting("x", "w", "0.3", float) == 0.3 and convert_setting("x", "w", 1, float) == 1.0
    assert isinstance(SearchSettings().with_overrides({"dense_weight": 1}).dense_weight, float)


def test_search_and_answer_settings_share_no_field_name():
    # A shared name would be set in both by one --set, or in the wrong one by qa eval.
    assert not SearchSettings.field_names() & AnswerSettings.field_names()
