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
    """A real PDF (made with reportlab) with the text of each page, a line of the page per line
    of the text."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    for text in pages:
        for row, line in enumerate(text.split("\n")):
            drawing.drawString(72, 720 - 14 * row, line)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def docx_bytes(blocks: list[tuple[str, object]], *, title: str = "") -> bytes:
    """A real .docx (python-docx) from ``("title"|"h1"|"h2"|"p"|"bullet", text)`` and
    ``("table", rows)`` blocks; a table's first row is its header row."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for kind, value in blocks:
        if kind == "title":
            document.add_heading(value, 0)
        elif kind.startswith("h"):
            document.add_heading(value, int(kind[1:]))
        elif kind == "bullet":
            document.add_paragraph(value, style="List Bullet")
        elif kind == "table":
            rows = list(value)
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_bytes(slides: list[dict]) -> bytes:
    """A real .pptx (python-pptx); each slide is ``{"title", "text", "notes", "table", "picture"}``
    (all optional; ``picture`` is PNG bytes)."""
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    for spec in slides:
        layout = deck.slide_layouts[1 if spec.get("text") else 6 if not spec.get("title") else 5]
        slide = deck.slides.add_slide(layout)
        if spec.get("title"):
            slide.shapes.title.text = spec["title"]
        if spec.get("text"):
            slide.placeholders[1].text = spec["text"]
        if spec.get("table"):
            rows = spec["table"]
            table = slide.shapes.add_table(len(rows), len(rows[0]), Inches(1), Inches(2), Inches(6), Inches(2)).table
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        if spec.get("picture"):
            slide.shapes.add_picture(io.BytesIO(spec["picture"]), Inches(1), Inches(1))
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A real .xlsx (openpyxl) with one sheet per ``name: rows``."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_cached_error(xlsx: bytes, cell: str, error: str = "#DIV/0!") -> bytes:
    """``xlsx`` with a formula cell whose saved result is ``error``, as Excel writes it (openpyxl
    cannot compute formulas, so the cell is added to the first sheet's XML directly)."""
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    row = re.sub(r"\D", "", cell)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                xml = re.sub(
                    rf'(<row r="{row}"[^>]*>.*?)(</row>)',
                    lambda m: m.group(1) + f'<c r="{cell}" t="e"><f>1/0</f><v>{error}</v></c>' + m.group(2),
                    xml,
                    count=1,
                    flags=re.DOTALL,
                )
                data = xml.encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()


def epub_bytes(chapters: list[str], *, title: str = "A Book", spine: bool = True) -> bytes:
    """A minimal valid EPUB 3 whose chapters are the given XHTML bodies."""
    import zipfile

    buffer = io.BytesIO()
    manifest = "".join(f'<item id="c{i}" href="ch{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters)))
    itemrefs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters))) if spine else ""
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        book.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title><dc:creator>A. Writer</dc:creator></metadata>'
            f"<manifest>{manifest}</manifest><spine>{itemrefs}</spine></package>",
        )
        for i, body in enumerate(chapters):
            book.writestr(
                f"OEBPS/ch{i}.xhtml",
                f'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Chapter {i + 1}</title></head><body>{body}</body></html>',
            )
    return buffer.getvalue()


def png_bytes(text: str = "", size: tuple[int, int] = (200, 60)) -> bytes:
    """A PNG image (Pillow), with ``text`` drawn on it if given."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    if text:
        ImageDraw.Draw(image).text((10, 10), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


SCANNED_PAGE_TEXT = (
    "The harbour master inspected the northern pier on Tuesday morning.",
    "Repairs to the lighthouse will begin in April and last six weeks.",
    "Ships longer than ninety metres must request a pilot before entering.",
    "Fishing boats may use the western basin without a permit.",
    "The annual regatta is held on the second Sunday of August.",
)


def scanned_pdf_bytes(lines: tuple[str, ...] = SCANNED_PAGE_TEXT, *, pages_before: tuple[str, ...] = ()) -> bytes:
    """A PDF whose last page is only an image of ``lines`` (no text layer), as a scanner makes
    it; ``pages_before`` are ordinary text pages (reportlab) placed in front of it."""
    from PIL import Image, ImageDraw, ImageFont
    from pypdf import PdfReader, PdfWriter

    image = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for i, line in enumerate(lines):
        draw.text((180, 300 + i * 110), line, fill=0, font=font)
    scanned = io.BytesIO()
    image.save(scanned, format="PDF", resolution=300)
    writer = PdfWriter()
    if pages_before:
        for page in PdfReader(io.BytesIO(pdf_bytes(*pages_before))).pages:
            writer.add_page(page)
    for page in PdfReader(scanned).pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def table_pdf_bytes(before: str, rows: list[list[str]], after: str, *, pages_before: tuple[str, ...] = ()) -> bytes:
    """A PDF (reportlab) with a paragraph, a ruled table of ``rows`` and another paragraph, after
    ``pages_before`` pages of plain text."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import (
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    story = []
    for text in pages_before:
        story += [Paragraph(text, styles["Normal"]), PageBreak()]
    table = Table(rows)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    story += [Paragraph(before, styles["Normal"]), table, Paragraph(after, styles["Normal"])]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(story)
    return buffer.getvalue()


def eml_bytes(body: str, *, subject: str, to: str, html: str | None = None, attachment: str | None = None) -> bytes:
    """A real RFC 5322 message (the standard library's EmailMessage) from Ana Ruiz, dated
    1 Dec 2026, with an optional HTML alternative and a small PDF attachment named ``attachment``."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Ana Ruiz <ana@example.org>"
    message["To"] = to
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attachment is not None:
        message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=attachment)
    return message.as_bytes()
