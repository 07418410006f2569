import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.errors import InputError
from qa.ingest.chunking import ChunkingSettings, chunk_document
from qa.text import word_count
from qa.types import Document, Section


def _doc(text, **kwargs):
    return Document.from_text(text, source="/docs/a.txt", **kwargs)


def _sentences(n, words=10):
    return " ".join(f"Sentence {i} " + " ".join(["word"] * (words - 3)) + " end." for i in range(n))


def test_offsets_point_into_the_document():
    doc = _doc(_sentences(40))
    passages = chunk_document(doc, ChunkingSettings(chunk_words=50, overlap_words=10))
    assert len(passages) > 3
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert word_count(p.text) <= 50


def test_passages_end_on_sentence_boundaries_and_overlap():
    doc = _doc(_sentences(12))
    passages = chunk_document(doc, ChunkingSettings(chunk_words=40, overlap_words=10))
    for p in passages:
        assert p.text.startswith("Sentence") and p.text.endswith("end.")
    for a, b in zip(passages, passages[1:]):
        assert b.start < a.end  # consecutive windows share a sentence
    without = chunk_document(doc, ChunkingSettings(chunk_words=40, overlap_words=0))
    for a, b in zip(without, without[1:]):
        assert b.start > a.end


def test_every_sentence_is_covered():
    doc = _doc(_sentences(30))
    passages = chunk_document(doc, ChunkingSettings(chunk_words=35, overlap_words=5))
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    for i in range(30):
        assert doc.text.index(f"Sentence {i} ") in covered


def test_long_sentence_is_cut_on_words():
    doc = _doc(" ".join(f"w{i}" for i in range(250)))
    passages = chunk_document(doc, ChunkingSettings(chunk_words=100, overlap_words=0))
    assert [word_count(p.text) for p in passages] == [100, 100, 50]


def test_passages_never_cross_sections_or_pages():
    text = "Intro sentence here.\n\nHeading\n\nBody one. Body two.\n\nHeading two\n\nMore text."
    sections = (
        Section(text.index("Heading"), text.index("Heading two"), ("Heading",)),
        Section(text.index("Heading two"), len(text), ("Heading two",)),
    )
    doc = _doc(text, sections=sections)
    passages = chunk_document(doc, ChunkingSettings(chunk_words=100, overlap_words=10))
    assert [p.section for p in passages] == [(), ("Heading",), ("Heading two",)]
    assert passages[1].text == "Heading\n\nBody one. Body two."

    pdf_text = "Page one text.\n\nPage two text."
    pdf = _doc(pdf_text, pages=(0, pdf_text.index("Page two")))
    assert [(p.text, p.page) for p in chunk_document(pdf)] == [("Page one text.", 1), ("Page two text.", 2)]


def test_passage_ids_are_stable_and_unique():
    same = "One two three four five six."
    doc = _doc(f"{same}\n\n{same}\n\nSeven eight nine ten eleven twelve.")
    first = chunk_document(doc, ChunkingSettings(chunk_words=8, overlap_words=0))
    assert [p.text for p in first] == [same, "Seven eight nine ten eleven twelve."]  # the same words twice: once
    assert len({p.id for p in first}) == len(first)
    # Editing text before a passage moves its offsets but keeps its id.
    edited = _doc("New opening paragraph.\n\n" + doc.text)
    second = chunk_document(edited, ChunkingSettings(chunk_words=8, overlap_words=0))
    assert {p.id for p in first} <= {p.id for p in second}


def test_tiny_tail_joins_previous_window():
    doc = _doc(_sentences(10) + " Tail.")
    passages = chunk_document(doc, ChunkingSettings(chunk_words=100, overlap_words=20))
    assert len(passages) == 1


@pytest.mark.parametrize("kwargs", [{"chunk_words": 4}, {"chunk_words": 50, "overlap_words": 50}, {"overlap_words": -1}])
def test_invalid_settings_are_refused(kwargs):
    with pytest.raises(InputError):
        ChunkingSettings(**kwargs)


