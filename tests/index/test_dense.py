import numpy as np
import pytest

from embeddings import normalise_rows
from qa.errors import IndexFormatError
from qa.index.dense import DenseIndex


def test_exact_search_equals_a_brute_force_argsort():
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


def test_hnsw_recall_against_exact_search():
    rng = np.random.default_rng(5)
    centers = rng.normal(size=(50, 32))
    vectors = normalise_rows(centers[rng.integers(0, 50, 5000)] + 0.3 * rng.normal(size=(5000, 32)))
    queries = normalise_rows(centers[rng.integers(0, 50, 50)] + 0.3 * rng.normal(size=(50, 32)))
    exact = DenseIndex.build(vectors, kind="flat")
    graph = DenseIndex.build(vectors, kind="hnsw")
    assert exact.kind == "flat" and graph.kind == "hnsw"
    _, exact_rows = exact.search(queries, k=10)
    scores, graph_rows = graph.search(queries, k=10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact_rows, graph_rows)])
    assert recall >= 0.95
    brute = queries @ vectors.T
    for q in range(len(queries)):  # HNSW-Flat scores are exact inner products
        np.testing.assert_allclose(scores[q], brute[q][graph_rows[q]], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(graph.vectors_of([3, 7]), vectors[[3, 7]], atol=1e-6)


def test_extended_copy_leaves_the_original_alone():
    rng = np.random.default_rng(2)
    base = normalise_rows(rng.normal(size=(200, 16)))
    more = normalise_rows(rng.normal(size=(20, 16)))
    for kind in ("flat", "hnsw", "hnsw-sq8"):
        index = DenseIndex.build(base, kind=kind)
        bigger = index.extended(more)
        assert len(index) == 200 and len(bigger) == 220 and bigger.kind == kind
        _, rows = bigger.search(more[:1], k=1)
        assert rows[0][0] == 200


def test_auto_kind_by_size():
    from qa.index.dense import HNSW_SQ8_THRESHOLD, HNSW_THRESHOLD, resolve_kind

    assert resolve_kind("auto", HNSW_THRESHOLD - 1) == "flat"
    assert resolve_kind("auto", HNSW_THRESHOLD) == "hnsw"
    assert resolve_kind("auto", HNSW_SQ8_THRESHOLD - 1) == "hnsw"
    assert resolve_kind("auto", HNSW_SQ8_THRESHOLD) == "hnsw-sq8"
    assert resolve_kind("hnsw", 10**7) == "hnsw"
    assert resolve_kind("flat", 10**7) == "flat"
    with pytest.raises(ValueError):
        resolve_kind("ivf", 10)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "hnsw-sq8"])
def test_memory_mapped_index_searches_alike_and_extends_without_touching_its_file(tmp_path, kind):
    rng = np.random.default_rng(3)
    vectors = normalise_rows(rng.normal(size=(1500, 32)))
    built = DenseIndex.build(vectors, kind=kind)
    path = tmp_path / "dense.faiss"
    built.save(path)
    before = path.read_bytes()
    mapped = DenseIndex.load(path, mmap=True)
    assert mapped.kind == kind
    queries = vectors[:20]
    for got, expected in zip(mapped.search(queries, 10)[1], built.search(queries, 10)[1]):
        assert got.tolist() == expected.tolist()
    # Adding to a mapped index must copy it first: FAISS aborts the process on a write to a view.
    grown = mapped.extended(vectors[:5] * -1)
    assert len(grown) == 1505 and len(mapped) == 1500
    assert grown.search(-vectors[:1], 1)[1][0].tolist() == [1500]
    assert path.read_bytes() == before
    if kind == "hnsw-sq8":
        np.testing.assert_allclose(grown.vectors_of([1500]), -vectors[:1], atol=1e-3)


def clustered(seed: int, n: int, dim: int = 32):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(50, dim))
    vectors = normalise_rows(centers[rng.integers(0, 50, n)] + 0.3 * rng.normal(size=(n, dim)))
    queries = normalise_rows(centers[rng.integers(0, 50, 50)] + 0.3 * rng.normal(size=(50, dim)))
    return vectors, queries


def test_sq8_graph_reranks_with_exact_vectors():
    vectors, queries = clustered(6, 5000)
    index = DenseIndex.build(vectors, kind="hnsw-sq8")
    assert index.kind == "hnsw-sq8"
    scores, rows = index.search(queries, k=10)
    brute = queries @ vectors.T
    exact_rows = [np.argsort(-b, kind="stable")[:10] for b in brute]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact_rows, rows)])
    assert recall >= 0.95
    for q in range(len(queries)):
        # Scores come from the float16 copy of the vectors, not the 8-bit codes: near-exact and
        # in descending order.
        np.testing.assert_allclose(scores[q], brute[q][rows[q]], atol=2e-3)
        assert np.all(np.diff(scores[q]) <= 0)
    np.testing.assert_allclose(index.vectors(), vectors, atol=1e-3)


