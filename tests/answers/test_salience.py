from hypothesis import given
from hypothesis import strategies as st

from qa.answers.salience import coverage, term_weights


def brute_force_coverage(weights, terms):
    def related(a, b):
        shorter, longer = sorted((a, b), key=len)
        return len(shorter) >= 4 and len(longer) - len(shorter) <= 3 and longer.startswith(shorter) and not a.isdigit() and not b.isdigit()

    total = sum(weights.values())
    covered = sum(w for t, w in weights.items() if t in terms or any(related(t, o) for o in terms))
    return covered / total if total > 0 else 0.0


words = st.text(alphabet="abkor12", min_size=1, max_size=8)


@given(st.dictionaries(words, st.floats(min_value=0.1, max_value=4.0), max_size=6), st.sets(words, max_size=12))
def test_coverage_equals_brute_force(weights, terms):
    assert abs(coverage(weights, terms) - brute_force_coverage(weights, terms)) < 1e-12


def test_specific_words_weigh_more_than_common_ones():
    weights = term_weights("How many tanks did Germany deliver?")
    assert weights["tank"] > weights["mani"] and coverage(weights, {"tank", "germani"}) > coverage(weights, {"mani", "deliv"})
    assert coverage({"korean": 1.0}, {"korea"}) == 1.0 and coverage({}, {"x"}) == 0.0
