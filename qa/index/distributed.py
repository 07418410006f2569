"""Index building on a Ray cluster: the same index as :meth:`QA.build`, embedded by many workers.

    qa index docs/ --index my-index --ray [--ray-address auto] [--workers 4]

The pipeline (Ray Data):

1. the driver lists the files (cheap) and hands them out in blocks;
2. **tasks** read and parse each file and cut its documents into passages and sentences, exactly
   as the local path does (:func:`qa.index.indexing.texts_to_embed`), emitting the documents and the texts
   to embed;
3. an **actor pool** (one model per actor, loaded once) embeds those texts in batches through the
   embedder's fast path; the vectors are written as Parquet shards next to the index;
4. the driver merges: it reads the shards into a table of vectors by content hash and runs the
   ordinary local build on the documents the tasks returned, so every passage finds its vector
   there. Manifest, format, dense index choice (HNSW past its threshold), BM25 and sentence
   tables are therefore the local ones, byte for byte.

Vectors are the same as on the local path because the embedder batches texts of equal token count
only (:meth:`SentenceTransformerEmbedder.length_batches`): a text's vector does not depend on
which worker or batch embedded it. Ray retries failed tasks and restarts failed actors; a run that
fails anyway raises :class:`~qa.errors.QAError` and leaves the existing index untouched (it is only
replaced by the final atomic save). Nothing of Ray is imported unless this module is used.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import MissingDependencyError, QAError
from ..ingest.loaders import (
    DEFAULT_MAX_FILE_MB,
    LoadResult,
    SkippedFile,
    iter_files,
    load_file,
)
from ..progress import console_progress
from ..types import Document, content_hash

RAY_INSTALL = "pip install 'grounded-qa[ray]'  (or: pip install 'ray[data]>=2.60')"
# Files per read/chunk task, and texts per embedding call: the embedder batches texts of equal
# token count, so a call needs thousands of texts for its batches to fill up (with 512 per call,
# one actor embedded at 60 % of the local speed; bench/ray_build.py).
FILES_PER_TASK = 8
TEXTS_PER_BATCH = 4096


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library is the part we need
    except ImportError as exc:
        raise MissingDependencyError(f"--ray needs the ray extra: {RAY_INSTALL}") from exc
    return ray


def _load_and_split(batch: dict[str, np.ndarray], *, settings: dict[str, Any], max_file_mb: float) -> dict[str, list]:
    """Ray task: parse files, emit one row per file with its documents and the texts to embed."""
    from .indexing import texts_to_embed
    from .store import IndexSettings

    index_settings = IndexSettings.from_manifest(settings)
    out: dict[str, list] = {"ordinal": [], "documents": [], "skipped": [], "texts": []}
    for ordinal, path in zip(batch["ordinal"], batch["path"]):
        loaded = load_file(str(path), max_file_mb=max_file_mb)
        texts = texts_to_embed(loaded.documents, index_settings)
        out["ordinal"].append(int(ordinal))
        out["documents"].append(json.dumps([d.to_dict() for d in loaded.documents], ensure_ascii=False))
        out["skipped"].append(json.dumps([[s.path, s.reason] for s in loaded.skipped], ensure_ascii=False))
        out["texts"].append(json.dumps(texts, ensure_ascii=False))
    return out


def _explode_texts(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": content_hash(text), "text": text, "chars": len(text)} for text in json.loads(row["texts"])]


class _EmbedActor:
    """One embedding model per actor, loaded when the actor starts."""

    def __init__(self, model: str, precision: str) -> None:
        import ray
        import torch

        from embeddings import load_embedder

        # An actor granted n CPUs uses n threads, whatever the worker's environment says.
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        if cpus:
            torch.set_num_threads(max(1, int(cpus)))
        self.embedder = load_embedder(model, precision=precision)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        vectors = self.embedder.embed_documents([str(t) for t in batch["text"]])
        return {"key": batch["key"], "vector": [v.tobytes() for v in np.asarray(vectors, dtype=np.float32)]}


class PrecomputedEmbedder:
    """An :class:`~embeddings.Embedder` that answers document texts from vectors computed
    elsewhere (by content hash) and falls back to ``embedder`` for anything else and for queries.

    >>> from embeddings import HashingEmbedder
    >>> base = HashingEmbedder(dim=8)
    >>> pre = PrecomputedEmbedder(base, {content_hash("a cat"): np.ones(8, dtype=np.float32)})
    >>> pre.embed_documents(["a cat"])[0].tolist() == [1.0] * 8, pre.computed_here
    (True, 0)
    """

    def __init__(self, embedder: Any, vectors: dict[str, np.ndarray]) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self.name = embedder.name
        self.computed_here = 0

    @property
    def dim(self) -> int:
        return self._embedder.dim

    @property
    def precision(self) -> str:
        return getattr(self._embedder, "precision", "fp32")

    def embed_documents(
        self, texts: Sequence[str], *, show_progress: bool = False, on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        keys = [content_hash(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._vectors]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in self._vectors:
                out[i] = self._vectors[key]
        if missing:
            self.computed_here += len(missing)
            out[missing] = self._embedder.embed_documents(
                [texts[i] for i in missing], show_progress=show_progress, on_progress=on_progress
            )
        if on_progress is not None and len(missing) < len(texts):
            on_progress(len(texts) - len(missing))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embedder.embed_queries(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embedder.embed_query(text)


def build_with_ray(
    paths: Iterable[str | os.PathLike[str]],
    *,
    index_dir: str | os.PathLike[str],
    address: str | None = None,
    workers: int = 2,
    rebuild: bool = False,
    show_progress: bool = False,
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    **settings: Any,
):
    """Build an index like :meth:`QA.build`, with reading, chunking and embedding on Ray.

    ``address``: ``None`` starts a local Ray instance for this run; ``"auto"`` joins the cluster
    started on this machine with ``ray start``; ``"ray://host:10001"`` uses Ray Client.
    ``workers``: embedding actors (one model each). ``settings`` are :meth:`QA.build`'s (model,
    chunking, precision, ...). ``qa.last_report.timings`` holds the seconds per stage.

    >>> qa = build_with_ray(["docs/"], index_dir="my-index", workers=2)    # doctest: +SKIP
    """
    from ..core import QA, _as_path_list, check_loaded

    if settings.get("embedder") is not None:
        raise QAError(
            "build_with_ray takes model=NAME (and precision=), not an embedder object: each Ray worker loads its own "
            "copy of the model by name"
        )
    if not isinstance(workers, int) or workers < 1:
        raise QAError(f"workers must be an integer >= 1, got {workers!r}")
    paths = _as_path_list(paths)
    if (Path(index_dir) / "manifest.json").exists() and not rebuild:
        raise QAError(
            f"an index already exists at {str(index_dir)!r}; --ray builds whole indexes: add --rebuild to replace it "
            "(unchanged passages keep their vectors), or update it without --ray"
        )
    ray = _ray()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    files, skipped = [], []
    for path, problem in iter_files(paths):
        if problem:
            skipped.append(SkippedFile(str(path), problem))
        else:
            files.append(str(path))
    if not files:
        check_loaded(LoadResult(skipped=skipped), paths)

    # The driver knows the settings (and the model's dimension) before any worker starts.
    empty = QA.create(**settings)
    index_settings = empty.settings
    started_ray = False
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        except Exception as exc:  # ConnectionError, ValueError...: say where we tried to connect
            raise QAError(
                f"cannot start or join a Ray cluster at {address or 'a new local instance'!r} ({exc}); "
                "start one with `ray start --head` and pass --ray-address auto, or leave --ray-address out"
            ) from exc
        started_ray = True
    shard_dir = Path(index_dir).parent / f".{Path(index_dir).name}.ray-shards-{os.getpid()}"
    try:
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # Ray's notices are not the user's business
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = show_progress
        context.print_on_execution_start = False
        files_ds = ray.data.from_items(
            [{"ordinal": i, "path": p} for i, p in enumerate(files)],
            override_num_blocks=max(1, min(len(files), -(-len(files) // FILES_PER_TASK))),
        )
        split = files_ds.map_batches(
            _load_and_split,
            batch_size=FILES_PER_TASK,
            fn_kwargs={"settings": index_settings.to_dict(), "max_file_mb": max_file_mb},
        ).materialize()
        timings["read_and_chunk_s"] = time.perf_counter() - started
        stage = time.perf_counter()
        # Materialised (and split into blocks for every worker) first: actors that hold every
        # CPU must never wait on upstream tasks that need a CPU to run (a deadlock otherwise).
        # Sorted by length so each block holds texts of similar token counts: the embedder's
        # equal-length batches then fill up even in small blocks.
        texts = split.flat_map(_explode_texts).sort("chars").materialize()
        # At least two blocks per worker, each handed to an idle actor (one in flight per actor):
        # otherwise the first actor up takes every block while the others still load the model.
        texts = texts.repartition(max(2 * workers, -(-texts.count() // TEXTS_PER_BATCH))).materialize()
        embedded = texts.map_batches(
            _EmbedActor,
            batch_size=None,  # a whole block per call: the embedder sorts it into length batches
            compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=1),
            num_cpus=max(1, int(ray.available_resources().get("CPU", workers)) // workers),
            fn_constructor_kwargs={"model": index_settings.model, "precision": index_settings.precision},
        )
        shutil.rmtree(shard_dir, ignore_errors=True)
        embedded.write_parquet(str(shard_dir))
        timings["embed_s"] = time.perf_counter() - stage
        stage = time.perf_counter()
        rows = sorted(split.select_columns(["ordinal", "documents", "skipped"]).iter_rows(), key=lambda r: r["ordinal"])
        documents = [Document.from_dict(d) for row in rows for d in json.loads(row["documents"])]
        skipped += [SkippedFile(p, reason) for row in rows for p, reason in json.loads(row["skipped"])]
        vectors = _read_shards(shard_dir, index_settings.dim)
    except QAError:
        raise
    except Exception as exc:
        raise QAError(
            f"the Ray build of {', '.join(paths)} failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            f"the index at {str(index_dir)!r} was not changed"
        ) from exc
    finally:
        if started_ray:
            ray.shutdown()
    try:
        loaded = LoadResult(documents=documents, skipped=skipped)
        check_loaded(loaded, paths)
        embedder = PrecomputedEmbedder(empty.embedder, vectors)
        qa = QA.build_loaded(
            loaded, index_dir=index_dir, rebuild=rebuild, progress=console_progress() if show_progress else None, **{**settings, "embedder": embedder}
        )
    finally:
        shutil.rmtree(shard_dir, ignore_errors=True)
    qa.embedder = empty.embedder  # queries go to the model itself
    timings["merge_s"] = time.perf_counter() - stage
    timings["total_s"] = time.perf_counter() - started
    qa.last_report.timings = {k: round(v, 2) for k, v in timings.items()}
    return qa


def _read_shards(shard_dir: Path, dim: int) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table(shard_dir, columns=["key", "vector"])
    keys = table.column("key").to_pylist()
    blob = b"".join(table.column("vector").to_pylist())
    matrix = np.frombuffer(blob, dtype=np.float32).reshape(len(keys), dim)
    return dict(zip(keys, matrix))
