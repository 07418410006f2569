"""Questions nobody should send still get a clear answer, an abstention or a clear error."""

import pytest

from qa import Answer, InputError


@pytest.mark.parametrize(
    "question",
    [
        "x" * 100_000,
        "What\x00 is\x1b[31m NATO\x07 asking?",
        "Quels pays ont rejoint la déclaration ?",
        "北朝鮮は何人の兵士を派遣しましたか？",
        "🙂🙂🙂",
        "?!.,;",
        "SELECT * FROM passages; DROP TABLE passages; --",
        "<script>alert(1)</script>",
    ],
)
def test_odd_questions_answer_or_abstain(seed_qa, question):
    answer = seed_qa.ask(question)
    assert isinstance(answer, Answer)
    assert answer.abstained or answer.citations
    assert len(answer.question) <= 2000
    assert "\x00" not in answer.question and "\x1b" not in answer.question


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x01"])
def test_empty_questions_are_a_clear_error(seed_qa, question):
    with pytest.raises(InputError, match="the question is empty"):
        seed_qa.ask(question)


def test_search_with_only_stopwords_still_ranks(seed_qa):
    hits = seed_qa.search("what is the of and", k=3)
    assert len(hits) == 3  # the dense side still ranks; nothing crashes on an empty BM25 query
