"""The error hierarchy: every error the library raises on purpose is a :class:`QAError`.

Messages name the bad value and say what to do, so the CLI can print them as one line
without a traceback.
"""

from __future__ import annotations

# The base and the two errors the embedding models raise live in the lowest layer, which never
# imports this package (imports point one way); they are the same classes here.
from embeddings.errors import InputError, MissingDependencyError, QAError


class DocumentError(QAError):
    """A file could not be read as a document (unsupported, empty, binary, unreadable)."""


class IndexStoreError(QAError):
    """Base for problems with an index directory (not named ``IndexError``, which would
    shadow the builtin)."""


class IndexNotFoundError(IndexStoreError):
    """The index directory does not exist or holds no index."""


class IndexFormatError(IndexStoreError):
    """The index exists but cannot be used: unknown format version, corrupt or missing files,
    or an embedding model that does not match the one it was built with."""


class IndexLockedError(IndexStoreError):
    """Another process is writing to the same index directory."""


__all__ = [
    "QAError",
    "InputError",
    "DocumentError",
    "IndexStoreError",
    "IndexNotFoundError",
    "IndexFormatError",
    "IndexLockedError",
    "MissingDependencyError",
]
