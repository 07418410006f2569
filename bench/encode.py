"""Encoding throughput: plain fp32 ``SentenceTransformer.encode`` against our encoding paths,
side by side in one run, on real pyfaq passages (with their title/section context, as indexed).

    python bench/encode.py [--passages 512] [--repeat 3]

Prints passages/s (median, min, max of the runs), the speed-up over plain fp32, the share of the
compute ceiling, and how close each path's vectors are to fp32 (mean and min cosine).
"""

from __future__ import annotations

import argparse

import numpy as np

from common import PYFAQ, save, timed

# ~1.4 TFLOP/s measured for a bf16 matmul on this CPU (the probe); MiniLM-L6 costs about
# 2 x 22.7 M multiply-adds per token.
CEILING_FLOPS = 1.4e12
MODEL_PARAMS = 22.7e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from embeddings import SentenceTransformerEmbedder, resolve_model_path
    from qa.chunking import chunk_documents
    from qa.loaders import load_documents
    from qa.retrieval import passage_index_text

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
    ceiling = CEILING_FLOPS / (2 * MODEL_PARAMS * tokens / len(texts))
    print(f"\n{'path':52} {'passages/s (min-max)':>24} {'speed-up':>9} {'of ceiling':>10} {'cos mean/min':>14}")
    for name, r in results.items():
        r["speedup"] = r["passages_per_s"] / base
        r["ceiling_share"] = r["passages_per_s"] / ceiling
        print(
            f"{name:52} {r['passages_per_s']:8.1f} ({r['min_rate']:.1f}-{r['max_rate']:.1f}) {r['speedup']:8.2f}x "
            f"{r['ceiling_share']:9.1%} {r['cosine_to_fp32_mean']:.5f}/{r['cosine_to_fp32_min']:.4f}"
        )
    print(f"compute ceiling at this length: {ceiling:.0f} passages/s")
    save("encode", {"passages": len(texts), "tokens_per_passage": tokens / len(texts), "ceiling": ceiling, "results": results})


if __name__ == "__main__":
    main()