_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=40),
        st.sampled_from([". ", "! ", "? ", "\n", "\n\n", "  ", "Mr. ", "A. ", "\"Quote.\" ", "\t"]),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_text, chunk_words=st.integers(8, 40), overlap=st.integers(0, 7))
def test_property_offsets_always_exact(text, chunk_words, overlap):
    doc = _doc(text)
    passages = chunk_document(doc, ChunkingSettings(chunk_words=chunk_words, overlap_words=overlap))
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.text.strip() == p.text and p.text
    if text.strip():
        assert passages


def test_aligned_windows_start_at_paragraph_starts():
    paragraphs = [" ".join(f"p{i}w{j}" for j in range(30)) + "." for i in range(8)]
    doc = _doc("\n\n".join(paragraphs))
    aligned = chunk_document(doc, ChunkingSettings(chunk_words=70, overlap_words=20, align_blocks=True))
    starts = {doc.text.index(p) for p in paragraphs}
    assert all(p.start in starts for p in aligned)
    assert len(starts - {p.start for p in aligned}) <= 2  # most paragraphs open a window
    plain = chunk_document(doc, ChunkingSettings(chunk_words=70, overlap_words=20, align_blocks=False))
    for p in aligned + plain:
        assert doc.text[p.start : p.end] == p.text


def test_repeated_text_is_indexed_once_per_document():
    # Finding 2 of "Safe to leave running": a file of one repeated sentence made 49,307 passages.
    from qa.ingest.chunking import ChunkingSettings, chunk_document
    from qa.types import Document

    sentence = "The council approved the harbour budget for the coming year after a long debate. "
    doc = Document.from_text("Minutes\n\n" + sentence * 5000, source="minutes.txt")
    passages = chunk_document(doc, ChunkingSettings())
    assert len(passages) <= 4, len(passages)
    assert len({p.id for p in passages}) == len(passages)
    assert all(doc.text[p.start : p.end] == p.text for p in passages)
    other = Document.from_text("Minutes\n\n" + sentence * 5000, source="copy.txt")
    assert len(chunk_document(other)) == len(passages), "another document with the same text keeps its own passages"


def test_near_duplicate_windows_are_left_out_but_a_table_s_rows_differing_in_numbers_stay():
    import random

    # A licence pasted again and again, each time naming another holder: near-duplicates.
    licence = (
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated "
        "documentation files, to deal in the software without restriction, including without limitation the rights to "
        "use, copy, modify, merge, publish, distribute, sublicense, and sell copies of the software, and to permit "
        "persons to whom the software is furnished to do so, subject to the following conditions set by {holder}. "
        "The above copyright notice and this permission notice shall be included in all copies or substantial portions "
        "of the software provided by the authors and contributors as is and without warranty of any kind whatsoever."
    )
    text = "\n\n".join(licence.format(holder=holder) for holder in ["Ann", "Bob", "the project", "Carol", "the foundation"] * 8)
    settings = ChunkingSettings(chunk_words=120, overlap_words=0)
    kept = chunk_document(Document.from_text(text, source="LICENSES.txt"), settings)
    everything = chunk_document(Document.from_text(text, source="LICENSES.txt"), ChunkingSettings(chunk_words=120, overlap_words=0, near_duplicates=False))
    assert len(everything) == 5 and len(kept) == 2  # the one-word holders collapse into the first; "the project" differs by more
    # A table whose rows repeat their words but not their numbers keeps every window.
    rng = random.Random(3)
    rows = "\n".join(
        f"Region {r} sold {rng.randint(100, 999)} units at {rng.randint(10, 99)}.{rng.randint(10, 99)} each in week {rng.randint(1, 52)}, "
        f"returns {rng.randint(0, 40)}, stock {rng.randint(1000, 9999)}."
        for r in range(200)
    )
    table = Document.from_text(rows, source="sales.csv")
    settings = ChunkingSettings(chunk_words=40, overlap_words=0)
    assert len(chunk_document(table, settings)) == len(chunk_document(table, ChunkingSettings(chunk_words=40, overlap_words=0, near_duplicates=False)))
    with pytest.raises(InputError, match="near_duplicates must be true or false"):
        ChunkingSettings(near_duplicates="no")
