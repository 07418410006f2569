import numpy as np
import pytest

from qa import QA, InputError
from qa.retrieval.hybrid import SearchSettings
from tests.helpers import write

TEXT = "Widgets are rotated every night by the scheduler, which keeps seven days of widget history."


@pytest.fixture
def twin_qa(tmp_path, hashing_embedder):
    """The same passage text twice: once opening a Markdown section, once inside a plain text file."""
    write(tmp_path / "docs" / "a.md", f"# Widgets\n\n## Rotation\n\n{TEXT}\n")
    write(tmp_path / "docs" / "b.txt", f"{TEXT}\n")
    return QA.build([tmp_path / "docs"], embedder=hashing_embedder, context=False)


def test_section_starts_match_the_documents(twin_qa):
    contents = twin_qa._contents
    flags = contents.section_starts
    assert flags.dtype == bool and len(flags) == len(contents.passages)
    for row, passage in enumerate(contents.passages):
        assert flags[row] == contents.documents[passage.source].starts_section(passage.start)
    assert flags.any() and not flags.all()


def test_a_passage_that_opens_a_section_gets_the_bonus(twin_qa):
    question = "How often are widgets rotated?"
    with_bonus = {h.passage.id: h for h in twin_qa.search(question, k=10)}
    without = {h.passage.id: h.score for h in twin_qa.search(question, k=10, section_start_bonus=0)}
    flags = twin_qa._contents.section_starts
    rows = {p.id: row for row, p in enumerate(twin_qa._contents.passages)}
    assert set(with_bonus) == set(without)
    for passage_id, hit in with_bonus.items():
        expected = SearchSettings().section_start_bonus if flags[rows[passage_id]] else 0.0
        assert hit.score - without[passage_id] == pytest.approx(expected, abs=1e-6), hit.passage.text
    sectioned = next(h for h in with_bonus.values() if h.passage.source.endswith("a.md") and TEXT in h.passage.text)
    plain = next(h for h in with_bonus.values() if h.passage.source.endswith("b.txt"))
    assert flags[rows[sectioned.passage.id]] and not flags[rows[plain.passage.id]]
    assert sectioned.rank < plain.rank


def test_the_bonus_is_a_number_at_least_zero():
    assert SearchSettings().with_overrides({"section_start_bonus": "0.05"}).section_start_bonus == 0.05
    with pytest.raises(InputError):
        SearchSettings(section_start_bonus=-0.1)
    assert np.isfinite(SearchSettings().section_start_bonus)
