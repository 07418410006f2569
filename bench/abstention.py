"""Abstention on a large corpus: pyfaq's 157 answerable questions and 20 questions the Python
documentation cannot answer (bench/data/pyfaq_unanswerable.jsonl: general knowledge and
neighbouring tools). The off-topic set was written by hand for this check; the threshold was not
tuned on it.

    python bench/abstention.py --index data/indexes/pyfaq
"""

from __future__ import annotations

import argparse

from common import PYFAQ, ROOT, save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=str(ROOT / "data" / "indexes" / "pyfaq"))
    args = parser.parse_args()

    from qa import QA
    from qa.evaluation import load_questions

    qa = QA.load(args.index)
    rows = []
    for name, path in (("pyfaq (answerable)", PYFAQ / "questions.jsonl"), ("off-topic (unanswerable)", ROOT / "bench" / "data" / "pyfaq_unanswerable.jsonl")):
        for q in load_questions(path):
            answer = qa.ask(q.question)
            rows.append({"set": name, "id": q.id, "answerable": q.answerable, "abstained": answer.abstained, "confidence": answer.confidence})
    summary = {}
    for name in ("pyfaq (answerable)", "off-topic (unanswerable)"):
        group = [r for r in rows if r["set"] == name]
        correct = sum(r["abstained"] != r["answerable"] for r in group)
        summary[name] = {"questions": len(group), "correct": correct}
        verb = "answered" if group[0]["answerable"] else "abstained on"
        print(f"{name:28} {verb} {correct}/{len(group)}")
    threshold = qa.answer_settings.abstain_threshold
    print(f"(abstain_threshold {threshold})")
    save("abstention", {"threshold": threshold, "summary": summary, "questions": rows})


if __name__ == "__main__":
    main()
