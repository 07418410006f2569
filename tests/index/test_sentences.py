import numpy as np

from embeddings import normalise_rows
from qa.index.indexing import reuse_vectors
from qa.index.sentences import (
    MAX_SENTENCE_WORDS,
    SentenceTable,
    passage_sentence_spans,
    sentence_embed_text,
)


def _table(counts, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    spans = [[(i * 10, i * 10 + 5) for i in range(c)] for c in counts]
    vectors = normalise_rows(rng.normal(size=(sum(counts), dim)))
    return SentenceTable.from_lists(spans, vectors, dim), vectors


def test_layout_and_rows():
    table, _ = _table([2, 0, 3])
    assert table.passages == 3 and len(table) == 5
    assert table.indptr.tolist() == [0, 2, 2, 5]
    assert table.spans_of(2) == [(0, 5), (10, 15), (20, 25)]
    assert table.spans_of(1) == []


def test_best_similarities_equal_brute_force():
    table, vectors = _table([3, 1, 0, 4, 2], dim=16, seed=3)
    query = normalise_rows(np.random.default_rng(9).normal(size=(1, 16)))[0]
    passages = [4, 0, 2, 3]
    got = table.best_similarities(passages, query)
    stored = np.stack([table.vectors[i] for i in range(len(table))])
    for value, p in zip(got, passages):
        rows = stored[table.rows_of(p)]
        expected = (rows @ query).max() if len(rows) else -1.0
        assert abs(value - expected) < 1e-5
    # 8-bit codes: each component within half a step (the row's scale) of the float32 vector
    assert (np.abs(stored - vectors) <= table.scales[:, None] / 2 + 1e-7).all()
    assert table.codes.dtype == np.int8 and np.abs(table.codes).max() == 127


def _decoded(table):
    return np.stack([table.vectors[i] for i in range(len(table))]) if len(table) else np.zeros((0, table.dim))


def test_select_and_concat_round_trip():
    table, _ = _table([2, 1, 3])
    picked = table.select([2, 0])
    assert picked.indptr.tolist() == [0, 3, 5]
    np.testing.assert_array_equal(_decoded(picked)[:3], _decoded(table)[3:6])
    np.testing.assert_array_equal(_decoded(picked)[3:], _decoded(table)[:2])
    assert len(picked.codes) == 5  # the vector of passage 1's sentence is dropped with it
    joined = SentenceTable.concat([table.select([0]), table.select([1, 2])])
    np.testing.assert_array_equal(joined.indptr, table.indptr)
    np.testing.assert_array_equal(joined.spans, table.spans)
    np.testing.assert_array_equal(_decoded(joined), _decoded(table))
    assert SentenceTable.concat([SentenceTable.empty(8), table]).indptr.tolist() == table.indptr.tolist()


def test_a_repeated_sentence_is_stored_once_and_scores_as_each_occurrence():
    rng = np.random.default_rng(4)
    vectors = {key: normalise_rows(rng.normal(size=(1, 16)))[0] for key in "abc"}
    # Three passages of overlapping windows: "b" and "c" occur twice. A build plans one row per
    # distinct sentence (reuse_vectors) and the table points every occurrence at it.
    spans = [[(0, 5), (6, 9)], [(0, 3), (4, 8)], [(0, 4)]]
    keys = ["a", "b", "b", "c", "c"]
    plan = reuse_vectors(keys, [], 16, codes=True)
    plan.fill(plan.missing, np.stack([vectors[keys[item]] for item in plan.first[plan.missing]]))
    table = SentenceTable(
        np.array([0, 2, 4, 5]), np.array([span for group in spans for span in group], dtype=np.int32),
        plan.rows.astype(np.int32), plan.distinct_values(), plan.scales,
    )
    assert len(table) == 5 and len(table.codes) == 3
    query = normalise_rows(rng.normal(size=(1, 16)))[0]
    for passage, wanted in enumerate([["a", "b"], ["b", "c"], ["c"]]):
        expected = [float(vectors[k] @ query) for k in wanted]
        np.testing.assert_allclose(table.similarities(passage, query), expected, atol=0.01)
    np.testing.assert_allclose(table.best_similarities([2, 0], query), [vectors["c"] @ query, max(vectors[k] @ query for k in "ab")], atol=0.01)
    # Keeping passages 1 and 2 keeps only the vectors of "b" and "c"; joining two tables offsets the rows.
    kept = table.select([1, 2])
    assert len(kept.codes) == 2 and kept.rows.tolist() == [0, 1, 1]
    joined = SentenceTable.concat([kept, table])
    assert joined.rows.tolist() == [0, 1, 1, 2, 3, 3, 4, 4]
    np.testing.assert_array_equal(_decoded(joined), np.concatenate([_decoded(kept), _decoded(table)]))


def test_sentence_helpers():
    assert passage_sentence_spans("  ") == []
    assert passage_sentence_spans("no final period") == [(0, 15)]
    long = " ".join(["w"] * 100)
    assert len(sentence_embed_text(long).split()) == MAX_SENTENCE_WORDS


def test_code_blocks_are_units_of_their_own():
    from qa.index.sentences import passage_sentence_spans

    text = (
        "It can be a surprise to get the error in working code.\n\nThis code:\n\n>>> x = 10\n>>> def bar():\n...     print(x)\n...\n>>> bar()\n10\n\n"
        "works, but this one does not work at all for you.\n\nIn Python, variables that are only referenced inside a function are implicitly global."
    )
    units = [text[a:b] for a, b in passage_sentence_spans(text)]
    code = [u for u in units if ">>>" in u]
    assert code == [">>> x = 10\n>>> def bar():\n...     print(x)\n...\n>>> bar()\n10"]
    assert units[-1] == "In Python, variables that are only referenced inside a function are implicitly global."
    glued = [text[a:b] for a, b in passage_sentence_spans(text, code_units=False)]
    assert any(">>>" in u and "works" in u for u in glued)  # the old units glued code to prose
    # Units still cover every sentence of the text, in order, without overlap.
    spans = passage_sentence_spans(text)
    assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:]))


