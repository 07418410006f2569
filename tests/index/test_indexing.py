"""The write stages of an index (qa.index.indexing), each checked against a plain computation."""

import numpy as np
import pytest

from qa import QA
from qa.index.indexing import SpilledRows, reuse_vectors, split_documents, texts_to_embed
from qa.index.sentences import decode_rows, passage_sentence_spans, quantize_rows, sentence_embed_text
from qa.index.store import IndexSettings
from qa.ingest.chunking import ChunkingSettings, chunk_document
from qa.retrieval.hybrid import passage_index_text
from qa.types import Document, Section, content_hash

RIVERS = [
    "The Danube flows through ten countries before it reaches the Black Sea.",
    "Barges on the Rhine carry coal, grain and containers between Basel and Rotterdam.",
    "The Elbe rises in the Krkonose mountains and meets the North Sea at Cuxhaven.",
    "Salmon came back to the Seine once the water treatment plants of Paris were rebuilt.",
]


def _documents() -> list[Document]:
    rivers = "\n\n".join(RIVERS * 3)
    lakes = "Lake Geneva is shared by France and Switzerland."
    text = f"{rivers}\n\n{lakes}"
    sections = (Section(0, len(rivers), ("Rivers",)), Section(len(rivers) + 2, len(text), ("Lakes",)))
    return [
        Document.from_text(text, source="rivers.md", sections=sections),
        Document.from_text("Owls hunt at night. They can turn their heads very far around.", source="owls.txt"),
        Document.from_text("", source="empty.txt"),
    ]


@pytest.fixture
def settings() -> IndexSettings:
    return IndexSettings(model="m", dim=8, chunking=ChunkingSettings(chunk_words=30, overlap_words=10))


def test_split_documents_keeps_in_columns_exactly_what_chunking_makes(settings):
    documents = _documents()
    split = split_documents(documents, settings)
    expected = [p for doc in documents for p in chunk_document(doc, settings.chunking)]
    assert len(expected) > 3 and list(split.passages) == expected
    assert {("Rivers",), ("Lakes",)} <= {p.section for p in split.passages}
    assert split.keys == [content_hash(passage_index_text(p, context=True)) for p in expected]
    spans = [passage_sentence_spans(p.text, settings.chunking.sentence_min_words) for p in expected]
    assert split.sentence_indptr.tolist() == np.cumsum([0] + [len(s) for s in spans]).tolist()
    assert split.sentence_spans.tolist() == [list(span) for group in spans for span in group]
    sentence_texts = [sentence_embed_text(p.text[a:b]) for p, group in zip(expected, spans) for a, b in group]
    assert [split.sentence_text(i) for i in range(len(sentence_texts))] == sentence_texts
    assert split.sentence_keys == [content_hash(t) for t in sentence_texts]
    assert [split.passage_text(i) for i in range(len(expected))] == [passage_index_text(p, context=True) for p in expected]
    all_texts = [passage_index_text(p, context=True) for p in expected] + sentence_texts
    assert list(split.texts()) == all_texts
    assert texts_to_embed(documents, settings) == list(dict.fromkeys(all_texts))


def test_split_of_no_documents_is_empty(settings):
    split = split_documents([], settings)
    assert len(split.passages) == 0 and split.sentence_indptr.tolist() == [0] and split.sentence_spans.shape == (0, 2)
    assert list(split.texts()) == []


def test_vector_plans_number_rows_by_first_occurrence_and_fill_the_known_ones():
    rng = np.random.default_rng(0)
    known = rng.normal(size=(2, 4)).astype(np.float32)
    plan = reuse_vectors(["c", "a", "c", "b", "a"], [(["x", "a"], lambda row: known[row])], 4)
    assert plan.rows.tolist() == [0, 1, 0, 2, 1] and plan.first.tolist() == [0, 1, 3]
    assert plan.reused.tolist() == [False, True, False] and plan.missing.tolist() == [0, 2]
    np.testing.assert_array_equal(plan.distinct_values()[1], known[1])
    computed = rng.normal(size=(2, 4)).astype(np.float32)
    plan.fill(plan.missing, computed)
    items = np.stack([computed[0], known[1], computed[0], computed[1], known[1]])
    np.testing.assert_array_equal(np.concatenate(list(plan.item_blocks(size=2))), items)

    codes_known = quantize_rows(known)
    coded = reuse_vectors(["a", "b"], [(["a"], lambda row: (codes_known[0][1], codes_known[1][1]))], 4, codes=True)
    coded.fill(coded.missing, computed[:1])
    decoded = decode_rows(coded.distinct_values(), coded.scales, 4)
    np.testing.assert_allclose(decoded, np.stack([known[1], computed[0]]), atol=0.02)


def test_spilled_rows_read_back_what_was_written_in_any_order():
    rng = np.random.default_rng(1)
    expected = np.zeros((50, 3), dtype=np.float32)
    rows = SpilledRows(50, 3, np.float32)
    for _ in range(6):  # runs of consecutive rows and scattered ones, some written twice
        start = int(rng.integers(0, 40))
        written = np.unique(np.concatenate([np.arange(start, start + 8), rng.choice(50, 5, replace=False)]))
        values = rng.normal(size=(len(written), 3)).astype(np.float32)
        rows.write(written, values)
        expected[written] = values
    wanted = rng.integers(0, 50, size=200)  # repeats and any order
    np.testing.assert_array_equal(rows.take(wanted), expected[wanted])
    np.testing.assert_array_equal(rows.take(np.arange(50)), expected)
    assert rows.take(np.zeros(0, dtype=np.int64)).shape == (0, 3)
    rows.close()


def _state(qa: QA) -> dict:
    """What an index holds, by passage id (row order differs between an update and a build)."""
    contents = qa._contents
    vectors = contents.dense.vectors()
    table = contents.sentences
    state = {}
    for row, passage in enumerate(contents.passages):
        sentences = decode_rows(table.codes[table.rows[table.rows_of(row)]], table.scales[table.rows[table.rows_of(row)]], table.dim)
        state[passage.id] = (passage, contents.embed_keys[row], vectors[row].tolist(), table.spans_of(row), sentences.tolist())
    return state


def test_an_updated_index_holds_what_a_fresh_build_of_its_documents_holds(hashing_embedder):
    rivers, owls, _ = _documents()
    bats = Document.from_text("Bats find insects in the dark by listening to the echoes of their calls.", source="bats.txt")
    changed_owls = Document.from_text("Owls hunt at night. Their feathers make almost no sound.", source="owls.txt")
    updated = QA.create(embedder=hashing_embedder, chunk_words=30, overlap_words=10)
    updated.add_documents([rivers, owls])
    report = updated.add_documents([bats, changed_owls])
    assert report.added == ["bats.txt"] and report.updated == ["owls.txt"]
    updated.remove("rivers.md")
    fresh = QA.create(embedder=hashing_embedder, chunk_words=30, overlap_words=10)
    fresh.add_documents([bats, changed_owls])
    assert _state(updated) == _state(fresh)
    assert [h.passage.id for h in updated.search("echoes of calls", k=3)] == [h.passage.id for h in fresh.search("echoes of calls", k=3)]
