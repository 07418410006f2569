import json
import re

import pytest

from qa.cli import main
from tests.helpers import SEED_DOC


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.integration
def test_index_ask_search_info_remove_round_trip(tmp_path, capsys):
    index = tmp_path / "idx"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "seed.txt").write_text(SEED_DOC.read_text(encoding="utf-8"), encoding="utf-8")
    (docs / "notes.md").write_text("# Notes\n\nThe meeting moved to Thursday at noon.\n", encoding="utf-8")
    (docs / "photo.jpg").write_bytes(b"\xff\xd8\xff")

    code, out, err = run(capsys, "index", docs, "--index", index, "--quiet")
    assert code == 0
    assert "added 2" in out and "skipped 1" in out
    assert "photo.jpg" in err and "unsupported file type" in err

    code, out, _ = run(capsys, "ask", "Which UN Security Council resolutions does the cooperation violate?", "--index", index)
    assert code == 0 and "[1]" in out and "Sources:" in out and "seed.txt" in out

    code, out, _ = run(capsys, "ask", "Who won the football world cup in 2022?", "--index", index, "--json")
    data = json.loads(out)
    assert data["abstained"] is True and data["citations"] == []
    code, out, _ = run(capsys, "ask", "Who won the football world cup in 2022?", "--index", index)
    assert code == 0 and "do not answer" in out and "Closest passages" not in out  # nothing near to point at

    # Declined although the documents may answer it (here: a threshold no answer reaches): the
    # closest passages are named so the reader can look.
    code, out, _ = run(capsys, "ask", "Which UN Security Council resolutions does the cooperation violate?", "--index", index, "--set", "abstain_threshold=1")
    assert code == 0 and "do not answer" in out and "Sources:" not in out
    closest = out.split("Closest passages", 1)[1].splitlines()[1:]
    assert closest and all(line.startswith("  - ") and "seed.txt" in line for line in closest)

    code, out, _ = run(capsys, "search", "meeting Thursday", "--index", index, "-k", "2", "--json")
    hits = json.loads(out)
    assert hits[0]["rank"] == 1 and hits[0]["passage"]["title"] == "Notes"

    code, out, _ = run(capsys, "info", "--index", index, "--documents", "--verify")
    assert code == 0 and "2 documents" in out and "verified" in out and "notes.md" in out
    assert re.search(r"sentences  \d+ \(\d+ vectors stored, 8-bit\)", out) and re.search(r"on disk    \d+\.\d MB, \d+\.\d KB a passage", out)

    code, out, _ = run(capsys, "index", docs, "--index", index, "--quiet")
    assert "added 0, updated 0, unchanged 2" in out

    code, _, err = run(capsys, "index", docs, "--index", index, "--chunk-words", "50", "--quiet")
    assert code == 2 and "built with --chunk-words 120" in err and "--rebuild" in err

    code, out, _ = run(capsys, "remove", docs / "notes.md", "--index", index)
    assert code == 0 and "removed" in out
    code, out, _ = run(capsys, "info", "--index", index, "--json")
    assert json.loads(out)["documents"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", "anything", "--index", "{tmp}/missing"], "no index at"),
        (["index", "{tmp}/nothing-here", "--index", "{tmp}/idx2"], "nothing to index"),
        (["ask", "  ", "--index", "{seed}"], "the question is empty"),
        (["search", "x", "--index", "{seed}", "-k", "0"], "k must be a positive integer"),
        (["search", "x", "--index", "{seed}", "--set", "colour=red"], "unknown search setting"),
        (["remove", "no/such/file.txt", "--index", "{seed}"], "no indexed document matches"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(tmp_path, capsys, seed_index, args, message):
    args = [a.format(tmp=tmp_path, seed=seed_index) for a in args]
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_corrupt_manifest_is_a_clear_error(tmp_path, capsys, seed_index):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(seed_index, copy)
    (copy / "manifest.json").write_text("{", encoding="utf-8")
    code, _, err = run(capsys, "info", "--index", copy)
    assert code == 2 and "not valid JSON" in err and "--rebuild" in err


def test_removing_the_last_document_needs_allow_empty(tmp_path, capsys, hashing_embedder):
    from qa import QA

    doc = tmp_path / "only.md"
    doc.write_text("# Only\n\nThe one document of this index.\n", encoding="utf-8")
    index = tmp_path / "idx"
    QA.build([doc], index_dir=index, embedder=hashing_embedder)
    code, _, err = run(capsys, "remove", doc, "--index", index)
    assert code == 2 and "leave the index empty" in err and "--allow-empty" in err
    code, _, err = run(capsys, "remove", "/", "--index", index, "--allow-empty")
    assert code == 2 and "whole folder tree" in err
    code, out, _ = run(capsys, "remove", doc, "--index", index, "--allow-empty")
    assert code == 0 and "0 passages left" in out


def test_sync_reports_each_change_and_info_lists_every_file_with_its_state(tmp_path, capsys, hashing_embedder):
    from qa import QA

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nAlpha is the first letter.\n", encoding="utf-8")
    (docs / "b.md").write_text("# B\n\nBeta is the second letter.\n", encoding="utf-8")
    (docs / "c.xyz").write_text("not a document", encoding="utf-8")
    index = tmp_path / "idx"
    QA.build([docs], index_dir=index, embedder=hashing_embedder)  # the manifest names the hashing embedder
    (docs / "b.md").unlink()
    (docs / "d.md").write_text("# D\n\nDelta is the fourth letter.\n", encoding="utf-8")
    code, out, _ = run(capsys, "sync", docs, "--index", index, "--quiet")
    assert code == 0
    lines = out.splitlines()
    assert any(line.startswith("added") and line.endswith("d.md") for line in lines)
    assert any(line.startswith("removed") and line.endswith("b.md") for line in lines)
    assert "(2 files unchanged, not read)" in lines[-1]
    code, out, _ = run(capsys, "info", "--index", index, "--documents")
    assert "files      2 of 3 files indexed (1 skipped)" in out
    assert any(line.strip().endswith("c.xyz  skipped: unsupported file type '.xyz' (supported: .csv, .docx, .eml, .epub, .htm, .html, .jsonl, .markdown, .md, .pdf, .pptx, .text, .tsv, .txt, .xhtml, .xlsx)") for line in out.splitlines())
    code, _, err = run(capsys, "sync", tmp_path / "unmounted", "--index", index)
    assert code == 2 and "unmounted drive" in err


def test_filters_restrict_search_ask_and_eval_and_bad_ones_are_one_line_errors(tiny_corpus, tmp_path, capsys, hashing_embedder):
    from qa import QA

    index = tmp_path / "idx"
    QA.build([tiny_corpus], index_dir=index, embedder=hashing_embedder)
    code, out, _ = run(capsys, "search", "rivers of ice", "--index", index, "--filter", "kind=jsonl", "--json")
    hits = json.loads(out)
    assert code == 0 and hits and all("facts.jsonl#" in h["passage"]["source"] for h in hits)
    code, out, _ = run(capsys, "search", "rivers", "--index", index, "--filter", "kind=pdf")
    assert code == 0 and out.strip() == "no passage matches the filters (kind = pdf)"
    code, out, _ = run(capsys, "ask", "Which volcano is active?", "--index", index, "--filter", "title=Volcano*", "--json")
    answer = json.loads(out)
    assert code == 0 and all("#v1" in c["source"] for c in answer["citations"])
    code, _, err = run(capsys, "ask", "rivers", "--index", index, "--filter", "colour=red")
    assert code == 2 and "unknown filter key 'colour'" in err and "Traceback" not in err
    code, _, err = run(capsys, "search", "rivers", "--index", index, "--filter", "kind")
    assert code == 2 and "--filter takes KEY=VALUE" in err
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "1", "question": "Where is Mount Etna?", "evidence": "Mount Etna is an active volcano"}) + "\n")
    code, out, _ = run(capsys, "eval", questions, "--index", index, "--filter", "kind=markdown", "--json", "-q")
    assert code == 0 and json.loads(out)["hit@10"]["value"] == 0.0  # the evidence is in a JSONL record, filtered out
    code, out, _ = run(capsys, "eval", questions, "--index", index, "--filter", "kind=jsonl", "--json", "-q")
    assert code == 0 and json.loads(out)["hit@1"]["value"] == 1.0
