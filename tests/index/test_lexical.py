import math

import numpy as np
import pytest

from qa.index.lexical import BM25_B, BM25_K1, LexicalIndex

DOCS = [
    ["cat", "sat", "mat"],
    ["dog", "sat", "log", "dog"],
    ["cat", "dog", "friend"],
    ["bird", "flew"],
    [],
]


def brute_force_bm25(docs, query):
    n = len(docs)
    avgdl = sum(max(len(d), 1) for d in docs) / n
    scores = []
    for doc in docs:
        length = max(len(doc), 1)
        score = 0.0
        for term in query:
            df = sum(1 for d in docs if term in d)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = doc.count(term)
            score += idf * tf / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length / avgdl))
        scores.append(score)
    return np.array(scores)


@pytest.mark.parametrize("query", [["cat"], ["dog", "sat"], ["bird", "cat", "unknown"], ["dog", "dog"]])
def test_bm25_equals_brute_force(query):
    index = LexicalIndex.build(DOCS)
    scores, rows = index.search(query, k=10)
    expected = brute_force_bm25(DOCS, query)
    order = [i for i in np.argsort(-expected, kind="stable") if expected[i] > 0]
    assert rows.tolist() == order
    np.testing.assert_allclose(scores, expected[order], rtol=1e-5)
    assert index.max_score(query) >= scores.max()


def test_unknown_terms_and_empty_index():
    index = LexicalIndex.build(DOCS)
    scores, rows = index.search(["zebra"], k=5)
    assert len(rows) == 0
    empty = LexicalIndex.build([])
    assert len(empty.search(["cat"], k=5)[1]) == 0
    assert empty.max_score(["cat"]) == 0.0


def test_document_frequency_and_idf():
    index = LexicalIndex.build(DOCS)
    assert index.document_frequency("dog") == 2
    assert index.document_frequency("zebra") == 0
    assert index.term_idf("zebra") > index.term_idf("bird") > index.term_idf("dog")


def test_save_load_round_trip(tmp_path):
    index = LexicalIndex.build(DOCS)
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", size=len(DOCS))
    for query in (["cat"], ["dog", "sat"]):
        a, b = index.search(query, 5), loaded.search(query, 5)
        assert a[1].tolist() == b[1].tolist()
        np.testing.assert_allclose(a[0], b[0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 10, 100])
def test_top_k_positive_equals_a_full_sort(seed, k):
    from qa.index.lexical import top_k_positive

    rng = np.random.default_rng(seed)
    n = 60_000  # the sampled floor applies: stride n // (64 k) >= 2 up to k = 100
    scores = np.where(rng.random(n) < 0.6, 0.0, rng.random(n) * 10)
    scores[rng.integers(0, n, 50)] = 9.99  # ties near the top
    got = top_k_positive(scores, k)
    expected = sorted(np.flatnonzero(scores > 0), key=lambda r: (-scores[r], r))[:k]
    np.testing.assert_array_equal(scores[got], scores[expected])  # same scores, best first
    assert len(set(got.tolist())) == len(got) and np.all(scores[got] > 0)
    assert all(
        a < b for a, b, sa, sb in zip(got, got[1:], scores[got], scores[got][1:]) if sa == sb
    )  # ties by row
    sparse = np.zeros(n)
    sparse[[5, 70, 900]] = [1.0, 3.0, 2.0]  # fewer positives than the sample needs
    assert top_k_positive(sparse, k).tolist() == [70, 900, 5][:k]


def test_rows_with_is_the_posting_list():
    index = LexicalIndex.build(DOCS)
    for term in ("cat", "dog", "sat", "bird", "unknown"):
        assert index.rows_with(term).tolist() == [i for i, d in enumerate(DOCS) if term in d]
    assert LexicalIndex.build([]).rows_with("cat").tolist() == []



def test_known_form_of_a_term_is_itself_its_base_or_its_negation():
    index = LexicalIndex.build([["korea", "troop"], ["irrevoc", "licenc"], ["unlimit", "grant"], ["plant"]])
    assert index.known_form("troop") == "troop"
    assert index.known_form("korean") == "korea"  # two letters more than a word it uses
    assert index.known_form("revoc") == "irrevoc" and index.known_form("limit") == "unlimit"  # its negation
    assert index.known_form("unrevoc") == "irrevoc"  # another negation of it
    assert [index.known_form(t) for t in ("plan", "kor", "transfer")] == [None, None, None]  # too short, or nothing like it
