"""The same sentence-transformers model run by ONNX Runtime with int8 weights (VNNI/AMX).

The ONNX file is made locally, once, from the model's own weights (``torch.onnx.export``, then
ONNX Runtime's dynamic int8 quantization) and cached; nothing is downloaded. Supports the common
transformer + mean pooling (+ normalize) models such as all-MiniLM-L6-v2.

Needs the optional extra: ``pip install 'grounded-qa[onnx]'``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .base import normalise_rows
from .sentence_transformer import DEFAULT_MODEL, _errors, resolve_model_path

ONNX_INSTALL = "pip install 'grounded-qa[onnx]'  (onnxruntime, onnx, onnxscript)"


def cache_root() -> Path:
    """Where exported models are kept: ``$QA_CACHE_DIR`` or ``~/.cache/grounded-qa``."""
    return Path(os.environ.get("QA_CACHE_DIR") or Path.home() / ".cache" / "grounded-qa")


def _model_fingerprint(model_dir: Path) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(model_dir.rglob("*")):
        if path.is_file() and path.suffix in (".safetensors", ".bin", ".json", ".txt"):
            stat = path.stat()
            digest.update(f"{path.relative_to(model_dir)}:{stat.st_size}".encode())
    return digest.hexdigest()


def export_int8(model_name: str = DEFAULT_MODEL, *, target: Path | None = None) -> Path:
    """Export ``model_name`` to ONNX and quantize it to int8; returns the int8 file (cached)."""
    try:
        import onnx  # noqa: F401  (needed by the quantizer)
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise _errors().MissingDependencyError(f"int8 embedding needs ONNX Runtime: {ONNX_INSTALL}") from exc
    import torch
    from sentence_transformers import SentenceTransformer

    location = Path(resolve_model_path(model_name))
    target = target or cache_root() / "onnx" / f"{location.name}-{_model_fingerprint(location)}"
    int8_path = target / "model-int8.onnx"
    if int8_path.exists():
        return int8_path
    target.mkdir(parents=True, exist_ok=True)
    model = SentenceTransformer(str(location), device="cpu", local_files_only=True)
    transformer = model[0].auto_model.eval()
    pooling_mode = getattr(model[1], "pooling_mode", None) if len(model) > 1 else None
    if pooling_mode not in ("mean", ("mean",), ["mean"]):
        raise _errors().InputError(
            f"int8 export supports mean-pooling models; {model_name!r} pools by {pooling_mode!r}: use precision fp32 or bf16"
        )
    model[0].tokenizer.save_pretrained(str(target))
    sample = model[0].tokenizer(["export sample"], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    fp32_path = target / "model-fp32.onnx"

    class _ByName(torch.nn.Module):
        """Calls the model with keyword inputs (its positional order varies across versions)."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    with torch.inference_mode():
        torch.onnx.export(
            _ByName().eval(),
            tuple(sample[n] for n in names),
            str(fp32_path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "last_hidden_state": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    tmp = target / "model-int8.onnx.tmp"
    quantize_dynamic(str(fp32_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    os.replace(tmp, int8_path)
    (target / "max_seq_length").write_text(str(model.max_seq_length or 256))
    return int8_path


class OnnxInt8Embedder:
    """Embeddings from the int8 ONNX export of a sentence-transformers model (same ``name``: the
    vectors agree with the fp32 model to ~0.99 cosine; see bench/README.md).

    >>> e = OnnxInt8Embedder()                   # doctest: +SKIP
    >>> e.embed_query("What is NATO?").shape     # doctest: +SKIP
    (384,)
    """

    precision = "int8"

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 64, threads: int | None = None) -> None:
        self.name = model
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self._session: Any = None
        self._tokenizer: Any = None
        self._max_length = 256
        self._dim: int | None = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise _errors().MissingDependencyError(f"int8 embedding needs ONNX Runtime: {ONNX_INSTALL}") from exc
            from transformers import AutoTokenizer

            path = export_int8(self.name)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._tokenizer = AutoTokenizer.from_pretrained(str(path.parent), local_files_only=True)
            limit = path.parent / "max_seq_length"
            self._max_length = int(limit.read_text()) if limit.exists() else 256
            self._inputs = None
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self._inputs = [i.name for i in self._session.get_inputs()]

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._encode(["dimension probe"]).shape[1])
        return self._dim

    def _encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self._load()
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch
        out = np.zeros((len(texts), 0), dtype=np.float32)
        chunks = []
        batches = range(0, len(texts), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding (int8)", unit="batch")
        for start in batches:
            batch = [texts[i] for i in order[start : start + self.batch_size]]
            encoded = self._tokenizer(batch, padding=True, truncation=True, max_length=self._max_length, return_tensors="np")
            feeds = {name: encoded[name].astype(np.int64) for name in self._inputs if name in encoded}
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
            mask = encoded["attention_mask"][..., None].astype(np.float32)
            chunks.append((hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9))
        if chunks:
            pooled = np.concatenate(chunks)
            out = np.empty_like(pooled)
            out[order] = pooled
        return normalise_rows(out)

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(list(texts), show_progress=show_progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text])[0]
