"""sentence-transformers models, loaded from local files only (no model hub at run time)."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, Sequence

import numpy as np

from .base import normalise_rows
from .errors import InputError, MissingDependencyError
from .models import DEFAULT_MODEL, resolve_model_path

PRECISIONS = ("fp32", "bf16", "int8")  # int8 runs through embeddings.onnx_runtime
QUERY_BACKENDS = ("auto", "onnx", "torch")
# Tokens of one document batch at most: 8 texts of 256 tokens, 32 of 64. The model's working
# memory follows it: 16 x 256 took 87-105 MB above the loaded model, 8 x 256 40 MB, at the same
# speed in fp32 on 2 cores (19.9-20.0 vs 21.1-21.3 passages/s; 64 x 256: 415 MB, also no faster).
MAX_BATCH_TOKENS = 2048
log = logging.getLogger(__name__)


def default_precision() -> str:
    """``bf16`` where the CPU computes bfloat16 natively (AVX512-BF16 or AMX), else ``fp32``.

    Measured here (bench/README.md): bf16 autocast encodes ~1.8x faster than fp32 with vectors at
    0.99998 cosine of the fp32 ones; on CPUs without native bf16 it would be slower, not faster.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "bf16" if flags & {"avx512_bf16", "amx_bf16"} else "fp32"
    except OSError:
        pass
    return "fp32"


def resolve_precision(precision: str | None) -> str:
    """``None`` or ``"auto"`` -> :func:`default_precision`; anything else is checked."""
    if precision in (None, "auto"):
        return default_precision()
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {PRECISIONS} or 'auto', got {precision!r}")
    return precision


