import pytest

from qa.retrieval.conversation import MAX_CHAIN, effective_query, needs_context


@pytest.mark.parametrize(
    "question, expected",
    [
        ("and who joined it?", True),
        ("What about Japan?", True),
        ("and what about Japan?", True),
        ("Why?", True),
        ("Germany?", True),
        ("and by whom?", True),
        ("How many of them were there?", True),
        ("when were they adopted?", True),
        ("What did this statement say?", True),
        ("What is NATO?", False),
        ("Which countries joined the NATO statement?", False),
        ("How do I install Python on Windows?", False),
        ("And which UN resolutions were violated?", False),
        ("Why is Russia breaking these resolutions seen as especially serious?", False),
    ],
)
def test_needs_context(question, expected):
    assert needs_context(question) is expected


def test_three_turns_complete_the_latest_question_not_the_first():
    first = "Which countries joined the statement?"
    second = "And which UN resolutions were violated?"
    third = "when were they adopted?"
    assert effective_query(first, []) == first
    assert effective_query(second, [first]) == second  # names its own topic
    assert effective_query(third, [first, second]) == f"{second} {third}"


def test_a_chain_of_follow_ups_keeps_its_topic_within_a_bounded_reach():
    turns = ["Which statement condemned the troops?", "and who joined it?"]
    assert effective_query("what about Japan?", turns) == "Which statement condemned the troops? and who joined it? what about Japan?"
    long_chain = ["Which statement condemned the troops?"] + ["and why?"] * 5
    query = effective_query("and then?", long_chain)
    assert query.count("?") == MAX_CHAIN + 1  # the question plus at most MAX_CHAIN earlier turns
    assert effective_query("What is NATO?", turns) == "What is NATO?"
    assert effective_query("and then?", []) == "and then?"
    assert effective_query("why?", ["", "  "]) == "why?"
