import pytest

from qa.errors import DocumentError
from qa.ingest.formats.slides import read_pptx
from qa.ingest.loaders import load_file
from tests.helpers import png_bytes, pptx_bytes, write

DECK = [
    {"title": "Quarterly results", "text": "Revenue grew by 12 percent in the third quarter.", "notes": "Growth came from Asia."},
    {"title": "Headcount", "table": [["Team", "People"], ["Sales", "42"], ["Research", "17"]]},
    {},  # an empty slide still counts as a page
    {"text": "A slide without a title."},
]


def test_each_slide_is_a_page_and_its_title_a_section(tmp_path):
    [doc] = load_file(write(tmp_path / "deck.pptx", pptx_bytes(DECK))).documents
    assert doc.kind == "pptx"
    revenue = doc.text.index("Revenue grew")
    assert doc.page_at(revenue) == 1 and doc.section_at(revenue) == ("Quarterly results",)
    research = doc.text.index("Team: Research; People: 17")
    assert doc.page_at(research) == 2 and doc.section_at(research) == ("Headcount",)
    untitled = doc.text.index("A slide without a title.")
    assert doc.page_at(untitled) == 4, "page numbers must stay the slide numbers, empty slides included"
    assert doc.section_at(untitled) == ("Slide 4",)


def test_speaker_notes_are_read_and_labelled():
    text = read_pptx(pptx_bytes(DECK)).text
    assert "Speaker notes: Growth came from Asia." in text.split("\n\n")


def test_pictures_only_deck_is_refused_with_a_reason():
    with pytest.raises(DocumentError, match="no text on any of its 2 slides"):
        read_pptx(pptx_bytes([{"picture": png_bytes()}, {"picture": png_bytes()}]))


def test_a_docx_renamed_pptx_is_unreadable_not_a_crash(tmp_path):
    from tests.helpers import docx_bytes

    result = load_file(write(tmp_path / "deck.pptx", docx_bytes([("p", "Hello.")])))
    assert not result.documents
    assert "unreadable PowerPoint deck" in result.skipped[0].reason
