"""Whole-build throughput: `QA.build` against plain sentence-transformers fp32 `encode` of the same
passages, side by side in one run, each in a fresh process (so peak RSS is the build's own).

The corpus is a fixed subset of pyfaq's HTML pages (the first N by path; `--pages 0` for all
496). "plain" is what the simplest pipeline does: `SentenceTransformer(model).encode(texts)` of
the exact passage texts the index embeds, fp32, default batch size — nothing else. "ours" is
`QA.build` with everything the index needs: parsing, chunking, passage and sentence vectors,
BM25, the saved index. Runs alternate (plain, ours, plain, ours...) so drift in the machine's
load hits both; medians are reported.

    python bench/build.py [--pages 40] [--repeat 2] [--precision auto]

`--memory` compares peak RSS instead: `QA.build` of the first `--pages` pages against all of them
(`--memory-pages 0`), one fresh process each — a build's memory should follow its batches, not the
corpus (the whole corpus takes ~40 min on 2 AVX2 cores) — under each allocator of `--allocators`
(jemalloc is what `qa index` and `qa sync` run under when the system has it, qa/allocator.py).

    python bench/build.py --memory --pages 20 [--memory-pages 0] [--allocators jemalloc,system]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import PYFAQ, ROOT, save

sys.path.insert(0, str(ROOT))


def corpus_files(pages: int) -> list[Path]:
    files = sorted((PYFAQ / "corpus").rglob("*.html"))
    return files[:pages] if pages else files


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_plain(pages: int) -> dict:
    from qa.index.indexing import split_documents
    from qa.index.store import IndexSettings
    from qa.ingest.loaders import load_documents

    documents = load_documents(corpus_files(pages)).documents
    texts = split_documents(documents, IndexSettings(model="all-MiniLM-L6-v2", dim=384)).texts
    from sentence_transformers import SentenceTransformer

    from embeddings.models import resolve_model_path

    model = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    model.encode(texts[:32])  # warm-up: first-call costs are not throughput
    started = time.perf_counter()
    model.encode(texts)
    seconds = time.perf_counter() - started
    return {"passages": len(texts), "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def child_ours(pages: int, precision: str) -> dict:
    from embeddings import load_embedder
    from qa import QA
    from qa.allocator import active_allocator

    files = corpus_files(pages)
    embedder = load_embedder("all-MiniLM-L6-v2", precision=precision)
    embedder.embed_documents(["warm up the model"] * 32)  # as for plain: model load and first call excluded
    work = Path(tempfile.mkdtemp(prefix="qa-build-bench-"))
    try:
        started = time.perf_counter()
        qa = QA.build(files, index_dir=work / "index", embedder=embedder)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (work / "index").rglob("*") if p.is_file())
        report = qa.last_report
        return {
            "passages": len(qa),
            "sentences": int(len(qa._contents.sentences)),
            "seconds": seconds,
            "stages": report.timings,
            "peak_rss_mb": _peak_rss_mb(),
            "index_bytes": size,
            "precision": qa.settings.precision,
            "allocator": active_allocator(),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_child(kind: str, args: argparse.Namespace, pages: int | None = None, allocator: str = "system") -> dict:
    from qa.allocator import jemalloc_library, preload_environment

    pages = args.pages if pages is None else pages
    command = [sys.executable, __file__, "--child", kind, "--pages", str(pages), "--precision", args.precision]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if allocator == "jemalloc":
        library = jemalloc_library()
        if library is None:
            raise SystemExit("--allocators jemalloc: libjemalloc.so.2 is not installed (Debian: apt-get install libjemalloc2)")
        env = preload_environment(env, library) or env  # None: this process runs under it already
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40, help="first N pyfaq pages by path (0: all 496)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--memory", action="store_true", help="peak RSS of QA.build on --pages pages against --memory-pages pages")
    parser.add_argument("--memory-pages", type=int, default=0, help="the larger corpus of --memory (0: all 496 pages)")
    parser.add_argument("--allocators", default="jemalloc,system", help="--memory: the allocators to compare, comma-separated")
    parser.add_argument("--child", choices=("plain", "ours"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child_plain(args.pages) if args.child == "plain" else child_ours(args.pages, args.precision)
        print(json.dumps(result))
        return
    if args.memory:
        memory(args)
        return

    files = corpus_files(args.pages)
    source_mb = sum(f.stat().st_size for f in files) / 1e6
    runs: dict[str, list[dict]] = {"plain": [], "ours": []}
    for r in range(args.repeat):
        for kind in ("plain", "ours"):
            result = run_child(kind, args)
            runs[kind].append(result)
            print(f"run {r + 1} {kind:5}: {result['passages']} passages in {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    passages = runs["ours"][0]["passages"]
    plain_rate = passages / median("plain", "seconds")
    ours_rate = passages / median("ours", "seconds")
    stages = {name: statistics.median(r["stages"].get(name, 0.0) for r in runs["ours"]) for name in runs["ours"][0]["stages"]}
    summary = {
        "pages": len(files),
        "source_mb": round(source_mb, 2),
        "passages": passages,
        "sentences": runs["ours"][0]["sentences"],
        "precision": runs["ours"][0]["precision"],
        "plain_fp32_encode": {"seconds": median("plain", "seconds"), "passages_per_s": plain_rate, "peak_rss_mb": median("plain", "peak_rss_mb")},
        "qa_build": {
            "seconds": median("ours", "seconds"),
            "passages_per_s": ours_rate,
            "source_mb_per_s": source_mb / median("ours", "seconds"),
            "peak_rss_mb": median("ours", "peak_rss_mb"),
            "index_bytes_per_passage": median("ours", "index_bytes") / passages,
            "stages_s": stages,
        },
        "speedup_vs_plain": ours_rate / plain_rate,
        "runs": runs,
    }
    print(f"\n{len(files)} pyfaq pages ({source_mb:.1f} MB), {passages} passages, {summary['sentences']} sentences")
    print(f"plain fp32 encode   {plain_rate:6.1f} passages/s (passages only)")
    print(f"QA.build ({summary['precision']})     {ours_rate:6.1f} passages/s (everything), {summary['qa_build']['source_mb_per_s']:.3f} MB/s, "
          f"peak RSS {summary['qa_build']['peak_rss_mb']:.0f} MB, {summary['qa_build']['index_bytes_per_passage'] / 1024:.1f} KB/passage on disk")
    print(f"speed-up            {summary['speedup_vs_plain']:.2f}x")
    print("stages (s):         " + ", ".join(f"{k[:-2]} {v:.1f}" for k, v in stages.items()))
    save("build", summary)


def memory(args: argparse.Namespace) -> None:
    """Peak RSS of a build of a few pages against one of many, under each allocator, side by side in one run."""
    allocators = [a.strip() for a in args.allocators.split(",") if a.strip()]
    corpus = {"small": args.pages, "large": args.memory_pages or len(corpus_files(0))}
    results: dict[str, dict] = {}
    for size, pages in corpus.items():  # both allocators on one size before the next: drift hits both
        for allocator in allocators:
            result = run_child("ours", args, pages, allocator=allocator)
            results.setdefault(allocator, {})[size] = result
            print(f"{allocator:8} {pages:3} pages: {result['passages']} passages in {result['seconds']:.0f} s, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
    summary = {"pages": corpus, "runs": results, "peak_rss_ratio": {}}
    for allocator, runs in results.items():
        ratio = runs["large"]["peak_rss_mb"] / runs["small"]["peak_rss_mb"]
        summary["peak_rss_ratio"][allocator] = ratio
        print(f"{allocator:8} peak RSS ratio {ratio:.2f} for {runs['large']['passages'] / runs['small']['passages']:.0f}x the passages")
    save("build-memory", summary)


if __name__ == "__main__":
    main()
