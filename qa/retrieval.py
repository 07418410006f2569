"""Search settings and hybrid retrieval: dense + BM25 candidates, fused into one ranking."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, Sequence

import numpy as np

from .dense import DenseIndex
from .errors import InputError
from .fusion import RRF_K, rrf, weighted_sum
from .lexical import LexicalIndex
from .text import content_terms
from .types import Passage

MODES = ("hybrid", "dense", "lexical")
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class SearchSettings:
    """How a question is searched. Every field can be overridden per call.

    - ``mode``: ``"hybrid"`` (dense + BM25), ``"dense"`` or ``"lexical"`` (BM25 only).
    - ``fusion``: ``"rrf"`` (reciprocal-rank fusion) or ``"weighted"`` (``dense_weight`` x cosine
      + (1 - ``dense_weight``) x BM25 divided by the best score the query's terms could reach).
    - ``candidates``: how many passages each retriever proposes before fusion (``k0``).

    >>> SearchSettings().with_overrides({"mode": "dense"}).mode
    'dense'
    """

    mode: str = "hybrid"
    fusion: str = "rrf"
    candidates: int = 100
    rrf_k: int = RRF_K
    dense_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.fusion not in FUSIONS:
            raise InputError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if not isinstance(self.candidates, int) or self.candidates < 1:
            raise InputError(f"candidates must be an integer >= 1, got {self.candidates!r}")
        if not isinstance(self.rrf_k, int) or self.rrf_k < 0:
            raise InputError(f"rrf_k must be an integer >= 0, got {self.rrf_k!r}")
        if not 0.0 <= float(self.dense_weight) <= 1.0:
            raise InputError(f"dense_weight must be in [0, 1], got {self.dense_weight!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "SearchSettings":
        """A copy with ``overrides`` applied; values given as strings (CLI ``--set``) are converted."""
        if not overrides:
            return self
        known = {f.name: f for f in fields(self)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in known:
                raise InputError(f"unknown search setting {name!r}; known settings: {', '.join(sorted(known))}")
            current = getattr(self, name)
            if isinstance(value, str) and not isinstance(current, str):
                try:
                    value = type(current)(value)
                except ValueError:
                    raise InputError(f"search setting {name} must be a {type(current).__name__}, got {value!r}") from None
            elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            values[name] = value
        return replace(self, **values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SearchSettings":
        known = {f.name for f in fields(cls)}
        return cls().with_overrides({k: v for k, v in data.items() if k in known})


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
    query_vector: np.ndarray | None,
    query_terms: Sequence[str],
    k: int,
    settings: SearchSettings,
) -> list[Candidate]:
    """The top ``k`` rows for one query under ``settings``.

    Dense scores are cosine similarities; lexical scores are BM25. In hybrid mode each side
    proposes ``settings.candidates`` rows and the two lists are fused.
    """
    depth = max(k, settings.candidates)
    dense_scores: dict[int, float] = {}
    dense_ranking: list[int] = []
    lexical_scores: dict[int, float] = {}
    lexical_ranking: list[int] = []
    if settings.mode in ("hybrid", "dense") and query_vector is not None:
        scores, rows = dense.search(query_vector[None, :], depth)
        dense_ranking = [int(r) for r in rows[0]]
        dense_scores = {int(r): float(s) for r, s in zip(rows[0], scores[0])}
    if settings.mode in ("hybrid", "lexical"):
        scores, rows = lexical.search(list(query_terms), depth)
        lexical_ranking = [int(r) for r in rows]
        lexical_scores = {int(r): float(s) for r, s in zip(rows, scores)}

    if settings.mode == "dense":
        fused = [(row, dense_scores[row]) for row in dense_ranking]
    elif settings.mode == "lexical":
        fused = [(row, lexical_scores[row]) for row in lexical_ranking]
    elif settings.fusion == "rrf":
        fused = rrf([dense_ranking, lexical_ranking], k=settings.rrf_k)
    else:
        # BM25 has no fixed scale, so it is scaled by the best possible score for this query
        # (its terms' idf sum); cosine is already in [-1, 1]. Both then mean "how well matched".
        ceiling = lexical.max_score(list(query_terms)) or 1.0
        fused = weighted_sum(
            [dense_scores, {row: s / ceiling for row, s in lexical_scores.items()}],
            [settings.dense_weight, 1.0 - settings.dense_weight],
        )
    return [
        Candidate(row=row, score=score, dense_score=dense_scores.get(row), lexical_score=lexical_scores.get(row))
        for row, score in fused[:k]
    ]


def query_terms(question: str) -> list[str]:
    """The BM25 terms of a question (same tokenizer as passages)."""
    return content_terms(question)


__all__ = ["FUSIONS", "MODES", "Candidate", "SearchSettings", "passage_index_text", "query_terms", "retrieve"]