def test_old_indexes_keep_their_units():
    from qa.ingest.chunking import ChunkingSettings

    assert ChunkingSettings().code_units is True
    assert ChunkingSettings.from_dict({"chunk_words": 120}).code_units is False  # written before the setting
    assert ChunkingSettings.from_dict(ChunkingSettings().to_dict()) == ChunkingSettings()


def test_table_rows_are_units_of_their_own():
    from qa.index.sentences import passage_sentence_spans

    text = "Troop contributions\n\nCountry: Japan; Troops: 1,500\n\nCountry: Korea; Troops: 900\n\nCountry: Chad; Troops: 12"
    units = [text[a:b] for a, b in passage_sentence_spans(text)]
    assert units[1:] == ["Country: Korea; Troops: 900", "Country: Chad; Troops: 12"]
    assert units[0].endswith("Country: Japan; Troops: 1,500")


def test_4bit_tables_score_as_their_decoded_vectors_and_near_the_floats():
    from qa.index.sentences import decode_rows

    table, vectors = _table([3, 1, 0, 4, 2], dim=16, seed=5)
    small = table.with_bits(4)
    assert small.bits == 4 and small.dim == 16 and small.codes.shape == (len(table.codes), 8)
    decoded = decode_rows(small.codes, small.scales, 16)
    assert np.abs(decoded - vectors).max() < 0.2 and np.mean(np.sum(decoded * vectors, axis=1)) > 0.98
    query = normalise_rows(np.random.default_rng(2).normal(size=(1, 16)))[0]
    for p in range(table.passages):
        rows = small.rows[small.rows_of(p)]
        np.testing.assert_allclose(small.similarities(p, query), decoded[rows] @ query, atol=1e-5)
        np.testing.assert_allclose(small.similarities(p, query), vectors[table.rows_of(p)] @ query, atol=0.1)
    # Joined with an 8-bit table the result is 4-bit; a sentence's 8-bit codes (for reuse) decode to its 4-bit vector.
    joined = SentenceTable.concat([small.select([0]), table.select([3])])
    assert joined.bits == 4 and len(joined) == 7
    codes, scale = small.code_of(4)
    np.testing.assert_allclose(codes.astype(np.float32) * scale, decoded[small.rows[4]], atol=float(scale))
    assert small.with_bits(4) is small and table.with_bits(8) is table


def test_stored_bits_follow_the_index_size(monkeypatch):
    import qa.index.sentences as sentences

    assert sentences.stored_bits(sentences.SENTENCE_4BIT_THRESHOLD - 1, 384) == 8
    assert sentences.stored_bits(sentences.SENTENCE_4BIT_THRESHOLD, 384) == 4
    assert sentences.stored_bits(10, 384, current=4) == 4  # a 4-bit index stays 4-bit as it shrinks
    assert sentences.stored_bits(10**7, 385) == 8  # odd dimensions cannot be packed in pairs


def test_a_list_item_is_never_glued_to_the_paragraph_after_the_list():
    from qa.index.sentences import passage_sentence_spans

    # Short items join the next item, never the sentence after the list: a lead quoting it would
    # carry the list's last item (and before this rule, the whole list).
    text = (
        "Please read the manual first.\n\n"
        " * Read NEWS.md for visible changes since the last public release.\n"
        " * Read docs/TODO for future plans.\n\n"
        "The C source requires a C99 compiler."
    )
    units = [text[a:b] for a, b in passage_sentence_spans(text)]
    assert units[-1] == "The C source requires a C99 compiler."
    assert not any("TODO" in u and "C99" in u for u in units)
    # A short item still joins the item after it, and a short last sentence the one before it.
    items = "- Read docs/TODO.\n- Read NEWS.md for the visible changes since the last release.\n\nThen build."
    units = [items[a:b] for a, b in passage_sentence_spans(items)]
    assert units[0] == "- Read docs/TODO.\n- Read NEWS.md for the visible changes since the last release."
    assert units[1] == "Then build."
    # Units still cover every sentence in order, without overlap.
    spans = passage_sentence_spans(text)
    assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:]))
