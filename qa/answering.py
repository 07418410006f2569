"""Hits -> a grounded :class:`~qa.types.Answer`: highlighted sentences, citations, or abstention.

No language model writes anything: the answer is made of sentences copied from the retrieved
passages. Two questions are decided here, both without an LLM:

* **Which sentence answers?** Each sentence of the top passages is scored by its cosine
  similarity to the question (the sentence vectors stored in the index) plus how many of the
  question's content words it contains (weighted by specificity).
* **Is there an answer at all?** A plain similarity threshold cannot tell "a passage on the
  topic" from "a passage that answers": a question about a related but absent fact scores as
  high as a real one. So the confidence combines the best sentence similarity with *coverage*:
  the share of the question's specific words (names, numbers, uncommon nouns: see
  :mod:`qa.salience`) that occur in the best passages. A question whose specific terms are missing from every good passage is not
  answered by them.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import InputError
from .lexical import LexicalIndex
from .retrieval import distinct_passages
from .salience import coverage, term_weights, text_terms
from .text import content_terms
from .types import Answer, Citation, Hit

ABSTAIN_TEXT = "The indexed documents do not answer this question."


@dataclass(frozen=True)
class AnswerSettings:
    """How answers are assembled and when the system abstains.

    - ``abstain_threshold``: answers whose confidence is below it are withheld (see README for how
      the default was measured).
    - ``evidence_depth``: how many top passages are read for sentences and coverage.
    - ``coverage_weight``: share of the confidence given to term coverage (the rest is similarity).
    - ``max_answer_sentences``: sentences quoted in the answer text.
    """

    abstain_threshold: float = 0.35
    evidence_depth: int = 5
    coverage_weight: float = 0.5
    lexical_weight: float = 0.3
    max_answer_sentences: int = 3

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.abstain_threshold) <= 1.0:
            raise InputError(f"abstain_threshold must be in [0, 1], got {self.abstain_threshold!r}")
        if not isinstance(self.evidence_depth, int) or self.evidence_depth < 1:
            raise InputError(f"evidence_depth must be an integer >= 1, got {self.evidence_depth!r}")
        if not 0.0 <= float(self.coverage_weight) <= 1.0:
            raise InputError(f"coverage_weight must be in [0, 1], got {self.coverage_weight!r}")
        if float(self.lexical_weight) < 0:
            raise InputError(f"lexical_weight must be >= 0, got {self.lexical_weight!r}")
        if not isinstance(self.max_answer_sentences, int) or self.max_answer_sentences < 1:
            raise InputError(f"max_answer_sentences must be an integer >= 1, got {self.max_answer_sentences!r}")

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "AnswerSettings":
        if not overrides:
            return self
        values = {}
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in self.field_names():
                raise InputError(f"unknown answer setting {name!r}; known: {', '.join(sorted(self.field_names()))}")
            current = getattr(self, name)
            try:
                values[name] = type(current)(value)
            except (TypeError, ValueError):
                raise InputError(f"answer setting {name} must be a {type(current).__name__}, got {value!r}") from None
        return replace(self, **values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AnswerSettings":
        return cls().with_overrides({k: v for k, v in data.items() if k in cls.field_names()})


@dataclass(frozen=True)
class SentenceScore:
    """A candidate answer sentence: which hit, where in its passage, and how good."""

    hit_index: int
    start: int  # offsets inside the passage text
    end: int
    similarity: float
    overlap: float
    score: float


def score_sentences(
    hits: Sequence[Hit],
    sentences: Sequence[tuple[Sequence[tuple[int, int]], np.ndarray]],
    *,
    weights: Mapping[str, float],
    lexical_weight: float,
) -> list[SentenceScore]:
    """Every sentence of ``hits`` scored as a possible answer: its cosine similarity to the
    question (``sentences[i]`` holds the spans and similarities of hit ``i``'s sentences) plus
    ``lexical_weight`` x the weighted share of the question's terms it contains."""
    scored = []
    for i, (hit, (spans, similarities)) in enumerate(zip(hits, sentences)):
        for (start, end), similarity in zip(spans, similarities):
            overlap = coverage(weights, set(content_terms(hit.passage.text[start:end])))
            scored.append(
                SentenceScore(
                    hit_index=i,
                    start=start,
                    end=end,
                    similarity=float(similarity),
                    overlap=overlap,
                    score=float(similarity) + lexical_weight * overlap,
                )
            )
    return scored


def markdown_quote(text: str) -> str:
    """Document text made safe to show inside Markdown: HTML is escaped and Markdown syntax
    characters are backslash-escaped, so a document can never inject links, images or markup."""
    text = html.escape(" ".join(text.split()), quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+!|~>])", r"\\\1", text)


