"""Paths and small builders shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# The seed article and its questions ship with the repository (the app's sample corpus), so the
# integration tests do not depend on ../shared; tests of pyfaq and of the reference scorer do.
SEED_DOC = ROOT / "data" / "sample" / "nato-dprk-statement.txt"
SEED_QUESTIONS = ROOT / "data" / "sample_questions.jsonl"
PYFAQ_DIR = SHARED / "evalsets" / "pyfaq"


def write(path: Path, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` (folders created), text as UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def pdf_bytes(*pages: str) -> bytes:
    """A real PDF (made with reportlab) with one line of text per page."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    for text in pages:
        drawing.drawString(72, 720, text)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()
