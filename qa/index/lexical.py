"""BM25 keyword search over passages, on bm25s, with our own tokenizer (:func:`qa.text.content_terms`)."""

from __future__ import annotations

import logging
import os
from typing import Iterable, Sequence

import numpy as np

from ..errors import IndexFormatError, MissingDependencyError

# Anserini/Pyserini's defaults for passage retrieval (k1=0.9, b=0.4), not bm25s's 1.5/0.75: a
# lower b penalises long passages less, which suits windows of similar length. Measured on pyfaq
# (bench/README.md): BM25 alone MRR@10 .234 vs .205, hybrid .447 vs .436.
BM25_K1 = 0.9
BM25_B = 0.4


# A word the stemmer keeps apart from the one it is formed from ("korean" / "korea") is that word:
# at most this many letters longer, and never shorter than SHORTEST_BASE itself (four letters
# would match far too much: "plan" in "plant").
DERIVED_EXTRA_LETTERS = 2
SHORTEST_BASE = 5
# A word and its negation are one subject: "Is the licence revocable?" is about what a text
# calling it "irrevocable" says.
NEGATING_PREFIXES = ("un", "in", "ir", "im", "il", "non", "dis")


def top_k_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest positive ``scores``, best first (ties by row).

    Exact, and fast on large arrays: the k-th best of an evenly strided sample can only be lower
    than the k-th best of all, so rows below it are dropped by one vectorised comparison before
    the partial sort. At 1M passages this took the top 100 in ~1 ms instead of 5.6 ms, where
    common question words match half of all passages (bench/scale.py).

    >>> top_k_positive(np.array([0.0, 2.0, 1.0, 2.0, 0.5]), 3).tolist()
    [1, 3, 2]
    """
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    rows = None
    stride = len(scores) // (64 * k)  # a sample of ~64 k: its k-th best is close to the true one
    if stride >= 2:
        sample = scores[::stride]
        floor = np.partition(sample, len(sample) - k)[len(sample) - k]
        if floor > 0:
            rows = np.flatnonzero(scores >= floor)
    if rows is None:
        rows = np.flatnonzero(scores > 0)
    if len(rows) > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    return rows[np.lexsort((rows, -scores[rows]))].astype(np.int64)


def _bm25s():
    try:
        import bm25s
    except ImportError as exc:  # pragma: no cover - bm25s is a declared dependency
        raise MissingDependencyError("keyword search needs bm25s: pip install bm25s") from exc
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    """BM25 over pre-tokenised passages. Row ``i`` is passage ``i``.

    >>> index = LexicalIndex.build([["cat", "sat"], ["dog", "ran"], ["cat", "ran"]])
    >>> scores, rows = index.search(["dog"], k=2)
    >>> rows.tolist()
    [1]
    """

    def __init__(self, model, size: int) -> None:
        self._model = model
        self._size = size

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], *, k1: float = BM25_K1, b: float = BM25_B) -> "LexicalIndex":
        """The index of ``token_lists`` (any iterable, e.g. a generator: each passage's words
        become term ids as they come, so the words of the whole corpus are never held at once —
        at pyfaq's 21,542 passages they took 150 MB)."""
        bm25s = _bm25s()
        model = bm25s.BM25(k1=k1, b=b)
        vocab: dict[str, int] = {}
        # bm25s wants at least one token per row; an empty passage gets the empty token.
        ids = [[vocab.setdefault(t, len(vocab)) for t in tokens] or [vocab.setdefault("", len(vocab))] for tokens in token_lists]
        if ids:
            model.index((ids, vocab), show_progress=False)
        return cls(model, len(ids))

    def __len__(self) -> int:
        return self._size

    def max_score(self, terms: Sequence[str]) -> float:
        """An upper bound of any passage's score for ``terms``: the sum of their idf (bm25s's
        term-frequency factor ``tf / (tf + k1 * norm)`` stays below 1)."""
        ids = self._term_ids(terms)
        if not ids:
            return 0.0
        return float(self._idf(ids).sum())

    def document_frequency(self, term: str) -> int:
        """How many passages contain ``term``."""
        ids = self._term_ids([term])
        if not ids:
            return 0
        indptr = self._model.scores["indptr"]
        return int(indptr[ids[0] + 1] - indptr[ids[0]])

    def known_form(self, term: str) -> str | None:
        """``term`` (a stem) if the index uses it, else a form of it the index uses — the word it
        is formed from ("korean" -> "korea", two letters at most, a base of :data:`SHORTEST_BASE`
        letters or more) or its negation ("revoc" -> "irrevoc", "unlimit" -> "limit") — else None.

        >>> index = LexicalIndex.build([["korea", "statement", "irrevoc"]])
        >>> [index.known_form(t) for t in ("statement", "korean", "revoc", "unrevoc", "kor", "revok")]
        ['statement', 'korea', 'irrevoc', 'irrevoc', None, None]
        """
        if self.document_frequency(term):
            return term
        for extra in range(1, DERIVED_EXTRA_LETTERS + 1):
            if len(term) - extra >= SHORTEST_BASE and self.document_frequency(term[:-extra]):
                return term[:-extra]
        if len(term) >= SHORTEST_BASE:
            for prefix in NEGATING_PREFIXES:
                if self.document_frequency(prefix + term):
                    return prefix + term
        for prefix in NEGATING_PREFIXES:  # "irrevocable" asked, "revocable" (or "unrevocable") written
            base = term[len(prefix) :]
            if term.startswith(prefix) and len(base) >= SHORTEST_BASE:
                for form in (base, *(other + base for other in NEGATING_PREFIXES if other != prefix)):
                    if self.document_frequency(form):
                        return form
        return None

    def term_idf(self, term: str) -> float:
        """The idf of one term; a term absent from the index gets the idf of a term with df = 0
        (the rarest possible), because a word no passage contains is as specific as words get."""
        ids = self._term_ids([term])
        if ids:
            return float(self._idf(ids)[0])
        return float(np.log(1 + (self._size + 0.5) / 0.5))

    def _term_ids(self, terms: Sequence[str]) -> list[int]:
        if not self._size:
            return []
        vocab = self._model.vocab_dict
        return [vocab[t] for t in terms if t and t in vocab]

    def _idf(self, ids: list[int]) -> np.ndarray:
        n = self._size
        indptr = self._model.scores["indptr"]
        df = np.array([indptr[i + 1] - indptr[i] for i in ids], dtype=np.float64)
        return np.log(1 + (n - df + 0.5) / (df + 0.5))  # Lucene's idf, as bm25s computes it

    def rows_with(self, term: str) -> np.ndarray:
        """Rows of the passages that contain ``term`` (its posting list), in row order."""
        ids = self._term_ids([term])
        if not ids:
            return np.zeros(0, dtype=np.int64)
        matrix = self._model.scores
        start, end = int(matrix["indptr"][ids[0]]), int(matrix["indptr"][ids[0] + 1])
        return np.sort(np.asarray(matrix["indices"][start:end], dtype=np.int64))

    def scores(self, terms: Sequence[str]) -> np.ndarray | None:
        """BM25 score of every passage for ``terms`` (``None`` when no term is in the index)."""
        ids = self._term_ids(terms)
        if not ids:
            return None
        return self._model.get_scores_from_ids(ids)

    def search(self, terms: Sequence[str], k: int, *, scores: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores (descending) and rows of up to ``k`` passages that contain any of ``terms``
        (``scores``: the result of :meth:`scores`, when already computed)."""
        if scores is None:
            scores = self.scores(terms)
        if scores is None or k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        order = top_k_positive(scores, k)
        return scores[order].astype(np.float32), order

    def save(self, directory: str | os.PathLike[str]) -> None:
        os.makedirs(directory, exist_ok=True)
        if self._size:
            self._model.save(os.fspath(directory), show_progress=False)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], size: int, *, mmap: bool = False) -> "LexicalIndex":
        bm25s = _bm25s()
        if not size:
            return cls(bm25s.BM25(k1=BM25_K1, b=BM25_B), 0)
        try:
            model = bm25s.BM25.load(os.fspath(directory), mmap=mmap, show_progress=False, verbosity=0)
        except Exception as exc:  # bm25s raises whatever numpy/json raise on damaged files
            raise IndexFormatError(
                f"the keyword index in {str(directory)!r} is corrupt or unreadable ({type(exc).__name__}: {exc}); "
                "rebuild it with: qa index PATH... --index DIR --rebuild"
            ) from exc
        if int(model.scores.get("num_docs", -1)) != size:
            raise IndexFormatError(
                f"the keyword index in {str(directory)!r} covers {model.scores.get('num_docs')} passages but the "
                f"index has {size}; rebuild it with: qa index PATH... --index DIR --rebuild"
            )
        return cls(model, size)
