"""What kind of answer a question asks for, and whether a sentence has that shape.

Without a reading model, the form of the question still says a lot about the form of its
answer: "which/who/where" asks for a name, "when" for a date, "how many/much" for a number, "how
do I" for an instruction or a command, a yes/no question for a sentence that states the fact.
A sentence with the right shape is more likely the answer than one that merely shares the
question's words. These cues are small bonuses in :func:`qa.answers.answering.score_sentence`; none of
them depends on one corpus's wording.
"""

from __future__ import annotations

import re

from ..text import STOPWORDS, raw_terms

ENTITY, TIME, QUANTITY, PROCEDURE, YESNO, OTHER = "entity", "time", "quantity", "procedure", "yesno", "other"

_LEADING_FILLER = re.compile(r"^\s*(?:and|also|but|so|ok|okay|please|then)\b[\s,]*", re.IGNORECASE)
_QUANTITY = re.compile(r"^\s*how\s+(?:many|much|long|far|big|large|old|often|fast|soon|quickly)\b", re.IGNORECASE)
_TIME = re.compile(r"^\s*(?:when|what\s+(?:year|date|day|time|month)|since\s+when|in\s+what\s+year)\b", re.IGNORECASE)
_ENTITY = re.compile(r"^\s*(?:who|whom|whose|which|where|what\s+(?:countr|compan|organi[sz]ation|cit|person|people|nation|state)\w*)\b", re.IGNORECASE)
_PROCEDURE = re.compile(r"^\s*(?:how\s+(?:do|can|should|would|could|to|does\s+one)|what(?:'s| is)\s+the\s+(?:best|right|easiest|simplest)\s+way)\b", re.IGNORECASE)
_YESNO = re.compile(r"^\s*(?:is|are|was|were|can|could|does|do|did|should|will|would|has|have|may|must)\b", re.IGNORECASE)

_YEAR_OR_DATE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)\b|\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\b"
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\b\d+(?:[.,]\d+)*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|billions?)\b",
    re.IGNORECASE,
)
_INSTRUCTION = re.compile(
    r"^\s*(?:use|call|run|set|add|pass|create|define|write|install|import|open|type|put|make|try|wrap|see|change|replace|"
    r"specify|select|click|enter|give|check|start|configure|enable|disable|include|apply|subclass|override|assign|return)\b"
    r"|\byou\s+(?:can|should|must|need\s+to|have\s+to|may)\b|\b(?:the|a|an)\s+\w+\s+(?:function|method|module|option|command|flag)\b",
    re.IGNORECASE,
)
_CODE_LIKE = re.compile(r"\w\(\)|\w\.\w+\(|`[^`]+`|--\w|\b\w+\(\w*")
_DECLARATIVE_OPENER = re.compile(r"^\s*(?:yes|no|not\b|it\s+(?:is|does|can|will)|there\s+(?:is|are))\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")


def question_kind(question: str) -> str:
    """The kind of answer ``question`` asks for.

    >>> [question_kind(q) for q in ("Which countries joined?", "When was it adopted?", "How many troops?",
    ...                              "How do I stop a thread?", "Is Python compiled?", "Why is it slow?", "How soon will they reply?")]
    ['entity', 'time', 'quantity', 'procedure', 'yesno', 'other', 'quantity']
    """
    text = _LEADING_FILLER.sub("", question)
    if _QUANTITY.match(text):
        return QUANTITY
    if _TIME.match(text):
        return TIME
    if _PROCEDURE.match(text):
        return PROCEDURE
    if _ENTITY.match(text):
        return ENTITY
    if _YESNO.match(text):
        return YESNO
    return OTHER


def _new_names(sentence: str, question: str) -> int:
    """Capitalised words inside the sentence (not its first word) that the question does not use."""
    asked = set(raw_terms(question))
    names = set()
    for match in _CAPITALISED.finditer(sentence):
        for word in raw_terms(match.group(0)):
            if word not in asked and word not in STOPWORDS:
                names.add(word)
    return len(names)


def shape_match(kind: str, sentence: str, question: str) -> float:
    """1.0 when ``sentence`` has the shape of the answer ``kind`` asks for, else 0.0 (0.5 for a
    partial match, e.g. one new name where several are asked for).

    >>> shape_match("entity", "It was joined by Australia, Japan and New Zealand.", "Which countries joined?")
    1.0
    >>> shape_match("time", "The statement was adopted in 2016.", "When was it adopted?")
    1.0
    >>> shape_match("quantity", "At least 8GB of RAM is needed.", "How much memory do I need?")
    1.0
    >>> shape_match("procedure", "Use os.kill() to send a signal.", "How do I stop a process?")
    1.0
    """
    if kind == ENTITY:
        names = _new_names(sentence, question)
        return 1.0 if names >= 2 else 0.5 if names == 1 else 0.0
    if kind == TIME:
        return 1.0 if _YEAR_OR_DATE.search(sentence) else 0.0
    if kind == QUANTITY:
        asked = set(_NUMBER.findall(question.lower()))
        return 1.0 if any(n.lower() not in asked for n in _NUMBER.findall(sentence)) else 0.0
    if kind == PROCEDURE:
        return 1.0 if _INSTRUCTION.search(sentence) or _CODE_LIKE.search(sentence) else 0.0
    if kind == YESNO:
        return 1.0 if _DECLARATIVE_OPENER.match(sentence) else 0.0
    return 0.0
