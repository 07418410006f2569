"""Metadata filters: applied before the top k, equal to brute force, refused when malformed."""

import json
import os
import random

import numpy as np
import pytest

from qa import QA, InputError
from qa.retrieval.filters import describe
from tests.helpers import pdf_bytes, write

TOPICS = ["rivers", "volcanoes", "bread", "cats", "glaciers", "trains"]


@pytest.fixture
def library(tmp_path, hashing_embedder):
    """A folder of many small documents of several kinds, in two subfolders, with metadata."""
    rng = random.Random(7)
    docs = tmp_path / "docs"
    for i in range(24):
        topic = TOPICS[i % len(TOPICS)]
        sentences = " ".join(f"Note {i}.{j} about {topic} and {rng.choice(TOPICS)} in region {rng.randint(1, 9)}." for j in range(12))
        folder = docs / ("archive" if i % 3 == 0 else "current")
        if i % 4 == 0:
            write(folder / f"n{i}.md", f"# {topic.title()} {i}\n\n## Part A\n\n{sentences}\n\n## Part B\n\n{sentences[::-1]}\n")
        elif i % 4 == 1:
            write(folder / f"n{i}.txt", f"{topic} {i}\n\n{sentences}")
        elif i % 4 == 2:
            write(folder / f"n{i}.html", f"<html><head><title>{topic} {i}</title></head><body><main><h1>{topic}</h1><p>{sentences}</p></main></body></html>")
        else:
            (folder / f"n{i}.pdf").parent.mkdir(parents=True, exist_ok=True)
            (folder / f"n{i}.pdf").write_bytes(pdf_bytes(f"Page one of {topic} {i} about region {i % 5}.", f"Page two of {topic} {i} about {rng.choice(TOPICS)}."))
    records = [{"id": f"r{i}", "text": f"Record {i} about {TOPICS[i % 6]} by author {'Ann' if i % 2 else 'Bob'}.", "author": "Ann" if i % 2 else "Bob", "year": 2020 + i % 3} for i in range(12)]
    write(docs / "current" / "records.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    old = docs / "archive" / "n0.md"
    os.utime(old, (1_600_000_000, 1_600_000_000))  # 2020-09-13
    return docs


def _random_filter(rng, qa):
    options = [
        {"kind": rng.choice(["pdf", "markdown", "text", "html", "jsonl"])},
        {"kind": rng.sample(["pdf", "markdown", "text", "html", "jsonl"], 2)},
        {"folder": rng.choice(["archive", "current", "*/arch*"])},
        {"source": rng.choice(["*.md", "n1*.txt", "current/*", "records.jsonl#r*"])},
        {"author": rng.choice(["Ann", "Bob", ["Ann", "Bob"]])},
        {"year": rng.choice([2020, 2021, [2021, 2022]])},
        {"page": rng.choice([1, 2, [1, 2], {"from": 2}])},
        {"section": rng.choice(["Part A", "*Part B", "Rivers*"])},
        {"title": rng.choice(["rivers*", "*1*", "Record*"])},
        {"modified": {"after": "2021-01-01"}},
    ]
    chosen = {}
    for option in rng.sample(options, rng.choice([1, 1, 2])):
        chosen.update(option)
    return chosen


def _brute_force(qa, question, filters, k):
    """Every passage scored (candidates = all), then the ones that match, best first."""
    everything = qa.search(question, k=len(qa), candidates=len(qa))
    mask = qa._filter_mask(qa._contents, filters)
    rows = {p.id: i for i, p in enumerate(qa._contents.passages)}
    return [(h.passage.id, round(h.score, 5)) for h in everything if mask[rows[h.passage.id]]][:k]


@pytest.mark.parametrize("dense_index", ["flat", "hnsw"])
def test_filtered_search_equals_brute_force_on_200_random_filters(library, tmp_path, hashing_embedder, dense_index):
    qa = QA.build([library], index_dir=tmp_path / f"idx-{dense_index}", embedder=hashing_embedder, dense_index=dense_index)
    assert qa._contents.dense.kind == dense_index
    rng = random.Random(11)
    compared = matched_nothing = 0
    for _ in range(200):
        filters = _random_filter(rng, qa)
        question = f"{rng.choice(TOPICS)} in region {rng.randint(1, 9)}"
        got = [(h.passage.id, round(h.score, 5)) for h in qa.search(question, k=5, filters=filters, candidates=len(qa))]
        assert got == _brute_force(qa, question, filters, 5), filters
        compared += 1
        matched_nothing += not got
    assert compared == 200 and matched_nothing < 100  # most filters match something


def test_filters_apply_before_the_top_k(library, tmp_path, hashing_embedder):
    qa = QA.build([library], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    question = "bread in region 3"
    unfiltered = qa.search(question, k=5, candidates=5)
    assert not any(h.passage.source.endswith(".pdf") for h in unfiltered)  # PDFs are not among the best
    hits = qa.search(question, k=5, candidates=5, filters={"kind": "pdf"})
    assert len(hits) == 5 and all(h.passage.source.endswith(".pdf") for h in hits)
    assert all(h.passage.page is not None for h in hits)
    only_page_two = qa.search(question, k=3, filters={"kind": "pdf", "page": 2})
    assert only_page_two and all(h.passage.page == 2 for h in only_page_two)
    ann = qa.search("record", k=20, filters={"author": "Ann"})
    assert ann and all(qa._contents.documents[h.passage.source].metadata["author"] == "Ann" for h in ann)
    recent = {h.passage.source for h in qa.search("rivers", k=50, filters={"modified": {"before": "2021-01-01"}})}
    assert recent == {d.source for d in qa.documents if d.source.endswith("archive/n0.md")}


def test_a_filter_that_matches_nothing_gives_no_hits_and_no_answer(library, tmp_path, hashing_embedder):
    qa = QA.build([library], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    assert qa.search("rivers", filters={"kind": "docx"}) == []
    answer = qa.ask("Which rivers are there?", filters={"kind": "docx", "folder": "archive"})
    assert answer.abstained and not answer.citations
    assert answer.text == "No indexed passage matches the filters (kind = docx, folder = archive)."


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"colour": "red"}, "unknown filter key 'colour'; this index knows: source, folder, kind, title, section, page, modified, author, id, year"),
        ({"kind": 3}, "filter 'kind' takes text or a list of texts"),
        ({"kind": []}, "filter 'kind' takes text or a list of texts"),
        ({"page": "two"}, "filter 'page' takes a page number"),
        ({"page": {"from": 1, "upto": 3}}, "filter 'page' takes a page number"),
        ({"page": True}, "filter 'page' takes a page number"),
        ({"modified": "2024"}, "filter 'modified' takes {'after'"),
        ({"modified": {"after": "yesterday"}}, "filter 'modified' takes ISO dates"),
        ({"author": {"name": "Ann"}}, "filter 'author' takes a value or a list of values"),
        (["kind", "pdf"], "filters must be a mapping"),
    ],
)
def test_a_malformed_filter_is_refused_naming_what_is_wrong(library, tmp_path, hashing_embedder, filters, message):
    qa = QA.build([library], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    with pytest.raises(InputError) as refused:
        qa.search("rivers", filters=filters)
    assert message in str(refused.value)
    assert qa.filter_keys()[:7] == ["source", "folder", "kind", "title", "section", "page", "modified"]


def test_describe_names_each_filter():
    assert describe({"kind": "pdf", "page": {"from": 2, "to": 4}, "author": ["Ann", "Bob"]}) == "kind = pdf, page {from: 2, to: 4}, author in [Ann, Bob]"
    assert np.array_equal(np.flatnonzero(np.array([True, False, True])), [0, 2])


def test_markdown_front_matter_fields_are_filters(tmp_path, hashing_embedder):
    docs = tmp_path / "notes"
    write(docs / "owls.md", "---\ntitle: Owls\nauthor: Ann\ntags: [birds, night]\ndate: 2024-05-01\n---\n\nOwls hunt at night and sleep by day.\n")
    write(docs / "bees.md", "---\nauthor: Bob\ntags: [insects]\n---\n\nBees collect nectar by day and sleep at night.\n")
    write(docs / "plain.md", "# Plain\n\nNothing special sleeps here at night.\n")
    write(docs / "broken.md", "---\nauthor: [unclosed\n---\n\nBroken front matter still indexes the text at night.\n")
    qa = QA.build([docs], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    sources = lambda filters: sorted({os.path.basename(h.passage.source) for h in qa.search("night", k=10, filters=filters)})  # noqa: E731
    assert sources({"author": "ann"}) == ["owls.md"]
    assert sources({"tags": "night"}) == ["owls.md"] and sources({"tags": ["insects", "night"]}) == ["bees.md", "owls.md"]
    assert sources({"date": "2024-05-01"}) == ["owls.md"]
    assert {"author", "tags", "date", "title"} <= set(qa.filter_keys())
    broken = next(d for d in qa.documents if d.source.endswith("broken.md"))
    assert broken.metadata == {} and "Broken front matter" in broken.text


def test_a_filter_s_rows_are_computed_once_per_index_contents_and_never_shared_for_writing(library, tmp_path, hashing_embedder):
    qa = QA.build([library], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    spec = {"kind": "pdf", "source": ["*/a*", "*.pdf"]}
    first = qa._filter_mask(qa._contents, spec)
    assert qa._filter_mask(qa._contents, {"source": ["*/a*", "*.pdf"], "kind": "pdf"}) is first  # same filter, any key order
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = not first[0]
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "added.txt").write_text("Bread rises in region 9 when the dough is warm.", encoding="utf-8")
    qa.add([extra])
    again = qa._filter_mask(qa._contents, spec)
    assert again is not first and len(again) == len(qa)  # the index changed: computed anew
    assert qa.search("bread region 9", k=3, filters={"source": "*added.txt"})[0].passage.source.endswith("added.txt")
