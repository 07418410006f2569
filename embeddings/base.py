"""The one interface every embedding model implements."""

from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors, so inner product = cosine similarity.

    Documents and queries have separate methods because some models encode them differently
    (prompts or instructions); for all-MiniLM-L6-v2 they are the same.

    >>> from embeddings import HashingEmbedder
    >>> e = HashingEmbedder(dim=32)
    >>> e.embed_documents(["a cat", "a dog"]).shape, e.embed_query("cat").shape
    ((2, 32), (32,))
    """

    name: str
    dim: int

    def embed_documents(
        self, texts: Sequence[str], *, show_progress: bool = False, on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """``float32 [len(texts), dim]``, each row of unit length. ``show_progress`` draws a bar;
        ``on_progress(n)`` is called as each step of ``n`` texts is done (the caller's own progress
        display)."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """``float32 [len(texts), dim]`` for questions."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """``float32 [dim]`` for one question."""
        ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as contiguous float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
