"""Word documents (.docx): headings from paragraph styles, tables row by row with their header.

>>> import io, docx                                           # doctest: +SKIP
>>> read_docx(open("report.docx", "rb").read()).sections[0].path   # doctest: +SKIP
('Report',)
"""

from __future__ import annotations

import io
import re

from ...errors import DocumentError
from .assembly import Extracted, TextAssembler, clean_inline, looks_like_header
from .packages import check_package, require

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _heading_level(paragraph) -> int | None:
    """1-9 for a heading paragraph (its style or a style it is based on), 0 for a title, else None."""
    style = paragraph.style
    for _ in range(10):  # styles inherit from base styles; the chain is short but may loop
        if style is None:
            return None
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


def _row_cells(row) -> list[str]:
    """The text of each cell of a row; a cell merged across columns is read once."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(clean_inline(cell.text))
    return cells


def _is_marked_header(row) -> bool:
    """Whether Word marks the row as the table's header row ("repeat as header row")."""
    properties = row._tr.trPr
    return properties is not None and any(child.tag.endswith("}tblHeader") for child in properties)


def read_docx(data: bytes) -> Extracted:
    """Read a .docx file's paragraphs and tables in document order."""
    docx = require("docx", "python-docx", "reading .docx files")
    check_package(data, "Word document", saved_as=".docx")
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        title = document.core_properties.title or ""
    except DocumentError:
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors... on damaged parts
        raise DocumentError(f"unreadable Word document ({type(exc).__name__}: {exc})") from None

    from docx.table import Table

    assembler = TextAssembler()
    first_title = ""
    for block in blocks:
        if isinstance(block, Table):
            rows = [_row_cells(row) for row in block.rows]
            if not rows:
                continue
            if _is_marked_header(block.rows[0]) or looks_like_header(rows[0], rows[1:]):
                assembler.table(rows[1:], header=rows[0])
            else:
                assembler.table(rows)
            continue
        text = block.text
        level = _heading_level(block)
        if level is None:
            style = (block.style.name or "").lower() if block.style is not None else ""
            assembler.paragraph(("- " + text.strip()) if style.startswith("list") and text.strip() else text)
        elif level == 0:  # the "Title" style: above every Heading 1
            first_title = first_title or clean_inline(text)
            assembler.heading(0, text)
        else:
            assembler.heading(level, text)
    if not assembler.pieces:
        raise DocumentError("no text in the Word document (only pictures or empty?)")
    return assembler.result(title=title or first_title)
