"""Encoding: plain fp32 ``SentenceTransformer.encode`` against our encoding paths, side by side
in one run.

    python bench/encode.py [--passages 256] [--repeat 3]

Passages (real pyfaq passages with their title/section context, as indexed): passages/s (median,
min, max of the runs), the speed-up over plain fp32, the share of the compute ceiling, and how
close each path's vectors are to fp32 (mean and min cosine). The ceiling is measured, not
assumed: the bf16 matmul rate this CPU reaches at the model's own layer shapes, against the
model's multiply-adds per passage (linear layers and attention; the embedding lookup is free).

Questions (the 157 pyfaq questions, one at a time, as a user asks them): milliseconds per
question, plain ``encode`` in fp32 against torch bf16 and our ONNX Runtime fp32 export.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from common import PYFAQ, save, timed


def matmul_peak_flops(tokens: int, hidden: int, intermediate: int, *, repeat: int = 20) -> float:
    """The best bf16 matmul rate (FLOP/s) over the model's linear-layer shapes for one batch of
    ``tokens`` rows, with torch's default threads."""
    import torch

    best = 0.0
    for k, n in ((hidden, hidden), (hidden, intermediate), (intermediate, hidden)):
        a = torch.randn(tokens, k, dtype=torch.bfloat16)
        w = torch.randn(n, k, dtype=torch.bfloat16)
        for _ in range(3):
            torch.nn.functional.linear(a, w)
        started = time.perf_counter()
        for _ in range(repeat):
            torch.nn.functional.linear(a, w)
        best = max(best, 2 * tokens * k * n * repeat / (time.perf_counter() - started))
    return best


def flops_per_passage(tokens: float, hidden: int, intermediate: int, layers: int) -> float:
    """Multiply-adds x 2 of one passage of ``tokens`` tokens: Q, K, V, output and the two
    feed-forward matrices per token, plus attention scores and the weighted sum (2 x tokens^2 x
    hidden) per layer."""
    per_token = 4 * hidden * hidden + 2 * hidden * intermediate
    return 2 * layers * (tokens * per_token + 2 * tokens * tokens * hidden)


def question_latency(questions: list[str], repeat: int) -> dict[str, dict[str, float]]:
    """ms per question, one question per call, for each path side by side."""
    import torch
    from sentence_transformers import SentenceTransformer

    from embeddings import SentenceTransformerEmbedder, resolve_model_path
    from embeddings.onnx_runtime import OnnxQueryEncoder

    plain = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    bf16 = SentenceTransformerEmbedder(precision="bf16", query_backend="torch")
    onnx = OnnxQueryEncoder()
    paths = {
        "plain fp32 SentenceTransformer.encode (reference)": lambda q: plain.encode([q], normalize_embeddings=True),
        "torch bf16 autocast": bf16.embed_query,
        "ONNX Runtime fp32 export (ours, default)": lambda q: onnx.encode([q]),
    }
    reference = plain.encode(questions, normalize_embeddings=True)
    results = {}
    for name, fn in paths.items():
        fn(questions[0])
        times = []
        with torch.inference_mode():
            for _ in range(repeat):
                for question in questions:
                    started = time.perf_counter()
                    fn(question)
                    times.append(time.perf_counter() - started)
        vectors = np.stack([np.asarray(fn(q), dtype=np.float32).reshape(-1) for q in questions[:50]])
        results[name] = {
            "p50_ms": float(np.percentile(times, 50) * 1000),
            "p95_ms": float(np.percentile(times, 95) * 1000),
            "cosine_to_fp32_min": float((vectors * reference[:50]).sum(1).min()),
        }
    base = results[next(iter(results))]["p50_ms"]
    print(f"\n{'question encoding, one at a time':52} {'p50 ms':>8} {'p95 ms':>8} {'speed-up':>9} {'cos min':>8}")
    for name, r in results.items():
        r["speedup"] = base / r["p50_ms"]
        print(f"{name:52} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['speedup']:8.2f}x {r['cosine_to_fp32_min']:8.5f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from embeddings import SentenceTransformerEmbedder, resolve_model_path
    from qa.ingest.chunking import chunk_documents
    from qa.ingest.loaders import load_documents
    from qa.retrieval.hybrid import passage_index_text

    docs = load_documents([PYFAQ / "corpus" / "library"]).documents
    passages = chunk_documents(docs)[: args.passages]
    texts = [passage_index_text(p, context=True) for p in passages]
    plain = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    tokens = sum(min(len(plain.tokenizer(t)["input_ids"]), plain.max_seq_length) for t in texts)
    print(f"{len(texts)} passages, {tokens / len(texts):.0f} tokens each on average, {torch.get_num_threads()} threads")

    paths = {
        "plain fp32 SentenceTransformer.encode (reference)": lambda: plain.encode(texts, batch_size=32, normalize_embeddings=True),
        "fp32 (ours)": SentenceTransformerEmbedder(precision="fp32").embed_documents,
        "bf16 autocast (ours)": SentenceTransformerEmbedder(precision="bf16").embed_documents,
    }
    try:
        from embeddings.onnx_runtime import OnnxInt8Embedder

        paths["int8 ONNX Runtime (ours)"] = OnnxInt8Embedder().embed_documents
    except Exception as exc:  # the optional extra may be missing
        print(f"int8 skipped: {exc}")

    reference = None
    results = {}
    for name, fn in paths.items():
        call = (lambda f=fn: f(texts)) if name.endswith("(ours)") else fn
        vectors = np.asarray(call(), dtype=np.float32)
        if reference is None:
            reference = vectors
        timing = timed(call, repeat=args.repeat, warmup=0)
        rate = len(texts) / timing["median"]
        cosine = (vectors * reference).sum(1)
        results[name] = {
            "passages_per_s": rate,
            "min_rate": len(texts) / timing["max"],
            "max_rate": len(texts) / timing["min"],
            "cosine_to_fp32_mean": float(cosine.mean()),
            "cosine_to_fp32_min": float(cosine.min()),
        }
    base = results[next(iter(results))]["passages_per_s"]
    config = plain[0].auto_model.config
    shape = dict(hidden=config.hidden_size, intermediate=config.intermediate_size)
    peak = matmul_peak_flops(16 * round(tokens / len(texts)), **shape)
    ceiling = peak / flops_per_passage(tokens / len(texts), layers=config.num_hidden_layers, **shape)
    print(f"\n{'path':52} {'passages/s (min-max)':>24} {'speed-up':>9} {'of ceiling':>10} {'cos mean/min':>14}")
    for name, r in results.items():
        r["speedup"] = r["passages_per_s"] / base
        r["ceiling_share"] = r["passages_per_s"] / ceiling
        print(
            f"{name:52} {r['passages_per_s']:8.1f} ({r['min_rate']:.1f}-{r['max_rate']:.1f}) {r['speedup']:8.2f}x "
            f"{r['ceiling_share']:9.1%} {r['cosine_to_fp32_mean']:.5f}/{r['cosine_to_fp32_min']:.4f}"
        )
    print(f"compute ceiling at this length: {ceiling:.0f} passages/s (bf16 matmul peak measured: {peak / 1e9:.0f} GFLOP/s)")
    questions = [json.loads(line)["question"] for line in (PYFAQ / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    query_results = question_latency(questions, repeat=args.repeat)
    save("encode", {
        "passages": len(texts), "tokens_per_passage": tokens / len(texts), "bf16_matmul_peak_flops": peak,
        "ceiling": ceiling, "results": results, "questions": query_results,
    })


if __name__ == "__main__":
    main()
