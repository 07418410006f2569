"""Hits -> a grounded :class:`~qa.types.Answer`: the answering sentence, composed, cited — or
an honest "the documents do not answer this".

No language model writes anything: the answer is made of sentences copied from the retrieved
passages. Three questions are decided here, all without an LLM:

* **Which sentence answers?** Every sentence of the top passages is scored
  (:func:`score_sentences`): its cosine similarity to the question (the sentence vectors stored
  in the index), how well its passage ranked, how many of the question's specific words it
  holds, whether it has the shape of the answer asked for (a name, a date, a number, an
  instruction: :mod:`qa.answers.cues`), and penalties for a sentence that asks a question itself
  or only repeats the question's words.
* **What does the reader need around it?** The lead is widened with the sentence before it when
  it opens with "It/This", with the next one when it continues, with the code or list it
  introduces; headings and list markers are trimmed and code stays code
  (:mod:`qa.answers.composition`). A few supporting quotes from other passages follow; every quoted
  passage is cited once, in order of appearance.
* **Is there an answer at all?** The confidence is a calibrated probability computed from
  signals of the retrieval and the index (:func:`answer_signals`, :mod:`qa.answers.calibration`): the
  best sentence similarity, the coverage of the question's specific terms, the score of the top
  passage and its lead over the next, the spread of the top scores, how much of the question's
  vocabulary the index has never seen. Below the threshold it abstains.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Collection, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..index.lexical import LexicalIndex
from ..settings import SettingsMixin
from ..text import content_terms
from ..types import Answer, Citation, Hit, Passage
from .calibration import DEFAULT_ABSTAIN_THRESHOLD, DEFAULT_CALIBRATION, Calibration
from .composition import (
    Piece,
    is_code,
    is_question,
    opens_section,
    pieces,
    render_quote,
    trim_quote,
    widen_lead,
)
from .cues import question_kind, shape_match
from .salience import (
    CORPUS_PRIOR_PASSAGES,
    MAX_WEIGHT,
    coverage,
    term_weights,
    text_terms,
)

ABSTAIN_TEXT = "The indexed documents do not answer this question."
SIGNAL_DEPTH = 10  # passages whose scores the confidence signals look at


@dataclass(frozen=True)
class AnswerSettings(SettingsMixin):
    """How answers are assembled and when the system abstains. Every field can be overridden
    per call (``qa.ask(q, abstain_threshold=0.6)``) or with ``--set`` on the command line.

    - ``abstain_threshold``: answers whose confidence (the calibrated probability that the
      answer is supported) is below it are withheld.
    - ``evidence_depth``: how many top passages are read for sentences.
    - ``max_answer_sentences``: quotes in the answer (the lead and supporting quotes), each from
      a passage of its own, so also the most citations; ``ask(q, k=...)`` lowers it to ``k``.
    - ``max_lead_words``: the lead is widened with context only while it stays this short.
    - ``min_lead_words``: a lead shorter than this takes the next sentences of its paragraph.
    - ``support_ratio``: a supporting quote must score at least this share of the lead's score.
    - ``passage_weight``, ``term_weight``, ``shape_weight``, ``echo_penalty``,
      ``question_penalty``, ``opener_weight``, ``section_weight``, ``code_penalty``: how a
      sentence is scored as the answer (see :func:`score_sentences`; 0 switches a cue off).
    - ``widen``: add the context a reader needs to the lead (see :func:`qa.answers.composition.widen_lead`).

    >>> AnswerSettings().with_overrides({"widen": "false"}).widen
    False
    """

    LABEL = "answer setting"

    abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD
    # Read 10 passages, quote up to 5 (bench/README.md, "Answers (pyfaq)": evidence in a citation .618 -> .701 on
    # pyfaq; the lead is the same).
    evidence_depth: int = 10
    max_answer_sentences: int = 5
    max_lead_words: int = 60
    min_lead_words: int = 12
    support_ratio: float = 0.6
    # Measured on pyfaq (bench/README.md, "Answers (pyfaq)"): the best sentence of the best passage wins far more
    # often than the most similar sentence of any top passage, so the passage score weighs most.
    passage_weight: float = 3.0
    term_weight: float = 0.3
    # Answer-type cues and the penalty for a sentence that only repeats the question's words: on
    # the ranking of this round +5 and +3 questions on pyfaq, +2 on its FAQ with the questions
    # kept, none lost on the reference questions or the seed (bench/README.md, "Answers (pyfaq)").
    shape_weight: float = 0.1
    echo_penalty: float = 0.2
    question_penalty: float = 0.1
    opener_weight: float = 0.1
    # What follows a question is its answer: the first prose under a question heading, or of a
    # section without a title (bench/README.md, "Answers (pyfaq)": +16 points on pyfaq, +18 on its
    # FAQ with the questions kept). Not the first sentence under a title ("Markdown documents":
    # that cost 8 of 28 questions over READMEs, 7 of 157 on pyfaq, 1 of 40 reference questions).
    section_weight: float = 0.3
    code_penalty: float = 0.5  # a code block is shown under the sentence that introduces it, never as the lead
    widen: bool = True

    def __post_init__(self) -> None:
        for name in ("abstain_threshold", "support_ratio"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise InputError(f"{name} must be a number in [0, 1], got {value!r}")
        for name in ("evidence_depth", "max_answer_sentences", "max_lead_words", "min_lead_words"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("passage_weight", "term_weight", "shape_weight", "echo_penalty", "question_penalty", "opener_weight", "section_weight", "code_penalty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InputError(f"{name} must be a number >= 0, got {value!r}")
        if not isinstance(self.widen, bool):
            raise InputError(f"widen must be true or false, got {self.widen!r}")


@dataclass(frozen=True)
class SentenceScore:
    """A candidate answer sentence: which hit and which of its sentence units, the span to quote
    (offsets inside the passage text, headings trimmed), and how it scored."""

    hit_index: int
    unit: int
    start: int
    end: int
    similarity: float
    score: float


def score_sentences(
    question: str,
    hits: Sequence[Hit],
    sentences: Sequence[tuple[Sequence[tuple[int, int]], np.ndarray]],
    *,
    weights: Mapping[str, float],
    settings: AnswerSettings,
    layouts: Sequence[Sequence[Piece]] | None = None,
    section_starts: Sequence[bool] | None = None,
) -> list[SentenceScore]:
    """Every sentence of ``hits`` scored as the answer (``sentences[i]`` holds the unit spans and
    their similarities to the question for hit ``i``)::

        score = similarity + passage_weight x passage score + term_weight x question terms held
              + shape_weight x answer shape - question_penalty x (asks a question)
              - echo_penalty x (adds no word of its own) + opener_weight x (opens a paragraph)
              + section_weight x (opens a section) - code_penalty x (is code)

    A unit made only of headings is no candidate. ``layouts[i]`` is
    :func:`qa.answers.composition.pieces` of hit ``i``'s text (computed here when not given);
    ``section_starts[i]`` says whether hit ``i``'s passage starts where a section of its document
    starts (:meth:`qa.types.Document.starts_section`; taken as no when not given).
    """
    kind = question_kind(question)
    asked = set(content_terms(question))
    scored = []
    for i, (hit, (spans, similarities)) in enumerate(zip(hits, sentences)):
        text = hit.passage.text
        parts = layouts[i] if layouts is not None else pieces(text)
        for unit, ((a, b), raw_similarity) in enumerate(zip(spans, similarities)):
            span = trim_quote(text, a, b, parts)
            if span is None:
                continue
            start, end = span
            sentence = text[start:end]
            terms = set(content_terms(sentence))
            similarity = float(raw_similarity)
            score = similarity + settings.passage_weight * hit.score
            if settings.term_weight:
                score += settings.term_weight * coverage(weights, terms)
            if settings.shape_weight:
                score += settings.shape_weight * shape_match(kind, sentence, question)
            if settings.question_penalty and is_question(sentence):
                score -= settings.question_penalty
            if settings.echo_penalty and terms:
                own = sum(1 for t in terms if t not in asked) / len(terms)
                score -= settings.echo_penalty * (1.0 - own)
            if settings.opener_weight and (start == 0 or text[:start].rstrip(" \t").endswith("\n\n") or text[:start].endswith("\n")):
                score += settings.opener_weight
            starts_section = bool(section_starts[i]) if section_starts is not None else False
            if settings.section_weight and opens_section(text, start, parts, passage_opens_section=starts_section):
                score += settings.section_weight
            if settings.code_penalty and is_code(parts, start, end):
                score -= settings.code_penalty
            scored.append(SentenceScore(hit_index=i, unit=unit, start=start, end=end, similarity=similarity, score=score))
    return scored


def answer_signals(
    question: str,
    hits: Sequence[Hit],
    scored: Sequence[SentenceScore],
    *,
    weights: Mapping[str, float],
    lexical: LexicalIndex,
    query_terms: Sequence[str],
    depth: int,
    corpus: Sequence[Passage] | None = None,
) -> dict[str, float]:
    """What the confidence is computed from (see :data:`qa.answers.calibration.SIGNALS`); ``corpus``
    (every passage of the index, by row) lets names of the question be looked up in the whole
    index rather than in the top passages only."""
    scores = [h.score for h in hits[:SIGNAL_DEPTH]]
    best_similarity: dict[int, float] = {}
    for s in scored:
        best_similarity[s.hit_index] = max(s.similarity, best_similarity.get(s.hit_index, -1.0))
    # A passage supports an answer when it is both about the question (a similar sentence) and
    # holds the question's specific terms; terms scattered over several passages prove nothing,
    # so the two are combined passage by passage (geometric mean), and the best passage counts.
    best_coverage = support = phrases = 0.0
    asked = list(query_terms)
    # Neighbouring question terms that sit side by side in a passage, in the question's order
    # (stopwords skipped). Either order was measured too: it fires for more unanswerable questions.
    pairs = {(a, b) for a, b in zip(asked, asked[1:]) if a != b}
    for i, hit in enumerate(hits[:depth]):
        words = content_terms(hit.passage.text)
        if pairs and not phrases:
            phrases = 1.0 if pairs & set(zip(words, words[1:])) else 0.0
        terms = text_terms(f"{hit.passage.title}\n{hit.passage.section_label}", words=words, numbers_of=hit.passage.text)
        passage_coverage = coverage(weights, terms) if weights else 0.0
        best_coverage = max(best_coverage, passage_coverage)
        support = max(support, math.sqrt(max(0.0, best_similarity.get(i, 0.0)) * passage_coverage))
    # Words of the question the index never uses, and names it never uses as written ("PEP 695",
    # "sys.monitoring": their words occur, never together), each name counting as a rare word.
    total = sum(weights.values())
    absent = sum(w for t, w in weights.items() if not in_vocabulary(t, lexical))
    names = _question_names(question)
    if corpus is not None:
        absent_names = sum(1 for name in names if not name_in_index(name, lexical, corpus))
    else:  # only the top passages are at hand
        absent_names = sum(1 for name in names if not any(_name_pattern(name).search(h.passage.text) for h in hits[:depth]))
    absent += absent_names * MAX_WEIGHT
    total += absent_names * MAX_WEIGHT
    missing = absent / total if total else 0.0
    # A word missing from a few passages says little about the documents' subject; missing from
    # thousands, it says the documents never discuss it. Trusted like corpus frequencies are.
    size = len(lexical)
    missing *= size / (size + CORPUS_PRIOR_PASSAGES)
    return {
        "similarity": max((s.similarity for s in scored), default=0.0),
        "coverage": best_coverage,
        "support": support,
        "phrase_match": phrases,
        "top_score": scores[0] if scores else 0.0,
        "score_gap": _score_gap(hits[:SIGNAL_DEPTH]),
        "missing_terms": float(missing),
    }


def in_vocabulary(term: str, lexical: LexicalIndex) -> bool:
    """Whether the index uses ``term`` (a stem), the word it is formed from, or its negation
    (:meth:`qa.index.lexical.LexicalIndex.known_form`): a question about "North Korean troops" is
    not about something the documents never mention when they say "Korea" throughout, nor is
    "revocable" where they say "irrevocable".

    >>> index = LexicalIndex.build([["korea", "statement", "irrevoc"]])
    >>> in_vocabulary("korean", index), in_vocabulary("revoc", index), in_vocabulary("kor", index)
    (True, True, False)
    """
    return lexical.known_form(term) is not None


# Names a question can ask about that the word index splits apart: dotted identifiers
# ("sys.monitoring", "typing.override") and a word with its number ("PEP 695", "Python 3.12").
_NAME = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b|\b[A-Za-z]{2,}[ -]?\d+(?:\.\d+)*\b")
_ABBREVIATIONS = frozenset(("e.g", "i.e", "etc", "vs", "cf", "a.k.a"))
# A name whose rarest word is in more passages than this is taken as present: checking them all
# would cost more than the question (such a name is made of common words anyway). Reading 2,000
# passages takes a few milliseconds.
NAME_CHECK_LIMIT = 2000


def _question_names(question: str) -> list[str]:
    """The names of :data:`_NAME` in ``question``, normalised for a case-insensitive search.

    >>> _question_names("How do I use sys.monitoring in Python 3.12 (e.g. as PEP 669 says)?")
    ['sys.monitoring', 'python 3.12', 'pep 669']
    """
    names = (" ".join(m.group(0).split()).casefold() for m in _NAME.finditer(question))
    return list(dict.fromkeys(n for n in names if n not in _ABBREVIATIONS))


def name_in_index(name: str, lexical: LexicalIndex, corpus: Sequence[Passage]) -> bool:
    """Whether some passage of the index holds ``name`` as written (case and spacing aside):
    the passages holding its rarest word are read, so a name made of known words ("PEP 695",
    "sys.monitoring") still counts as absent when the words never occur together."""
    terms = content_terms(name)
    if not terms:
        return True
    rarest = min(terms, key=lexical.document_frequency)
    rows = lexical.rows_with(rarest)
    if len(rows) > NAME_CHECK_LIMIT:
        return True
    pattern = _name_pattern(name)
    return any(pattern.search(corpus[int(row)].text) for row in rows)


def _name_pattern(name: str) -> re.Pattern[str]:
    """``name`` as written, case and the spacing or hyphen between its parts aside."""
    parts = (re.escape(part) for part in re.split(r"[\s-]+", name))
    return re.compile(r"(?<![\w.])" + r"[\s-]*".join(parts) + r"(?![\w])", re.IGNORECASE)


def _score_gap(hits: Sequence[Hit]) -> float:
    """How far the top passage leads the best passage that does not overlap it (an overlapping
    window of the same document shares its best sentence, so its score says nothing new)."""
    if not hits:
        return 0.0
    rest = [h.score for h in hits[1:] if not _overlaps(h.passage, hits[0].passage)]
    return hits[0].score - rest[0] if rest else 0.0


@dataclass
class _Quote:
    hit_index: int
    start: int
    end: int
    lead: bool
    windows: list[int] = field(default_factory=list)  # hits whose passages the citation spans


# A citation spans at most this many overlapping windows (about 300 words of 120-word windows).
MAX_MERGED_WINDOWS = 3
# A supporting quote of fewer words ("Author:", "assignment_expression:") is a field name or a
# grammar symbol, not evidence a reader can use.
MIN_SUPPORT_WORDS = 3


def _overlaps(a: Passage, b: Passage) -> bool:
    return a.source == b.source and min(a.end, b.end) > max(a.start, b.start)


def compose_answer(
    hits: Sequence[Hit],
    scored: Sequence[SentenceScore],
    settings: AnswerSettings,
    layouts: Sequence[Sequence[Piece]],
    limit: int | None = None,
) -> tuple[str, tuple[Citation, ...]]:
    """The answer text and its citations: the lead (bold, widened with context) and up to
    ``limit - 1`` supporting quotes (``max_answer_sentences`` when not given), each from a
    passage that does not overlap one already quoted, each distinct sentence once, none of them
    code alone; citations numbered in order of appearance."""
    limit = settings.max_answer_sentences if limit is None else max(1, limit)
    ranked = sorted(scored, key=lambda s: (-s.score, s.hit_index, s.unit))
    if not ranked:
        return "", ()
    lead = ranked[0]
    passage = hits[lead.hit_index].passage
    if settings.widen:
        start, end = widen_lead(
            passage.text, lead.start, lead.end, max_words=settings.max_lead_words, min_words=settings.min_lead_words, parts=layouts[lead.hit_index]
        )
    else:
        start, end = lead.start, lead.end
    quotes = [_Quote(lead.hit_index, start, end, True, [lead.hit_index])]
    quoted_text = {" ".join(passage.text[start:end].split())}
    for candidate in ranked[1:]:
        if candidate.score < settings.support_ratio * lead.score:
            break
        candidate_passage = hits[candidate.hit_index].passage
        overlapping = next((q for q in quotes if _overlaps(candidate_passage, hits[q.hit_index].passage)), None)
        if overlapping is not None:
            # One citation per stretch of a document: a window overlapping a quoted passage that
            # also supports the answer widens that citation instead of being cited again.
            if candidate.hit_index not in overlapping.windows and len(overlapping.windows) < MAX_MERGED_WINDOWS:
                overlapping.windows.append(candidate.hit_index)
            continue
        sentence_start = candidate_passage.start + candidate.start
        sentence_end = candidate_passage.start + candidate.end
        if any(_within(candidate_passage.source, sentence_start, sentence_end, [hits[w].passage for w in q.windows]) for q in quotes):
            continue  # already on show in a citation
        if len(quotes) >= limit or is_code(layouts[candidate.hit_index], candidate.start, candidate.end):
            continue
        key = " ".join(candidate_passage.text[candidate.start : candidate.end].split())
        if key in quoted_text or len(key.split()) < MIN_SUPPORT_WORDS:
            continue
        quoted_text.add(key)
        start, end = candidate.start, candidate.end
        if settings.widen:  # "Usage is simple:" brings the code it introduces
            start, end = widen_lead(
                candidate_passage.text, start, end, max_words=settings.max_lead_words, parts=layouts[candidate.hit_index], introduced_only=True
            )
        quotes.append(_Quote(candidate.hit_index, start, end, False, [candidate.hit_index]))
    parts, citations = [], []
    for number, quote in enumerate(quotes, 1):
        hit = hits[quote.hit_index]
        p = hit.passage
        parts.append(render_quote(p.text, quote.start, quote.end, marker=f"[{number}]", bold=quote.lead, parts=layouts[quote.hit_index]))
        text, start, end = _merged_span([hits[w].passage for w in quote.windows])
        shift = p.start - start
        citations.append(
            Citation(
                number=number,
                passage_id=p.id,
                doc_id=p.doc_id,
                source=p.source,
                title=p.title,
                text=text,
                start=start,
                end=end,
                score=hit.score,
                highlight_start=quote.start + shift,
                highlight_end=quote.end + shift,
                section=p.section,
                page=p.page,
            )
        )
    return "\n\n".join(parts), tuple(citations)


def _within(source: str, start: int, end: int, passages: Sequence[Passage]) -> bool:
    """Whether document offsets ``[start, end)`` of ``source`` lie inside the span the
    overlapping ``passages`` cover together."""
    if not passages or passages[0].source != source:
        return False
    _, span_start, span_end = _merged_span(passages)
    return span_start <= start and end <= span_end


def _merged_span(passages: Sequence[Passage]) -> tuple[str, int, int]:
    """The text and document offsets covered by overlapping windows of one document.

    >>> p = lambda s, t: Passage(id=t, doc_id="d", source="a", title="a", text=t, start=s, end=s + len(t))
    >>> _merged_span([p(4, "efgh"), p(0, "abcdef")])
    ('abcdefgh', 0, 8)
    """
    ordered = sorted(passages, key=lambda p: (p.start, p.end))
    text, start, end = ordered[0].text, ordered[0].start, ordered[0].end
    for p in ordered[1:]:
        if p.start <= end < p.end:
            text += p.text[end - p.start :]
            end = p.end
    return text, start, end


def answer_question(
    *,
    question: str,
    query: str,
    hits: Sequence[Hit],
    sentences: Sequence[tuple[Sequence[tuple[int, int]], np.ndarray]],
    k: int,
    lexical: LexicalIndex,
    settings: AnswerSettings,
    calibration: Calibration | None = None,
    section_starts: Sequence[bool] | None = None,
    corpus: Sequence[Passage] | None = None,
    ocr_pages: Mapping[str, Collection[int]] | None = None,
) -> Answer:
    """Build the answer for ``question`` from ranked ``hits`` (see the module docstring);
    ``section_starts[i]``: whether hit ``i``'s passage starts a section of its document;
    ``ocr_pages``: the pages of each source that were read by OCR (their citations say so)."""
    if not hits:
        return Answer(question=question, query=query, text=ABSTAIN_TEXT, abstained=True, reason="nothing is indexed")
    depth = min(len(hits), max(k, settings.evidence_depth))
    evidence = list(hits[:depth])
    weights = term_weights(query, lexical)
    layouts = [pieces(hit.passage.text) for hit in evidence]
    scored = score_sentences(
        query, evidence, sentences[:depth], weights=weights, settings=settings, layouts=layouts,
        section_starts=section_starts[:depth] if section_starts is not None else None,
    )
    signals = answer_signals(query, hits, scored, weights=weights, lexical=lexical, query_terms=content_terms(query), depth=depth, corpus=corpus)
    confidence = float((calibration or DEFAULT_CALIBRATION).probability(signals))
    explanation = (
        f"best sentence similarity {signals['similarity']:.2f}, question terms covered {signals['coverage']:.0%}, "
        f"terms the index never uses {signals['missing_terms']:.0%}"
    )
    if confidence < settings.abstain_threshold or not scored:
        return Answer(
            question=question,
            query=query,
            text=ABSTAIN_TEXT,
            abstained=True,
            confidence=confidence,
            reason=f"confidence {confidence:.2f} is below the threshold {settings.abstain_threshold:.2f} ({explanation})",
            hits=tuple(hits[:k]),
            signals=signals,
        )
    text, citations = compose_answer(evidence, scored, settings, layouts, limit=min(k, settings.max_answer_sentences))
    if ocr_pages:
        citations = tuple(replace(c, ocr=True) if c.page in ocr_pages.get(c.source, ()) else c for c in citations)
    return Answer(
        question=question,
        query=query,
        text=text,
        citations=citations,
        abstained=False,
        confidence=confidence,
        reason=f"confidence {confidence:.2f} ({explanation})",
        hits=tuple(hits[:k]),
        signals=signals,
    )

