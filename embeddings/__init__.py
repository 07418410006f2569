"""Embedding models behind one small interface (:class:`Embedder`).

>>> from embeddings import load_embedder
>>> load_embedder("hashing-64").dim
64
"""

from __future__ import annotations

import threading

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


# One instance per model, precision and batch size in a process: several indexes opened by one
# app (its collections) share the model's memory and its one-time loading.
_LOADED: dict[tuple[str, str, int], Embedder] = {}
_LOADED_LOCK = threading.Lock()


def load_embedder(name: str = DEFAULT_MODEL, *, precision: str | None = "auto", batch_size: int = 64) -> Embedder:
    """The embedder called ``name``: ``hashing-<dim>`` for the model-free test embedder, anything
    else is a sentence-transformers model name or directory (loaded lazily, on first use), run in
    ``precision`` ``fp32``, ``bf16`` (autocast) or ``int8`` (ONNX Runtime, optional extra). A
    model asked for again (same precision and batch size) is the instance already made.

    >>> load_embedder("all-MiniLM-L6-v2", precision="fp32") is load_embedder("all-MiniLM-L6-v2", precision="fp32")
    True
    """
    if name.startswith("hashing-") and name[len("hashing-"):].isdigit():
        return HashingEmbedder(dim=int(name[len("hashing-"):]))
    precision = resolve_precision(precision)
    key = (name, precision, batch_size)
    with _LOADED_LOCK:
        if key not in _LOADED:
            if precision == "int8":
                from .onnx_runtime import OnnxInt8Embedder

                _LOADED[key] = OnnxInt8Embedder(name, batch_size=batch_size)
            else:
                _LOADED[key] = SentenceTransformerEmbedder(name, precision=precision, batch_size=batch_size)
        return _LOADED[key]


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
