import pytest

from qa.conversation import effective_query, needs_context


@pytest.mark.parametrize(
    "question, expected",
    [
        ("and who joined it?", True),
        ("What about Japan?", True),
        ("Why?", True),
        ("Germany?", True),
        ("How many of them were there?", True),
        ("What is NATO?", False),
        ("Which countries joined the NATO statement?", False),
        ("How do I install Python on Windows?", False),
    ],
)
def test_needs_context(question, expected):
    assert needs_context(question) is expected


def test_effective_query_borrows_the_nearest_self_contained_question():
    history = ["Which statement condemned the troops?", "and who joined it?"]
    assert effective_query("what about Japan?", history) == "Which statement condemned the troops? what about Japan?"
    assert effective_query("What is NATO?", history) == "What is NATO?"
    assert effective_query("and then?", []) == "and then?"
    assert effective_query("why?", ["and?"]) == "and? why?"
