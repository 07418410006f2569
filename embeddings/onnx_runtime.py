"""ONNX Runtime copies of a sentence-transformers model, exported locally from its own weights.

Two users of one export:

- :class:`OnnxQueryEncoder` (fp32) encodes questions. Its vectors are the torch model's (cosine
  0.9999999 on the pyfaq questions) in about a third of the time for one short question, and it
  needs neither torch nor sentence-transformers at query time: a process that only answers
  questions starts without importing them (bench/README.md, "Query encoding" and "Cold start").
- :class:`OnnxInt8Embedder` runs the same graph with int8 weights (ONNX Runtime's dynamic
  quantisation) for whole corpora (``precision="int8"``).

The export (``torch.onnx.export`` of the transformer, tokenizer files, and ``export.json`` with
what the pooling needs) is made once per model and kept in :func:`cache_root`; nothing is
downloaded. Supported: models made of a Transformer, mean Pooling and optionally Normalize, which
is what all-MiniLM-L6-v2 and most sentence-transformers encoders are; anything else raises
:class:`~embeddings.errors.InputError` and callers fall back to torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .base import normalise_rows
from .errors import InputError, MissingDependencyError
from .models import DEFAULT_MODEL, resolve_model_path

ONNX_INSTALL = "pip install onnxruntime onnx tokenizers  (dependencies of grounded-qa: reinstall it)"
EXPORT_FORMAT = 1
_export_lock = threading.Lock()


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


def export_dir(model_name: str = DEFAULT_MODEL) -> Path:
    """The cache directory of ``model_name``'s export (it may not exist yet)."""
    location = Path(resolve_model_path(model_name))
    if not location.is_dir():
        raise InputError(
            f"ONNX export needs the model's files on disk; {model_name!r} is not a directory or the bundled model"
        )
    return cache_root() / "onnx" / f"{location.name}-{_model_fingerprint(location)}"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _check_exportable(model: Any, model_name: str) -> dict[str, Any]:
    """What the numpy side must do after the transformer, or InputError if it cannot."""
    kinds = [type(module).__name__ for module in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise InputError(
            f"ONNX export supports Transformer + mean Pooling (+ Normalize) models; {model_name!r} is {kinds}"
        )
    pooling = model[1]
    mode = getattr(pooling, "pooling_mode", None)
    if mode not in ("mean", ("mean",), ["mean"]):
        raise InputError(f"ONNX export supports mean pooling; {model_name!r} pools by {mode!r}")
    prompts = dict(getattr(model, "prompts", None) or {})
    query_prompt = prompts.get("query") or ""
    document_prompt = next((prompts[n] for n in ("document", "passage", "corpus") if prompts.get(n)), "")
    if (query_prompt or document_prompt) and not getattr(pooling, "include_prompt", True):
        raise InputError(f"ONNX export does not support pooling that leaves out the prompt ({model_name!r})")
    if getattr(model, "default_prompt_name", None):
        raise InputError(f"ONNX export does not support a default prompt ({model_name!r})")
    return {"query_prompt": query_prompt, "document_prompt": document_prompt}


def export_onnx(model_name: str = DEFAULT_MODEL) -> Path:
    """Export ``model_name``'s transformer to ONNX (fp32) once; returns the export directory.

    The directory holds ``model-fp32.onnx``, the tokenizer files and ``export.json``, which is
    written last, so a directory without it is an interrupted export and is redone.

    >>> directory = export_onnx()                    # doctest: +SKIP
    >>> sorted(p.name for p in directory.iterdir())  # doctest: +SKIP
    ['export.json', 'model-fp32.onnx', 'tokenizer.json', ...]
    """
    target = export_dir(model_name)
    if (target / "export.json").exists():
        return target
    with _export_lock:
        if (target / "export.json").exists():
            return target
        try:
            import onnx  # noqa: F401  (torch.onnx.export writes through it)
        except ImportError as exc:
            raise MissingDependencyError(f"the ONNX export needs the onnx package: {ONNX_INSTALL}") from exc
        import torch
        from sentence_transformers import SentenceTransformer

        location = resolve_model_path(model_name)
        model = SentenceTransformer(location, device="cpu", local_files_only=True)
        extra = _check_exportable(model, model_name)
        transformer = model[0].auto_model.eval()
        tokenizer = model[0].tokenizer
        if not getattr(tokenizer, "is_fast", False):
            raise InputError(f"ONNX export needs a fast (tokenizer.json) tokenizer; {model_name!r} has none")
        target.mkdir(parents=True, exist_ok=True)
        tokenizer.save_pretrained(str(target))
        sample = tokenizer(["export sample"], return_tensors="pt")
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

        class _ByName(torch.nn.Module):
            """Calls the model with keyword inputs (its positional order varies across versions)."""

            def __init__(self) -> None:
                super().__init__()
                self.inner = transformer

            def forward(self, *inputs):
                return self.inner(**dict(zip(names, inputs))).last_hidden_state

        tmp = target / f"model-fp32.onnx.{os.getpid()}.tmp"
        # The tracer warns about shape checks in transformers' mask code that are constant for an
        # encoder (the mask always spans the input); batches with padding are checked in tests.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _ByName().eval(),
                tuple(sample[n] for n in names),
                str(tmp),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "last_hidden_state": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, target / "model-fp32.onnx")
        meta = {
            "format": EXPORT_FORMAT,
            "model": model_name,
            "dim": int(model.get_embedding_dimension()),
            "max_seq_length": int(model.max_seq_length or 256),
            "inputs": names,
            **extra,
        }
        _atomic_write_text(target / "export.json", json.dumps(meta, indent=1))
        return target


