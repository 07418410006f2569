"""Search settings and hybrid retrieval: dense + BM25 candidates, fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..index.dense import DenseIndex
from ..index.lexical import LexicalIndex
from ..index.sentences import SentenceTable
from ..settings import SettingsMixin
from ..text import content_terms
from ..types import Passage
from .fusion import RRF_K, rrf

MODES = ("hybrid", "dense", "lexical")
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class SearchSettings(SettingsMixin):
    """How a question is searched. Every field can be overridden per call.

    - ``mode``: ``"hybrid"`` (embeddings + BM25 keywords), ``"dense"`` (embeddings only) or
      ``"lexical"`` (BM25 only).
    - ``candidates``: how many passages each retriever proposes (``k0``, much larger than ``k``);
      the union is then rescored.
    - ``fusion``: ``"weighted"`` combines three scores on a common scale — the passage's cosine
      similarity, its best sentence's cosine similarity (see :mod:`qa.index.sentences`) and BM25 divided
      by the best score the question's terms could reach — with ``dense_weight``,
      ``sentence_weight`` and ``lexical_weight``; ``"rrf"`` fuses the same rankings by reciprocal
      rank (``rrf_k``). A weight of 0 switches that signal off.
    - ``diversify``: drop a passage that mostly overlaps a better-ranked one of the same document
      (consecutive windows share sentences), so the top ``k`` holds more distinct text.
    - ``section_start_bonus``: added to the weighted score of a passage that starts where a
      section of its document starts: what a section says first is its point (bench/README.md, "Retrieval
      quality": pyfaq hit@1 .439 -> .471; 0 switches it off).

    >>> SearchSettings().with_overrides({"mode": "dense"}).mode
    'dense'
    """

    LABEL = "search setting"

    mode: str = "hybrid"
    fusion: str = "weighted"
    candidates: int = 100
    rrf_k: int = RRF_K
    dense_weight: float = 0.35
    sentence_weight: float = 0.5
    lexical_weight: float = 0.15
    diversify: bool = False
    section_start_bonus: float = 0.02

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.fusion not in FUSIONS:
            raise InputError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if not isinstance(self.candidates, int) or self.candidates < 1:
            raise InputError(f"candidates must be an integer >= 1, got {self.candidates!r}")
        if not isinstance(self.rrf_k, int) or self.rrf_k < 0:
            raise InputError(f"rrf_k must be an integer >= 0, got {self.rrf_k!r}")
        for name in ("dense_weight", "sentence_weight", "lexical_weight", "section_start_bonus"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise InputError(f"{name} must be a number >= 0, got {value!r}")
        if self.dense_weight + self.sentence_weight <= 0 and self.mode == "dense":
            raise InputError("mode 'dense' needs dense_weight or sentence_weight > 0")
        if self.dense_weight + self.sentence_weight + self.lexical_weight <= 0:
            raise InputError("at least one of dense_weight, sentence_weight, lexical_weight must be > 0")


def passage_index_text(passage: Passage, *, context: bool) -> str:
    """The text that is embedded and keyword-indexed for a passage: with ``context``, the document
    title and section path come first, so a passage that never names its topic can still be found."""
    if not context:
        return passage.text
    heading = [passage.title] + [h for h in passage.section if h != passage.title]
    prefix = " > ".join(h for h in heading if h)
    return f"{prefix}\n\n{passage.text}" if prefix else passage.text


@dataclass(frozen=True)
class Candidate:
    """One fused result before it becomes a :class:`~qa.types.Hit`."""

    row: int
    score: float
    dense_score: float | None
    lexical_score: float | None


def retrieve(
    *,
    dense: DenseIndex,
    lexical: LexicalIndex,
    sentences: SentenceTable | None,
    query_vector: np.ndarray | None,
    query_terms: Sequence[str],
    k: int,
    settings: SearchSettings,
    section_starts: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> list[Candidate]:
    """The top ``k`` rows for one query under ``settings`` (see :class:`SearchSettings`);
    ``section_starts[row]``: whether passage ``row`` starts a section of its document.

    ``allowed`` (a boolean mask over rows, from :mod:`qa.retrieval.filters`) restricts the search
    before any top list is taken: BM25 scores of other rows are zeroed, and the dense candidates
    are the best cosines among the allowed rows (exact for a flat index and for up to 20,000
    allowed rows of a graph; past that from the graph walk restricted to them, as recall as an
    unfiltered search: :meth:`qa.index.dense.DenseIndex.search_among`), so a filtered search ranks
    as an unfiltered one would with the other rows left out."""
    depth = max(k, settings.candidates)
    use_dense = settings.mode in ("hybrid", "dense") and query_vector is not None
    use_lexical = settings.mode in ("hybrid", "lexical")
    if allowed is not None and not allowed.any():
        return []
    bm25 = lexical.scores(list(query_terms)) if use_lexical else None
    if bm25 is not None and allowed is not None:
        bm25 = np.where(allowed, bm25, 0.0).astype(bm25.dtype, copy=False)
    lexical_rows: list[int] = []
    if bm25 is not None:
        _, rows = lexical.search(list(query_terms), depth, scores=bm25)
        lexical_rows = [int(r) for r in rows]
    if settings.mode == "lexical":
        return [Candidate(row=r, score=float(bm25[r]), dense_score=None, lexical_score=float(bm25[r])) for r in lexical_rows[:k]]
    if not use_dense:
        return []

    if allowed is None:
        _, rows = dense.search(query_vector[None, :], depth)
        rows_ = [int(r) for r in rows[0]]
    else:
        _, best = dense.search_among(query_vector, allowed, depth)
        rows_ = [int(r) for r in best]
    pool = list(dict.fromkeys(rows_ + lexical_rows))  # union of both candidate lists
    cosine = dense.vectors_of(pool) @ np.asarray(query_vector, dtype=np.float32)
    signals: list[tuple[float, np.ndarray]] = [(settings.dense_weight, cosine)]
    if settings.sentence_weight > 0 and sentences is not None and len(sentences):
        signals.append((settings.sentence_weight, sentences.best_similarities(pool, query_vector)))
    lexical_raw = np.zeros(len(pool), dtype=np.float32) if bm25 is None else bm25[pool].astype(np.float32)
    if settings.mode == "hybrid" and settings.lexical_weight > 0:
        # BM25 has no fixed scale: divide by the best score the query's terms could reach (their
        # idf sum), so 1.0 means "every term matched as strongly as possible", like a cosine of 1.
        ceiling = lexical.max_score(list(query_terms)) or 1.0
        signals.append((settings.lexical_weight, lexical_raw / ceiling))
    signals = [(w, v) for w, v in signals if w > 0]

    if settings.fusion == "weighted":
        total = sum(w for w, _ in signals)
        combined = sum(w * v for w, v in signals) / total
        if settings.section_start_bonus and section_starts is not None and len(section_starts):
            combined = combined + settings.section_start_bonus * section_starts[pool]
        # Ties go to the lower row, whatever order the candidate lists came in (HNSW, exact, filtered).
        order = np.lexsort((np.asarray(pool), -combined))
        fused = [(pool[i], float(combined[i])) for i in order[:k]]
    else:
        rankings = [[pool[i] for i in np.lexsort((np.asarray(pool), -v))] for _, v in signals]
        fused = rrf(rankings, k=settings.rrf_k, weights=[w for w, _ in signals])[:k]
    position = {row: i for i, row in enumerate(pool)}
    return [
        Candidate(
            row=row,
            score=score,
            dense_score=float(cosine[position[row]]),
            lexical_score=float(lexical_raw[position[row]]) if bm25 is not None else None,
        )
        for row, score in fused
    ]


def distinct_passages(passages: Sequence[Passage], k: int, *, max_overlap: float = 0.5) -> list[int]:
    """Indices of up to ``k`` passages in rank order, skipping one that mostly repeats a better
    one (same document, overlapping by more than ``max_overlap`` of the shorter span).

    >>> p = lambda s, e: Passage(id=f"{s}", doc_id="d", source="a", title="a", text="x" * (e - s), start=s, end=e)
    >>> distinct_passages([p(0, 100), p(20, 120), p(90, 190)], k=3)
    [0, 2]
    """
    chosen: list[int] = []
    for i, a in enumerate(passages):
        if len(chosen) == k:
            break
        redundant = False
        for j in chosen:
            b = passages[j]
            if a.source == b.source:
                overlap = min(a.end, b.end) - max(a.start, b.start)
                if overlap > max_overlap * min(a.end - a.start, b.end - b.start):
                    redundant = True
                    break
        if not redundant:
            chosen.append(i)
    return chosen


def query_terms(question: str) -> list[str]:
    """The BM25 terms of a question (same tokenizer as passages)."""
    return content_terms(question)


__all__ = ["FUSIONS", "MODES", "Candidate", "SearchSettings", "passage_index_text", "query_terms", "retrieve"]
