"""A cited PDF page as an image, with the quoted sentence's place on it.

The page is rendered by PDFium (pypdfium2, the ``ocr`` extra) and the sentence is looked up in
PDFium's own text layer: its first and last words are searched on the page (the text this index
holds was extracted by another reader, so spacing may differ), and the boxes of the characters
between them are returned as fractions of the page, ready to draw over the image at any size.
A page without a text layer (a scan) or a sentence not found gives the image without boxes.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass

# Enough to read body text on a screen; a page is ~150-300 KB as PNG at this size.
RENDER_DPI = 110
ANCHOR_WORDS = 5


@dataclass(frozen=True)
class PageImage:
    """A rendered page: PNG bytes, its size in pixels, and highlight boxes as fractions of the
    page ``(left, top, width, height)``."""

    png: bytes
    width: int
    height: int
    boxes: tuple[tuple[float, float, float, float], ...]


def available() -> bool:
    return importlib.util.find_spec("pypdfium2") is not None and importlib.util.find_spec("PIL") is not None


def _find(textpage, words: list[str], start: int = 0) -> tuple[int, int] | None:
    """``(char index, count)`` of the first match of ``words`` (joined by spaces) at or after
    ``start``, trying fewer words when the full phrase is not found."""
    for size in range(len(words), 0, -1):
        phrase = " ".join(words[:size]) if start == 0 or size == len(words) else " ".join(words[-size:])
        searcher = textpage.search(phrase, index=start)
        try:
            match = searcher.get_next()
        finally:
            searcher.close()
        if match:
            return match
    return None


def render_page(path: str, page_number: int, sentence: str = "", *, dpi: int = RENDER_DPI) -> PageImage:
    """Page ``page_number`` (1-based) of the PDF at ``path``, with boxes around ``sentence``."""
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        page = document[page_number - 1]
        try:
            width_pt, height_pt = page.get_size()
            image = page.render(scale=dpi / 72).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            boxes = _sentence_boxes(page, sentence, width_pt, height_pt) if sentence.strip() else ()
            return PageImage(buffer.getvalue(), image.width, image.height, boxes)
        finally:
            page.close()
    finally:
        document.close()


def _sentence_boxes(page, sentence: str, width: float, height: float) -> tuple[tuple[float, float, float, float], ...]:
    words = sentence.split()
    textpage = page.get_textpage()
    try:
        first = _find(textpage, words[:ANCHOR_WORDS])
        if first is None:
            return ()
        last = _find(textpage, words[-ANCHOR_WORDS:], first[0]) if len(words) > ANCHOR_WORDS else first
        if last is None:
            last = first
        start, end = first[0], max(first[0] + first[1], last[0] + last[1])
        boxes = []
        for i in range(textpage.count_rects(start, end - start)):
            left, bottom, right, top = textpage.get_rect(i)
            boxes.append((left / width, (height - top) / height, (right - left) / width, (top - bottom) / height))
        return tuple(boxes)
    finally:
        textpage.close()
