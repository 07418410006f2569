"""PowerPoint decks (.pptx): a slide is a page, its title the section, speaker notes included."""

from __future__ import annotations

import io

from ...errors import DocumentError
from .assembly import Extracted, TextAssembler, clean_inline
from .packages import check_package, require


def _shape_blocks(shape, assembler: TextAssembler) -> None:
    """Add the text of one shape (recursing into groups): each paragraph of a text box is a
    block, a table is read row by row with its header row."""
    if getattr(shape, "shape_type", None) is not None and hasattr(shape, "shapes"):  # a group
        for inner in shape.shapes:
            _shape_blocks(inner, assembler)
        return
    if getattr(shape, "has_table", False):
        table = shape.table
        rows = [[clean_inline(cell.text) for cell in row.cells] for row in table.rows]
        if rows and table.first_row and len(rows) > 1:
            assembler.table(rows[1:], header=rows[0])
        else:
            assembler.table(rows)
        return
    if getattr(shape, "has_text_frame", False):
        for paragraph in shape.text_frame.paragraphs:
            assembler.paragraph(paragraph.text)


def read_pptx(data: bytes) -> Extracted:
    """Read every slide's title, text boxes, tables and speaker notes, one page per slide."""
    pptx = require("pptx", "python-pptx", "reading .pptx files")
    check_package(data, "PowerPoint deck", saved_as=".pptx")
    try:
        deck = pptx.Presentation(io.BytesIO(data))
        slides = list(deck.slides)
        title = deck.core_properties.title or ""
    except DocumentError:
        raise
    except Exception as exc:  # damaged parts raise KeyError, ValueError, lxml errors...
        raise DocumentError(f"unreadable PowerPoint deck ({type(exc).__name__}: {exc})") from None

    assembler = TextAssembler()
    notes: list[tuple[str, str]] = []
    text_found = False
    for number, slide in enumerate(slides, 1):
        assembler.new_page()
        try:
            title_shape = slide.shapes.title
            slide_title = clean_inline(title_shape.text) if title_shape is not None and title_shape.has_text_frame else ""
            blocks_before = len(assembler.pieces)
            assembler.heading(1, slide_title or f"Slide {number}")
            for shape in slide.shapes:
                if title_shape is not None and shape.shape_id == title_shape.shape_id:
                    continue
                _shape_blocks(shape, assembler)
            if slide.has_notes_slide:
                spoken = slide.notes_slide.notes_text_frame
                if spoken is not None and spoken.text.strip():
                    assembler.paragraph("Speaker notes: " + spoken.text)
            text_found = text_found or bool(slide_title) or len(assembler.pieces) > blocks_before + 1
        except Exception as exc:  # one damaged slide must not lose the others
            notes.append((f"slide {number}", f"unreadable ({type(exc).__name__}: {exc}); left out"))
    if not text_found:
        raise DocumentError(f"no text on any of its {len(slides)} slides (pictures only?)")
    return assembler.result(title=title, notes=notes)
