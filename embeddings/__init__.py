"""Embedding models behind one small interface (:class:`Embedder`).

>>> from embeddings import load_embedder
>>> load_embedder("hashing-64").dim
64
"""

from __future__ import annotations

from .base import Embedder, normalise_rows
from .hashing import HashingEmbedder
from .sentence_transformer import (
    DEFAULT_MODEL,
    PRECISIONS,
    SentenceTransformerEmbedder,
    default_precision,
    resolve_model_path,
    resolve_precision,
)


def load_embedder(name: str = DEFAULT_MODEL, *, precision: str | None = "auto", batch_size: int = 64) -> Embedder:
    """The embedder called ``name``: ``hashing-<dim>`` for the model-free test embedder, anything
    else is a sentence-transformers model name or directory (loaded lazily, on first use), run in
    ``precision`` ``fp32``, ``bf16`` (autocast) or ``int8`` (ONNX Runtime, optional extra)."""
    if name.startswith("hashing-") and name[len("hashing-"):].isdigit():
        return HashingEmbedder(dim=int(name[len("hashing-"):]))
    precision = resolve_precision(precision)
    if precision == "int8":
        from .onnx_runtime import OnnxInt8Embedder

        return OnnxInt8Embedder(name, batch_size=batch_size)
    return SentenceTransformerEmbedder(name, precision=precision, batch_size=batch_size)


__all__ = [
    "DEFAULT_MODEL",
    "PRECISIONS",
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "default_precision",
    "load_embedder",
    "normalise_rows",
    "resolve_model_path",
    "resolve_precision",
]
