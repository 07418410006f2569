import numpy as np
import pytest

from embeddings import normalise_rows
from qa.dense import DenseIndex
from qa.errors import IndexFormatError


def test_faiss_search_equals_brute_force_numpy():
    rng = np.random.default_rng(0)
    vectors = normalise_rows(rng.normal(size=(2000, 48)))
    queries = normalise_rows(rng.normal(size=(25, 48)))
    index = DenseIndex.build(vectors)
    scores, rows = index.search(queries, k=10)
    brute = queries @ vectors.T
    for q in range(len(queries)):
        expected = np.argsort(-brute[q], kind="stable")[:10]
        assert rows[q].tolist() == expected.tolist()
        np.testing.assert_allclose(scores[q], brute[q][expected], rtol=1e-5, atol=1e-5)


def test_k_larger_than_index_is_clamped_and_empty_index_returns_nothing():
    index = DenseIndex.build(np.eye(3, dtype=np.float32))
    scores, rows = index.search(np.eye(3, dtype=np.float32)[:1], k=50)
    assert rows[0].tolist()[0] == 0 and len(rows[0]) == 3
    empty = DenseIndex.build(np.zeros((0, 8), dtype=np.float32), dim=8)
    assert len(empty) == 0 and empty.dim == 8
    scores, rows = empty.search(np.ones((1, 8), dtype=np.float32), k=5)
    assert len(rows[0]) == 0


def test_save_load_round_trip_and_vectors(tmp_path):
    vectors = normalise_rows(np.random.default_rng(1).normal(size=(50, 16)))
    DenseIndex.build(vectors).save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss")
    np.testing.assert_allclose(loaded.vectors(), vectors)
    mapped = DenseIndex.load(tmp_path / "d.faiss", mmap=True)
    assert len(mapped) == 50


def test_corrupt_file_raises_format_error(tmp_path):
    (tmp_path / "d.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexFormatError, match="corrupt"):
        DenseIndex.load(tmp_path / "d.faiss")
