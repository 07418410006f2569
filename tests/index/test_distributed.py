"""qa.index.distributed: an index built on Ray (local cluster, 2 workers) answers exactly like a local build."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

from tests.helpers import PYFAQ_DIR, SEED_DOC, SEED_QUESTIONS

PYFAQ_PAGES = ["extending.html", "general.html", "gui.html", "installed.html", "library.html", "windows.html"]


def test_a_missing_extra_names_the_install_command(monkeypatch, tmp_path):
    from qa.errors import MissingDependencyError
    from qa.index.distributed import build_with_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray looks like
    (tmp_path / "a.txt").write_text("Some text to index.")
    with pytest.raises(MissingDependencyError, match=r"pip install 'grounded-qa\[ray\]'"):
        build_with_ray([tmp_path / "a.txt"], index_dir=tmp_path / "index", workers=1)


def test_an_existing_index_is_refused_without_rebuild(tmp_path, hashing_embedder):
    from qa import QA
    from qa.errors import QAError
    from qa.index.distributed import build_with_ray

    (tmp_path / "a.txt").write_text("Some text to index.")
    QA.build([tmp_path / "a.txt"], index_dir=tmp_path / "index", embedder=hashing_embedder)
    before = (tmp_path / "index" / "manifest.json").read_text()
    with pytest.raises(QAError, match="--rebuild"):
        build_with_ray([tmp_path / "a.txt"], index_dir=tmp_path / "index")
    assert (tmp_path / "index" / "manifest.json").read_text() == before


def test_an_embedder_object_is_refused(tmp_path, hashing_embedder):
    from qa.errors import QAError
    from qa.index.distributed import build_with_ray

    with pytest.raises(QAError, match="model="):
        build_with_ray([SEED_DOC], index_dir=tmp_path / "index", embedder=hashing_embedder)


def test_the_cli_refuses_ray_options_without_ray(tmp_path, capsys):
    from qa.cli import main

    assert main(["index", str(SEED_DOC), "--index", str(tmp_path / "i"), "--workers", "3"]) == 2
    assert "only apply with --ray" in capsys.readouterr().err


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ray_build_matches_the_local_build(tmp_path):
    pytest.importorskip("ray")
    from embeddings import SentenceTransformerEmbedder
    from qa import QA
    from qa.index.distributed import build_with_ray

    # bf16, the fast path: its vectors depend on batch padding, which length batching removes.
    embedder = SentenceTransformerEmbedder(precision="bf16")

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_DOC, corpus / SEED_DOC.name)
    for name in PYFAQ_PAGES:
        shutil.copy(PYFAQ_DIR / "corpus" / "faq" / name, corpus / name)

    local = QA.build([corpus], index_dir=tmp_path / "local", embedder=embedder)
    distributed = build_with_ray([corpus], index_dir=tmp_path / "ray", workers=2, precision="bf16")
    report = distributed.last_report
    assert report.embedded == local.last_report.embedded > 150
    assert set(report.timings) >= {"read_and_chunk_s", "embed_s", "merge_s", "total_s"}

    # Same passages, same settings, same vectors.
    assert [p.id for p in distributed.passages] == [p.id for p in local.passages]
    local_manifest = json.loads((tmp_path / "local" / "manifest.json").read_text())
    ray_manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    for key in ("embedding", "chunking", "context", "bm25", "dense", "counts"):
        assert ray_manifest[key] == local_manifest[key]
    np.testing.assert_allclose(distributed._contents.dense.vectors(), local._contents.dense.vectors(), atol=1e-6)

    # Same top 10, in the same order, with the same scores, for seed and pyfaq questions.
    reopened = QA.load(tmp_path / "ray", embedder=embedder)
    questions = [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    questions += [
        row["question"]
        for row in map(json.loads, (PYFAQ_DIR / "questions.jsonl").read_text().splitlines())
        if row["doc"].split("/")[-1] in PYFAQ_PAGES
    ]
    assert len(questions) > 80
    for question in questions:
        expected = local.search(question, k=10)
        got = reopened.search(question, k=10)
        assert [h.passage.id for h in got] == [h.passage.id for h in expected], question
        assert max(abs(a.score - b.score) for a, b in zip(got, expected)) <= 1e-5, question


def test_texts_to_embed_are_exactly_what_an_index_embeds(tmp_path, hashing_embedder):
    from qa import QA
    from qa.index.indexing import texts_to_embed
    from qa.ingest.loaders import load_documents
    from qa.types import content_hash

    qa = QA.build([SEED_DOC], index_dir=tmp_path / "index", embedder=hashing_embedder)
    texts = texts_to_embed(load_documents([SEED_DOC]).documents, qa.settings)
    keys = {content_hash(t) for t in texts}
    assert len(keys) == len(texts)  # each text once
    assert set(qa._contents.embed_keys) <= keys
    assert len(texts) == len(set(qa._contents.embed_keys)) + qa.last_report.sentences_embedded


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_cli_index_with_ray(tmp_path, capsys):
    pytest.importorskip("ray")
    from qa import QA
    from qa.cli import main

    assert main(["index", str(SEED_DOC), "--index", str(tmp_path / "i"), "--ray", "--workers", "1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "added 1" in out and "embed" in out and "merge" in out
    assert len(QA.load(tmp_path / "i")) > 0
    assert main(["index", str(SEED_DOC), "--index", str(tmp_path / "i"), "--ray"]) == 2
    assert "--rebuild" in capsys.readouterr().err
