"""Questions over plain-text documents as people have them: four licence texts (Apache 2.0, MPL
2.0, GPL 3, LGPL 3, copied from Debian's ``/usr/share/common-licenses``: hard-wrapped, indented
paragraphs, numbered headings ending with a period, "(a)" items, underlined titles).

``bench/data/licenses_questions.jsonl`` holds 24 answerable questions (``evidence``: a phrase of
the answer, copied verbatim) and 20 plausible ones the licences do not answer (key terms checked
absent with ``bench/check_unanswerable.py ... --corpus bench/data/licenses``). Written for this
benchmark and never fitted on: it is a held-out check of what was tuned on pyfaq.

    python bench/plain_text.py [--workdir DIR] [--set key=value ...]

Builds the index in ``--workdir`` (default: a new temporary folder) with the current code, runs
``qa eval`` and prints hit@k, MRR, answer-sentence accuracy, evidence cited, lead words and
abstention; saves ``bench/results/plain_text.json``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import ROOT, save

CORPUS = ROOT / "bench" / "data" / "licenses"
QUESTIONS = ROOT / "bench" / "data" / "licenses_questions.jsonl"
SHOWN = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "answer_sentence_accuracy",
    "answered_with_evidence",
    "answer_words_mean",
    "abstention_recall",
    "false_abstention_rate",
    "confidence_auroc",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=None, help="where the index is built (default: a temporary folder)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="search/answer setting override")
    args = parser.parse_args()

    from qa import QA

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="plain-text-"))
    index = workdir / "index"
    qa = QA.load(index) if (index / "manifest.json").exists() else QA.build([CORPUS], index_dir=index)
    overrides = dict(item.split("=", 1) for item in args.set)
    result = qa.evaluate(QUESTIONS, k=10, **overrides)
    summary = {}
    for name in SHOWN:
        value = result.metrics.get(name)
        value = value["value"] if isinstance(value, dict) else value
        if isinstance(value, (int, float)):
            summary[name] = value
            print(f"{name:28} {value:.4f}")
    save("plain_text", {"documents": len(qa.documents), "passages": len(qa), "overrides": overrides, "metrics": summary})


if __name__ == "__main__":
    main()
