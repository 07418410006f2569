"""Inner-product search over normalised vectors (cosine similarity), on FAISS.

Small indexes are searched exactly (FAISS's flat buffer, scored with numpy); past
:data:`HNSW_THRESHOLD` passages an HNSW graph answers in about a millisecond with recall@10 of
0.98-0.99 against exact search at 100k-1M passages (bench/scale.py).

From :data:`HNSW_SQ8_THRESHOLD` passages (or with ``hnsw-sq8``) the graph is built over 8-bit
codes (384 bytes a vector instead of 1,536) and the vectors are kept in float16 in a separate,
memory-mapped file: the graph finds twice the candidates asked for and the float16 vectors
re-rank them, so scores are (near-)exact and only the candidates' rows are read from disk.

HNSW cannot delete in FAISS: a write that removes passages rebuilds the graph, a write that only
adds extends a copy of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import IndexFormatError, MissingDependencyError


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a declared dependency
        raise MissingDependencyError("dense search needs FAISS: pip install faiss-cpu") from exc
    return faiss


DENSE_KINDS = ("auto", "flat", "hnsw", "hnsw-sq8")
# Exact search is fast enough below this size (a few ms per query) and needs no build time.
HNSW_THRESHOLD = 50_000
HNSW_M = 32  # graph degree: 32 neighbours keeps recall@10 high for 384-d sentence embeddings
# Candidates kept while linking a new vector. 160 rather than 80: at 1M passages over 8-bit codes
# recall@10 at efSearch 2048 rose from .973 to .987 for twice the graph build time (80 -> 158 s),
# which is still well under 1 % of the time it takes to embed a million passages (bench/scale.py).
HNSW_EF_CONSTRUCTION = 160
HNSW_EF_SEARCH = 1024  # explored per query: recall@10 vs exact .997 at 100k, .981 at 1M, ~1.8 ms (bench/scale.py)
# Over 8-bit codes the graph walk needs twice that for the same recall: at 1M, re-ranked, .986
# with efConstruction 160 and 2048, ~3.3 ms (with efConstruction 80: .967 at 1024, .973-.980 at
# 2048); re-ranking more candidates than twice those asked for did not help.
HNSW_SQ8_EF_SEARCH = 2048
# From here the float graph would hold ~0.9 GB in memory (1,808 bytes a passage); the 8-bit one
# keeps 656 bytes resident, its float16 re-rank vectors stay on disk, and at 1M it measured
# recall@10 .986 against the float graph's .981, at ~1.5 ms more per question (bench/scale.py).
HNSW_SQ8_THRESHOLD = 500_000
# A filter allowing up to this many rows of a graph index is searched exactly (reading 20,000
# vectors and scoring them takes a few milliseconds); one allowing more is searched in the graph.
EXACT_FILTER_ROWS = 20_000
# The most a filtered graph walk explores (a filter allowing 2 % of 1M rows asks ~50,000).
MAX_FILTERED_EF_SEARCH = 16_384


def resolve_kind(kind: str, size: int) -> str:
    """``auto`` -> ``flat`` below :data:`HNSW_THRESHOLD` vectors, ``hnsw`` from there on, and
    ``hnsw-sq8`` from :data:`HNSW_SQ8_THRESHOLD`."""
    if kind not in DENSE_KINDS:
        raise ValueError(f"dense index kind must be one of {DENSE_KINDS}, got {kind!r}")
    if kind == "auto":
        if size >= HNSW_SQ8_THRESHOLD:
            return "hnsw-sq8"
        return "hnsw" if size >= HNSW_THRESHOLD else "flat"
    return kind


class DenseIndex:
    """Rows of unit vectors; ``search`` returns the most similar rows by inner product.

    Row ``i`` of the index is passage ``i`` of the index directory (an explicit row map, so
    FAISS's ``-1`` padding is dropped rather than mistaken for a passage).

    >>> import numpy as np
    >>> index = DenseIndex.build(np.eye(3, dtype=np.float32))
    >>> scores, rows = index.search(np.array([[0, 1, 0]], dtype=np.float32), k=2)
    >>> rows[0].tolist(), round(float(scores[0][0]), 3)
    ([1, 0], 1.0)
    """

    def __init__(self, index, *, exact: np.ndarray | None = None) -> None:
        self._index = index
        self._exact = exact  # float16 [n, dim] next to an 8-bit graph, else None
        self._flat_view: np.ndarray | None = None

    @classmethod
    def build(cls, vectors: np.ndarray, *, dim: int | None = None, kind: str = "flat") -> "DenseIndex":
        """An index of ``vectors``; ``kind`` is ``flat`` (exact), ``hnsw`` or ``auto`` (by size)."""
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            vectors = vectors.reshape(0, dim or 0)
        d = vectors.shape[1] if vectors.size or dim is None else dim
        resolved = resolve_kind(kind, len(vectors))
        exact = None
        if resolved == "hnsw":
            index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        elif resolved == "hnsw-sq8":
            index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            if len(vectors):
                index.train(vectors)  # the per-dimension ranges of the 8-bit codes
            exact = vectors.astype(np.float16)
        else:
            index = faiss.IndexFlatIP(d)
        if hasattr(index, "hnsw"):
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        if len(vectors):
            index.add(vectors)
        return cls(index, exact=exact)

    @classmethod
    def from_blocks(cls, blocks: Iterable[np.ndarray], *, count: int, dim: int, kind: str = "flat") -> "DenseIndex":
        """:meth:`build` of the rows of ``blocks`` in order (``count`` of them, which decides
        ``auto``), added a block at a time so that all of them are never held twice; an 8-bit
        graph learns its ranges from every vector, so it takes them at once.

        >>> index = DenseIndex.from_blocks(iter([np.eye(3, dtype=np.float32)[:2], np.eye(3, dtype=np.float32)[2:]]), count=3, dim=3)
        >>> len(index), index.kind
        (3, 'flat')
        """
        resolved = resolve_kind(kind, count)
        if resolved == "hnsw-sq8":
            return cls.build(np.concatenate([np.zeros((0, dim), dtype=np.float32), *blocks]), dim=dim, kind=resolved)
        index = cls.build(np.zeros((0, dim), dtype=np.float32), dim=dim, kind=resolved)
        for block in blocks:
            if len(block):
                index._index.add(np.ascontiguousarray(block, dtype=np.float32))
        return index

    @property
    def kind(self) -> str:
        if self._exact is not None:
            return "hnsw-sq8"
        return "hnsw" if hasattr(self._index, "hnsw") else "flat"

    def extended(self, vectors: np.ndarray) -> "DenseIndex":
        """A copy with ``vectors`` appended as new rows (the original is left untouched)."""
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self._exact is not None and len(vectors) > len(self):
            # The 8-bit ranges were learnt from fewer vectors than are coming (or none: an empty
            # index is untrained) and would clip the new ones: learn them again from all.
            return DenseIndex.build(np.concatenate([self.vectors(), vectors]), dim=self.dim, kind="hnsw-sq8")
        # Not clone_index: the clone of a memory-mapped index still views the file, and adding to
        # it aborts the process. A serialised round trip always owns its memory.
        index = faiss.deserialize_index(faiss.serialize_index(self._index))
        if len(vectors):
            index.add(vectors)  # an 8-bit graph keeps the ranges it was trained with
        exact = None if self._exact is None else np.concatenate([self._exact, vectors.astype(np.float16)])
        return DenseIndex(index, exact=exact)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per query: scores (descending) and row numbers of up to ``k`` rows."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            empty = [np.zeros(0, dtype=np.float32) for _ in queries]
            return empty, [np.zeros(0, dtype=np.int64) for _ in queries]
        if self.kind == "flat":
            return self._exact_search(queries, k)
        faiss = _faiss()
        fetch = k if self._exact is None else min(len(self), 2 * k)
        ef = HNSW_EF_SEARCH if self._exact is None else HNSW_SQ8_EF_SEARCH
        params = faiss.SearchParametersHNSW(efSearch=max(ef, fetch))
        scores, rows = self._index.search(queries, fetch, params=params)
        keep = rows >= 0
        scores, rows = [s[m] for s, m in zip(scores, keep)], [r[m] for r, m in zip(rows, keep)]
        if self._exact is not None:
            scores, rows = zip(*(self._rerank(q, r, k) for q, r in zip(queries, rows)))
        return list(scores), list(rows)

    def _rerank(self, query: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``rows`` by exact inner product (ties by row, as FAISS orders them)."""
        rows = np.sort(rows)  # reads the memory-mapped file in order
        exact = self.vectors_of(rows) @ query
        order = np.lexsort((rows, -exact))[:k]
        return exact[order].astype(np.float32), rows[order].astype(np.int64)

    def search_among(
        self, query: np.ndarray, allowed: np.ndarray, k: int, *, exact_limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of the rows ``allowed`` (a boolean mask over rows): scores (descending)
        and row numbers, ties by row.

        A flat index, or up to ``exact_limit`` allowed rows (:data:`EXACT_FILTER_ROWS`) of a
        graph, is searched exactly: when more than a quarter of a flat index is allowed, every
        row is scored in one matmul and the rest masked (cheaper than gathering them); otherwise
        the allowed rows' stored vectors are read. More allowed rows of a graph are searched in
        the graph itself, which skips the rows not allowed (a FAISS ``IDSelectorBitmap``), and
        the candidates are re-scored exactly — recall as for an unfiltered search, at the cost of
        an unfiltered search rather than of reading every allowed row."""
        query = np.asarray(query, dtype=np.float32)
        rows = np.flatnonzero(allowed)
        k = min(k, len(rows))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        if self.kind == "flat" and 4 * len(rows) > len(self):  # a large share: one matmul beats the gather
            scores = np.where(allowed, self._flat() @ query, -np.inf)
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            order = top[np.lexsort((top, -scores[top]))]
            return scores[order].astype(np.float32), order.astype(np.int64)
        if self.kind != "flat" and len(rows) > (EXACT_FILTER_ROWS if exact_limit is None else exact_limit):
            found = self._graph_search_among(query, allowed, len(rows), k)
            if len(found) >= k:
                return self._rerank(query, found, k)
            # The walk met too few allowed rows (a filter the graph's neighbourhoods cut apart): exact.
        exact = self.vectors_of(rows) @ query
        best = np.lexsort((rows, -exact))[:k]
        return exact[best].astype(np.float32), rows[best].astype(np.int64)

    def _graph_search_among(self, query: np.ndarray, allowed: np.ndarray, allowed_count: int, k: int) -> np.ndarray:
        """Candidate rows for :meth:`search_among` from the graph walk restricted to ``allowed``:
        twice ``k``. The walk keeps only allowed rows of those it visits, so it visits at least
        enough rows to hold that many at the allowed share."""
        faiss = _faiss()
        fetch = min(allowed_count, 2 * k)
        ef = HNSW_EF_SEARCH if self._exact is None else HNSW_SQ8_EF_SEARCH
        widened = int(min(MAX_FILTERED_EF_SEARCH, max(ef, fetch * len(self) / allowed_count)))
        bitmap = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
        selector = faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(widened, fetch))
        _, found = self._index.search(np.ascontiguousarray(query[None]), fetch, params=params)
        found = found[0]
        return found[found >= 0]

    def _flat(self) -> np.ndarray:
        """The flat index's vectors as an aligned numpy view of FAISS's own buffer."""
        if self._flat_view is None:
            view = _faiss().rev_swig_ptr(self._index.get_xb(), len(self) * self.dim).reshape(len(self), self.dim)
            if view.ctypes.data % 64:
                # A memory-mapped FAISS file puts the vectors at an odd byte offset; numpy copies
                # a misaligned array on every matmul (pyfaq, 21.5k rows: 22 ms per query instead
                # of 1.3 ms, measured), so pay for one aligned copy instead.
                view = np.array(view, dtype=np.float32, order="C")
            self._flat_view = view
        return self._flat_view

    def _exact_search(self, queries: np.ndarray, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        # A numpy matmul over FAISS's own vector buffer (no copy): for one query at a time it is
        # 2-3x faster than IndexFlatIP.search on this CPU (bench/scale.py), and it keeps FAISS's
        # OpenMP threads from contending with the question encoder's right after it ran.
        all_scores = queries @ self._flat().T
        out_scores, out_rows = [], []
        for scores in all_scores:
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            order = top[np.lexsort((top, -scores[top]))]  # best first; ties by row, as FAISS does
            out_scores.append(scores[order].astype(np.float32))
            out_rows.append(order.astype(np.int64))
        return out_scores, out_rows

    def vectors_of(self, rows) -> np.ndarray:
        """The stored vectors of ``rows``, ``float32 [len(rows), dim]``."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._exact is not None:
            return self._exact[rows].astype(np.float32)
        return self._index.reconstruct_batch(rows)

    def vectors(self) -> np.ndarray:
        """All stored vectors, ``float32 [len(self), dim]``."""
        if not len(self):
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._exact is not None:
            return np.asarray(self._exact, dtype=np.float32)
        return self._index.reconstruct_n(0, len(self))

    @staticmethod
    def exact_vectors_path(path: str | os.PathLike[str]) -> Path:
        """Where the float16 vectors of an ``hnsw-sq8`` index saved at ``path`` live."""
        return Path(path).with_name(Path(path).stem + "_vectors.npy")

    def save(self, path: str | os.PathLike[str]) -> None:
        _faiss().write_index(self._index, os.fspath(path))
        if self._exact is not None:
            np.save(self.exact_vectors_path(path), np.ascontiguousarray(self._exact), allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = False) -> "DenseIndex":
        faiss = _faiss()
        # MMAP_IFC maps the vectors (and the HNSW graph) in place: measured RSS for a 200k HNSW
        # index 24 MB instead of 348 MB with the older IO_FLAG_MMAP, which still copies HNSW.
        flags = getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP) if mmap else 0
        rebuild = "rebuild it with: qa index PATH... --index DIR --rebuild"
        try:
            index = faiss.read_index(os.fspath(Path(path)), flags)
        except RuntimeError as exc:
            raise IndexFormatError(
                f"the vector index {str(path)!r} is corrupt or unreadable ({str(exc).splitlines()[0]}); {rebuild}"
            ) from exc
        if not isinstance(index, faiss.IndexHNSWSQ):
            return cls(index)
        exact_path = cls.exact_vectors_path(path)
        try:
            exact = np.load(exact_path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"the exact vectors {str(exact_path)!r} are missing or unreadable ({exc}); {rebuild}") from exc
        if exact.dtype != np.float16 or exact.shape != (index.ntotal, index.d):
            raise IndexFormatError(
                f"the exact vectors {str(exact_path)!r} are {exact.dtype} {exact.shape}, expected float16 "
                f"({index.ntotal}, {index.d}); {rebuild}"
            )
        return cls(index, exact=exact)
