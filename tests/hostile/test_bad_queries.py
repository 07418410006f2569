"""Questions nobody should send still get a clear answer, an abstention or a clear error."""

import pytest

from qa import Answer, InputError
from qa.answers.answering import ABSTAIN_TEXT


@pytest.mark.parametrize(
    "question, must_abstain",
    [
        ("x" * 100_000, True),
        ("What\x00 is\x1b[31m NATO\x07 asking?", False),  # a real question once cleaned: either outcome
        ("Quels pays ont rejoint la déclaration ?", True),  # the model is English-only
        ("北朝鮮は何人の兵士を派遣しましたか？", True),
        ("🙂🙂🙂", True),
        ("?!.,;", True),
        ("SELECT * FROM passages; DROP TABLE passages; --", True),
        ("<script>alert(1)</script>", True),
    ],
)
def test_odd_questions_answer_or_abstain(seed_qa, question, must_abstain):
    answer = seed_qa.ask(question)
    assert isinstance(answer, Answer)
    assert answer.abstained or not must_abstain, (answer.confidence, answer.text[:200])
    if answer.abstained:
        assert answer.citations == () and answer.text == ABSTAIN_TEXT
    else:
        assert answer.citations and all(f"[{c.number}]" in answer.text and c.highlight for c in answer.citations)
    assert len(answer.question) <= 2000
    assert "\x00" not in answer.question and "\x1b" not in answer.question


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x01"])
def test_empty_questions_are_a_clear_error(seed_qa, question):
    with pytest.raises(InputError, match="the question is empty"):
        seed_qa.ask(question)


def test_search_with_only_stopwords_still_ranks(seed_qa):
    hits = seed_qa.search("what is the of and", k=3)
    assert len(hits) == 3  # the dense side still ranks; nothing crashes on an empty BM25 query
