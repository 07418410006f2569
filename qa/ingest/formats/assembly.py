"""Blocks of a structured file -> one document text with exact section and page offsets.

Every loader of a structured format (Word, PowerPoint, spreadsheets, e-books, e-mail) reads its
file as a sequence of blocks — headings, paragraphs, table rows, page breaks — and hands them to
a :class:`TextAssembler`. The assembler joins the blocks with blank lines (paragraph boundaries
for chunking and sentence splitting) and records where each heading's section and each page
starts, so a passage's offsets, section path and page number come out exact by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ...types import Section

_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")

# A row wider than this is cut: a sheet with a million columns on one line must not become one
# "sentence" of megabytes (the loader reports the cut).
MAX_TABLE_COLUMNS = 256


def clean_inline(text: str) -> str:
    """One line of text: runs of spaces and line breaks become one space.

    >>> clean_inline("  Japan\\n  and\\tKorea ")
    'Japan and Korea'
    """
    return " ".join(text.split())


def clean_paragraph(text: str) -> str:
    """Text of a block with its line breaks kept (spaces tidied, blank lines collapsed), so a
    block never contains the blank line that separates blocks."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()


def table_lines(rows: Sequence[Sequence[str]], *, header: Sequence[str] | None = None) -> list[str]:
    """Rows of a table as lines that keep each value with its column name.

    With a ``header``, a row reads ``"Country: Japan; Troops: 1,500"``, so a question about one cell
    finds its row and the row says what each value is; empty cells are left out. Without one,
    the cells are joined with ``" | "``.

    >>> table_lines([["Japan", "1,500"], ["Korea", ""]], header=["Country", "Troops"])
    ['Country: Japan; Troops: 1,500', 'Country: Korea']
    >>> table_lines([["a", "b"]])
    ['a | b']
    """
    lines = []
    names = [clean_inline(h) for h in header] if header is not None else None
    for row in rows:
        cells = [clean_inline(c) for c in row[:MAX_TABLE_COLUMNS]]
        if not any(cells):
            continue
        if names is None:
            lines.append(" | ".join(c for c in cells if c))
            continue
        pairs = []
        for i, value in enumerate(cells):
            if not value:
                continue
            name = names[i] if i < len(names) and names[i] else f"Column {i + 1}"
            pairs.append(value if name == value else f"{name}: {value}")
        lines.append("; ".join(pairs))
    return lines


def looks_like_header(row: Sequence[str], body: Sequence[Sequence[str]]) -> bool:
    """Whether the first row of a table without marked header cells names its columns: every
    cell filled, short, not a number, and the row is not repeated below.

    >>> looks_like_header(["Country", "Troops"], [["Japan", "1500"]])
    True
    >>> looks_like_header(["Japan", "1500"], [["Korea", "900"]])
    False
    """
    cells = [clean_inline(c) for c in row]
    if len(cells) < 2 or not body or not all(cells):
        return False
    if any(len(c) > 60 or _NUMBER.fullmatch(c) for c in cells):
        return False
    return all([clean_inline(c) for c in other] != cells for other in body)


_NUMBER = re.compile(r"[-+]?[$€£]?\d[\d,. ]*%?")


