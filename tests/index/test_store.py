import json
import multiprocessing

import pytest

from qa import QA
from qa.errors import IndexFormatError, IndexLockedError, IndexNotFoundError
from qa.index.store import MANIFEST, load_index, read_manifest, write_lock


@pytest.fixture
def built(tmp_path, tiny_corpus, hashing_embedder):
    index_dir = tmp_path / "index"
    QA.build([tiny_corpus], index_dir=index_dir, embedder=hashing_embedder)
    return index_dir


@pytest.fixture
def windowed(tmp_path, tiny_corpus, hashing_embedder):
    """An index whose windows overlap (a long document cut into 40-word windows, 15 words shared)."""
    docs = tiny_corpus
    rivers = ["Danube", "Rhine", "Elbe", "Oder", "Vistula", "Loire", "Seine", "Rhone", "Po", "Tagus", "Ebro", "Dnieper"]
    (docs / "european-rivers.txt").write_text(
        "\n\n".join(f"The {r} is a river of Europe that carries ships, floods its valley in spring and feeds {i + 2} towns." for i, r in enumerate(rivers)),
        encoding="utf-8",
    )
    index_dir = tmp_path / "windowed"
    QA.build([docs], index_dir=index_dir, embedder=hashing_embedder, chunk_words=40, overlap_words=15)
    return index_dir


def test_index_directory_layout_and_manifest(built):
    manifest = read_manifest(built)
    assert manifest["format"] == "grounded-qa-index" and manifest["format_version"] == 3
    assert manifest["embedding"] == {"model": "hashing-1024", "dim": 1024, "precision": "fp32"}
    assert manifest["chunking"]["chunk_words"] > 0
    assert manifest["counts"]["documents"] == 5  # 3 files + 2 JSONL lines
    assert {"numpy", "faiss-cpu", "bm25s", "python"} <= set(manifest["versions"])
    data = built / manifest["data_dir"]
    assert {"documents.jsonl", "passages.jsonl", "dense.faiss", "sentence_indptr.npy", "sentence_spans.npy", "sentence_rows.npy", "sentence_codes.npy", "sentence_scales.npy", "files.jsonl"} <= {
        p.name for p in data.iterdir()
    }
    assert any(name.startswith("bm25/") for name in manifest["files"])
    assert not any(p.suffix in (".pkl", ".pickle") for p in built.rglob("*"))


def test_round_trip_preserves_everything(built, hashing_embedder):
    qa = QA.load(built, embedder=hashing_embedder)
    again = load_index(built)
    assert [p.to_dict() for p in qa.passages] == [p.to_dict() for p in again.passages]
    for p in again.passages:
        doc = again.documents[p.source]
        assert doc.text[p.start : p.end] == p.text


def test_loaded_passages_are_made_on_access_and_equal_the_built_ones(tiny_corpus, hashing_embedder, tmp_path):
    from qa.index.store import PassageTable

    built = QA.build([tiny_corpus], index_dir=tmp_path / "index", embedder=hashing_embedder)
    in_memory = list(built._contents.passages)  # as the build made them
    table = load_index(tmp_path / "index").passages
    assert isinstance(table, PassageTable) and len(table) == len(in_memory)
    assert list(table) == in_memory
    assert table[-1] == in_memory[-1] and table[1:3] == in_memory[1:3]
    with pytest.raises(IndexError):
        table[len(in_memory)]


def test_sentence_table_survives_round_trip_and_matches_passages(built):
    import numpy as np

    contents = load_index(built)
    assert contents.sentences.passages == len(contents.passages)
    for row, passage in enumerate(contents.passages):
        spans = contents.sentences.spans_of(row)
        assert spans, passage.id
        for a, b in spans:
            assert 0 <= a < b <= len(passage.text)
    assert contents.sentences.codes.dtype == np.int8 and contents.sentences.scales.dtype == np.float32


