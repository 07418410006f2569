import io

from qa import QA
from qa.progress import PeriodicLines, Progress, TerminalBar


def test_a_build_reports_reading_each_file_then_embedding_to_the_end(tiny_corpus, hashing_embedder):
    seen: list[Progress] = []
    qa = QA.build([tiny_corpus], embedder=hashing_embedder, progress=seen.append)
    reading = [p for p in seen if p.stage == "reading"]
    embedding = [p for p in seen if p.stage == "embedding"]
    assert seen.index(embedding[0]) > seen.index(reading[-1]), "files are read before anything is embedded"
    assert reading[0].done == 0 and reading[-1].done == reading[-1].total == 4
    assert {p.item for p in reading if p.item} == {"cats.txt", "rivers.md", "guide.html", "facts.jsonl"}
    assert embedding[-1].done == embedding[-1].total > len(qa.passages)  # passages and their sentences
    assert all(a.done <= b.done for a, b in zip(embedding, embedding[1:]))


def test_an_update_with_nothing_to_embed_reports_no_embedding_stage(tiny_corpus, hashing_embedder):
    qa = QA.build([tiny_corpus], embedder=hashing_embedder)
    seen: list[Progress] = []
    qa.add([tiny_corpus], progress=seen.append)
    assert {p.stage for p in seen} == {"reading"}


def test_eta_and_description():
    progress = Progress("reading", 3, 10, item="report.pdf", elapsed=12.0)
    assert progress.eta_seconds == 28.0
    assert progress.describe() == "reading 3 of 10 files (report.pdf), about 28 s left"
    assert Progress("reading", 10, 10, elapsed=5.0).describe() == "reading 10 of 10 files"


def test_periodic_lines_print_stage_starts_and_ends_only_when_quick():
    out = io.StringIO()
    lines = PeriodicLines(out, every=3600)
    for stage, total in (("reading", 3), ("embedding", 5)):
        for done in range(total + 1):
            lines(Progress(stage, done, total))
    assert out.getvalue().splitlines() == [
        "reading 0 of 3 files",
        "reading 3 of 3 files",
        "embedding 0 of 5 texts",
        "embedding 5 of 5 texts",
    ]
    assert "\r" not in out.getvalue()


def test_terminal_bar_shows_the_stage_and_the_item():
    out = io.StringIO()
    bar = TerminalBar(out)
    bar(Progress("reading", 0, 2))
    bar(Progress("reading", 1, 2, item="notes.md"))
    bar(Progress("reading", 2, 2, item="deck.pptx"))
    assert "Reading" in out.getvalue() and "2/2" in out.getvalue() and "deck.pptx" in out.getvalue()
