"""Scale: an index of 10k / 100k / 1M passages, end to end, with exact search side by side.

The corpus is synthetic but realistic: the real pyfaq index (text, passage vectors, sentence
vectors, BM25 terms) copied until it reaches the target size. Each copy is a new document set
(``copy0003/...``) whose passage and sentence vectors carry small Gaussian perturbations (cosine
~0.97 to the original, so neighbourhoods keep the structure of real text) and whose passages drop
a random 10 % of their BM25 terms. Queries are the 157 pyfaq questions.

Per size it reports
- the dense candidate search alone (k0 = 100 as retrieval uses): exact ``IndexFlatIP``, a numpy
  matmul (the plain reference), HNSW as the index picks it, and HNSW over 8-bit codes; build
  time, p50/p95 latency, recall@10 against exact search, bytes per passage on disk;
- the whole index saved in the normal format (bytes per passage on disk by file), then loaded in a
  fresh process with memory-mapping (load time, RSS after load), where ``qa.search`` is timed end
  to end (encode + dense + sentence rescoring + BM25 + fusion) with its parts measured separately.

    python bench/scale.py --index data/indexes/pyfaq [--sizes 10000 100000 1000000]
    python bench/scale.py --sizes 1000000 --dense-index hnsw-sq8 --skip-dense   # the low-memory index
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import PYFAQ, ROOT, save

NOISE = 0.012  # per dimension, on 384-d unit vectors: cosine ~0.97 to the source vector
TERM_DROPOUT = 0.10
EF_SWEEP = (128, 256, 512, 1024)


def percentile_ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(seconds, q)) * 1000, 3)


def perturbed(vectors: np.ndarray, rng: np.random.Generator, *, dtype=np.float32) -> np.ndarray:
    from embeddings import normalise_rows

    out = np.empty(vectors.shape, dtype=dtype)
    step = 500_000
    for start in range(0, len(vectors), step):
        chunk = np.asarray(vectors[start : start + step], dtype=np.float32)
        noisy = chunk + rng.normal(scale=NOISE, size=chunk.shape).astype(np.float32)
        out[start : start + step] = normalise_rows(noisy)
    return out


def replicate(base, size: int, rng: np.random.Generator, *, dense_index: str | None = None):
    """``base`` (IndexContents) copied to ``size`` passages; returns (contents, seconds spent on
    the dense index, seconds spent on BM25) - the two builds that do not depend on the model."""
    from qa.index.dense import DenseIndex, resolve_kind
    from qa.index.lexical import LexicalIndex
    from qa.index.sentences import SentenceTable, decode_rows, quantize_rows, quantize_rows_4bit, stored_bits
    from qa.index.store import IndexContents
    from qa.retrieval.hybrid import passage_index_text
    from qa.text import content_terms
    from qa.types import content_hash

    n = len(base.passages)
    copies = -(-size // n)
    base_vectors = base.dense.vectors()
    base_terms = [content_terms(passage_index_text(p, context=base.settings.context)) for p in base.passages]
    documents, passages, embed_keys, token_lists = {}, [], [], []
    vector_parts, sentence_parts = [], []
    encode = quantize_rows_4bit if stored_bits(size, base.settings.dim) == 4 else quantize_rows  # as an index of this size stores them
    indptr_parts, span_parts, row_parts = [np.zeros(1, dtype=np.int64)], [], []
    sentence_offset = vector_offset = 0
    for copy in range(copies):
        take = min(n, size - copy * n)
        prefix = "" if copy == 0 else f"copy{copy:04d}/"
        for p in base.passages[:take]:
            source = prefix + p.source
            if source not in documents:
                doc = base.documents[p.source]
                documents[source] = doc if copy == 0 else replace(doc, source=source, id=content_hash(source, doc.id))
            doc = documents[source]
            passages.append(p if copy == 0 else replace(p, source=source, doc_id=doc.id, id=content_hash(source, p.id)))
        embed_keys.extend(base.embed_keys[:take] if copy == 0 else [content_hash(prefix, k) for k in base.embed_keys[:take]])
        if copy == 0:
            token_lists.extend(base_terms[:take])
            vector_parts.append(base_vectors[:take])
        else:
            for terms in base_terms[:take]:
                keep = rng.random(len(terms)) >= TERM_DROPOUT
                token_lists.append([t for t, k in zip(terms, keep) if k])
            vector_parts.append(perturbed(base_vectors[:take], rng))
        rows = int(base.sentences.indptr[take])
        # Each copy perturbs the distinct sentence vectors once: a sentence repeated inside a
        # copy (overlapping windows) still shares its vector, as in an index of real documents.
        used, inverse = np.unique(np.asarray(base.sentences.rows[:rows]), return_inverse=True)
        sentences = decode_rows(base.sentences.codes[used], base.sentences.scales[used], base.sentences.dim)
        sentence_parts.append(encode(sentences if copy == 0 else perturbed(sentences, rng, dtype=np.float16)))  # coded copy by copy: floats of 1M passages' sentences would not fit
        indptr_parts.append(base.sentences.indptr[1 : take + 1] + sentence_offset)
        span_parts.append(np.asarray(base.sentences.spans[:rows]))
        row_parts.append(inverse.astype(np.int64) + vector_offset)
        sentence_offset += rows
        vector_offset += len(used)
    vectors = np.concatenate(vector_parts)
    del vector_parts
    started = time.perf_counter()
    settings = replace(base.settings, dense_index=dense_index) if dense_index else base.settings
    dense = DenseIndex.build(vectors, kind=resolve_kind(settings.dense_index, size))
    dense_s = time.perf_counter() - started
    started = time.perf_counter()
    lexical = LexicalIndex.build(token_lists, k1=base.settings.bm25_k1, b=base.settings.bm25_b)
    lexical_s = time.perf_counter() - started
    contents = IndexContents(
        settings=settings,
        documents=documents,
        passages=passages,
        embed_keys=embed_keys,
        dense=dense,
        lexical=lexical,
        sentences=SentenceTable(
            np.concatenate(indptr_parts),
            np.concatenate(span_parts),
            np.concatenate(row_parts).astype(np.int32),
            np.concatenate([codes for codes, _ in sentence_parts]),
            np.concatenate([scales for _, scales in sentence_parts]),
        ),
        query_defaults=dict(base.query_defaults),
    )
    return contents, vectors, dense_s, lexical_s


def dense_only(vectors: np.ndarray, built, built_s: float, queries: np.ndarray, k0: int) -> list[dict]:
    """Candidate search alone: exact, numpy, HNSW over floats, HNSW over 8-bit codes with and
    without the re-rank (``built``: the index's own dense index, reused when it is one of them)."""
    import faiss

    from qa.index.dense import (
        HNSW_EF_SEARCH,
        HNSW_M,
        HNSW_SQ8_EF_SEARCH,
        HNSW_THRESHOLD,
        DenseIndex,
    )

    hnsw_index, hnsw_build_s = (built, built_s) if built.kind == "hnsw" else (None, 0.0)
    if hnsw_index is None and len(vectors) >= HNSW_THRESHOLD:
        started = time.perf_counter()
        hnsw_index = DenseIndex.build(vectors, kind="hnsw")
        hnsw_build_s = time.perf_counter() - started

    def run(search) -> tuple[list[float], list[np.ndarray]]:
        search(queries[0])
        latencies, tops = [], []
        for qv in queries:
            started = time.perf_counter()
            rows = search(qv)
            latencies.append(time.perf_counter() - started)
            tops.append(np.asarray(rows)[:10])
        return latencies, tops

    def disk_bytes(index) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.faiss")
            faiss.write_index(index, path)
            return os.path.getsize(path) / len(vectors)

    rows = []
    started = time.perf_counter()
    flat = DenseIndex.build(vectors, kind="flat")
    flat_s = time.perf_counter() - started
    latencies, exact = run(lambda qv: flat.search(qv, k0)[1][0])
    rows.append(("faiss IndexFlatIP (exact)", flat_s, latencies, exact, disk_bytes(flat._index)))
    del flat

    def numpy_search(qv):
        scores = vectors @ qv
        top = np.argpartition(-scores, k0)[:k0]
        return top[np.argsort(-scores[top])]

    latencies, tops = run(numpy_search)
    rows.append(("numpy matmul (reference)", 0.0, latencies, tops, len(vectors) * vectors.shape[1] * 4 / len(vectors)))

    if hnsw_index is not None:
        latencies, tops = run(lambda qv: hnsw_index.search(qv, k0)[1][0])
        name = f"HNSW{HNSW_M} flat, efSearch {max(HNSW_EF_SEARCH, k0)}" + (" (the index's choice)" if hnsw_index is built else "")
        rows.append((name, hnsw_build_s, latencies, tops, disk_bytes(hnsw_index._index)))
        for ef in EF_SWEEP:
            if ef != max(HNSW_EF_SEARCH, k0):
                params = faiss.SearchParametersHNSW(efSearch=ef)
                latencies, tops = run(lambda qv: hnsw_index._index.search(qv[None, :], k0, params=params)[1][0])
                rows.append((f"HNSW{HNSW_M} flat, efSearch {ef}", 0.0, latencies, tops, disk_bytes(hnsw_index._index)))

    del hnsw_index
    if built.kind == "hnsw-sq8":
        sq8, sq8_s = built, built_s
    else:
        started = time.perf_counter()
        sq8 = DenseIndex.build(vectors, kind="hnsw-sq8")
        sq8_s = time.perf_counter() - started
    params = faiss.SearchParametersHNSW(efSearch=max(HNSW_SQ8_EF_SEARCH, k0))
    graph_bytes = disk_bytes(sq8._index)
    latencies, tops = run(lambda qv: sq8._index.search(qv[None, :], k0, params=params)[1][0])
    rows.append((f"HNSW{HNSW_M} + 8-bit codes, efSearch {HNSW_SQ8_EF_SEARCH}, no re-rank", sq8_s, latencies, tops, graph_bytes))
    # The index's hnsw-sq8: 2 x k0 candidates from the graph, re-ranked with the float16 vectors
    # (a separate memory-mapped file, + dim x 2 bytes per passage on disk).
    latencies, tops = run(lambda qv: sq8.search(qv, k0)[1][0])
    name = f"HNSW{HNSW_M} + 8-bit codes, efSearch {HNSW_SQ8_EF_SEARCH}, re-ranked (hnsw-sq8)"
    rows.append((name + (" (the index's choice)" if sq8 is built else ""), sq8_s, latencies, tops, graph_bytes))
    del sq8

    out = []
    for name, build_s, latencies, tops, per_passage in rows:
        recall = statistics.mean(len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(tops, exact))
        out.append(
            {
                "passages": len(vectors),
                "dense search": name,
                "build_s": round(build_s, 2),
                "p50_ms": percentile_ms(latencies, 50),
                "p95_ms": percentile_ms(latencies, 95),
                "recall@10_vs_exact": round(recall, 4),
                "disk_bytes_per_passage": round(per_passage, 1),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def rss_mb() -> dict[str, float]:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a big
    # parent would report the parent's peak.
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return fields


def probe(index_dir: str, questions_path: str, repeat: int) -> None:
    """In a fresh process: load with mmap, then time search end to end and by part."""
    before = rss_mb()
    started = time.perf_counter()
    from qa import QA
    from qa.evaluation.run import load_questions
    from qa.retrieval.hybrid import query_terms
    from qa.threads import single_blas_thread

    qa = QA.load(index_dir, mmap=True)
    load_s = time.perf_counter() - started
    after_load = rss_mb()
    questions = [q.question for q in load_questions(questions_path)]
    contents = qa._contents
    qa.search(questions[0], k=10)  # loads the model
    settings = qa.search_settings
    parts: dict[str, list[float]] = {"encode": [], "dense": [], "bm25": [], "search_after_encode": [], "end_to_end": [], "ask": []}
    # Filters over the copies (copy 0 keeps the real sources, copy N is "copyNNNN/..."): one
    # copy (~21.5k passages) and three copies; each is timed end to end, and the dense rows it
    # gives are compared with exact search among the allowed rows (recall@10).
    copies = sorted({p.source.split("/", 1)[0] for p in contents.passages if p.source.startswith("copy")})
    filters = {}
    if len(copies) >= 3:
        filters = {"filter_one_copy": {"source": f"{copies[0]}/*"}, "filter_three_copies": {"source": [f"{c}/*" for c in copies[:3]]}}
    for name in filters:
        parts[name] = []
    recall: dict[str, list[float]] = {name: [] for name in filters}
    allowed_rows: dict[str, int] = {}
    for _ in range(repeat):
        for question in questions:
            t0 = time.perf_counter()
            qa.search(question, k=10)
            parts["end_to_end"].append(time.perf_counter() - t0)
            with single_blas_thread:  # as qa.search runs its parts
                t0 = time.perf_counter()
                vector = qa._embed_query(question)
                t1 = time.perf_counter()
                qa._search(question, 10, settings, query_vector=vector)
                t2 = time.perf_counter()
                parts["encode"].append(t1 - t0)
                parts["search_after_encode"].append(t2 - t1)
                t0 = time.perf_counter()
                contents.dense.search(vector, settings.candidates)
                t1 = time.perf_counter()
                contents.lexical.search(query_terms(question), settings.candidates)
                t2 = time.perf_counter()
            parts["dense"].append(t1 - t0)
            parts["bm25"].append(t2 - t1)
            t0 = time.perf_counter()
            qa.ask(question)
            parts["ask"].append(time.perf_counter() - t0)
            for name, spec in filters.items():
                t0 = time.perf_counter()
                qa.search(question, k=10, filters=spec)
                parts[name].append(time.perf_counter() - t0)
                if len(recall[name]) < len(questions):  # once per question
                    mask = qa._filter_mask(contents, spec)
                    allowed_rows[name] = int(mask.sum())
                    vector = qa._embed_query(question)
                    _, graph = contents.dense.search_among(vector, mask, 10)
                    _, exact = contents.dense.search_among(vector, mask, 10, exact_limit=len(mask))
                    recall[name].append(len(set(graph.tolist()) & set(exact.tolist())) / max(1, len(exact)))
    result = {
        "load_s": round(load_s, 2),
        "rss_before_mb": before["VmRSS"],
        "rss_after_load_mb": after_load,
        "rss_after_queries_mb": rss_mb(),
        "peak_rss_mb": rss_mb()["VmHWM"],
        **{f"{name}_p50_ms": percentile_ms(values, 50) for name, values in parts.items()},
        **{f"{name}_p95_ms": percentile_ms(values, 95) for name, values in parts.items()},
        **{f"{name}_rows": allowed_rows[name] for name in filters},
        **{f"{name}_dense_recall@10": round(float(np.mean(values)), 4) for name, values in recall.items()},
    }
    print("PROBE " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=str(ROOT / "data" / "indexes" / "pyfaq"), help="a built pyfaq index")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2, help="passes over the questions in the end-to-end probe")
    parser.add_argument("--workdir", default=None, help="where the synthetic indexes are written (default: a temp dir)")
    parser.add_argument("--dense-only", action="store_true", help="only the candidate-search comparison (no index on disk)")
    parser.add_argument("--dense-index", default=None, help="dense index kind of the end-to-end index (default: auto)")
    parser.add_argument("--skip-dense", action="store_true", help="only the end-to-end index (no candidate-search comparison)")
    parser.add_argument("--keep", action="store_true", help="keep the saved indexes in --workdir")
    parser.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    questions_path = str(PYFAQ / "questions.jsonl")
    if args.probe:
        probe(args.probe, questions_path, args.repeat)
        return

    from qa import QA
    from qa.evaluation.run import load_questions
    from qa.index.store import save_index

    base_qa = QA.load(args.index)
    base = base_qa._contents
    queries = base_qa.embedder.embed_queries([q.question for q in load_questions(questions_path)])
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="qa-scale-"))
    rng = np.random.default_rng(0)
    dense_rows, index_rows = [], []
    for size in args.sizes:
        started = time.perf_counter()
        contents, vectors, dense_s, lexical_s = replicate(base, size, rng, dense_index=args.dense_index)
        kind = contents.dense.kind
        print(f"{size}: synthesised in {time.perf_counter() - started:.0f} s ({contents.dense.kind})", flush=True)
        if not args.skip_dense:
            dense_rows += dense_only(vectors, contents.dense, dense_s, queries, args.candidates)
        del vectors
        if args.dense_only:
            continue
        target = workdir / f"index-{size}"
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        manifest = save_index(target, contents)
        save_s = time.perf_counter() - started
        del contents
        by_file: dict[str, int] = {}
        for name, info in manifest["files"].items():
            group = name.split("/")[0].split(".")[0]
            group = "sentence vectors" if group == "sentence_vectors" else "bm25" if group == "bm25" else group
            by_file[group] = by_file.get(group, 0) + int(info["bytes"])
        out = subprocess.run(
            [sys.executable, __file__, "--probe", str(target), "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("PROBE "))[6:])
        row = {
            "passages": size,
            "dense_index": kind,
            "dense_build_s": round(dense_s, 1),
            "bm25_build_s": round(lexical_s, 1),
            "save_s": round(save_s, 1),
            "disk_bytes_per_passage": {k: round(v / size, 1) for k, v in sorted(by_file.items())},
            "disk_bytes_per_passage_total": round(sum(by_file.values()) / size, 1),
            **measured,
        }
        index_rows.append(row)
        print(json.dumps(row), flush=True)
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    name = "scale-dense" if args.dense_only else "scale" + (f"-{args.dense_index}" if args.dense_index else "")
    save(name, {"sizes": args.sizes, "candidates": args.candidates, "dense_search": dense_rows, "end_to_end": index_rows})


if __name__ == "__main__":
    main()
