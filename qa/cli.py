"""The ``qa`` command: argument parsing plus calls to :class:`qa.QA`.

    qa index PATH... --index DIR [--model M] [--chunk-words N] [--rebuild] [--ray [--workers N]]
    qa ask "QUESTION" --index DIR [-k 5] [--json]
    qa search "QUESTION" --index DIR [-k 10] [--json]
    qa sync PATH... --index DIR [--watch]
    qa info --index DIR [--documents] [--verify]
    qa remove SOURCE --index DIR [--allow-empty]
    qa eval QUESTIONS --index DIR [--out DIR] [--compare RESULTS.json] [--set key=value ...]

User errors print one line on stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Sequence

from embeddings import PRECISIONS

from .allocator import reexec_with_jemalloc
from .errors import QAError
from .index.dense import DENSE_KINDS
from .presentation import NEAREST_LABEL, nearest_passages, plain_text
from .retrieval.filters import describe, parse_filter_options
from .retrieval.hybrid import MODES

EXIT_USER_ERROR = 2
FILTER_HELP = "only passages that match (repeatable): kind=pdf,docx  source='*.md'  folder=notes  page=3-7  modified=2024-01-01..  or a metadata field (author=Ann)"


def _index_arg(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    default = os.environ.get("QA_INDEX")
    parser.add_argument(
        "--index",
        "-i",
        metavar="DIR",
        default=default,
        required=required and default is None,
        help="index directory (default: $QA_INDEX)",
    )


def _parse_sets(values: Sequence[str] | None) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in values or ():
        if "=" not in item:
            raise QAError(f"--set expects key=value, got {item!r} (e.g. --set mode=dense)")
        key, value = item.split("=", 1)
        overrides[key.strip().replace("-", "_")] = value.strip()
    return overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Answer questions from your own documents, with citations.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              qa index docs/ --index my-index
              qa sync docs/ --index my-index --watch
              qa ask "How do I configure logging?" --index my-index
              qa eval questions.jsonl --index my-index --out report/
            """
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="index files and folders (creates or updates an index)")
    index.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="files or folders (.txt .md .html .pdf .docx .pptx .xlsx .csv .tsv .epub .eml .jsonl)",
    )
    _index_arg(index)
    index.add_argument("--model", default=None, help="sentence-transformers model name or directory (default: all-MiniLM-L6-v2, bundled)")
    index.add_argument("--chunk-words", type=int, default=None, help="passage size in words")
    index.add_argument("--overlap-words", type=int, default=None, help="words shared by consecutive passages")
    index.add_argument("--no-context", action="store_true", help="embed passages without their title and section")
    index.add_argument("--sentence-min-words", type=int, default=None, help="shorter sentence fragments join the next one (default 8)")
    index.add_argument("--no-align-blocks", action="store_true", help="plain sliding windows, not started at paragraph starts")
    index.add_argument("--bm25-k1", type=float, default=None, help="BM25 term-frequency saturation (default 0.9)")
    index.add_argument("--bm25-b", type=float, default=None, help="BM25 length normalisation (default 0.4)")
    index.add_argument("--dense-index", choices=DENSE_KINDS, default=None,
                       help="exact (flat), HNSW, or HNSW over 8-bit codes re-ranked with exact vectors (hnsw-sq8, "
                       "least memory); auto picks by size")
    index.add_argument("--precision", choices=PRECISIONS, default=None, help="embedding precision (default: the measured best, see bench/README.md)")
    index.add_argument("--rebuild", action="store_true", help="replace the index instead of updating it")
    index.add_argument("--max-file-mb", type=float, default=None, help="skip files larger than this")
    index.add_argument("--ray", action="store_true", help="read, chunk and embed on a Ray cluster (pip install 'grounded-qa[ray]')")
    index.add_argument("--ray-address", default=None, metavar="ADDR", help="with --ray: 'auto' (a cluster started with `ray start`) or ray://HOST:PORT; default: a local Ray for this run")
    index.add_argument("--workers", type=int, default=2, metavar="N", help="with --ray: embedding actors, one model each (default 2)")
    index.add_argument("--json", action="store_true", help="print the report as JSON")
    index.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    index.add_argument("--watch", action="store_true", help="then keep watching PATH... and sync each change until Ctrl-C (pip install 'grounded-qa[watch]')")

    sync = commands.add_parser(
        "sync", help="make an index match its folders: add new and changed files, remove deleted ones"
    )
    sync.add_argument("paths", nargs="+", metavar="PATH", help="the files or folders the index should mirror")
    _index_arg(sync)
    sync.add_argument("--max-file-mb", type=float, default=None, help="skip files larger than this")
    sync.add_argument("--json", action="store_true", help="print the report as JSON")
    sync.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    sync.add_argument("--watch", action="store_true", help="then keep watching and sync each change until Ctrl-C")

    for name, default_k, help_text in (
        ("ask", 5, "answer a question with citations"),
        ("search", 10, "list the passages that best match a question"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("question")
        _index_arg(sub)
        sub.add_argument("-k", type=int, default=default_k, help=f"number of passages (default {default_k})")
        sub.add_argument("--mode", choices=MODES, default=None)
        sub.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a search/answer setting")
        sub.add_argument("--filter", action="append", metavar="KEY=VALUE", help=FILTER_HELP)
        sub.add_argument("--json", action="store_true", help="print the to_dict() form as JSON")

    info = commands.add_parser("info", help="describe an index")
    _index_arg(info)
    info.add_argument("--documents", action="store_true", help="list every file seen: indexed (passages) or skipped (why)")
    info.add_argument("--verify", action="store_true", help="checksum every file of the index")
    info.add_argument("--json", action="store_true")

    remove = commands.add_parser("remove", help="remove a document (or every document under a folder)")
    remove.add_argument("source", help="the document's path as indexed (see qa info --documents)")
    _index_arg(remove)
    remove.add_argument("--allow-empty", action="store_true", help="allow a removal that leaves the index without documents")
    remove.add_argument("--json", action="store_true")

    evaluate = commands.add_parser("eval", help="measure retrieval and abstention on a question set")
    evaluate.add_argument("questions", help="JSONL question set, or a BEIR folder")
    _index_arg(evaluate)
    evaluate.add_argument("--build", nargs="+", metavar="PATH", help="build the index from these paths first if it does not exist")
    evaluate.add_argument("-k", type=int, default=10, help="passages retrieved per question (default 10)")
    evaluate.add_argument("--out", metavar="DIR", help="write results.json, run.trec, report.md and plots here")
    evaluate.add_argument("--compare", metavar="RESULTS", help="a results.json to compare with (paired test)")
    evaluate.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a search/answer setting")
    evaluate.add_argument("--filter", action="append", metavar="KEY=VALUE", help=FILTER_HELP)
    evaluate.add_argument("--calibrate", action="store_true", help="refit the answer-confidence model on this set (answerable and unanswerable questions) and save it in the index")
    evaluate.add_argument("--no-answers", action="store_true", help="skip answer building (retrieval metrics only, faster)")
    evaluate.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    return parser


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _cmd_index(args: argparse.Namespace) -> int:
    from .core import QA
    from .ingest.loaders import DEFAULT_MAX_FILE_MB

    max_mb = args.max_file_mb if args.max_file_mb is not None else DEFAULT_MAX_FILE_MB
    exists = (Path(args.index) / "manifest.json").exists()
    progress = not args.quiet and not args.json  # a bar on a terminal, a line every few seconds otherwise
    if not args.ray and (args.ray_address is not None or args.workers != 2):
        raise QAError("--ray-address and --workers only apply with --ray")
    if exists and not args.rebuild:
        if args.ray:
            raise QAError(
                f"--ray builds whole indexes and {args.index!r} exists: add --rebuild to replace it (unchanged passages "
                "keep their vectors), or leave out --ray to add to it"
            )
        qa = QA.load(args.index, model=args.model)
        current = qa.settings
        asked = {
            "--chunk-words": (args.chunk_words, current.chunking.chunk_words),
            "--overlap-words": (args.overlap_words, current.chunking.overlap_words),
            "--sentence-min-words": (args.sentence_min_words, current.chunking.sentence_min_words),
            "--no-align-blocks": (True if args.no_align_blocks else None, not current.chunking.align_blocks),
            "--no-context": (True if args.no_context else None, not current.context),
            "--bm25-k1": (args.bm25_k1, current.bm25_k1),
            "--bm25-b": (args.bm25_b, current.bm25_b),
            "--precision": (args.precision, current.precision),
            "--dense-index": (args.dense_index, current.dense_index),
        }
        for flag, (value, in_index) in asked.items():
            if value is not None and value != in_index:
                raise QAError(
                    f"the index {args.index!r} was built with {flag} {in_index}; to change it, add --rebuild "
                    "(index settings apply to every passage)"
                )
        report = qa.add(args.paths, show_progress=progress, max_file_mb=max_mb)
    else:
        from dataclasses import replace

        from embeddings import DEFAULT_MODEL

        from .index.lexical import BM25_B, BM25_K1
        from .ingest.chunking import ChunkingSettings

        chunking = ChunkingSettings()
        if args.sentence_min_words is not None:
            chunking = replace(chunking, sentence_min_words=args.sentence_min_words)
        if args.no_align_blocks:
            chunking = replace(chunking, align_blocks=False)
        build = QA.build
        if args.ray:
            from functools import partial

            from .index.distributed import build_with_ray

            build = partial(build_with_ray, address=args.ray_address, workers=args.workers)
        qa = build(
            args.paths,
            index_dir=args.index,
            model=args.model or DEFAULT_MODEL,
            chunk_words=args.chunk_words,
            overlap_words=args.overlap_words,
            context=not args.no_context,
            precision=args.precision or "auto",
            chunking=chunking,
            bm25_k1=args.bm25_k1 if args.bm25_k1 is not None else BM25_K1,
            bm25_b=args.bm25_b if args.bm25_b is not None else BM25_B,
            dense_index=args.dense_index or "auto",
            rebuild=args.rebuild,
            show_progress=progress,
            max_file_mb=max_mb,
        )
        report = qa.last_report
    if args.json:
        _print_json(report.to_dict())
    else:
        for skipped in report.skipped:
            print(f"skipped {skipped}", file=sys.stderr)
        print(f"{args.index}: {report.summary()}")
    if args.watch:
        _watch(qa, args)
    return 0


def _watch(qa, args: argparse.Namespace) -> None:
    """Sync ``args.paths`` into ``qa`` on every change until interrupted."""
    from .ingest.watching import FolderWatcher

    def synced(report) -> None:
        _print_changes(report)
        print(f"{args.index}: {report.summary()}", flush=True)

    def failed(exc: Exception) -> None:
        print(f"qa {args.command}: sync failed: {exc}", file=sys.stderr, flush=True)

    watcher = FolderWatcher(qa, args.paths, on_sync=synced, on_error=failed, max_file_mb=args.max_file_mb)
    print(f"watching {', '.join(args.paths)} for changes (Ctrl-C to stop)", flush=True)
    with watcher:
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped watching", file=sys.stderr)


def _load(args: argparse.Namespace):
    from .core import QA

    return QA.load(args.index)


def _query_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = _parse_sets(args.set)
    if args.mode:
        overrides["mode"] = args.mode
    filters = parse_filter_options(args.filter)
    if filters is not None:
        overrides["filters"] = filters
    return overrides


def _where(section_label: str, page: int | None, *, ocr: bool = False) -> str:
    page_label = f"page {page}" + (" (scanned, read by OCR)" if ocr else "") if page else ""
    where = ", ".join(x for x in (section_label, page_label) if x)
    return f" ({where})" if where else ""


def _cmd_ask(args: argparse.Namespace) -> int:
    qa = _load(args)
    answer = qa.ask(args.question, k=args.k, **_query_overrides(args))
    if args.json:
        _print_json(answer.to_dict())
        return 0
    print(plain_text(answer.text))
    if answer.abstained:
        print(f"\n({answer.reason})")
        nearest = nearest_passages(answer)
        if nearest:
            print(f"\n{NEAREST_LABEL}:")
        for hit in nearest:
            p = hit.passage
            print(f"  - {p.title} — {p.source}{_where(p.section_label, p.page)} chars {p.start}-{p.end}")
        return 0
    print("\nSources:")
    for c in answer.citations:
        print(f"  [{c.number}] {c.title} — {c.source}{_where(c.section_label, c.page, ocr=c.ocr)} chars {c.start}-{c.end}")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    qa = _load(args)
    overrides = _query_overrides(args)
    hits = qa.search(args.question, k=args.k, **overrides)
    if args.json:
        _print_json([h.to_dict() for h in hits])
        return 0
    if not hits:
        if "filters" in overrides:
            print(f"no passage matches the filters ({describe(overrides['filters'])})")
        else:
            print("no passages matched (the index is empty, or no passage shares a word with the question)")
    for hit in hits:
        p = hit.passage
        print(f"{hit.rank:>3}. {hit.score:.4f}  {p.title} — {p.source}{_where(p.section_label, p.page)}")
        print(textwrap.indent(textwrap.shorten(" ".join(p.text.split()), 300), "     "))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .core import QA

    qa = QA.load(args.index, verify="full" if args.verify else "auto")
    info = qa.info()
    if args.documents:
        from .presentation import file_state, files_summary

        counts = qa.passage_counts()
        files = qa.files()
        info["files_summary"] = files_summary(files)
        info["files"] = [{**record.to_dict(), "state": file_state(record, counts)} for record in files]
        info["documents_list"] = [
            {"source": d.source, "title": d.title, "kind": d.kind, "chars": len(d.text), "passages": counts.get(d.source, 0)}
            for d in qa.documents
        ]
    if args.json:
        _print_json(info)
        return 0
    print(f"index      {info['index_dir']} (generation {info['generation']})")
    print(f"model      {info['model']} ({info['dim']} dimensions, {info['precision']})")
    print(f"chunking   {info['chunking']['chunk_words']} words, overlap {info['chunking']['overlap_words']}, context {'on' if info['context'] else 'off'}")
    print(f"bm25       k1 {info['bm25']['k1']}, b {info['bm25']['b']}")
    print(f"vectors    {info['dense_index']}")
    print(f"contents   {info['documents']} documents, {info['passages']} passages")
    sentences = info["sentences"]
    print(f"sentences  {sentences['count']:,} ({sentences['vectors']:,} vectors stored, {sentences['bits']}-bit)")
    if info["disk_bytes"] is not None:
        per_passage = f", {info['disk_bytes'] / info['passages'] / 1024:.1f} KB a passage" if info["passages"] else ""
        print(f"on disk    {info['disk_bytes'] / 1e6:.1f} MB{per_passage}")
    print(f"search     {json.dumps(info['search'])}")
    print(f"answer     {json.dumps(info['answer'])}")
    if args.verify:
        print("verified   every file matches its checksum")
    if args.documents:
        print(f"files      {info['files_summary']}")
        for record in info["files"]:
            print(f"  {record['path']}  {record['state']}")
    return 0


def _cmd_sync(args: argparse.Namespace) -> int:
    from .ingest.loaders import DEFAULT_MAX_FILE_MB

    qa = _load(args)
    max_mb = args.max_file_mb if args.max_file_mb is not None else DEFAULT_MAX_FILE_MB
    progress = not args.quiet and not args.json  # a bar on a terminal, a line every few seconds otherwise
    report = qa.sync(args.paths, show_progress=progress, max_file_mb=max_mb)
    if args.json:
        _print_json(report.to_dict())
    else:
        _print_changes(report)
        print(f"{args.index}: {report.summary()}")
    if args.watch:
        _watch(qa, args)
    return 0


def _print_changes(report) -> None:
    """One line per document added, updated or removed, and per file skipped."""
    for label, sources in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        for source in sources:
            print(f"{label:8} {source}")
    for skipped in report.skipped:
        print(f"skipped  {skipped}", file=sys.stderr)


def _cmd_remove(args: argparse.Namespace) -> int:
    qa = _load(args)
    report = qa.remove(args.source, allow_empty=args.allow_empty)
    if args.json:
        _print_json(report.to_dict())
    else:
        for source in report.removed:
            print(f"removed {source}")
        print(f"{args.index}: {report.passages} passages left")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .answers.calibration import check_calibration_set
    from .core import QA
    from .errors import InputError
    from .evaluation.run import (
        EvalResult,
        calibrate_index,
        compare,
        evaluate,
        json_safe,
        load_questions,
    )

    overrides = _parse_sets(args.set)
    filters = parse_filter_options(args.filter)
    if filters is not None:
        overrides["filters"] = filters
    index_dir = Path(args.index)
    if not (index_dir / "manifest.json").exists() and args.build:
        print(f"building {index_dir} from {' '.join(args.build)} ...", file=sys.stderr)
        QA.build(args.build, index_dir=index_dir, show_progress=not args.quiet)
    qa = QA.load(index_dir)
    questions = load_questions(args.questions)
    if args.calibrate:
        if args.no_answers:
            raise InputError("--calibrate needs answers: drop --no-answers")
        check_calibration_set([q.answerable for q in questions])  # before the run, so a bad set fails fast
    result = evaluate(qa, questions, k=args.k, answers=not args.no_answers, progress=not args.quiet and sys.stderr.isatty(), **dict(overrides))
    if args.json:
        print(json.dumps(json_safe(result.metrics), indent=2))
    else:
        print(result.table())
    if args.compare:
        baseline = EvalResult.load(args.compare)
        print(f"\ncompared with {args.compare} (paired randomization test, 10,000 trials):")
        for row in compare(result, baseline):
            print(
                f"  {row['metric']:<26} {row['current']:.4f} vs {row['baseline']:.4f}  "
                f"diff {row['difference']:+.4f}  p={row['p_value']:.4f}  (n={row['questions']})"
            )
    if args.calibrate:
        calibrate_index(qa, result, source=str(args.questions))
    if args.out:
        paths = result.save(args.out)
        print(f"\nwrote {', '.join(str(p) for p in paths.values())}")
    return 0


COMMANDS = {
    "index": _cmd_index,
    "ask": _cmd_ask,
    "search": _cmd_search,
    "sync": _cmd_sync,
    "info": _cmd_info,
    "remove": _cmd_remove,
    "eval": _cmd_eval,
}


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except QAError as exc:
        print(f"qa {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `qa search ... | head`
        return 0


# The commands that build run under jemalloc when the system has it (qa/allocator.py): with
# glibc's malloc a build's memory grows with the corpus. Questions are answered 10-15 % faster
# under glibc's (pyfaq qa eval, side by side), so the others keep it.
_BUILDING_COMMANDS = frozenset({"index", "sync"})


def run() -> int:
    """The ``qa`` program: :func:`main` on ``sys.argv``, executed again under jemalloc first when
    the command builds an index."""
    if len(sys.argv) > 1 and sys.argv[1] in _BUILDING_COMMANDS:
        reexec_with_jemalloc()
    return main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
