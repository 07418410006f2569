import pytest

from qa.errors import DocumentError
from qa.ingest.formats.word import read_docx
from qa.ingest.loaders import load_file
from tests.helpers import docx_bytes, write

REPORT = [
    ("title", "Harbour report"),
    ("h1", "Logistics"),
    ("p", "The convoy left Busan on 3 March with forty trucks."),
    ("h2", "Fuel"),
    ("p", "Fuel came from the harbour authority."),
    ("h1", "Troops"),
    ("table", [["Country", "Troops"], ["Japan", "1,500"], ["Korea", "900"]]),
    ("bullet", "Rotation every six months"),
]


def test_docx_headings_become_nested_sections_with_exact_offsets():
    out = read_docx(docx_bytes(REPORT))
    text = out.text
    paths = {text[s.start : s.end].split("\n\n")[0]: s.path for s in out.sections}
    assert paths["Logistics"] == ("Harbour report", "Logistics")
    assert paths["Fuel"] == ("Harbour report", "Logistics", "Fuel")
    assert paths["Troops"] == ("Harbour report", "Troops")
    fuel = next(s for s in out.sections if s.path[-1] == "Fuel")
    assert "Fuel came from the harbour authority." in text[fuel.start : fuel.end]
    assert "Troops" not in text[fuel.start : fuel.end]
    assert out.title == "Harbour report"


def test_docx_table_rows_keep_their_header_names():
    text = read_docx(docx_bytes(REPORT)).text
    assert "Country: Japan; Troops: 1,500" in text.split("\n\n")
    assert "Country: Korea; Troops: 900" in text.split("\n\n")
    assert "- Rotation every six months" in text


def test_docx_table_without_a_header_row_reads_cells_in_order():
    text = read_docx(docx_bytes([("table", [["1", "2"], ["3", "4"]])])).text
    assert text.split("\n\n") == ["1 | 2", "3 | 4"]


def test_docx_title_from_core_properties_wins():
    assert read_docx(docx_bytes(REPORT, title="Official title")).title == "Official title"


def test_truncated_docx_is_skipped_with_a_reason(tmp_path):
    data = docx_bytes(REPORT)
    path = write(tmp_path / "broken.docx", data[: len(data) // 2])
    result = load_file(path)
    assert not result.documents
    assert "damaged Word document" in result.skipped[0].reason


def test_password_protected_docx_is_named_as_such():
    # Office stores a password-protected file in an OLE container (as the old .doc format).
    with pytest.raises(DocumentError, match="password-protected"):
        read_docx(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048)


def test_docx_without_text_is_refused():
    with pytest.raises(DocumentError, match="no text"):
        read_docx(docx_bytes([]))


def test_loaded_docx_document_offsets_point_into_its_text(tmp_path):
    [doc] = load_file(write(tmp_path / "report.docx", docx_bytes(REPORT))).documents
    assert doc.kind == "docx"
    start = doc.text.index("Country: Japan")
    assert doc.section_at(start) == ("Harbour report", "Troops")
