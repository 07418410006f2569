import numpy as np
import pytest

from qa import QA, Answer, Hit, InputError
from qa.ingest.loaders import source_name
from qa.retrieval.hybrid import passage_index_text


@pytest.fixture
def qa(tiny_corpus, hashing_embedder, tmp_path):
    return QA.build([tiny_corpus], index_dir=tmp_path / "index", embedder=hashing_embedder)


def test_build_reports_what_was_indexed(qa, tiny_corpus):
    report = qa.last_report
    assert len(report.added) == 5 and not report.skipped
    assert report.embedded == report.passages == len(qa)
    assert {d.title for d in qa.documents} == {"Cats", "Rivers", "Bread", "Volcanoes", "Glaciers"}


def test_search_ranks_the_right_document_first(qa):
    for question, title in [
        ("what is a group of cats called", "Cats"),
        ("longest river in Africa", "Rivers"),
        ("how long to knead bread dough", "Bread"),
        ("active volcano in Sicily", "Volcanoes"),
    ]:
        hits = qa.search(question, k=3)
        assert hits[0].passage.title == title, question
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(isinstance(h, Hit) for h in hits)


def test_search_modes_and_k_clamping(qa):
    n = len(qa)
    assert len(qa.search("rivers", k=1000)) == n  # k larger than the corpus is clamped
    dense = qa.search("Danube countries", k=3, mode="dense")
    lexical = qa.search("Danube countries", k=3, mode="lexical")
    assert dense[0].passage.title == lexical[0].passage.title == "Rivers"
    assert lexical[0].dense_score is None and lexical[0].lexical_score > 0
    assert qa.search("zzzz qqqq", k=3, mode="lexical") == []


@pytest.mark.parametrize("question", ["", "   ", None, 42])
def test_bad_questions_get_clear_errors(qa, question):
    with pytest.raises(InputError):
        qa.search(question)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k(qa, k):
    with pytest.raises(InputError, match="k must be a positive integer"):
        qa.search("cats", k=k)


def test_unknown_setting_is_refused(qa):
    with pytest.raises(InputError, match="unknown search setting 'colour'"):
        qa.search("cats", colour="red")
    with pytest.raises(InputError, match="mode must be one of"):
        qa.search("cats", mode="magic")


def test_add_is_incremental_and_idempotent(qa, tiny_corpus):
    again = qa.add([tiny_corpus])
    assert not again.changed and len(again.unchanged) == 5 and again.embedded == 0
    generation = qa.info()["generation"]
    (tiny_corpus / "cats.txt").write_text("Cats\n\nCats purr when they are content.", encoding="utf-8")
    (tiny_corpus / "owls.txt").write_text("Owls hunt at night and can turn their heads far around.", encoding="utf-8")
    report = qa.add([tiny_corpus])
    assert report.updated == [source_name(tiny_corpus / "cats.txt")]
    assert report.added == [source_name(tiny_corpus / "owls.txt")]
    assert report.embedded == 2 and qa.info()["generation"] == generation + 1
    assert report.sentences_embedded == 2  # only the new sentences; the rest are reused
    assert qa.search("owls hunting at night", k=1)[0].passage.title == "owls"
    assert "clowder" not in " ".join(p.text for p in qa.passages)


def test_unchanged_vectors_are_reused_on_rebuild(tiny_corpus, hashing_embedder, tmp_path):
    index_dir = tmp_path / "index"
    first = QA.build([tiny_corpus], index_dir=index_dir, embedder=hashing_embedder)
    with pytest.raises(InputError, match="already exists"):
        QA.build([tiny_corpus], index_dir=index_dir, embedder=hashing_embedder)
    second = QA.build([tiny_corpus], index_dir=index_dir, embedder=hashing_embedder, rebuild=True)
    assert second.last_report.embedded == 0 and second.last_report.reused == len(first)
    assert second.last_report.sentences_embedded == 0  # sentence codes are copied as stored
    np.testing.assert_array_equal(np.asarray(second._contents.sentences.codes), np.asarray(first._contents.sentences.codes))
    np.testing.assert_array_equal(second._contents.sentences.rows, first._contents.sentences.rows)


def test_remove_by_path_folder_and_jsonl(qa, tiny_corpus):
    before = len(qa)
    report = qa.remove(tiny_corpus / "cats.txt")
    assert report.removed == [source_name(tiny_corpus / "cats.txt")]
    assert len(qa) < before
    assert all(h.passage.title != "Cats" for h in qa.search("cats clowder", k=10))
    jsonl = qa.remove(str(tiny_corpus / "facts.jsonl"))
    assert len(jsonl.removed) == 2
    with pytest.raises(InputError, match="no indexed document matches"):
        qa.remove("nothing/here.txt")
    left = len(qa.documents)
    with pytest.raises(InputError, match=f"would remove all {left} documents"):
        qa.remove(tiny_corpus)
    assert len(qa.documents) == left
    qa.remove(tiny_corpus, allow_empty=True)
    assert len(qa) == 0 and qa.search("rivers") == []


