"""Scanned PDF pages (no text layer) read with Tesseract OCR.

A page is rendered by PDFium (pypdfium2) and read by the ``tesseract`` program (through
pytesseract). Both are optional: without them a page without text is reported with the command
that installs them, never indexed silently as empty.

>>> ocr_missing() is None or "tesseract" in ocr_missing()
True
"""

from __future__ import annotations

import importlib.util
import os
import shutil

OCR_INSTALL = "apt install tesseract-ocr && pip install 'grounded-qa[ocr]'"
# 300 dpi is what Tesseract's documentation recommends; below ~200 dpi small print is misread.
OCR_DPI = 300
# Tesseract's language codes, "+"-joined ("eng+deu"); the language packs come from apt
# (tesseract-ocr-deu...). QA_OCR_LANG overrides the default.
DEFAULT_OCR_LANGUAGE = "eng"


def ocr_missing() -> str | None:
    """What is missing to read scanned pages (a sentence naming the install command), or None."""
    missing = [name for name in ("pytesseract", "pypdfium2", "PIL") if importlib.util.find_spec(name) is None]
    if shutil.which("tesseract") is None:
        missing.insert(0, "the tesseract program")
    if not missing:
        return None
    return f"{', '.join(missing)} not installed; to read scanned pages: {OCR_INSTALL}"


def ocr_language() -> str:
    return os.environ.get("QA_OCR_LANG", "").strip() or DEFAULT_OCR_LANGUAGE


def ocr_pdf_pages(data: bytes, pages: list[int], *, dpi: int = OCR_DPI, language: str | None = None) -> dict[int, str]:
    """The OCR text of each of ``pages`` (0-based) of a PDF, by page index. A page that cannot be
    rendered or read maps to ``""``."""
    import pypdfium2
    import pytesseract

    language = language or ocr_language()
    out: dict[int, str] = {}
    document = pypdfium2.PdfDocument(data)
    try:
        for index in pages:
            try:
                page = document[index]
                try:
                    image = page.render(scale=dpi / 72).to_pil()
                finally:
                    page.close()
                out[index] = pytesseract.image_to_string(image, lang=language)
            except (pytesseract.TesseractError, pypdfium2.PdfiumError, RuntimeError, ValueError, OSError):
                out[index] = ""
    finally:
        document.close()
    return out
