"""pyfaq's questions over the Python FAQ *as published*, with its question headings kept.

pyfaq removes every FAQ question from the corpus, so an answer opens a heading-less section. Real
FAQs keep their questions as headings, and an answerer must then quote the sentence under the
heading, not the heading that repeats the question. This benchmark checks that case:

* the corpus is the 8 FAQ pages of Debian's ``python3.11-doc`` package, unmodified (fetched with
  ``apt-get download``, the package pyfaq was built from), beside a fixed sample of 80 pages of
  pyfaq's library reference (every 5th of the first 400 in name order) as distractors;
* the questions are pyfaq's, scored with pyfaq's evidence rule (``qa eval``).

    python bench/headed_faq.py [--workdir DIR] [--set key=value ...]

Prints and saves hit@1, hit@5, answer-sentence accuracy and evidence cited. Needs apt (Debian)
once; the corpus and index are kept in ``--workdir`` (default ``/tmp/grounded-qa-headed-faq``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from common import PYFAQ, save

PACKAGE = "python3.11-doc"
FAQ_DIR = "usr/share/doc/python3.11/html/faq"


def build_corpus(workdir: Path) -> Path:
    corpus = workdir / "corpus"
    if corpus.is_dir() and any(corpus.iterdir()):
        return corpus
    download = workdir / "deb"
    download.mkdir(parents=True, exist_ok=True)
    if not list(download.glob(f"{PACKAGE}_*.deb")):
        subprocess.run(["apt-get", "download", PACKAGE], cwd=download, check=True)
    extracted = workdir / "extracted"
    subprocess.run(["dpkg-deb", "-x", str(next(download.glob(f"{PACKAGE}_*.deb"))), str(extracted)], check=True)
    corpus.mkdir(parents=True, exist_ok=True)
    for page in sorted((extracted / FAQ_DIR).glob("*.html")):
        if page.name != "index.html":
            shutil.copy(page, corpus / page.name)
    library = sorted((PYFAQ / "corpus" / "library").glob("*.html"))[:400]
    for page in library[4::5][:80]:
        shutil.copy(page, corpus / f"lib_{page.name}")
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/grounded-qa-headed-faq")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="search/answer setting override")
    args = parser.parse_args()

    from qa import QA

    workdir = Path(args.workdir)
    corpus = build_corpus(workdir)
    index = workdir / "index"
    qa = QA.load(index) if (index / "manifest.json").exists() else QA.build([corpus], index_dir=index)
    overrides = dict(item.split("=", 1) for item in args.set)
    result = qa.evaluate(PYFAQ / "questions.jsonl", k=10, **overrides)
    shown = ("hit@1", "hit@5", "answer_sentence_accuracy", "answered_with_evidence", "answer_words_mean", "false_abstention_rate")
    summary = {}
    for name in shown:
        value = result.metrics[name]
        summary[name] = value["value"] if isinstance(value, dict) else value
        print(f"{name:28} {summary[name]:.4f}")
    save("headed_faq", {"corpus_files": len(list(corpus.iterdir())), "passages": len(qa), "overrides": overrides, "metrics": summary})


if __name__ == "__main__":
    main()