def test_sq8_exact_vectors_are_checked_on_load(tmp_path):
    vectors, _ = clustered(7, 300)
    path = tmp_path / "dense.faiss"
    DenseIndex.build(vectors, kind="hnsw-sq8").save(path)
    exact = DenseIndex.exact_vectors_path(path)
    assert exact.name == "dense_vectors.npy" and exact.exists()
    assert DenseIndex.load(path).kind == "hnsw-sq8"
    np.save(exact, np.zeros((10, 32), dtype=np.float16))
    with pytest.raises(IndexFormatError, match=r"expected float16 \(300, 32\)"):
        DenseIndex.load(path)
    exact.unlink()
    with pytest.raises(IndexFormatError, match="missing or unreadable"):
        DenseIndex.load(path)


def test_an_sq8_index_learns_its_ranges_again_when_it_more_than_doubles():
    vectors, queries = clustered(8, 400)
    empty = DenseIndex.build(np.zeros((0, 32), dtype=np.float32), dim=32, kind="hnsw-sq8")
    first = empty.extended(vectors[:100])  # an empty 8-bit index is untrained: FAISS refuses adds
    assert first.kind == "hnsw-sq8" and len(first) == 100
    grown = first.extended(vectors[100:])
    assert len(grown) == 400
    _, rows = grown.search(vectors[250:251], k=1)
    assert rows[0].tolist() == [250]
    np.testing.assert_allclose(grown.vectors(), vectors, atol=1e-3)


@pytest.mark.parametrize("kind", ["hnsw", "hnsw-sq8"])
def test_a_broad_filter_on_a_graph_is_searched_in_the_graph_with_the_recall_of_an_unfiltered_search(kind):
    rng = np.random.default_rng(7)
    vectors = normalise_rows(rng.normal(size=(4000, 32)).astype(np.float32))
    index = DenseIndex.build(vectors, kind=kind)
    found = total = 0
    for share in (0.3, 0.6, 0.9):
        for _ in range(20):
            allowed = rng.random(len(vectors)) < share
            query = normalise_rows(rng.normal(size=(1, 32)).astype(np.float32))[0]
            truth = np.flatnonzero(allowed)[np.argsort(-(vectors[allowed] @ query), kind="stable")[:10]]
            walked = index._graph_search_among(query, allowed, int(allowed.sum()), 10)
            assert len(walked) == 20 and allowed[walked].all()  # the walk itself keeps to the filter
            scores, rows = index.search_among(query, allowed, 10, exact_limit=100)  # the graph path
            assert allowed[rows].all() and len(rows) == 10
            assert np.all(np.diff(scores) <= 1e-6)
            np.testing.assert_allclose(scores, vectors[rows] @ query, atol=2e-3)  # re-scored exactly
            found += len(set(rows.tolist()) & set(truth.tolist()))
            total += 10
    assert found / total >= 0.95
    # Within the exact limit the same call is brute force.
    allowed = rng.random(len(vectors)) < 0.3
    query = vectors[0]
    _, rows = index.search_among(query, allowed, 10)
    expected = np.flatnonzero(allowed)[np.lexsort((np.flatnonzero(allowed), -(vectors[allowed] @ query)))[:10]]
    assert rows.tolist() == expected.tolist()


@pytest.mark.parametrize("kind", ["flat", "hnsw", "hnsw-sq8"])
def test_an_index_added_block_by_block_is_the_index_built_at_once(kind):
    rng = np.random.default_rng(3)
    vectors = normalise_rows(rng.normal(size=(700, 16))).astype(np.float32)
    queries = normalise_rows(rng.normal(size=(10, 16))).astype(np.float32)
    whole = DenseIndex.build(vectors, kind=kind)
    blocks = DenseIndex.from_blocks(iter([vectors[:256], vectors[256:256], vectors[256:]]), count=len(vectors), dim=16, kind=kind)
    assert blocks.kind == whole.kind == kind and len(blocks) == len(vectors)
    np.testing.assert_array_equal(blocks.vectors(), whole.vectors())
    assert [r.tolist() for r in blocks.search(queries, k=5)[1]] == [r.tolist() for r in whole.search(queries, k=5)[1]]
    empty = DenseIndex.from_blocks(iter([]), count=0, dim=16)
    assert len(empty) == 0 and empty.dim == 16
