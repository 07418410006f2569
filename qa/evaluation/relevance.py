"""When does a passage support a question? The evidence-containment rule.

A passage supports a question whose ``evidence`` is a phrase of the answer when at least 70 % of
the evidence's distinct word trigrams (unigrams for evidence under 3 words) occur in the passage,
after both are normalised: Unicode NFKC, HTML markup and entities and Markdown link targets
removed, lower-cased, reduced to ``[a-z0-9]+`` tokens. This is the rule of the pyfaq evaluation
set's reference scorer, so scores computed here match it exactly.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

SUPPORT_THRESHOLD = 0.70

# Only real HTML element names count as tags, so literal text such as "git add <file>" survives.
_HTML_TAG_NAMES = (
    "a abbr acronym address area article aside audio b base bdi bdo big blockquote body br "
    "button canvas caption center cite code col colgroup data datalist dd del details dfn dialog "
    "dir div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 "
    "h4 h5 h6 head header hgroup hr html i iframe img input ins kbd label legend li link main map "
    "mark menu meta meter nav nobr noscript object ol optgroup option output p param picture pre "
    "progress q rp rt ruby s samp script section select small source span strike strong style sub "
    "summary sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul "
    "var video wbr path g rect circle line polyline polygon text tspan defs use"
).split()
_TAG = re.compile(r"</?(?:%s)(?=[\s/>])[^<>]*>" % "|".join(sorted(_HTML_TAG_NAMES, key=len, reverse=True)), re.IGNORECASE)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_DECLARATION = re.compile(r"<![A-Za-z][^>]*>|<\?[^>]*\?>")
_MARKDOWN_LINK_TARGET = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*\)")
_TOKEN = re.compile(r"[a-z0-9]+")


def normalize_tokens(text: str) -> list[str]:
    """Plain, HTML or Markdown text -> lower-case ``[a-z0-9]+`` word tokens.

    >>> normalize_tokens("<p>Run <code>git add &lt;file&gt;</code>!</p>")
    ['run', 'git', 'add', 'file']
    """
    t = unicodedata.normalize("NFKC", text)
    t = _SCRIPT_STYLE.sub(" ", t)
    t = _COMMENT.sub(" ", t)
    t = _DECLARATION.sub(" ", t)
    t = _TAG.sub(" ", t)
    t = html.unescape(t)
    t = _MARKDOWN_LINK_TARGET.sub("]", t)
    t = unicodedata.normalize("NFKC", t).lower()
    return _TOKEN.findall(t)


def _ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@functools.lru_cache(maxsize=4096)
def _evidence_grams(evidence: str) -> tuple[int, frozenset]:
    tokens = normalize_tokens(evidence)
    n = 3 if len(tokens) >= 3 else 1
    return n, frozenset(_ngrams(tokens, n))


def evidence_coverage(passage: str, evidence: str) -> float:
    """Share of the evidence's distinct n-grams found in ``passage`` (0.0 for empty evidence).

    >>> evidence_coverage("one two three four", "two three four five")
    0.5
    """
    n, evidence_grams = _evidence_grams(evidence)
    if not evidence_grams:
        return 0.0
    return len(evidence_grams & _ngrams(normalize_tokens(passage), n)) / len(evidence_grams)


def supports(passage: str, evidence: str, threshold: float = SUPPORT_THRESHOLD) -> bool:
    """Whether ``passage`` contains the ``evidence`` (the 70 % trigram rule above).

    >>> supports("Intro. Python is an interpreted language. More.", "Python is an interpreted language")
    True
    """
    return evidence_coverage(passage, evidence) >= threshold


def contains_answer(passage: str, answers: list[str]) -> bool:
    """Whether any answer string occurs in the passage (case- and space-insensitive, NFKC).

    >>> contains_answer("The  Eiffel Tower is in PARIS.", ["paris", "Lyon"])
    True
    """
    haystack = " ".join(unicodedata.normalize("NFKC", passage).casefold().split())
    return any(
        a and " ".join(unicodedata.normalize("NFKC", a).casefold().split()) in haystack for a in answers
    )
