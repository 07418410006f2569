"""grounded-qa: answers only from your documents, with citations you can check.

>>> from qa import QA                                        # doctest: +SKIP
>>> qa = QA.build(["docs/"], index_dir="my-index")           # doctest: +SKIP
>>> answer = qa.ask("How do I reset my password?")           # doctest: +SKIP
>>> answer.text, [c.source for c in answer.citations]        # doctest: +SKIP
"""

from .answers.answering import AnswerSettings
from .core import QA, IndexReport
from .errors import (
    DocumentError,
    IndexFormatError,
    IndexLockedError,
    IndexNotFoundError,
    IndexStoreError,
    InputError,
    MissingDependencyError,
    QAError,
)
from .ingest.chunking import ChunkingSettings
from .retrieval.hybrid import SearchSettings
from .types import Answer, Citation, Document, Hit, Passage

__version__ = "0.1.0"

__all__ = [
    "QA",
    "Answer",
    "AnswerSettings",
    "ChunkingSettings",
    "Citation",
    "Document",
    "DocumentError",
    "Hit",
    "IndexFormatError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexReport",
    "IndexStoreError",
    "InputError",
    "MissingDependencyError",
    "Passage",
    "QAError",
    "SearchSettings",
]
