"""Abstention on a large corpus: pyfaq's 157 answerable questions against questions the Python
documentation cannot answer:

* bench/data/pyfaq_unanswerable_fit.jsonl and _heldout.jsonl: plausible, on-topic questions about
  tools and versions the docs never mention (key terms checked absent: bench/check_unanswerable.py);
  the default confidence model was fitted on the first half only (bench/fit_calibration.py);
* bench/data/pyfaq_unanswerable.jsonl: 20 off-topic questions (general knowledge, neighbouring
  tools), never used for fitting.

    python bench/abstention.py --index data/indexes/pyfaq
"""

from __future__ import annotations

import argparse

from common import PYFAQ, ROOT, save

SETS = {
    "pyfaq (answerable)": PYFAQ / "questions.jsonl",
    "absent, fitting half": ROOT / "bench" / "data" / "pyfaq_unanswerable_fit.jsonl",
    "absent, held-out half": ROOT / "bench" / "data" / "pyfaq_unanswerable_heldout.jsonl",
    "off-topic": ROOT / "bench" / "data" / "pyfaq_unanswerable.jsonl",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=str(ROOT / "data" / "indexes" / "pyfaq"))
    args = parser.parse_args()

    from qa import QA
    from qa.evaluation import metrics as M
    from qa.evaluation.run import load_questions

    qa = QA.load(args.index)
    rows = []
    for name, path in SETS.items():
        for q in load_questions(path):
            answer = qa.ask(q.question)
            rows.append({"set": name, "id": q.id, "answerable": q.answerable, "abstained": answer.abstained, "confidence": answer.confidence})
    summary = {}
    for name in SETS:
        group = [r for r in rows if r["set"] == name]
        correct = sum(r["abstained"] != r["answerable"] for r in group)
        summary[name] = {"questions": len(group), "correct": correct}
        verb = "answered" if group[0]["answerable"] else "declined"
        print(f"{name:24} {verb} {correct}/{len(group)} ({correct / len(group):.1%})")
    for name in list(SETS)[1:]:
        group = [r for r in rows if r["set"] in (name, "pyfaq (answerable)")]
        summary[name]["auroc"] = M.auroc([r["confidence"] for r in group], [r["answerable"] for r in group])
        print(f"AUROC pyfaq vs {name}: {summary[name]['auroc']:.3f}")
    threshold = qa.answer_settings.abstain_threshold
    print(f"(abstain_threshold {threshold})")
    save("abstention", {"threshold": threshold, "summary": summary, "questions": rows})


if __name__ == "__main__":
    main()
