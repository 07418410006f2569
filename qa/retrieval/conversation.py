"""Follow-up questions without a language model.

A follow-up such as "and who joined it?" says little by itself. When a question leans on the
previous turn (a pronoun, "what about ...", too few words of its own), the *latest question that
was answered* is put in front of it, so retrieval sees both: "Which statement condemned Russia?
and who joined it?". Self-contained questions are searched as they are. A question the documents
did not answer is skipped: its topic is not what the conversation is about.
"""

from __future__ import annotations

import re
from typing import Sequence

from ..text import content_terms, raw_terms

# Pronouns that point back to something said before, whatever else the question says.
_PERSONAL = frozenset("it its they them their theirs he him his she her hers former latter".split())
# Demonstratives point back only in a short question: "What did this statement say?" refers to the
# previous turn, "Why is Russia breaking these resolutions seen as serious?" names its own topic.
_DEMONSTRATIVE = frozenset("this that these those there such same one ones".split())
_DEMONSTRATIVE_MAX_TERMS = 2
# Openings that always continue the previous turn ("what about Japan?", "why not?").
_CONTINUES = re.compile(r"^\s*(and\s+)?(what about|how about|same for|why not|how come)\b", re.IGNORECASE)
# Openings that link to the previous turn, unless the question names its own topic ("And which
# UN resolutions were violated?" is self-contained; "and by whom?" is not).
_CONJUNCTION = re.compile(r"^\s*(and|also|but|or|so|then|plus)\b", re.IGNORECASE)
# A question this short, with at most one content word, cannot stand on its own ("Germany?",
# "Since when?"); "What is NATO?" can.
MIN_SELF_CONTAINED_WORDS = 3
# How many earlier follow-ups a query may reach back through: "Which countries joined?" ->
# "and when?" -> "why?" searches all three, and no query grows without bound.
MAX_CHAIN = 2


def needs_context(question: str) -> bool:
    """Whether ``question`` reads as a follow-up of the previous turn.

    >>> needs_context("and who joined it?"), needs_context("Which countries joined the NATO statement?")
    (True, False)
    >>> needs_context("And which UN resolutions were violated?")
    False
    """
    words = raw_terms(question)
    if not words:
        return False
    if _CONTINUES.match(question):
        return True
    terms = set(content_terms(question))
    if any(w in _PERSONAL for w in words):
        return True
    if any(w in _DEMONSTRATIVE for w in words) and len(terms) <= _DEMONSTRATIVE_MAX_TERMS:
        return True
    if _CONJUNCTION.match(question):
        return len(terms) < 2
    return not terms or (len(terms) < 2 and len(words) < MIN_SELF_CONTAINED_WORDS)


def effective_query(question: str, answered_questions: Sequence[str]) -> str:
    """The text to search for ``question``, given the user's earlier questions that were
    answered (oldest first; leave out the ones the documents did not answer).

    A follow-up borrows the latest answered question — completed in turn when it was itself a
    follow-up, up to :data:`MAX_CHAIN` turns back.

    >>> effective_query("when were they adopted?", ["Which countries joined the statement?", "And which UN resolutions were violated?"])
    'And which UN resolutions were violated? when were they adopted?'
    >>> effective_query("What is NATO?", ["Who won?"])
    'What is NATO?'
    """
    return _complete(" ".join(str(question).split()), [" ".join(str(q).split()) for q in answered_questions], MAX_CHAIN)


def _complete(question: str, earlier: list[str], reach: int) -> str:
    earlier = [q for q in earlier if q]
    if not earlier or not needs_context(question):
        return question
    latest = earlier[-1]
    if reach > 1:
        latest = _complete(latest, earlier[:-1], reach - 1)
    return f"{latest} {question}"