class SentenceTransformerEmbedder:
    """A sentence-transformers model behind the :class:`~embeddings.Embedder` interface.

    The model is loaded on first use, once, and shared by all threads.

    Documents go through torch in ``precision``. Questions go through the model's fp32 ONNX
    export (:class:`~embeddings.onnx_runtime.OnnxQueryEncoder`) when ``query_backend`` is
    ``"auto"`` (the default) or ``"onnx"``: the same vectors ~3x sooner, and a process that only
    answers questions never imports torch. ``"auto"`` falls back to torch (with a warning) for
    models the export does not support; ``"torch"`` always uses torch.

    >>> e = SentenceTransformerEmbedder()            # the bundled all-MiniLM-L6-v2
    >>> e.embed_query("What is NATO?").shape         # doctest: +SKIP
    (384,)
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        precision: str = "fp32",
        batch_size: int = 64,
        device: str = "cpu",
        query_backend: str = "auto",
    ) -> None:
        if precision not in ("fp32", "bf16"):
            raise InputError(
                f"precision must be 'fp32' or 'bf16' here, got {precision!r} (int8 is embeddings.OnnxInt8Embedder)"
            )
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size!r}")
        if query_backend not in QUERY_BACKENDS:
            raise InputError(f"query_backend must be one of {QUERY_BACKENDS}, got {query_backend!r}")
        self.query_backend = query_backend
        self._query_encoder: Any = None  # OnnxQueryEncoder, or False once it proved unusable
        self._query_threads: int | None = None  # ONNX Runtime threads per question (None: its default)
        self.name = model
        self.precision = precision
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependencyError(
                "embedding needs sentence-transformers: pip install sentence-transformers torch==2.13.0"
            ) from exc
        try:  # the per-layer "Loading weights" bar is noise in a CLI and in logs
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            transformers_logging.set_verbosity_error()
        except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
            pass
        location = resolve_model_path(self.name)
        try:
            model = SentenceTransformer(location, device=self.device, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot load embedding model {self.name!r} from local files ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}). Pass a directory that holds a "
                "sentence-transformers model, or use the bundled default 'all-MiniLM-L6-v2'."
            ) from exc
        model.eval()
        return model

    @property
    def dim(self) -> int:
        if self._dim is None and self._model is None and self._query_encoder:
            self._dim = self._query_encoder.dim  # already open: no need to load torch
        if self._dim is None:
            dim = self.model.get_embedding_dimension()
            if dim is None:  # some models only know after a forward pass
                dim = int(self._encode(["dimension probe"], query=False).shape[1])
            self._dim = int(dim)
        return self._dim

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        import torch

        encode = self.model.encode_query if query else self.model.encode_document
        with torch.inference_mode():
            if self.precision == "bf16":
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    vectors = encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                                     convert_to_numpy=False, convert_to_tensor=True)
                vectors = vectors.float().cpu().numpy()
            else:
                vectors = encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                                 convert_to_numpy=True)
        return normalise_rows(vectors)

    def embed_documents(
        self, texts: Sequence[str], *, show_progress: bool = False, on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Vectors of ``texts``, batched by exact token count (see :meth:`length_batches`)."""
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        batches = self.length_batches(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        bar = None
        if show_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="Embedding", unit="text")
        for rows in batches:
            out[rows] = self._encode([texts[i] for i in rows], query=False)
            if bar is not None:
                bar.update(len(rows))
            if on_progress is not None:
                on_progress(len(rows))
        if bar is not None:
            bar.close()
        return out

    def embed_documents_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """One encoder pass per text giving its vector and a vector for each character span of
        it ("late chunking"): the mean of the text's token vectors inside the span, so a sentence
        is read in the context of its passage and costs no pass of its own.

        Returns the text vectors (as :meth:`embed_documents` makes them) and, per span, a unit
        vector, or ``None`` for a span with no token in the encoder's window (beyond its 256
        word pieces): those need a pass of their own.
        """
        import torch

        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        span_vectors: list[list[np.ndarray | None]] = [[] for _ in texts]
        transformer = self.model[0]
        tokenizer = transformer.tokenizer
        for rows in self.length_batches(texts):
            batch = [texts[i] for i in rows]
            features = self.model.preprocess(batch)
            encoded = tokenizer(batch, return_offsets_mapping=True, truncation=True, max_length=transformer.max_seq_length, padding=True)
            offsets = np.asarray(encoded["offset_mapping"])
            if offsets.shape[1] != features["input_ids"].shape[1]:
                raise RuntimeError("the tokenizer's offsets do not line up with the model's input")
            with torch.inference_mode():
                if self.precision == "bf16":
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        result = self.model(features)
                else:
                    result = self.model(features)
            tokens = result["token_embeddings"].float().cpu().numpy()
            out[rows] = result["sentence_embedding"].float().cpu().numpy()
            real = offsets[:, :, 1] > offsets[:, :, 0]  # special tokens have empty offsets
            for j, i in enumerate(rows):
                for start, end in spans[i]:
                    inside = real[j] & (offsets[j, :, 0] >= start) & (offsets[j, :, 1] <= end)
                    if inside.any():
                        span_vectors[i].append(tokens[j][inside].mean(axis=0))
                    else:
                        span_vectors[i].append(None)
            if on_progress is not None:
                on_progress(len(rows))
        flat: list[np.ndarray | None] = [v for vectors in span_vectors for v in vectors]
        present = [k for k, v in enumerate(flat) if v is not None]
        if present:
            normalised = normalise_rows(np.stack([flat[k] for k in present]))
            for k, vector in zip(present, normalised):
                flat[k] = vector
        return normalise_rows(out), flat

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """How many tokens the model sees of each text (after truncation to its maximum)."""
        counts = np.empty(len(texts), dtype=np.int64)
        # 512 at a time: the tokenizer's encodings and padded ids of 4,096 passages took 230 MB for
        # a moment (a build's peak), of 512 52 MB, and 512 is no slower (measured, pyfaq passages).
        step = 512
        for start in range(0, len(texts), step):
            features = self.model.preprocess(list(texts[start : start + step]))
            counts[start : start + step] = features["attention_mask"].sum(dim=1).numpy()
        return counts

    def length_batches(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Row numbers of ``texts`` in batches of up to ``batch_size`` texts of exactly the same
        token count, and of at most :data:`MAX_BATCH_TOKENS` tokens together (long texts go in
        smaller batches: the model's working memory follows the tokens of a batch).

        Without padding a text's vector does not depend on which other texts share its batch:
        under bf16, padding changed vectors by up to 7e-4 between two batchings of the same texts,
        while same-length batches of any size gave identical bits (measured). So a text gets the
        same vector whether it is indexed alone, with its folder, or on a Ray worker, and no
        compute is spent on padding.
        """
        counts = self.token_counts(texts)
        order = np.argsort(counts, kind="stable")
        batches, start = [], 0
        for end in range(1, len(order) + 1):
            size = max(1, min(self.batch_size, MAX_BATCH_TOKENS // max(1, int(counts[order[start]]))))
            if end == len(order) or counts[order[end]] != counts[order[start]] or end - start == size:
                batches.append(order[start:end])
                start = end
        return batches

    @property
    def query_encoder(self) -> Any:
        """The ONNX encoder used for questions, or None when questions go through torch."""
        if self._query_encoder is None:
            with self._lock:
                if self._query_encoder is None:
                    self._query_encoder = self._open_query_encoder()
        return self._query_encoder or None

    def _open_query_encoder(self) -> Any:
        if self.query_backend == "torch" or self.device != "cpu":
            return False
        from .onnx_runtime import OnnxQueryEncoder

        encoder = OnnxQueryEncoder(self.name, threads=self._query_threads)
        try:
            encoder.load()
        except Exception as exc:  # any failure of the export only costs speed under "auto"
            if self.query_backend == "onnx":
                raise
            log.warning("questions will be encoded with torch, not ONNX Runtime (%s: %s)", type(exc).__name__, exc)
            return False
        return encoder

    def set_query_threads(self, threads: int) -> None:
        """Threads ONNX Runtime gives each question (default: up to 4). A server answering
        several questions at once does better with 1: 20 chat users on 2 cores got 16.1 answers a
        second instead of 12.2, the app using 0.50 cores instead of 0.67, while one question
        alone takes ~2 ms longer (bench/load.py). Call it before the first question.

        >>> SentenceTransformerEmbedder().set_query_threads(1)
        """
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise InputError(f"threads must be a whole number >= 1, got {threads!r}")
        with self._lock:
            self._query_threads = threads
            self._query_encoder = None  # reopened with that many threads on the next question

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.query_encoder is not None:
            return self.query_encoder.encode(list(texts))
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(texts, query=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]
