"""Scanned PDF pages: Tesseract reads them (make test installs it); without it they are reported."""

import shutil

import pytest

from qa.ingest.formats import scans
from qa.ingest.loaders import load_file
from tests.helpers import SCANNED_PAGE_TEXT, pdf_bytes, scanned_pdf_bytes, write


def _words(text):
    return [w.strip(".,").lower() for w in text.split()]


def test_tesseract_is_installed_for_the_test_suite():
    # make test installs tesseract-ocr; without it the OCR tests below would prove nothing.
    assert scans.ocr_missing() is None, scans.ocr_missing()


@pytest.mark.slow
def test_a_scanned_page_is_read_by_ocr_and_marked(tmp_path):
    path = write(tmp_path / "scan.pdf", scanned_pdf_bytes(pages_before=("The port authority publishes this notice.",)))
    result = load_file(path)
    [doc] = result.documents
    assert not result.skipped
    assert doc.metadata["ocr_pages"] == [2]
    expected = _words(" ".join(SCANNED_PAGE_TEXT))
    read = _words(doc.text[doc.pages[1] :])
    recovered = sum(1 for w in expected if w in read) / len(expected)
    assert recovered >= 0.95, f"OCR recovered {recovered:.0%} of the words: {read}"
    assert doc.page_at(doc.text.index("regatta")) == 2


def test_without_ocr_a_scanned_page_is_reported_and_the_rest_indexed(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as on a machine without tesseract
    path = write(tmp_path / "scan.pdf", scanned_pdf_bytes(pages_before=("The port authority publishes this notice.",)))
    result = load_file(path)
    [doc] = result.documents
    assert "regatta" not in doc.text and "ocr_pages" not in doc.metadata
    [note] = result.skipped
    assert note.path.endswith("scan.pdf:page 2")
    assert "no text layer" in note.reason and "apt install tesseract-ocr" in note.reason


def test_without_ocr_a_wholly_scanned_pdf_is_skipped_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = load_file(write(tmp_path / "scan.pdf", scanned_pdf_bytes()))
    assert not result.documents
    assert "no text layer on any of its 1 pages" in result.skipped[0].reason
    assert scans.OCR_INSTALL in result.skipped[0].reason


def test_a_pdf_without_pages_is_skipped(tmp_path):
    import io

    from pypdf import PdfWriter

    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    result = load_file(write(tmp_path / "empty.pdf", buffer.getvalue()))
    assert not result.documents and result.skipped[0].reason == "a PDF without pages"


def test_text_pdfs_never_run_ocr(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("OCR ran on a page that has text")

    monkeypatch.setattr("qa.ingest.loaders.ocr_pdf_pages", fail)
    assert load_file(write(tmp_path / "a.pdf", pdf_bytes("Page one.", "Page two."))).documents