def answer_question(
    *,
    question: str,
    query: str,
    hits: Sequence[Hit],
    sentences: Sequence[tuple[Sequence[tuple[int, int]], np.ndarray]],
    k: int,
    lexical: LexicalIndex,
    settings: AnswerSettings,
) -> Answer:
    """Build the answer for ``question`` from ranked ``hits`` (see the module docstring)."""
    if not hits:
        return Answer(question=question, query=query, text=ABSTAIN_TEXT, abstained=True, reason="nothing is indexed")
    depth = min(len(hits), max(k, settings.evidence_depth))
    evidence = list(hits[:depth])
    weights = term_weights(query, lexical)
    scored = score_sentences(evidence, sentences[:depth], weights=weights, lexical_weight=settings.lexical_weight)
    best_by_hit: dict[int, SentenceScore] = {}
    for s in scored:
        if s.hit_index not in best_by_hit or s.score > best_by_hit[s.hit_index].score:
            best_by_hit[s.hit_index] = s
    # A passage answers when it is both about the question (its best sentence is similar) and
    # holds the question's specific terms (coverage), so both are judged passage by passage —
    # terms scattered over several passages prove nothing. The weighted geometric mean sinks a
    # passage when either signal is low.
    best: tuple[float, float, float] | None = None  # (confidence, similarity, coverage) of the best passage
    for i, hit in enumerate(evidence):
        similarity = max((s.similarity for s in scored if s.hit_index == i), default=0.0)
        terms = text_terms(f"{hit.passage.title}\n{hit.passage.section_label}\n{hit.passage.text}")
        passage_coverage = coverage(weights, terms) if weights else 0.0
        value = max(0.0, similarity) ** (1 - settings.coverage_weight) * passage_coverage**settings.coverage_weight
        if best is None or value > best[0]:
            best = (value, similarity, passage_coverage)
    confidence, best_similarity, term_coverage = best or (0.0, 0.0, 0.0)
    confidence = float(min(1.0, max(0.0, confidence)))
    explanation = f"best passage: sentence similarity {best_similarity:.2f}, question terms covered {term_coverage:.0%}"
    if confidence < settings.abstain_threshold:
        return Answer(
            question=question,
            query=query,
            text=ABSTAIN_TEXT,
            abstained=True,
            confidence=confidence,
            reason=f"confidence {confidence:.2f} is below the threshold {settings.abstain_threshold:.2f} ({explanation})",
            hits=tuple(hits[:k]),
        )

    # Cite the top-k passages, numbered by how well their best sentence answers, so that [1] holds
    # the lead sentence of the answer; each citation carries its best sentence as the highlight.
    cited = sorted(
        distinct_passages([h.passage for h in evidence], k),
        key=lambda i: (-(best_by_hit[i].score if i in best_by_hit else float("-inf")), i),
    )
    citations = []
    for number, i in enumerate(cited, 1):
        hit = evidence[i]
        best = best_by_hit.get(i)
        start, end = (best.start, best.end) if best else (0, len(hit.passage.text))
        citations.append(
            Citation(
                number=number,
                passage_id=hit.passage.id,
                doc_id=hit.passage.doc_id,
                source=hit.passage.source,
                title=hit.passage.title,
                text=hit.passage.text,
                start=hit.passage.start,
                end=hit.passage.end,
                score=hit.score,
                highlight_start=start,
                highlight_end=end,
                section=hit.passage.section,
                page=hit.passage.page,
            )
        )
    # The answer quotes the best sentences of the leading citations.
    top_score = best_by_hit[cited[0]].score if cited and cited[0] in best_by_hit else 0.0
    lines = []
    seen_sentences: set[str] = set()
    for number, i in enumerate(cited, 1):
        s = best_by_hit.get(i)
        if s is None:
            continue
        if len(lines) == settings.max_answer_sentences or (lines and s.score < 0.8 * top_score):
            break
        sentence = evidence[s.hit_index].passage.text[s.start : s.end]
        key = " ".join(sentence.split())
        if key in seen_sentences:  # overlapping passages can share their best sentence
            continue
        seen_sentences.add(key)
        quoted = markdown_quote(sentence)
        lines.append(f"**{quoted}** [{number}]" if not lines else f"{quoted} [{number}]")
    text = "\n\n".join(lines)
    return Answer(
        question=question,
        query=query,
        text=text,
        citations=tuple(citations),
        abstained=False,
        confidence=confidence,
        reason=f"confidence {confidence:.2f} ({explanation})",
        hits=tuple(hits[:k]),
    )
