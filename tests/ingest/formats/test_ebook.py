import pytest

from qa.errors import DocumentError
from qa.ingest.formats.ebook import read_epub
from tests.helpers import epub_bytes

CHAPTERS = [
    "<h1>The Storm</h1><p>The lamp was lit at dusk every day.</p>",
    "<h1>The Keeper</h1><p>The keeper was called Elias.</p><h2>His dog</h2><p>The dog was named Storm.</p>",
    "<p>An epilogue without a heading.</p>",
]


def test_chapters_in_spine_order_with_their_headings_as_sections():
    out = read_epub(epub_bytes(CHAPTERS, title="The Lighthouse"))
    text = out.text
    assert out.title == "The Lighthouse" and out.metadata == {"author": "A. Writer"}
    assert text.index("The lamp") < text.index("Elias") < text.index("epilogue")

    def section_at(offset):
        return [s.path for s in out.sections if s.start <= offset < s.end][-1]

    assert section_at(text.index("The dog was named")) == ("The Keeper", "His dog")
    assert section_at(text.index("An epilogue")) == ("Chapter 3",)


def test_book_without_a_spine_is_read_in_manifest_order_and_says_so():
    out = read_epub(epub_bytes(CHAPTERS, spine=False))
    assert "Elias" in out.text
    assert any(where == "spine" for where, _ in out.notes)


def test_not_an_epub_is_refused():
    with pytest.raises(DocumentError, match="damaged e-book"):
        read_epub(b"PK\x03\x04 not really a zip")
