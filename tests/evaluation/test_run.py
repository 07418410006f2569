import importlib.util
import json
import math
import random

import pytest

from qa import InputError
from qa.evaluation.relevance import evidence_coverage, normalize_tokens, supports
from qa.evaluation.run import (
    EvalQuestion,
    EvalResult,
    compare,
    evaluate,
    load_questions,
    sentence_matches_evidence,
)
from qa.types import Answer, Citation, Hit, Passage
from tests.helpers import SEED_QUESTIONS, SHARED, write


def _passage(pid, text, source="/d/a.txt"):
    return Passage(id=pid, doc_id="d", source=source, title="t", text=text, start=0, end=len(text))


class ListSystem:
    """A search system with fixed rankings per question (the evaluation is the unit under test)."""

    def __init__(self, rankings, passages, answers=None):
        self.rankings = rankings
        self._passages = passages
        self.answers = answers or {}

    @property
    def passages(self):
        return self._passages

    def search(self, question, k=10):
        return [Hit(p, 1.0 / r, r) for r, p in enumerate(self.rankings[question][:k], 1)]

    def ask(self, question):
        return self.answers[question]


def _reference_scorer():
    path = SHARED / "evalsets" / "score_run.py"
    if not path.exists():
        pytest.skip("the shared reference scorer is not present")
    spec = importlib.util.spec_from_file_location("score_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_relevance_rule_agrees_with_the_reference_scorer():
    ref = _reference_scorer()
    rng = random.Random(7)
    words = "python list dict the a of in to is run <b> </b> &amp; git add <file> [x](http://y) é".split()
    evidence = "Python is an interpreted, interactive, object-oriented programming language."
    cases = [
        ("<p>Python is an <em>interpreted</em>, interactive, object-oriented programming language.</p>", evidence),
        ("python is an interpreted interactive", evidence),
        ("run git add <file> now", "git add <file>"),
        ("Unicode ＴＥＸＴ", "unicode text"),
    ]
    for _ in range(300):
        a = " ".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        b = " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        cases.append((a, b))
    for passage, ev in cases:
        assert normalize_tokens(passage) == ref.normalize_tokens(passage)
        assert evidence_coverage(passage, ev) == pytest.approx(ref.evidence_coverage(passage, ev))
        assert supports(passage, ev) == ref.passage_supports_evidence(passage, ev)


def test_load_questions_formats(tmp_path):
    evidence = write(tmp_path / "e.jsonl", '{"id": "a", "question": "Q1?", "evidence": "x y z"}\n{"id": "b", "question": "Q2?", "evidence": null}\n')
    answers = write(tmp_path / "a.jsonl", '{"id": 1, "question": "Q?", "answers": ["Paris"]}\n{"id": 2, "question": "R?", "answers": []}\n')
    qs = load_questions(evidence)
    assert [(q.kind, q.answerable) for q in qs] == [("evidence", True), ("evidence", False)]
    qs = load_questions(answers)
    assert [(q.id, q.kind, q.answerable) for q in qs] == [("1", "answers", True), ("2", "answers", False)]

    beir = tmp_path / "beir"
    write(beir / "corpus.jsonl", '{"_id": "d1", "text": "alpha"}\n')
    write(beir / "queries.jsonl", '{"_id": "q1", "text": "what alpha"}\n{"_id": "q2", "text": "unjudged"}\n')
    write(beir / "qrels" / "test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    [q] = load_questions(beir)
    assert q.kind == "qrels" and q.relevant_docs == {"d1": 2}


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": "a", "question": "Q"}\n', "needs 'evidence'"),
        ("not json\n", "invalid JSON"),
        ('{"id": "a", "question": "Q", "evidence": "x"}\n{"id": "a", "question": "R", "evidence": "y"}\n', "duplicate question id"),
        ('{"id": "a", "evidence": "x"}\n', "no 'question'"),
        ("", "is empty"),
    ],
)
def test_load_questions_errors(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        load_questions(write(tmp_path / "q.jsonl", content))


def test_evaluate_metrics_by_hand():
    ev = "the quick brown fox jumps"
    rel = _passage("r", "intro the quick brown fox jumps over")
    rel2 = _passage("r2", "again: the quick brown fox jumps")
    no = [_passage(f"n{i}", f"unrelated text number {i}") for i in range(10)]
    passages = [rel, rel2] + no
    questions = [
        EvalQuestion(id="q1", question="first", evidence=ev),   # relevant at rank 2
        EvalQuestion(id="q2", question="second", evidence=ev),  # never found
        EvalQuestion(id="q3", question="third", evidence=None),  # unanswerable: excluded from retrieval metrics
    ]
    system = ListSystem(
        {"first": [no[0], rel, no[1]], "second": no[:10], "third": [rel]},
        passages,
    )
    result = evaluate(system, questions, k=10, answers=False)
    m = result.metrics
    assert m["questions"] == 3 and m["answerable"] == 2
    assert m["hit@1"]["value"] == 0.0
    assert m["hit@3"]["value"] == 0.5
    assert m["mrr@10"]["value"] == pytest.approx(0.25)
    # q1: DCG = 1/log2(3); two passages in the collection hold the evidence: IDCG = 1 + 1/log2(3).
    expected_ndcg = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["ndcg@10"]["value"] == pytest.approx(expected_ndcg / 2)
    q1 = result.questions[0]
    assert q1["rank"] == 2 and q1["n_relevant"] == 2
    assert m["hit@3"]["ci_low"] <= 0.5 <= m["hit@3"]["ci_high"]


def test_answer_and_abstention_metrics():
    ev = "the quick brown fox jumps"
    rel = _passage("r", "The quick brown fox jumps. Then it sleeps.")
    other = _passage("o", "Nothing here at all.")

    def cite(p, start, end):
        return Citation(1, p.id, "d", p.source, "t", p.text, 0, len(p.text), 1.0, start, end)

    answers = {
        "good": Answer("good", "x", citations=(cite(rel, 0, 26),), confidence=0.9),
        "wrong sentence": Answer("wrong sentence", "x", citations=(cite(rel, 27, 42),), confidence=0.8),
        "abstains": Answer("abstains", "x", abstained=True, confidence=0.1),
        "unanswerable abstains": Answer("unanswerable abstains", "x", abstained=True, confidence=0.05),
        "unanswerable answers": Answer("unanswerable answers", "x", citations=(cite(other, 0, 5),), confidence=0.6),
    }
    questions = [
        EvalQuestion(id="1", question="good", evidence=ev),
        EvalQuestion(id="2", question="wrong sentence", evidence=ev),
        EvalQuestion(id="3", question="abstains", evidence=ev),
        EvalQuestion(id="4", question="unanswerable abstains", evidence=None),
        EvalQuestion(id="5", question="unanswerable answers", evidence=None),
    ]
    system = ListSystem({q.question: [rel, other] for q in questions}, [rel, other], answers)
    m = evaluate(system, questions, k=2).metrics
    assert m["answered_with_evidence"] == pytest.approx(2 / 3)
    assert m["answer_sentence_accuracy"]["value"] == pytest.approx(1 / 3)
    assert m["abstention_precision"] == pytest.approx(1 / 2)
    assert m["abstention_recall"] == pytest.approx(1 / 2)
    assert m["false_abstention_rate"] == pytest.approx(1 / 3)
    assert m["ask_latency_p95_ms"] >= m["ask_latency_p50_ms"] >= 0


def test_qrels_count_each_document_once():
    d1a = _passage("1a", "x", source="/c.jsonl#d1")
    d1b = _passage("1b", "y", source="/c.jsonl#d1")
    d2 = _passage("2", "z", source="/c.jsonl#d2")
    q = EvalQuestion(id="q", question="q", relevant_docs={"d1": 1, "d2": 2, "d3": 1}, kind="qrels")
    system = ListSystem({"q": [d1a, d1b, d2]}, [d1a, d1b, d2])
    record = evaluate(system, [q], k=10, answers=False).questions[0]
    dcg = 1 + 0 + 2 / math.log2(4)
    idcg = 2 + 1 / math.log2(3) + 1 / math.log2(4)
    assert record["ndcg@10"] == pytest.approx(dcg / idcg)
    assert record["recall@10"] == pytest.approx(2 / 3)


def test_sentence_matches_evidence_both_ways():
    assert sentence_matches_evidence("Yes: the quick brown fox jumps today.", "quick brown fox jumps")
    assert sentence_matches_evidence("The quick brown fox jumps.", "The quick brown fox jumps. It then sleeps all day long.")
    assert not sentence_matches_evidence("Something else entirely here.", "The quick brown fox jumps.")


def test_save_writes_results_run_files_report_and_plots(tmp_path):
    rel = _passage("r", "the quick brown fox jumps")
    system = ListSystem({"q": [rel]}, [rel])
    result = evaluate(system, [EvalQuestion(id="q1", question="q", evidence="quick brown fox jumps")], k=5, answers=False)
    paths = result.save(tmp_path / "out")
    data = json.loads(paths["results"].read_text())
    assert set(data) == {"settings", "metrics", "questions"}
    assert data["metrics"]["hit@1"] == {"value": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    assert paths["run"].read_text().split() == ["q1", "Q0", "r", "1", "1.000000", "grounded-qa"]
    assert json.loads(paths["run_jsonl"].read_text()) == {"id": "q1", "passages": ["the quick brown fox jumps"]}
    assert paths["hit_curve"].stat().st_size > 1000 and paths["latency"].exists()
    report = paths["report"].read_text()
    assert "| hit@1 | 1.0000 |" in report and "hit_at_k.png" in report
    assert EvalResult.load(paths["results"]).value("hit@1") == 1.0


def test_compare_reports_differences_and_p_values():
    good = EvalResult({}, {}, [{"id": str(i), "answerable": True, "hit@1": 1.0, "hit@5": 1.0, "hit@10": 1.0, "rr@10": 1.0, "ndcg@10": 1.0} for i in range(30)])
    bad = EvalResult({}, {}, [{"id": str(i), "answerable": True, "hit@1": 0.0, "hit@5": 0.0, "hit@10": 1.0, "rr@10": 0.2, "ndcg@10": 0.3} for i in range(30)])
    rows = {r["metric"]: r for r in compare(good, bad)}
    assert rows["hit@1"]["difference"] == 1.0 and rows["hit@1"]["p_value"] < 0.001
    assert rows["hit@10"]["difference"] == 0.0 and rows["hit@10"]["p_value"] == 1.0
    with pytest.raises(InputError, match="share no answerable"):
        compare(good, EvalResult({}, {}, [{"id": "x", "answerable": True}]))


def test_seed_evaluation_matches_reference_scorer(seed_qa, tmp_path):
    ref = _reference_scorer()
    result = seed_qa.evaluate(str(SEED_QUESTIONS), k=10)
    paths = result.save(tmp_path / "seed-eval")
    questions = [q for q in ref.load_jsonl(SEED_QUESTIONS) if q["evidence"]]
    reference = ref.score(questions, ref.load_jsonl(paths["run_jsonl"]))
    for k in (1, 3, 5, 10):
        assert result.metrics[f"hit@{k}"]["value"] == pytest.approx(reference[f"hit@{k}"], abs=1e-4)
    assert result.metrics["mrr@10"]["value"] == pytest.approx(reference["MRR@10"], abs=1e-4)
    assert result.metrics["abstention_recall"] == 1.0 and result.metrics["false_abstention_rate"] <= 1 / 12  # seed-10 sits at the threshold (tests/test_integration_seed.py)


CALIBRATION_UNANSWERABLE = [
    "How many North Korean soldiers have been killed in Ukraine?",
    "When did the first North Korean troops arrive in Russia?",
    "Who is the NATO Secretary General?",
    "What sanctions did the European Union impose on North Korea?",
    "How did China react to the deployment?",
    "What did the South Korean president say about the troops?",
    "How many NATO members signed the statement?",
    "Where will the next NATO summit take place?",
    "How many missiles were fired at Ukrainian cities last winter?",
    "What is the population of New Zealand?",
    "Who won the football world cup in 2022?",
]


def _calibration_set(path, unanswerable):
    rows = [json.loads(line) for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["evidence"]] + [{"id": f"u{i}", "question": q, "evidence": None} for i, q in enumerate(unanswerable)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_eval_command_writes_report_and_calibrates(seed_index, tmp_path, capsys):
    import shutil

    from qa import QA
    from qa.answers.calibration import DEFAULT_CALIBRATION
    from qa.cli import main

    index = tmp_path / "idx"
    shutil.copytree(seed_index, index)
    questions = _calibration_set(tmp_path / "cal.jsonl", CALIBRATION_UNANSWERABLE)
    out = tmp_path / "report"
    code = main(["eval", str(questions), "--index", str(index), "--out", str(out), "--calibrate", "-q"])
    printed = capsys.readouterr().out
    assert code == 0 and "hit@5" in printed and "calibrated the confidence on 23 questions" in printed
    assert (out / "report.md").exists() and (out / "confidence.png").exists() and (out / "risk_coverage.png").exists()
    saved = json.loads((index / "manifest.json").read_text())["query_defaults"]["calibration"]
    assert saved["fitted_on"].endswith("(23 questions)") and len(saved["coefficients"]) == len(saved["features"])
    reloaded = QA.load(index)
    assert reloaded.calibration != DEFAULT_CALIBRATION and reloaded.calibration.to_dict() == saved
    # The refitted model separates this set's questions (it was fitted on them).
    result = reloaded.evaluate(str(questions), k=5)
    assert result.metrics["confidence_auroc"] > 0.9
    code = main(["eval", str(SEED_QUESTIONS), "--index", str(index), "--compare", str(out / "results.json"), "--no-answers", "-q", "--set", "mode=dense"])
    assert code == 0 and "p=" in capsys.readouterr().out


def test_calibration_refuses_a_set_without_enough_unanswerable_questions(seed_index, tmp_path, capsys):
    import shutil

    from qa.cli import main

    index = tmp_path / "idx"
    shutil.copytree(seed_index, index)
    before = (index / "manifest.json").read_bytes()
    questions = _calibration_set(tmp_path / "few.jsonl", CALIBRATION_UNANSWERABLE[:4])
    assert main(["eval", str(questions), "--index", str(index), "--calibrate", "-q"]) == 2
    err = capsys.readouterr().err
    assert "at least 10 answerable and 10 unanswerable" in err and "has 12 answerable and 4 unanswerable" in err
    assert main(["eval", str(SEED_QUESTIONS), "--index", str(index), "--calibrate", "-q"]) == 2
    assert "has 12 answerable and 3 unanswerable" in capsys.readouterr().err
    assert (index / "manifest.json").read_bytes() == before  # a refused calibration changes nothing


def test_report_lists_worst_answers_misses_and_confident_unanswerable(tmp_path):
    ev = "the quick brown fox jumps over the lazy dog"
    rel = _passage("r", "Intro here. The quick brown fox jumps over the lazy dog.")
    other = _passage("o", "Nothing | here <img src=x> at all.")

    def cite(p, start, end):
        return Citation(1, p.id, "d", p.source, "t", p.text, 0, len(p.text), 1.0, start, end)

    answers = {
        "right": Answer("right", "x", citations=(cite(rel, 12, 56),), confidence=0.9),
        "wrong lead": Answer("wrong lead", "x", citations=(cite(rel, 0, 11),), confidence=0.8),
        "missed": Answer("missed", "x", citations=(cite(other, 0, 12),), confidence=0.7),
        "unanswerable": Answer("unanswerable", "x", citations=(cite(other, 0, 35),), confidence=0.6),
    }
    questions = [
        EvalQuestion(id="1", question="right", evidence=ev),
        EvalQuestion(id="2", question="wrong lead", evidence=ev),
        EvalQuestion(id="3", question="missed", evidence="a phrase found nowhere in any passage"),
        EvalQuestion(id="4", question="unanswerable", evidence=None),
    ]
    rankings = {"right": [rel], "wrong lead": [rel], "missed": [other], "unanswerable": [other]}
    result = evaluate(ListSystem(rankings, [rel, other], answers), questions, k=1)
    assert result.metrics["confidence_auroc"] == pytest.approx(1.0)
    assert result.metrics["answer_words_mean"] == pytest.approx((9 + 2 + 3) / 3)  # "Nothing | he" is 3 words
    paths = result.save(tmp_path / "out")
    report = paths["report"].read_text()
    worst = report.split("## Worst answers", 1)[1].split("##", 1)[0]
    assert "| 2 | wrong lead | the quick brown fox" in worst and "| Intro here. | 1 | 0.80 |" in worst
    assert "| 1 | right |" not in worst
    assert "## Misses: no supporting passage in the top k (1)" in report and "none in top 1" in report
    confident = report.split("## Unanswerable questions that were answered (1", 1)[1]
    assert "Nothing \\| here &lt;img src=x&gt; at all." in confident and "<img" not in report
    assert paths["risk_coverage"].exists()