@pytest.mark.parametrize("source", ["/", "//", "/tmp/..", ".", "..", "./", "../..", "*", "*.txt", "docs/[ab].md", "", "   "])
def test_removal_refuses_what_would_name_more_than_meant(qa, tiny_corpus, monkeypatch, source):
    monkeypatch.chdir(tiny_corpus)  # "." would otherwise be the folder holding every document
    before = [d.source for d in qa.documents]
    with pytest.raises(InputError) as refused:
        qa.remove(source, allow_empty=True)
    assert "qa info" in str(refused.value) or "whole folder tree" in str(refused.value)
    assert [d.source for d in qa.documents] == before


def test_changes_survive_reload(qa, tiny_corpus, hashing_embedder):
    qa.remove(tiny_corpus / "guide.html")
    reloaded = QA.load(qa.index_dir, embedder=hashing_embedder)
    assert {d.title for d in reloaded.documents} == {"Cats", "Rivers", "Volcanoes", "Glaciers"}
    assert [p.id for p in reloaded.passages] == [p.id for p in qa.passages]


def test_build_with_nothing_to_index(tmp_path, hashing_embedder):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.png").write_bytes(b"\x89PNG")
    with pytest.raises(InputError, match="nothing to index.*unsupported file type"):
        QA.build([tmp_path / "empty"], embedder=hashing_embedder)


def test_in_memory_index_and_ask_shape(tiny_corpus, hashing_embedder):
    qa = QA.build([tiny_corpus], embedder=hashing_embedder)
    assert qa.index_dir is None
    answer = qa.ask("What is a group of cats called?", abstain_threshold=0.0)
    assert isinstance(answer, Answer) and not answer.abstained
    assert answer.citations[0].number == 1
    assert "[1]" in answer.text
    data = answer.to_dict()
    assert Answer.from_dict(data).to_dict() == data


def test_concurrent_searches_during_add(qa, tiny_corpus):
    import threading

    errors = []
    seen = []
    stop = threading.Event()

    def result():
        return tuple((h.passage.id, round(h.score, 6)) for h in qa.search("rivers of Europe", k=3))

    def reader():
        while not stop.is_set():
            try:
                seen.append(result())
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    # Each index state, searched alone: a reader must always see one of them, never a mix of
    # an old generation's passages with a new one's vectors.
    states = {result()}
    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(5):
        (tiny_corpus / f"extra{i}.txt").write_text(f"Extra document number {i} about rivers of Europe.", encoding="utf-8")
        qa.add([tiny_corpus])
        states.add(result())
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert len(states) > 1 and seen  # the additions changed the results while readers ran
    assert set(seen) <= states, set(seen) - states


@pytest.mark.parametrize("kind", ["hnsw", "hnsw-sq8"])
def test_hnsw_index_grows_by_extension_and_rebuilds_on_removal(tiny_corpus, hashing_embedder, tmp_path, kind):
    qa = QA.build([tiny_corpus], index_dir=tmp_path / "idx", embedder=hashing_embedder, dense_index=kind)
    assert qa._contents.dense.kind == kind
    (tiny_corpus / "owls.txt").write_text("Owls hunt at night and can turn their heads far around.", encoding="utf-8")
    qa.add([tiny_corpus])
    assert qa.search("owls hunting at night", k=1)[0].passage.title == "owls"
    qa.remove(tiny_corpus / "cats.txt")
    reloaded = QA.load(qa.index_dir, embedder=hashing_embedder)
    assert reloaded._contents.dense.kind == kind
    assert len(reloaded._contents.dense) == len(reloaded.passages)
    # Vectors kept across the rebuild are the stored ones, not a decoding of 8-bit codes.
    texts = [passage_index_text(p, context=reloaded.settings.context) for p in reloaded.passages]
    np.testing.assert_allclose(reloaded._contents.dense.vectors(), hashing_embedder.embed_documents(texts), atol=1e-3)
    assert all(h.passage.title != "Cats" for h in reloaded.search("cats clowder", k=10))
    with pytest.raises(InputError, match="dense_index must be one of"):
        QA.build([tiny_corpus], embedder=hashing_embedder, dense_index="ivf")


@pytest.mark.parametrize("dense_index", ["flat", "hnsw", "hnsw-sq8"])
def test_a_memory_mapped_index_answers_and_takes_additions(tiny_corpus, hashing_embedder, tmp_path, dense_index):
    built = QA.build([tiny_corpus], index_dir=tmp_path / "idx", embedder=hashing_embedder, dense_index=dense_index)
    expected = [h.passage.id for h in built.search("active volcano in Sicily", k=5)]
    mapped = QA.load(tmp_path / "idx", embedder=hashing_embedder, mmap=True)
    assert [h.passage.id for h in mapped.search("active volcano in Sicily", k=5)] == expected
    (tiny_corpus / "owls.txt").write_text("Owls hunt at night and can turn their heads far around.", encoding="utf-8")
    mapped.add([tiny_corpus])
    assert mapped.search("owls hunting at night", k=1)[0].passage.title == "owls"
    assert QA.load(tmp_path / "idx", embedder=hashing_embedder).search("owls hunting at night", k=1)[0].passage.title == "owls"


