"""Check that the unanswerable questions of a set stay unanswerable: none of each question's key
terms (``absent_terms``: plain substrings, or regexes starting with ``\\b``) occurs anywhere in
the corpus (the pyfaq HTML by default; any folder of .html, .txt and .md files with ``--corpus``),
markup and attributes included, case-insensitively. Answerable rows (with ``evidence``) are skipped.

    python bench/check_unanswerable.py [bench/data/pyfaq_unanswerable_fit.jsonl ...]
    python bench/check_unanswerable.py bench/data/licenses_questions.jsonl --corpus bench/data/licenses

Exits with status 1 and names the question and the term when one is found.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys

from common import PYFAQ, ROOT

DEFAULT_SETS = [ROOT / "bench" / "data" / f"pyfaq_unanswerable_{part}.jsonl" for part in ("fit", "heldout")]


def term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(term if term.startswith("\\b") else re.escape(term.lower()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", default=[str(p) for p in DEFAULT_SETS])
    parser.add_argument("--corpus", default=str(PYFAQ / "corpus"))
    args = parser.parse_args()
    from pathlib import Path

    corpus = "\n".join(
        html.unescape(path.read_text(encoding="utf-8", errors="replace")).lower()
        for path in sorted(Path(args.corpus).rglob("*"))
        if path.suffix in (".html", ".txt", ".md")
    )
    found = 0
    checked = 0
    for name in args.sets:
        for line in Path(name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("evidence"):
                continue
            terms = row.get("absent_terms") or []
            if not terms:
                print(f"{name}: {row['id']} lists no absent_terms", file=sys.stderr)
                found += 1
            for term in terms:
                hits = len(term_pattern(term).findall(corpus))
                if hits:
                    print(f"{name}: {row['id']} {row['question']!r}: {term!r} occurs {hits} times", file=sys.stderr)
                    found += 1
            checked += 1
    print(f"{checked} questions checked against {args.corpus}: {found} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