def export_int8(model_name: str = DEFAULT_MODEL) -> Path:
    """The int8 (dynamically quantised, per channel) copy of :func:`export_onnx`'s file (cached)."""
    target = export_onnx(model_name)
    int8_path = target / "model-int8.onnx"
    if int8_path.exists():
        return int8_path
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise MissingDependencyError(f"int8 embedding needs ONNX Runtime: {ONNX_INSTALL}") from exc
    tmp = target / f"model-int8.onnx.{os.getpid()}.tmp"
    quantize_dynamic(str(target / "model-fp32.onnx"), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    os.replace(tmp, int8_path)
    return int8_path


class _OnnxModel:
    """A tokenizer + ONNX Runtime session + mean pooling: texts in, unit vectors out."""

    def __init__(self, model: str, *, file: str, threads: int | None, batch_size: int) -> None:
        self.name = model
        self.file = file
        self.threads = threads
        self.batch_size = batch_size
        self._session: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer
            except ImportError as exc:
                raise MissingDependencyError(f"ONNX encoding needs ONNX Runtime: {ONNX_INSTALL}") from exc
            directory = export_onnx(self.name)  # returns at once when the export exists
            path = export_int8(self.name) if self.file == "model-int8.onnx" else directory / self.file
            meta = json.loads((directory / "export.json").read_text(encoding="utf-8"))
            if meta.get("format") != EXPORT_FORMAT:
                raise InputError(f"the ONNX export in {str(directory)!r} has another format; delete that directory to redo it")
            tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.enable_truncation(int(meta["max_seq_length"]))
            options = ort.SessionOptions()
            # Queries are tiny: more than a few threads only adds synchronisation.
            options.intra_op_num_threads = self.threads or min(4, os.cpu_count() or 1)
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Spinning threads stay on (the default): with them off, pyfaq question encoding took
            # 5.3 ms instead of 4.0 ms and the rest of the search did not get faster (measured).
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self.meta = meta
            self._tokenizer = tokenizer
            self._inputs = [i.name for i in session.get_inputs()]
            self._session = session

    @property
    def dim(self) -> int:
        self.load()
        return int(self.meta["dim"])

    def encode(self, texts: Sequence[str], *, prompt: str = "") -> np.ndarray:
        self.load()
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([prompt + t for t in texts])
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")  # similar lengths share a batch: little padding
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, row in enumerate(rows):
                ids[j, : lengths[row]] = encodings[row].ids
                mask[j, : lengths[row]] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(["last_hidden_state"], {n: feeds[n] for n in self._inputs})[0]
            weights = mask[..., None].astype(np.float32)
            out[rows] = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        return normalise_rows(out)


class OnnxQueryEncoder:
    """Question vectors from the fp32 ONNX export of a sentence-transformers model: the torch
    model's vectors without loading torch. :class:`~embeddings.SentenceTransformerEmbedder` uses
    it for questions by default (``query_backend="auto"``).

    >>> encoder = OnnxQueryEncoder()                        # doctest: +SKIP
    >>> encoder.encode(["What is NATO?"]).shape             # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, threads: int | None = None) -> None:
        self._model = _OnnxModel(model, file="model-fp32.onnx", threads=threads, batch_size=32)

    @property
    def dim(self) -> int:
        return self._model.dim

    def load(self) -> None:
        """Export (first time on this machine) and open the model now rather than on first use."""
        self._model.load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self._model.load()
        return self._model.encode(texts, prompt=self._model.meta["query_prompt"])


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
        self._model = _OnnxModel(model, file="model-int8.onnx", threads=threads or os.cpu_count() or 1, batch_size=batch_size)

    @property
    def dim(self) -> int:
        return self._model.dim

    def embed_documents(
        self, texts: Sequence[str], *, show_progress: bool = False, on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        self._model.load()
        texts = list(texts)
        if not show_progress and on_progress is None:
            return self._model.encode(texts, prompt=self._model.meta["document_prompt"])
        from tqdm.auto import tqdm

        step = self.batch_size * 16
        parts = []
        with tqdm(total=len(texts), desc="Embedding (int8)", unit="text", disable=not show_progress) as bar:
            for start in range(0, len(texts), step):
                parts.append(self._model.encode(texts[start : start + step], prompt=self._model.meta["document_prompt"]))
                bar.update(len(parts[-1]))
                if on_progress is not None:
                    on_progress(len(parts[-1]))
        return np.concatenate(parts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self._model.load()
        return self._model.encode(list(texts), prompt=self._model.meta["query_prompt"])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]
