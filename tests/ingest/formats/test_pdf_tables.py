import io

from pypdf import PdfReader

from qa.ingest.formats import pdf_tables
from qa.ingest.loaders import load_file
from tests.helpers import pdf_bytes, table_pdf_bytes, write

ROWS = [["Vessel", "Length", "Home port"], ["Aurora", "92 m", "Bergen"], ["Borealis", "64 m", "Tromsø"]]


def test_a_ruled_table_reads_row_by_row_in_place_with_its_header(tmp_path):
    data = table_pdf_bytes("The fleet is listed below.", ROWS, "Both ships winter in Bergen.", pages_before=("Cover page.",))
    [doc] = load_file(write(tmp_path / "fleet.pdf", data)).documents
    page_two = doc.text[doc.pages[1] :]
    assert page_two.split("\n\n") == [
        "The fleet is listed below.",
        "Vessel: Aurora; Length: 92 m; Home port: Bergen",
        "Vessel: Borealis; Length: 64 m; Home port: Tromsø",
        "Both ships winter in Bergen.",
    ]
    assert doc.page_at(doc.text.index("Vessel: Borealis")) == 2


def test_pages_without_ruling_are_not_searched_for_tables():
    data = pdf_bytes("Page one has words.", "Page two has more words.")
    assert pdf_tables.ruled_pages(PdfReader(io.BytesIO(data))) == []


def test_without_the_table_reader_cells_come_one_per_line(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_tables, "available", lambda: False)
    [doc] = load_file(write(tmp_path / "fleet.pdf", table_pdf_bytes("Fleet.", ROWS, "End."))).documents
    assert "Vessel: Aurora" not in doc.text and "Aurora" in doc.text
