"""QA.sync and the file records behind it: new, changed, renamed and deleted files."""

import os

import pytest

from qa import QA, InputError
from qa.ingest.loaders import source_name
from tests.helpers import write


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    write(docs / "cats.txt", "Cats\n\nCats are small domesticated carnivores. A group of cats is called a clowder.")
    write(docs / "rivers.md", "# Rivers\n\nThe Nile is the longest river in Africa. The Danube ends in the Black Sea.\n")
    write(docs / "sub" / "bread.md", "# Bread\n\nBread needs flour, water, yeast and salt.\n")
    write(docs / "notes.xyz", "an unsupported file")
    return docs


@pytest.fixture
def qa(folder, hashing_embedder, tmp_path):
    return QA.build([folder], index_dir=tmp_path / "index", embedder=hashing_embedder)


def _sources(qa):
    return sorted(os.path.basename(d.source) for d in qa.documents)


def test_every_file_seen_is_recorded_indexed_or_skipped_with_its_reason(qa, folder):
    records = {os.path.basename(path): record for path, record in qa._contents.files.items()}
    assert sorted(records) == ["bread.md", "cats.txt", "notes.xyz", "rivers.md"]
    assert records["cats.txt"].indexed and records["cats.txt"].sources == (source_name(folder / "cats.txt"),)
    assert records["notes.xyz"].status == "skipped" and "unsupported file type '.xyz'" in records["notes.xyz"].reason
    reloaded = QA.load(qa.index_dir, embedder=qa.embedder)
    assert reloaded._contents.files == qa._contents.files


def test_unchanged_folder_syncs_without_reading_or_embedding(qa, folder, monkeypatch):
    import qa.ingest.loaders as loaders

    def never(*args, **kwargs):
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(loaders, "load_file", never)
    generation = qa._contents.generation
    report = qa.sync([folder])
    assert (report.files_read, report.files_unchanged, report.embedded) == (0, 4, 0)
    assert not report.changed and qa._contents.generation == generation


def test_sync_adds_updates_renames_and_deletes(qa, folder):
    write(folder / "cats.txt", "Cats\n\nCats purr when content. A group of cats is called a clowder.")
    (folder / "sub" / "bread.md").rename(folder / "sub" / "loaf.md")
    (folder / "rivers.md").unlink()
    write(folder / "new.txt", "Owls\n\nOwls hunt at night and can turn their heads far around.")
    report = qa.sync([folder])
    assert sorted(os.path.basename(s) for s in report.added) == ["loaf.md", "new.txt"]
    assert [os.path.basename(s) for s in report.updated] == ["cats.txt"]
    assert sorted(os.path.basename(s) for s in report.removed) == ["bread.md", "rivers.md"]
    assert report.files_unchanged == 1  # notes.xyz
    assert _sources(qa) == ["cats.txt", "loaf.md", "new.txt"]
    assert not any("Nile" in h.passage.text for h in qa.search("longest river in Africa", k=10))
    assert not any(p.source.endswith("bread.md") for p in qa.passages)
    # The renamed file's text was embedded before: its vectors are reused.
    renamed = [p for p in qa.passages if p.source.endswith("loaf.md")]
    assert renamed and report.reused >= len(renamed)
    files = {os.path.basename(p) for p in qa._contents.files}
    assert files == {"cats.txt", "loaf.md", "new.txt", "notes.xyz"}


def test_sync_of_a_subfolder_leaves_files_outside_it_alone(qa, folder):
    (folder / "rivers.md").unlink()
    report = qa.sync([folder / "sub"])
    assert not report.removed and "rivers.md" in _sources(qa)


def test_sync_refuses_a_path_that_does_not_exist(qa, tmp_path):
    with pytest.raises(InputError, match="unmounted drive"):
        qa.sync([tmp_path / "not-mounted"])
    assert len(qa.documents) == 3


def test_a_changed_file_that_cannot_be_read_keeps_its_indexed_version(qa, folder):
    write(folder / "rivers.md", b"\x00\x01binary garbage\x00" * 10)
    report = qa.sync([folder])
    assert "rivers.md" in _sources(qa) and not report.removed
    record = qa._contents.files[source_name(folder / "rivers.md")]
    assert record.indexed and "could not be read" in record.notes[0] and "version indexed earlier is kept" in record.notes[0]
    assert any("Nile" in h.passage.text for h in qa.search("Nile river Africa", k=3))


