"""The small frozen records that cross module boundaries.

Data flows ``Document -> Passage -> Hit -> Citation -> Answer``. Each record is immutable and
round-trips through plain JSON with ``to_dict()`` / ``from_dict()``; code that changes a score
builds a new record with :func:`dataclasses.replace` instead of mutating one in place.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

SECTION_SEPARATOR = " > "


def content_hash(*parts: str, length: int = 16) -> str:
    """A short, stable hex digest of ``parts`` (joined with NUL so ``("ab", "c") != ("a", "bc")``).

    >>> content_hash("hello")
    'a7b6eda801e5347d'
    """
    digest = hashlib.blake2b(digest_size=max(1, min(64, (length + 1) // 2)))
    for i, part in enumerate(parts):
        if i:
            digest.update(b"\0")
        digest.update(part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:length]


def _from_mapping(cls, data: Mapping[str, Any], **converted: Any):
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    values.update(converted)
    return cls(**values)


@dataclass(frozen=True)
class Section:
    """A span ``[start, end)`` of a document's text that sits under one heading path.

    ``path`` lists the headings from the outermost in, e.g. ``("Library", "os", "Files")``.
    """

    start: int
    end: int
    path: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "path": list(self.path)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Section":
        return cls(int(data["start"]), int(data["end"]), tuple(data.get("path") or ()))


@dataclass(frozen=True)
class Document:
    """One document as extracted from a file (or one line of a JSONL file).

    ``text`` is the extracted plain text that every passage offset points into; ``id`` is a
    hash of that text, so an unchanged document keeps its id across re-indexing. ``source`` is
    the unique key of the document in an index (a file path, or ``path#id`` for a JSONL line);
    ``path`` is the file it came from.

    >>> doc = Document.from_text("Paris is in France.", source="notes.txt")
    >>> doc.title, len(doc.id)
    ('notes', 16)
    """

    id: str
    source: str
    path: str
    title: str
    text: str
    kind: str = "text"
    sections: tuple[Section, ...] = ()
    pages: tuple[int, ...] = ()  # start offset of each page in ``text`` (PDF only)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        source: str,
        title: str | None = None,
        path: str | None = None,
        kind: str = "text",
        sections: tuple[Section, ...] = (),
        pages: tuple[int, ...] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> "Document":
        """Build a document, deriving its id from its text and its title from the source name."""
        if title is None or not title.strip():
            stem = source.rsplit("/", 1)[-1]
            title = stem.rsplit(".", 1)[0] if "." in stem else stem
        return cls(
            id=content_hash(text),
            source=source,
            path=path if path is not None else source,
            title=" ".join(title.split()),
            text=text,
            kind=kind,
            sections=tuple(sections),
            pages=tuple(pages),
            metadata=dict(metadata or {}),
        )

    def section_at(self, offset: int) -> tuple[str, ...]:
        """The heading path in force at character ``offset`` (empty when there is none)."""
        found: tuple[str, ...] = ()
        for section in self.sections:
            if section.start <= offset < section.end:
                found = section.path  # later (inner) spans win
        return found

    def starts_section(self, offset: int) -> bool:
        """Whether a section (a heading, or a sectioning element of an HTML page) starts at ``offset``."""
        return any(section.start == offset for section in self.sections)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page number holding ``offset``, or ``None`` for documents without pages."""
        if not self.pages:
            return None
        import bisect

        return max(1, bisect.bisect_right(self.pages, offset))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sections"] = [s.to_dict() for s in self.sections]
        data["pages"] = list(self.pages)
        data["metadata"] = dict(self.metadata)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Document":
        return _from_mapping(
            cls,
            data,
            sections=tuple(Section.from_dict(s) for s in data.get("sections") or ()),
            pages=tuple(int(p) for p in data.get("pages") or ()),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(frozen=True)
class FileRecord:
    """What indexing made of one file, kept in the index so that a later sync reads only files
    whose size or modification time changed, and so that every file seen can be listed.

    ``status`` is ``"indexed"`` (it gave the documents ``sources``; a JSONL file gives several)
    or ``"skipped"`` (``reason`` says why). ``notes`` name parts of an indexed file that could
    not be read ("Sheet1!C3: formula error #DIV/0! (cell left out)"); ``ocr_pages`` counts
    pages read by OCR. ``reread`` marks a file skipped by a limit of the call (too many
    passages), not for what it holds: it is read again at the next update even if unchanged.

    >>> FileRecord("/docs/a.xlsx", 1200, 0, "skipped", reason="no filled cells in any worksheet").indexed
    False
    """

    path: str
    size: int
    mtime_ns: int
    status: str
    reason: str = ""
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    ocr_pages: int = 0
    reread: bool = False

    @property
    def indexed(self) -> bool:
        return self.status == "indexed"

    def same_file(self, size: int, mtime_ns: int) -> bool:
        """Whether a file with this size and modification time is the one recorded."""
        return self.size == size and self.mtime_ns == mtime_ns

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FileRecord":
        return _from_mapping(
            cls,
            data,
            size=int(data["size"]),
            mtime_ns=int(data["mtime_ns"]),
            sources=tuple(str(s) for s in data.get("sources") or ()),
            notes=tuple(str(n) for n in data.get("notes") or ()),
            reread=bool(data.get("reread", False)),
        )


@dataclass(frozen=True)
class Passage:
    """A retrievable span of a document: ``document.text[start:end] == passage.text``.

    >>> p = Passage(id="x", doc_id="d", source="a.txt", title="a", text="Hi.", start=0, end=3)
    >>> p.section_label
    ''
    """

    id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    section: tuple[str, ...] = ()
    page: int | None = None

    @property
    def section_label(self) -> str:
        """The heading path as one readable string, e.g. ``"FAQ > General"``."""
        return SECTION_SEPARATOR.join(self.section)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["section"] = list(self.section)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Passage":
        return _from_mapping(cls, data, section=tuple(data.get("section") or ()))


@dataclass(frozen=True)
class Hit:
    """A ranked search result: the passage, its final score and 1-based rank.

    ``dense_score`` (cosine similarity) and ``lexical_score`` (BM25) are the raw scores of each
    retriever when the passage was among its candidates, kept so that results can be explained.
    """

    passage: Passage
    score: float
    rank: int
    dense_score: float | None = None
    lexical_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": self.score,
            "dense_score": self.dense_score,
            "lexical_score": self.lexical_score,
            "passage": self.passage.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Hit":
        return _from_mapping(cls, data, passage=Passage.from_dict(data["passage"]))


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer (``[number]`` in ``Answer.text``).

    ``start``/``end`` are offsets of the cited text in its document's text: the passage
    ``passage_id``, widened to the overlapping windows of the same document that also support
    the answer (they are cited once, as one stretch), so ``text == document.text[start:end]``.
    ``highlight_start`` and ``highlight_end`` are offsets *inside* ``text`` of the quoted
    sentence, so ``text[highlight_start:highlight_end] == highlight``. ``ocr`` is true when the
    cited page was read from a scanned image by OCR (its words may be misread).
    """

    number: int
    passage_id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    highlight_start: int
    highlight_end: int
    section: tuple[str, ...] = ()
    page: int | None = None
    ocr: bool = False

    @property
    def highlight(self) -> str:
        return self.text[self.highlight_start : self.highlight_end]

    @property
    def section_label(self) -> str:
        return SECTION_SEPARATOR.join(self.section)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["section"] = list(self.section)
        data["highlight"] = self.highlight
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Citation":
        return _from_mapping(cls, data, section=tuple(data.get("section") or ()))


@dataclass(frozen=True)
class Answer:
    """The grounded answer to a question.

    ``text`` is Markdown made only of retrieved text, with ``[n]`` markers that refer to
    ``citations[n - 1]``, numbered in order of appearance; its bold lead is ``citations[0]``'s
    highlight (:attr:`lead`). When ``abstained`` is true there are no citations and ``text``
    says that the documents do not answer the question; ``reason`` says why. ``confidence`` is
    the calibrated probability that the answer is supported, computed from ``signals``
    (see :mod:`qa.answers.calibration`).

    >>> Answer(question="q", text="No.", abstained=True).citations
    ()
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    confidence: float = 0.0
    query: str = ""  # the query actually searched (differs from ``question`` for follow-ups)
    reason: str = ""
    hits: tuple[Hit, ...] = ()
    signals: Mapping[str, float] = field(default_factory=dict)

    @property
    def lead(self) -> str:
        """The quote shown first and in bold: what a reader takes as the answer ("" if none)."""
        return self.citations[0].highlight if self.citations and not self.abstained else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query or self.question,
            "text": self.text,
            "abstained": self.abstained,
            "confidence": self.confidence,
            "reason": self.reason,
            "lead": self.lead,
            "signals": dict(self.signals),
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Answer":
        return _from_mapping(
            cls,
            data,
            citations=tuple(Citation.from_dict(c) for c in data.get("citations") or ()),
            hits=tuple(Hit.from_dict(h) for h in data.get("hits") or ()),
            signals={str(k): float(v) for k, v in (data.get("signals") or {}).items()},
        )
