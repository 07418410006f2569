import pytest

from qa.answers.cues import (
    ENTITY,
    OTHER,
    PROCEDURE,
    QUANTITY,
    TIME,
    YESNO,
    question_kind,
    shape_match,
)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Which countries joined the statement?", ENTITY),
        ("Who will NATO work with?", ENTITY),
        ("And where is it stored?", ENTITY),
        ("When was the resolution adopted?", TIME),
        ("In what year did it start?", TIME),
        ("How many troops were sent?", QUANTITY),
        ("How much memory does it use?", QUANTITY),
        ("How do I remove duplicates from a list?", PROCEDURE),
        ("How can I stop a thread?", PROCEDURE),
        ("Is Python an interpreted language?", YESNO),
        ("Can I use it commercially?", YESNO),
        ("Why is Python slow?", OTHER),
        ("What is a decorator?", OTHER),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_shape_match_per_kind():
    q = "Which countries joined the statement?"
    assert shape_match(ENTITY, "It was joined by Australia, Japan and New Zealand.", q) == 1.0
    assert shape_match(ENTITY, "It was joined by many countries.", q) == 0.0
    assert shape_match(TIME, "It was adopted in September 2016.", "When was it adopted?") == 1.0
    assert shape_match(TIME, "It was adopted by the council.", "When was it adopted?") == 0.0
    assert shape_match(QUANTITY, "Thousands of troops were sent.", "How many troops?") == 1.0
    assert shape_match(QUANTITY, "Troops were sent in 3 waves.", "How many troops in 3 waves?") == 0.0  # the question's own number
    assert shape_match(PROCEDURE, "Call list.sort() to sort in place.", "How do I sort?") == 1.0
    assert shape_match(PROCEDURE, "Sorting is a classic problem.", "How do I sort?") == 0.0
    assert shape_match(YESNO, "Yes, it is.", "Is it?") == 1.0
    assert shape_match(OTHER, "Anything at all.", "Why?") == 0.0
