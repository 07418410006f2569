"""A deterministic, model-free embedder: hashed bag of stemmed terms.

Useful where the model does not matter (unit tests, smoke runs): similar wording gives similar
vectors, it needs no files, and it is instant.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from typing import Callable, Sequence

import numpy as np

from .base import normalise_rows

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words too common to tell texts apart; a short list is enough for a test embedder.
_COMMON = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or that the this to was what "
    "when where which who why will with you".split()
)


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer, a dependency of grounded-qa

    return Stemmer.Stemmer("english")


def _terms(text: str) -> list[str]:
    """Stemmed words of ``text`` without the most common ones ("Ranking passages" -> rank, passag).

    Its own splitter, not the search index's tokenizer: the models never import the library
    that uses them."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return _stemmer().stemWords([w for w in words if w not in _COMMON])


class HashingEmbedder:
    """Feature hashing of content terms (and their bigrams) into ``dim`` signed buckets.

    >>> e = HashingEmbedder(dim=64)
    >>> float(e.embed_query("red apples") @ e.embed_query("red apples")) > 0.99
    True
    """

    precision = "fp32"

    def __init__(self, *, dim: int = 256) -> None:
        self.dim = int(dim)
        self.name = f"hashing-{self.dim}"

    def _vector(self, text: str) -> np.ndarray:
        terms = _terms(text)
        features = terms + [f"{a} {b}" for a, b in zip(terms, terms[1:])]
        vector = np.zeros(self.dim, dtype=np.float32)
        for feature in features:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        return vector

    def embed_documents(
        self, texts: Sequence[str], *, show_progress: bool = False, on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = normalise_rows(np.stack([self._vector(t) for t in texts]))
        if on_progress is not None:
            on_progress(len(texts))
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
