"""Follow-up questions without a language model.

A follow-up such as "and who joined it?" says little by itself. When a question is short or
leans on the previous turn (a pronoun, "and ...", "what about ..."), the previous question is
put in front of it, so retrieval sees both: "Which statement condemned Russia? and who joined
it?". Self-contained questions are searched as they are.
"""

from __future__ import annotations

import re
from typing import Sequence

from .text import content_terms, raw_terms

# Words that point back to something said before.
_REFERRING = frozenset(
    "it its they them their theirs this that these those he him his she her hers there such "
    "former latter same one ones".split()
)
_CONTINUATIONS = re.compile(
    r"^\s*(and|also|but|or|so|then|what about|how about|and what about|same for|why not|why|how come)\b",
    re.IGNORECASE,
)
# A question this short, with at most one content word, cannot stand on its own ("Germany?",
# "Since when?"); "What is NATO?" can.
MIN_SELF_CONTAINED_WORDS = 3


def needs_context(question: str) -> bool:
    """Whether ``question`` reads as a follow-up of the previous turn.

    >>> needs_context("and who joined it?"), needs_context("Which countries joined the NATO statement?")
    (True, False)
    """
    words = raw_terms(question)
    if not words:
        return False
    if _CONTINUATIONS.match(question):
        return True
    if any(w in _REFERRING for w in words):
        return True
    terms = content_terms(question)
    return not terms or (len(terms) < 2 and len(words) < MIN_SELF_CONTAINED_WORDS)


def effective_query(question: str, previous_questions: Sequence[str]) -> str:
    """The text to search for ``question``, given the user's earlier questions (oldest first).

    Only the nearest self-contained question is borrowed, so a chain of follow-ups keeps the
    topic of the question that started it without growing without bound.

    >>> effective_query("and who joined it?", ["Which statement condemned the DPRK troops?"])
    'Which statement condemned the DPRK troops? and who joined it?'
    >>> effective_query("What is NATO?", ["Who won?"])
    'What is NATO?'
    """
    question = " ".join(question.split())
    if not previous_questions or not needs_context(question):
        return question
    for previous in reversed(previous_questions):
        previous = " ".join(str(previous).split())
        if previous and not needs_context(previous):
            return f"{previous} {question}"
    return f"{' '.join(str(previous_questions[-1]).split())} {question}"