def test_answering_from_a_saved_index_does_not_import_torch(seed_index):
    """Questions are encoded by the ONNX export, so a process that only answers starts fast."""
    import subprocess
    import sys

    from embeddings.onnx_runtime import OnnxQueryEncoder

    OnnxQueryEncoder().load()  # made once per machine (that step needs torch)
    script = (
        "import sys\n"
        "from qa import QA\n"
        f"answer = QA.load({str(seed_index)!r}, mmap=True).ask('Which non-NATO countries joined the statement?')\n"
        "assert answer.citations, answer\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_saving_settings_writes_the_manifest_not_the_index_files(tiny_corpus, tmp_path, hashing_embedder):
    import json

    from qa import QA

    qa = QA.build([tiny_corpus], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    before = {name: (tmp_path / "idx" / manifest["data_dir"] / name).stat().st_ino for name in manifest["files"]}
    qa.search_settings = qa.search_settings.with_overrides({"mode": "lexical"})
    qa.save_settings()
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    after = {name: (tmp_path / "idx" / manifest["data_dir"] / name).stat().st_ino for name in manifest["files"]}
    assert manifest["query_defaults"]["search"]["mode"] == "lexical" and "retrieval" not in manifest
    assert {name for name in after if after[name] != before[name]} == {"files.jsonl"}  # the rest hard-linked
    reloaded = QA.load(tmp_path / "idx", embedder=hashing_embedder)
    assert reloaded.search_settings.mode == "lexical" and len(reloaded) == len(qa)
    assert [h.passage.id for h in reloaded.search("rivers", k=3)] == [h.passage.id for h in qa.search("rivers", k=3)]


def test_an_older_manifest_keeps_its_saved_defaults_under_retrieval(tiny_corpus, tmp_path, hashing_embedder):
    import json

    from qa import QA

    qa = QA.build([tiny_corpus], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    qa.search_settings = qa.search_settings.with_overrides({"mode": "dense"})
    qa.save_settings()
    path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["retrieval"] = manifest.pop("query_defaults")  # as manifests were written before
    path.write_text(json.dumps(manifest))
    assert QA.load(tmp_path / "idx", embedder=hashing_embedder).search_settings.mode == "dense"


def test_last_report_is_defined_from_the_start(tiny_corpus, tmp_path, hashing_embedder):
    from qa import QA

    built = QA.build([tiny_corpus], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    assert built.last_report is not None and built.last_report.added
    loaded = QA.load(tmp_path / "idx", embedder=hashing_embedder)
    assert loaded.last_report is None
    loaded.remove(next(d.source for d in loaded.documents))
    assert loaded.last_report is not None and len(loaded.last_report.removed) == 1


def test_warm_up_loads_what_the_first_question_needs_and_leaves_the_index_as_it_was(qa, tmp_path, hashing_embedder):
    from qa.answers.salience import english_zipf

    english_zipf.cache_clear()
    before = qa.search("Nile", k=3)
    qa.warm_up()
    assert english_zipf.cache_info().currsize > 0  # the word frequency tables were read
    assert qa.search("Nile", k=3) == before
    QA.create(index_dir=tmp_path / "empty", embedder=hashing_embedder).warm_up()  # nothing to ask: the model only


def test_embedding_in_chunks_gives_the_same_index(tiny_corpus, hashing_embedder, monkeypatch):
    """Texts reach the model a chunk at a time (memory follows the chunk, not the corpus); the
    index is the same as one made in a single call, and the embedder never sees more."""
    import qa.core

    whole = QA.build([tiny_corpus], embedder=hashing_embedder)
    calls = []

    class Recording:
        dim = hashing_embedder.dim
        name = hashing_embedder.name

        def embed_documents(self, texts, **kwargs):
            calls.append(len(texts))
            return hashing_embedder.embed_documents(texts, **kwargs)

        def embed_query(self, text):
            return hashing_embedder.embed_query(text)

    monkeypatch.setattr(qa.core, "EMBED_CHUNK", 3)
    chunked = QA.build([tiny_corpus], embedder=Recording())
    assert max(calls) <= 3 and len(calls) > 2
    assert sum(calls) == chunked.last_report.embedded + chunked.last_report.sentences_embedded
    a, b = whole._contents.sentences, chunked._contents.sentences
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(whole._contents.dense.vectors(), chunked._contents.dense.vectors())
    question = "Which river flows through ten countries?"
    assert whole.ask(question).text == chunked.ask(question).text
