"""Held-out question sets over documents as people have them, written for these benchmarks and
never fitted on: a check of what was tuned on pyfaq.

- ``licenses``: four plain-text licences (Apache 2.0, MPL 2.0, GPL 3, LGPL 3, copied from
  Debian's ``/usr/share/common-licenses``: hard-wrapped, indented paragraphs, numbered headings
  ending with a period, "(a)" items, underlined titles); 24 answerable and 20 unanswerable
  questions in ``bench/data/licenses_questions.jsonl``.
- ``markdown``: six project READMEs and guides in Markdown (pyenv, pyenv-virtualenv, rustfmt,
  Clippy, Node.js SECURITY and BUILDING, copied from Debian's and the toolchains' doc folders:
  badges, tables, ``<details>`` blocks, fenced and indented code, footnotes); 28 answerable and
  20 unanswerable questions in ``bench/data/markdown_questions.jsonl``.

Answerable rows carry ``evidence`` (a phrase of the answer, copied verbatim); unanswerable rows
name ``absent_terms`` checked absent with ``bench/check_unanswerable.py SET --corpus DIR``.

    python bench/held_out.py [--only licenses|markdown] [--workdir DIR] [--set key=value ...]

Builds each set's index in ``--workdir`` (default: a new temporary folder; an index already
there is reused) with the current code, runs ``qa eval`` and prints hit@k, MRR, answer-sentence
accuracy, evidence cited, lead words and abstention; saves ``bench/results/held_out.json``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import ROOT, save

DATA = ROOT / "bench" / "data"
SETS = {
    "licenses": (DATA / "licenses", DATA / "licenses_questions.jsonl"),
    "markdown": (DATA / "markdown", DATA / "markdown_questions.jsonl"),
}
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


def run_set(name: str, workdir: Path, overrides: dict[str, str]) -> dict:
    """Index set ``name``'s documents under ``workdir`` (or reuse that index) and evaluate it."""
    from qa import QA

    corpus, questions = SETS[name]
    index = workdir / name / "index"
    qa = QA.load(index) if (index / "manifest.json").exists() else QA.build([corpus], index_dir=index)
    result = qa.evaluate(questions, k=10, **overrides)
    summary = {}
    print(f"== {name}: {len(qa.documents)} documents, {len(qa)} passages")
    for metric in SHOWN:
        value = result.metrics.get(metric)
        value = value["value"] if isinstance(value, dict) else value
        if isinstance(value, (int, float)):
            summary[metric] = value
            print(f"{metric:28} {value:.4f}")
    return {"documents": len(qa.documents), "passages": len(qa), "metrics": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(SETS), action="append", help="run only this set (repeatable)")
    parser.add_argument("--workdir", default=None, help="where the indexes are built (default: a temporary folder)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="search/answer setting override")
    args = parser.parse_args()

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="held-out-"))
    overrides = dict(item.split("=", 1) for item in args.set)
    results = {name: run_set(name, workdir, overrides) for name in (args.only or SETS)}
    save("held_out", {"overrides": overrides, "sets": results})


if __name__ == "__main__":
    main()
