"""Tables in PDF pages, read row by row with their header names instead of one cell per line.

pypdf (the PDF text reader) prints a ruled table one cell per line — "Country / Troops / Japan /
1,500 / ..." — which no question can match to its row. pdfplumber finds ruled tables and their
cells, but at ~170 ms a page against pypdf's ~5 ms, so it only looks at pages that draw enough
lines and rectangles to hold a table; such a page's text is rebuilt from top to bottom: the text
above a table, the table's rows ("Country: Japan; Troops: 1,500"), the text below. Other pages
keep pypdf's text. Without pdfplumber installed, every page keeps pypdf's text.
"""

from __future__ import annotations

import importlib.util
import io
import re

from .assembly import clean_inline, looks_like_header, table_lines

PDF_TABLES_INSTALL = "pip install 'grounded-qa[pdf-tables]'"
# A ruled table of 2 x 2 cells draws at least 4 lines or rectangles; text-only pages draw none
# (an underline or a rule between sections draws one or two).
MIN_RULING_OPERATORS = 4
_RULING = re.compile(rb"\s(?:re|l)\s")


def available() -> bool:
    return importlib.util.find_spec("pdfplumber") is not None


def ruled_pages(reader) -> list[int]:
    """0-based indexes of the pages of a pypdf ``reader`` whose drawing could hold a table."""
    found = []
    for index, page in enumerate(reader.pages):
        try:
            contents = page.get_contents()
            data = contents.get_data() if contents is not None else b""
        except Exception:  # a damaged content stream: pypdf's text is all there is
            continue
        if len(_RULING.findall(data)) >= MIN_RULING_OPERATORS:
            found.append(index)
    return found


def pages_with_tables(data: bytes, pages: list[int]) -> dict[int, str]:
    """The text of each of ``pages`` that holds a table (at least 2 rows of 2 columns), rebuilt
    with the table's rows named by its header; pages without one are left out."""
    import pdfplumber

    out: dict[int, str] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for index in pages:
            try:
                text = _page_text(pdf.pages[index])
            except Exception:  # pdfplumber on a damaged page: keep pypdf's text
                continue
            if text is not None:
                out[index] = text
    return out


def _page_text(page) -> str | None:
    tables = []
    for table in page.find_tables():
        rows = [[clean_inline(cell or "") for cell in row] for row in table.extract()]
        rows = [row for row in rows if any(row)]
        if len(rows) >= 2 and max(len(row) for row in rows) >= 2:
            tables.append((table.bbox, rows))
    if not tables:
        return None
    tables.sort(key=lambda item: item[0][1])
    blocks: list[str] = []
    top = 0.0
    for (x0, table_top, x1, bottom), rows in tables:
        if table_top > top:
            blocks.append(_text_between(page, top, table_top))
        if looks_like_header(rows[0], rows[1:]):
            blocks.extend(table_lines(rows[1:], header=rows[0]))
        else:
            blocks.extend(table_lines(rows))
        top = max(top, bottom)
    if top < page.height:
        blocks.append(_text_between(page, top, page.height))
    return "\n\n".join(block for block in blocks if block.strip())


def _text_between(page, top: float, bottom: float) -> str:
    if bottom - top < 1:
        return ""
    band = page.crop((0, max(0.0, top), page.width, min(page.height, bottom)), strict=False)
    return (band.extract_text() or "").strip()