@dataclass(frozen=True)
class Extracted:
    """What a format's reader got out of one file: the text with its sections and page starts,
    a title, metadata, and ``notes`` on the parts it could not read (``(where, why)`` pairs, e.g.
    ``("Sheet1!C3", "formula error #DIV/0!")``)."""

    text: str
    title: str = ""
    sections: tuple[Section, ...] = ()
    pages: tuple[int, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[tuple[str, str], ...] = ()


@dataclass
class TextAssembler:
    """Collects blocks and produces ``text``, ``sections`` and ``pages`` for a :class:`Document`.

    >>> a = TextAssembler()
    >>> a.new_page()
    >>> a.heading(1, "Report")
    >>> a.paragraph("Japan sent troops.")
    >>> a.new_page()
    >>> a.heading(2, "Costs")
    >>> a.paragraph("It cost a lot.")
    >>> a.text
    'Report\\n\\nJapan sent troops.\\n\\nCosts\\n\\nIt cost a lot.'
    >>> [(s.start, s.path) for s in a.sections()], a.pages
    ([(0, ('Report',)), (28, ('Report', 'Costs'))], [0, 28])
    """

    pieces: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    _length: int = 0
    _headings: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)  # (offset, level, path)
    _stack: list[tuple[int, str]] = field(default_factory=list)
    _pages_pending: int = 0
    _extra_sections: list[Section] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.pieces)

    def _next_offset(self) -> int:
        return self._length + (2 if self.pieces else 0)

    def _append(self, text: str) -> int:
        offset = self._next_offset()
        # An empty page still counts, so that page numbers stay those of the file.
        self.pages.extend([offset] * self._pages_pending)
        self._pages_pending = 0
        self.pieces.append(text)
        self._length = offset + len(text)
        return offset

    def new_page(self) -> None:
        """The next block starts a new page (call it before the first page's blocks too)."""
        self._pages_pending += 1

    def heading(self, level: int, text: str) -> None:
        """A heading of ``level`` (0 = a document title, 1 = outermost chapter): it opens a section that lasts until the next
        heading, under the enclosing headings of lower levels."""
        text = clean_inline(text)
        if not text:
            return
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))
        offset = self._append(text)
        self._headings.append((offset, level, tuple(t for _, t in self._stack)))

    def paragraph(self, text: str) -> None:
        """A block of body text (empty text is ignored)."""
        text = clean_paragraph(text)
        if text:
            self._append(text)

    def paragraphs(self, text: str) -> None:
        """Text with blank lines between its paragraphs (an e-mail body): a block per paragraph."""
        for part in _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n")):
            self.paragraph(part)

    def table(self, rows: Sequence[Sequence[str]], *, header: Sequence[str] | None = None) -> None:
        """A table: one block per row, each value with its column name (see :func:`table_lines`)."""
        for line in table_lines(rows, header=header):
            self._append(line)

    def extracted(self, text: str, sections: Sequence[Section]) -> None:
        """Text already extracted with its own sections (an e-book chapter's HTML), nested
        under the headings open here."""
        if not text.strip():
            return
        offset = self._append(text)
        outer = tuple(t for _, t in self._stack)
        for section in sections:
            self._extra_sections.append(Section(section.start + offset, section.end + offset, outer + section.path))

    @property
    def heading_titles(self) -> list[tuple[int, str]]:
        """``(level, text)`` of every heading, in order."""
        return [(level, path[-1]) for _, level, path in self._headings]

    def sections(self) -> tuple[Section, ...]:
        """Each heading's span (to the next heading) plus the sections of extracted text."""
        out = []
        for i, (start, _, path) in enumerate(self._headings):
            end = self._headings[i + 1][0] - 2 if i + 1 < len(self._headings) else self._length
            out.append(Section(start, max(start + 1, end), path))
        out.extend(self._extra_sections)
        return tuple(sorted(out, key=lambda s: (s.start, -s.end)))

    def result(
        self,
        *,
        title: str = "",
        title_from_headings: bool = True,
        metadata: Mapping[str, Any] | None = None,
        notes: Sequence[tuple[str, str]] = (),
    ) -> Extracted:
        """The assembled document; without a ``title`` it is the first top-level heading (or,
        with ``title_from_headings=False``, left for the file name to give)."""
        if not title and title_from_headings:
            top = min((level for level, _ in self.heading_titles), default=None)
            title = next((text for level, text in self.heading_titles if level == top), "")
        return Extracted(
            text=self.text,
            title=clean_inline(title),
            sections=self.sections(),
            pages=tuple(self.pages),
            metadata=dict(metadata or {}),
            notes=tuple(notes),
        )
