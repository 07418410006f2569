"""How specific is each word of a question? Weights for term coverage.

A question is answered by a passage only if the passage mentions what is specific in the
question — the names, numbers and uncommon nouns — not merely its common words. A word's weight
is its information content ``-log10 p``, where ``p`` is the chance that a passage contains it:

* from general English usage (the wordfreq frequency lists, shipped with the package), so that on
  a tiny corpus "say" or "many" still count for little and "population" or "tanks" for a lot;
* from this index (document frequency), so that a word found in most passages of *this* corpus
  ("python" in the Python docs) counts for little too. Corpus statistics are shrunk towards
  zero for small indexes, where they mean little.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Mapping, Sequence

from ..index.lexical import LexicalIndex
from ..text import STOPWORDS, content_terms, normalize, raw_terms, stem

# Typical passage length in words: turns a per-word frequency into "chance a passage has it".
PASSAGE_WORDS = 150
# Corpus document frequencies are trusted in proportion to N / (N + CORPUS_PRIOR_PASSAGES).
CORPUS_PRIOR_PASSAGES = 50
# Unknown words (typos, codes, rare names) are capped so one of them cannot outweigh the rest.
MAX_WEIGHT = 4.0
MIN_WEIGHT = 0.1


@functools.lru_cache(maxsize=100_000)
def english_zipf(word: str) -> float:
    """Zipf frequency of ``word`` in English (log10 per billion words; 0 when unknown)."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # pragma: no cover - wordfreq is a declared dependency
        return 0.0
    return float(zipf_frequency(word, "en"))


# Versions, decimals, times and dates stay one term: "3.13" must not be covered by any "3" and "13".
_COMPOUND_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)+")
COMPOUND_NUMBER_WEIGHT = 2.5  # as specific as a rare word


def text_terms(text: str, *, words: Sequence[str] = (), numbers_of: str = "") -> set[str]:
    """The terms a passage offers for coverage: stemmed content words and compound numbers of
    ``text``, plus ``words`` already computed by :func:`qa.text.content_terms` for the text
    ``numbers_of`` (whose compound numbers are added too).

    >>> sorted(text_terms("Python 3.13 was released"))
    ['13', '3', '3.13', 'python', 'releas']
    """
    terms = set(content_terms(text)) | set(_COMPOUND_NUMBER.findall(normalize(text))) | set(words)
    if numbers_of:
        terms |= set(_COMPOUND_NUMBER.findall(normalize(numbers_of)))
    return terms


def question_terms(text: str) -> list[tuple[str, str]]:
    """``(word, stem)`` pairs of the content words of ``text``, first occurrence only; a compound
    number is one term (its own stem).

    >>> question_terms("What's new in Python 3.13?")
    [('3.13', '3.13'), ('new', 'new'), ('python', 'python')]
    """
    seen: dict[str, str] = {}
    normalized = normalize(text)
    for number in _COMPOUND_NUMBER.findall(normalized):
        seen.setdefault(number, number)
    for word in raw_terms(_COMPOUND_NUMBER.sub(" ", normalized)):
        if "'" in word:
            word = word.split("'", 1)[0]
        if not word or word in STOPWORDS:
            continue
        seen.setdefault(stem(word), word)
    return [(word, s) for s, word in seen.items()]


def term_weights(text: str, lexical: LexicalIndex | None = None) -> dict[str, float]:
    """Weight (information content) of each content stem of ``text``.

    >>> w = term_weights("How many tanks were delivered?")
    >>> w["tank"] > w["mani"]
    True
    """
    size = len(lexical) if lexical is not None else 0
    trust = size / (size + CORPUS_PRIOR_PASSAGES) if size else 0.0
    weights: dict[str, float] = {}
    for word, term in question_terms(text):
        if _COMPOUND_NUMBER.fullmatch(word):
            weights[term] = COMPOUND_NUMBER_WEIGHT
            continue
        per_word = 10 ** (english_zipf(word) - 9) if english_zipf(word) > 0 else 0.0
        p_english = 1.0 - math.exp(-PASSAGE_WORDS * per_word)
        p_corpus = lexical.document_frequency(term) / size * trust if size else 0.0
        p = max(p_english, p_corpus, 10 ** (-MAX_WEIGHT))
        weights[term] = max(MIN_WEIGHT, -math.log10(p))
    return weights


def _matches(term: str, candidates: set[str], by_prefix: Mapping[str, list[str]] | None = None) -> bool:
    if term in candidates:
        return True
    # Related word forms that the stemmer keeps apart ("korea"/"korean", "german"/"germani"):
    # one is a prefix of the other, at least 4 letters long, differing by at most 3 letters.
    if len(term) < 4 or term.isdigit():
        return False
    # Two such forms share their first 4 letters, so only those candidates are compared.
    others = by_prefix.get(term[:4], ()) if by_prefix is not None else candidates
    for other in others:
        shorter, longer = (term, other) if len(term) <= len(other) else (other, term)
        if len(shorter) >= 4 and len(longer) - len(shorter) <= 3 and longer.startswith(shorter) and not other.isdigit():
            return True
    return False


def _by_prefix(terms: set[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for term in terms:
        if len(term) >= 4:
            groups.setdefault(term[:4], []).append(term)
    return groups


def coverage(weights: Mapping[str, float], terms: set[str]) -> float:
    """Weighted share of the weighted terms that occur in ``terms`` (exact stem or close form).

    >>> coverage({"tank": 2.0, "ukrain": 0.5}, {"ukrain", "war"})
    0.2
    >>> coverage({"korean": 1.0}, {"korea"})
    1.0
    """
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    groups = _by_prefix(terms) if any(t not in terms for t in weights) else {}
    return sum(w for t, w in weights.items() if _matches(t, terms, groups)) / total