def test_lines_deleted_from_a_jsonl_file_leave_the_index(folder, hashing_embedder):
    path = write(folder / "facts.jsonl", '{"id": "a", "text": "Alpha is first."}\n{"id": "b", "text": "Beta is second."}\n')
    qa = QA.build([folder], embedder=hashing_embedder)
    write(path, '{"id": "a", "text": "Alpha is first."}\n')
    report = qa.add([folder])
    assert [s.rsplit("#", 1)[1] for s in report.removed] == ["b"]


def test_a_removed_file_is_read_again_when_added(qa, folder):
    qa.remove(folder / "cats.txt")
    assert source_name(folder / "cats.txt") not in qa._contents.files
    report = qa.add([folder])
    assert [os.path.basename(s) for s in report.added] == ["cats.txt"]


def test_a_hidden_file_indexed_by_name_survives_a_folder_sync(qa, folder):
    hidden = write(folder / ".draft.txt", "Drafts\n\nThe draft mentions zebras in passing.")
    qa.add([hidden])
    qa.sync([folder])
    assert ".draft.txt" in _sources(qa)


def test_an_index_inside_the_folder_it_indexes_is_not_indexed(folder, hashing_embedder):
    qa = QA.build([folder], index_dir=folder / "index", embedder=hashing_embedder)
    report = qa.sync([folder])
    assert not report.added and not any("index" in os.path.relpath(p, folder) for p in qa._contents.files)


def test_a_touched_file_is_recorded_without_writing_the_index_again(qa, folder):
    import json
    import time as clock

    manifest_before = json.loads((qa.index_dir / "manifest.json").read_text(encoding="utf-8"))
    path = folder / "cats.txt"
    later = clock.time() + 60
    os.utime(path, (later, later))
    report = qa.sync([folder])
    assert not report.changed and report.files_read == 1 and report.embedded == 0
    manifest = json.loads((qa.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generation"] == manifest_before["generation"] + 1
    unchanged = {k: v for k, v in manifest["files"].items() if k != "files.jsonl"}
    assert unchanged == {k: v for k, v in manifest_before["files"].items() if k != "files.jsonl"}
    assert manifest["files"]["files.jsonl"] != manifest_before["files"]["files.jsonl"]
    reloaded = QA.load(qa.index_dir, embedder=qa.embedder, verify="full")  # every checksum still holds
    assert reloaded._contents.files[source_name(path)].mtime_ns == path.stat().st_mtime_ns
    assert [h.passage.id for h in reloaded.search("clowder of cats", k=3)] == [h.passage.id for h in qa.search("clowder of cats", k=3)]
    assert qa.sync([folder]).files_read == 0, "the touch is remembered: the next sync reads nothing"


def _long_text(sentences: int) -> str:
    return " ".join(f"Entry {i} records that station {i} measured {i * 7} millimetres of rain in week {i}." for i in range(sentences))


def test_a_file_making_more_passages_than_the_limit_is_skipped_with_its_count(qa, folder):
    write(folder / "log.txt", _long_text(400))
    limit = 5
    report = qa.add([folder], max_file_passages=limit)
    skipped = {os.path.basename(s.path): s.reason for s in report.skipped}
    assert "log.txt" in skipped and f"more than the limit of {limit} per file" in skipped["log.txt"]
    count = int(skipped["log.txt"].split("makes ", 1)[1].split(" passages", 1)[0].replace(",", ""))
    assert count > limit
    assert "log.txt" not in _sources(qa)
    record = qa._contents.files[source_name(folder / "log.txt")]
    assert record.status == "skipped" and record.reason == skipped["log.txt"]
    # Under a limit it fits, the same file is indexed with exactly the passages counted.
    report = qa.add([folder], max_file_passages=count)
    assert "log.txt" in _sources(qa) and qa.passage_counts()[source_name(folder / "log.txt")] == count


def test_a_file_over_the_limit_keeps_what_was_indexed_of_it_before(qa, folder):
    write(folder / "cats.txt", _long_text(400))
    before = qa.passage_counts()[source_name(folder / "cats.txt")]
    qa.sync([folder], max_file_passages=3)
    assert qa.passage_counts()[source_name(folder / "cats.txt")] == before
    assert "clowder" in qa.search("group of cats", k=1)[0].passage.text


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_a_bad_passage_limit_is_refused_before_anything_is_read(qa, folder, bad):
    with pytest.raises(InputError, match="max_file_passages must be an integer >= 1"):
        qa.add([folder], max_file_passages=bad)