def test_an_index_of_format_1_with_float16_sentence_vectors_still_loads_and_answers(built, hashing_embedder):
    """Indexes written before sentence vectors were stored as 8-bit codes are read as they are."""
    import json

    import numpy as np

    from qa.index.store import _checksum

    before = QA.load(built, embedder=hashing_embedder)
    expected = [(h.passage.id, round(h.score, 3)) for h in before.search("rivers in Europe", k=3)]
    manifest = json.loads((built / MANIFEST).read_text(encoding="utf-8"))
    data_dir = built / manifest["data_dir"]
    table = load_index(built).sentences
    vectors = np.stack([table.vectors[i] for i in range(len(table))]).astype(np.float16)
    np.save(data_dir / "sentence_vectors.npy", vectors, allow_pickle=False)
    for name in ("sentence_codes.npy", "sentence_scales.npy"):
        (data_dir / name).unlink()
        del manifest["files"][name]
    path = data_dir / "sentence_vectors.npy"
    manifest["files"]["sentence_vectors.npy"] = {"bytes": path.stat().st_size, "blake2b": _checksum(path)}
    manifest["format_version"] = 1
    (built / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    old = QA.load(built, embedder=hashing_embedder)
    assert [(h.passage.id, round(h.score, 3)) for h in old.search("rivers in Europe", k=3)] == expected
    assert old.ask("Which river flows through ten countries?").citations


def test_overlapping_windows_share_their_sentence_vectors_on_disk(windowed):
    contents = load_index(windowed)
    table = contents.sentences
    assert len(table.codes) < len(table)  # the corpus has windows that overlap
    # Every sentence is stored once per distinct text, and each occurrence reads its own text's vector.
    by_text = {}
    for row, passage in enumerate(contents.passages):
        for sentence, (a, b) in zip(range(table.indptr[row], table.indptr[row + 1]), table.spans_of(row)):
            by_text.setdefault(" ".join(passage.text[a:b].split()), set()).add(int(table.rows[sentence]))
    assert len(table.codes) == len(by_text)
    assert all(len(rows) == 1 for rows in by_text.values())


def test_an_index_of_format_2_with_a_vector_per_sentence_still_loads_and_answers(windowed, hashing_embedder):
    """Indexes written before repeated sentences shared a vector (no sentence_rows.npy) are read as they are."""
    import numpy as np

    from qa.index.store import _checksum

    before = QA.load(windowed, embedder=hashing_embedder)
    expected = [(h.passage.id, round(h.score, 4)) for h in before.search("rivers in Europe", k=3)]
    expected_answer = before.ask("Which river flows through ten countries?").text
    manifest = json.loads((windowed / MANIFEST).read_text(encoding="utf-8"))
    data_dir = windowed / manifest["data_dir"]
    table = load_index(windowed).sentences
    np.save(data_dir / "sentence_codes.npy", np.asarray(table.codes)[table.rows], allow_pickle=False)
    np.save(data_dir / "sentence_scales.npy", np.asarray(table.scales)[table.rows], allow_pickle=False)
    (data_dir / "sentence_rows.npy").unlink()
    del manifest["files"]["sentence_rows.npy"]
    for name in ("sentence_codes.npy", "sentence_scales.npy"):
        path = data_dir / name
        manifest["files"][name] = {"bytes": path.stat().st_size, "blake2b": _checksum(path)}
    manifest["format_version"] = 2
    (windowed / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    old = QA.load(windowed, embedder=hashing_embedder)
    assert len(old._contents.sentences.codes) == len(old._contents.sentences)
    assert [(h.passage.id, round(h.score, 4)) for h in old.search("rivers in Europe", k=3)] == expected
    assert old.ask("Which river flows through ten countries?").text == expected_answer
    # Adding to it writes the current format (the old rows kept as they are: a rebuild shares them).
    extra = windowed.parent / "extra.txt"
    extra.write_text("The Danube delta is a wetland of reeds and lakes where the river meets the Black Sea.", encoding="utf-8")
    old.add([extra])
    assert read_manifest(windowed)["format_version"] == 3
    updated = QA.load(windowed, embedder=hashing_embedder)
    assert [h.passage.id for h in updated.search("rivers in Europe", k=3)] == [pid for pid, _ in expected]  # (new word statistics)
    assert "delta" in updated.ask("Where does the Danube meet the Black Sea?").text


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFoundError, match="no index at"):
        QA.load(tmp_path / "nothing")


def test_corrupt_manifest(built):
    (built / MANIFEST).write_text("{ not json", encoding="utf-8")
    with pytest.raises(IndexFormatError, match="not valid JSON.*--rebuild"):
        QA.load(built)


def test_unknown_format_version(built):
    manifest = json.loads((built / MANIFEST).read_text())
    manifest["format_version"] = 99
    (built / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="format version 99"):
        QA.load(built)


def test_changed_data_file_is_detected(built):
    manifest = read_manifest(built)
    passages = built / manifest["data_dir"] / "passages.jsonl"
    content = passages.read_bytes()
    passages.write_bytes(content.replace(b'"start":', b'"start" :', 1))  # different size
    with pytest.raises(IndexFormatError, match="truncated or was changed"):
        QA.load(built)
    passages.write_bytes(content[:-3] + b"XX\n")  # same size, different bytes
    with pytest.raises(IndexFormatError, match="checksum"):
        QA.load(built)


def test_missing_data_file(built):
    manifest = read_manifest(built)
    (built / manifest["data_dir"] / "dense.faiss").unlink()
    with pytest.raises(IndexFormatError, match="missing"):
        QA.load(built)


def test_model_mismatch_is_refused(built, hashing_embedder):
    with pytest.raises(IndexFormatError, match="built with the model 'hashing-1024'"):
        QA.load(built, model="all-MiniLM-L6-v2")
    from embeddings import HashingEmbedder

    with pytest.raises(IndexFormatError, match="hashing-32"):
        QA.load(built, embedder=HashingEmbedder(dim=32))


def _hold_lock(index_dir, ready, release):
    with write_lock(index_dir):
        ready.set()
        release.wait(10)


def test_second_writer_gets_a_lock_error(built, tiny_corpus, hashing_embedder):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(built, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        qa = QA.load(built, embedder=hashing_embedder)
        with pytest.raises(IndexLockedError, match="being written by another process"):
            qa.add([tiny_corpus])
        assert qa.search("cats", k=1)  # readers are not blocked
    finally:
        release.set()
        holder.join(10)


def test_failed_write_leaves_the_previous_index(built, hashing_embedder, tmp_path, monkeypatch):
    before = read_manifest(built)
    qa = QA.load(built, embedder=hashing_embedder)
    new_doc = tmp_path / "new.txt"
    new_doc.write_text("Penguins live in the southern hemisphere.")

    import qa.index.store as store

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.LexicalIndex, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        qa.add([new_doc])
    monkeypatch.undo()
    assert read_manifest(built) == before
    reloaded = QA.load(built, embedder=hashing_embedder)
    assert len(reloaded.documents) == before["counts"]["documents"]
    # The failed write left its half-written generation in a temporary folder, never under a
    # name the manifest could point to.
    leftovers = [p.name for p in built.iterdir() if p.name != before["data_dir"] and p.name.startswith("gen-")]
    assert leftovers and all(".tmp-" in name for name in leftovers), leftovers
    # The next successful write cleans up the abandoned temporary folder.
    reloaded.add([new_doc])
    assert not [p for p in built.iterdir() if ".tmp-" in p.name]


def test_model_with_another_dimension_is_refused_at_the_first_question(built):
    from embeddings import HashingEmbedder

    class Renamed(HashingEmbedder):
        """Same name as the index's model, other dimension: as if the model files had changed."""

        def __init__(self):
            super().__init__(dim=32)
            self.name = "hashing-1024"

    qa = QA.load(built, embedder=Renamed())
    with pytest.raises(IndexFormatError, match="1024-dimensional vectors but the model"):
        qa.search("cats")


def test_a_large_index_stores_4bit_sentence_vectors_and_keeps_them_through_updates(windowed, hashing_embedder, monkeypatch):
    import numpy as np

    import qa.index.sentences as sentences

    eight = QA.load(windowed, embedder=hashing_embedder)
    question = "Which river carries ships and feeds 7 towns?"
    expected = eight.ask(question)
    size_before = (windowed / read_manifest(windowed)["data_dir"] / "sentence_codes.npy").stat().st_size
    monkeypatch.setattr(sentences, "SENTENCE_4BIT_THRESHOLD", 5)  # as if the index had 500,000 passages
    extra = windowed.parent / "extra.txt"
    extra.write_text("The Danube delta is a wetland of reeds and lakes where the river meets the Black Sea.", encoding="utf-8")
    eight.add([extra])
    table = load_index(windowed).sentences
    assert table.bits == 4 and table.codes.dtype == np.uint8 and table.codes.shape[1] == table.dim // 2
    assert (windowed / read_manifest(windowed)["data_dir"] / "sentence_codes.npy").stat().st_size < size_before
    four = QA.load(windowed, embedder=hashing_embedder)
    answer = four.ask(question)
    assert answer.citations[0].passage_id == expected.citations[0].passage_id
    assert abs(answer.signals["similarity"] - expected.signals["similarity"]) < 0.05
    monkeypatch.setattr(sentences, "SENTENCE_4BIT_THRESHOLD", 10**6)
    four.remove(extra)  # smaller than the threshold again: stays 4-bit (re-encoding would only add bytes)
    assert load_index(windowed).sentences.bits == 4


def test_passage_tables_select_and_join_rows_as_the_passages_themselves(built):
    from qa.index.store import PassageTable

    contents = load_index(built)
    table = contents.passages
    assert isinstance(table, PassageTable) and len(table) >= 4
    rows = [3, 0, 2]
    picked = table.select(rows)
    assert list(picked) == [table[r] for r in rows]
    assert [picked.text_of(i) for i in range(len(picked))] == [table[r].text for r in rows]
    joined = PassageTable.concat(contents.documents, [picked, [table[1]], table.select([])])
    assert list(joined) == [table[r] for r in rows + [1]]
    assert joined.offsets.tolist() == [[table[r].start, table[r].end] for r in rows + [1]]
