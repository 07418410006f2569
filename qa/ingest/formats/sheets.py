"""Spreadsheets (.xlsx) and delimited text (.csv, .tsv): one record per row, with its header names.

A row reads ``"Country: Japan; Troops: 1500"``, so a question about a cell finds its row and the
quote says what each value is. A workbook's sheet names are its sections.

>>> out = read_delimited("Country,Troops\\nJapan,1500\\nKorea,900\\n")
>>> out.text
'Country: Japan; Troops: 1500\\n\\nCountry: Korea; Troops: 900'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from typing import Any, Iterable, Sequence

from ...errors import DocumentError
from .assembly import MAX_TABLE_COLUMNS, Extracted, TextAssembler, clean_inline
from .packages import check_package, require

_EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!", "#GETTING_DATA"}
# A field longer than this (csv's default limit is 128 KiB) is text pasted into a cell by mistake
# or not a delimited file at all.
MAX_FIELD_CHARS = 1 << 20


def _cell_text(value: Any) -> str:
    """A cell value as people write it: 1500 not 1500.0, a date without midnight."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return clean_inline(str(value))


def _column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _table(rows: Iterable[Sequence[Any]], *, where: str, notes: list[tuple[str, str]], cell_refs: bool) -> list[list[str]]:
    """The non-empty rows as cell texts (the first is the header). Formula errors are left out
    of their row and noted; rows wider than MAX_TABLE_COLUMNS are cut, and noted once."""
    table: list[list[str]] = []
    wide_noted = False
    for row_number, raw in enumerate(rows, 1):
        cells = list(raw)
        if len(cells) > MAX_TABLE_COLUMNS:
            if not wide_noted:
                notes.append((f"{where} row {row_number}".strip(), f"{len(cells):,} columns; only the first {MAX_TABLE_COLUMNS} are read"))
                wide_noted = True
            cells = cells[:MAX_TABLE_COLUMNS]
        texts = []
        for column, value in enumerate(cells):
            text = _cell_text(value)
            if text in _EXCEL_ERRORS:
                ref = f"{where}!{_column_name(column)}{row_number}" if cell_refs else f"row {row_number}, column {column + 1}"
                notes.append((ref, f"formula error {text} (cell left out)"))
                text = ""
            texts.append(text)
        if any(texts):
            table.append(texts)
    return table


def _add_table(assembler: TextAssembler, table: list[list[str]]) -> None:
    if len(table) == 1:  # a single row: nothing to name, read it as it is
        assembler.table(table)
    else:
        assembler.table(table[1:], header=table[0])


def read_xlsx(data: bytes) -> Extracted:
    """Read every worksheet of a workbook (cached formula results, not formulas)."""
    openpyxl = require("openpyxl", "openpyxl", "reading .xlsx files")
    check_package(data, "Excel workbook", saved_as=".xlsx")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except DocumentError:
        raise
    except Exception as exc:  # openpyxl raises InvalidFileException, KeyError, lxml errors...
        raise DocumentError(f"unreadable Excel workbook ({type(exc).__name__}: {exc})") from None
    assembler = TextAssembler()
    notes: list[tuple[str, str]] = []
    rows_read = 0
    try:
        title = (workbook.properties.title or "") if workbook.properties is not None else ""
        for sheet in workbook.worksheets:
            try:
                # Read-only mode trusts the sheet's stated dimensions, which files written by
                # other tools often get wrong (cells outside them would be lost).
                sheet.reset_dimensions()
                table = _table(sheet.iter_rows(values_only=True), where=sheet.title, notes=notes, cell_refs=True)
            except Exception as exc:  # one damaged sheet must not lose the others
                notes.append((sheet.title, f"unreadable sheet ({type(exc).__name__}: {exc}); left out"))
                continue
            if table:  # an empty sheet adds nothing, not even its name
                assembler.heading(1, sheet.title)
                _add_table(assembler, table)
                rows_read += len(table)
    finally:
        workbook.close()
    if not rows_read:
        raise DocumentError("no filled cells in any worksheet")
    return assembler.result(title=title, title_from_headings=False, notes=notes)


def read_delimited(text: str, *, delimiter: str | None = None) -> Extracted:
    """Read a CSV/TSV text; the delimiter is detected (``,`` ``;`` tab ``|``) unless given."""
    sample = text[:65536]
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(min(MAX_FIELD_CHARS, sys.maxsize))
    assembler = TextAssembler()
    notes: list[tuple[str, str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        table = _table(_rows_until_error(reader, notes), where="", notes=notes, cell_refs=False)
    finally:
        csv.field_size_limit(previous_limit)
    if not table:
        raise DocumentError("no rows with values")
    _add_table(assembler, table)
    return assembler.result(notes=notes)


def _rows_until_error(reader, notes: list[tuple[str, str]]):
    """Rows of a csv reader; a malformed line ends the table (what came before is kept)."""
    try:
        yield from reader
    except csv.Error as exc:
        notes.append((f"line {reader.line_num}", f"malformed ({exc}); the rest of the file is left out"))
