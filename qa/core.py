"""The front door: :class:`QA` builds, loads, updates and queries an index."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from embeddings import DEFAULT_MODEL, Embedder, load_embedder, resolve_precision

from .allocator import release_free_memory
from .answers.answering import SIGNAL_DEPTH, AnswerSettings, answer_question
from .answers.calibration import DEFAULT_CALIBRATION, Calibration
from .errors import IndexFormatError, InputError
from .index.dense import DENSE_KINDS
from .index.indexing import (
    EmbeddingPlan,
    SplitDocuments,
    StageClock,
    assemble,
    passage_terms,
    plan_update,
    reusable_vectors,
    split_documents,
    updated_ledger,
    updated_passages,
    within_passage_limit,
)
from .index.lexical import BM25_B, BM25_K1, LexicalIndex
from .index.store import (
    IndexContents,
    IndexSettings,
    PassageTable,
    empty_contents,
    load_index,
    read_manifest,
    save_index,
    write_lock,
)
from .ingest.chunking import ChunkingSettings
from .ingest.loaders import (
    DEFAULT_MAX_FILE_MB,
    LoadResult,
    SkippedFile,
    load_documents,
    source_name,
)
from .progress import ProgressCallback, StageTracker, console_progress
from .retrieval.filters import describe, known_keys, passage_mask, rows_by_source
from .retrieval.hybrid import SearchSettings, distinct_passages, query_terms, retrieve
from .threads import single_blas_thread
from .types import Answer, Document, FileRecord, Hit, Passage

FILTER_MASKS_KEPT = 16  # masks of the latest filters kept per index (1 MB each at 1M passages)
MAX_QUESTION_CHARS = 2000  # longer input is cut: no real question is longer, and it bounds work
# Texts embedded per call while building: their float32 vectors are stored (sentence vectors as
# 8-bit codes) before the next call, so memory follows this, not the corpus (6 MB of vectors).
EMBED_CHUNK = 4096


@dataclass
class IndexReport:
    """What an ``add``/``build``/``remove`` changed, for people and for tests."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    passages: int = 0  # passages in the index afterwards
    embedded: int = 0  # passages whose vectors were computed now
    reused: int = 0  # passages whose vectors came from the index (unchanged text)
    sentences_embedded: int = 0  # sentence vectors computed now
    files_read: int = 0  # files read (new or changed since they were recorded)
    files_unchanged: int = 0  # files not read: same size and modification time as recorded
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage: read, chunk, bm25, reuse, embed..., index, save

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """One line, e.g. ``"added 3, updated 0, unchanged 1, removed 0, skipped 2 documents; ..."``."""
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, skipped {len(self.skipped)}"
            + (f" ({self.files_unchanged} files unchanged, not read)" if self.files_unchanged else "")
            + f"; {self.passages} passages in the index "
            f"({self.embedded} embedded now, {self.reused} reused)"
            + ("; " + ", ".join(f"{name[:-2].replace('_', ' ')} {value:.1f} s" for name, value in self.timings.items()) if self.timings else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "passages": self.passages,
            "embedded": self.embedded,
            "reused": self.reused,
            "sentences_embedded": self.sentences_embedded,
            "files_read": self.files_read,
            "files_unchanged": self.files_unchanged,
            **({"timings": self.timings} if self.timings else {}),
        }


_GLOB = re.compile(r"[*?\[\]]")


def _check_question(question: Any) -> str:
    if not isinstance(question, str):
        raise InputError(f"the question must be a string, got {type(question).__name__}")
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question).strip()
    if not cleaned:
        raise InputError("the question is empty; ask something, e.g. qa.ask('What does the report conclude?')")
    return cleaned[:MAX_QUESTION_CHARS]


def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"{name} must be a positive integer, got {k!r}")
    return int(k)


class QA:
    """A question-answering index over your documents.

    >>> qa = QA.build(["docs/"], index_dir="my-index")     # doctest: +SKIP
    >>> qa = QA.load("my-index")                            # doctest: +SKIP
    >>> [h.passage.source for h in qa.search("install on Windows", k=3)]   # doctest: +SKIP
    >>> print(qa.ask("How do I install it on Windows?").text)              # doctest: +SKIP

    The embedding model and the index load once; ``search`` and ``ask`` are safe to call from many
    threads, and ``add``/``remove`` swap in the new index only when it is complete.
    """

    def __init__(
        self,
        contents: IndexContents,
        *,
        embedder: Embedder,
        index_dir: str | os.PathLike[str] | None = None,
        search_settings: SearchSettings | None = None,
        answer_settings: AnswerSettings | None = None,
    ) -> None:
        self._contents = contents
        self.embedder = embedder
        self.index_dir = Path(index_dir) if index_dir is not None else None
        saved = SearchSettings.from_dict(contents.query_defaults.get("search") or {})
        self.search_settings = search_settings or saved
        self.answer_settings = answer_settings or AnswerSettings.from_dict(contents.query_defaults.get("answer") or {})
        saved_calibration = contents.query_defaults.get("calibration")
        self.calibration: Calibration = Calibration.from_dict(saved_calibration) if saved_calibration else DEFAULT_CALIBRATION
        # What the latest build, add, sync or remove of this object did; None until one ran.
        self.last_report: IndexReport | None = None
        self._source_rows: tuple[IndexContents, dict[str, np.ndarray]] | None = None  # for filters
        # The latest filters' masks, for the index contents they were computed on: a user who
        # chose some documents asks several questions of them (at 100k passages a mask of three
        # glob patterns took 14 ms, the search after it 25 ms).
        self._masks: OrderedDict[str, np.ndarray] = OrderedDict()
        self._masks_of: IndexContents | None = None
        self._masks_lock = threading.Lock()
        self._write_lock = threading.Lock()

    # --- construction -------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        index_dir: str | os.PathLike[str] | None = None,
        model: str = DEFAULT_MODEL,
        embedder: Embedder | None = None,
        chunk_words: int | None = None,
        overlap_words: int | None = None,
        context: bool = True,
        precision: str | None = "auto",
        chunking: ChunkingSettings | None = None,
        bm25_k1: float = BM25_K1,
        bm25_b: float = BM25_B,
        dense_index: str = "auto",
    ) -> "QA":
        """An empty index (call :meth:`add` next). Refuses to overwrite an existing index.

        ``chunking`` gives every chunking setting at once (``chunk_words``/``overlap_words`` are
        shortcuts for the common two).
        """
        if index_dir is not None and (Path(index_dir) / "manifest.json").exists():
            raise InputError(
                f"an index already exists at {str(index_dir)!r}; load it with QA.load, add to it with qa.add, "
                "or pass rebuild=True to QA.build to start over"
            )
        if dense_index not in DENSE_KINDS:
            raise InputError(f"dense_index must be one of {DENSE_KINDS}, got {dense_index!r}")
        embedder = embedder or load_embedder(model, precision=precision)
        chunking = chunking or ChunkingSettings()
        if chunk_words is not None or overlap_words is not None:
            words = chunk_words if chunk_words is not None else chunking.chunk_words
            overlap = overlap_words if overlap_words is not None else min(chunking.overlap_words, words // 2)
            chunking = replace(chunking, chunk_words=words, overlap_words=overlap)
        settings = IndexSettings(
            model=embedder.name,
            dim=embedder.dim,
            chunking=chunking,
            context=context,
            precision=getattr(embedder, "precision", resolve_precision(precision)),
            bm25_k1=float(bm25_k1),
            bm25_b=float(bm25_b),
            dense_index=dense_index,
        )
        return cls(empty_contents(settings), embedder=embedder, index_dir=index_dir)

    @classmethod
    def build(
        cls,
        paths: Iterable[str | os.PathLike[str]],
        *,
        index_dir: str | os.PathLike[str] | None = None,
        model: str = DEFAULT_MODEL,
        embedder: Embedder | None = None,
        chunk_words: int | None = None,
        overlap_words: int | None = None,
        context: bool = True,
        precision: str | None = "auto",
        chunking: ChunkingSettings | None = None,
        bm25_k1: float = BM25_K1,
        bm25_b: float = BM25_B,
        dense_index: str = "auto",
        rebuild: bool = False,
        show_progress: bool = False,
        progress: ProgressCallback | None = None,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
    ) -> "QA":
        """Index ``paths`` (files or folders) into a new index, saved in ``index_dir`` if given.

        With ``rebuild=True`` an existing index in ``index_dir`` is replaced (its vectors are reused
        for passages whose text did not change). ``qa.last_report`` tells what was indexed.
        ``show_progress`` shows a progress bar (periodic lines when stderr is not a terminal);
        ``progress`` receives :class:`~qa.progress.Progress` records instead, for a display of
        your own.
        """
        paths = _as_path_list(paths)
        progress = _progress_display(show_progress, progress)
        started = time.perf_counter()
        loaded = load_documents(paths, max_file_mb=max_file_mb, progress=progress)  # before the model loads: fail fast
        read_seconds = time.perf_counter() - started
        check_loaded(loaded, paths)
        qa = cls.build_loaded(
            loaded,
            index_dir=index_dir,
            model=model,
            embedder=embedder,
            chunk_words=chunk_words,
            overlap_words=overlap_words,
            context=context,
            precision=precision,
            chunking=chunking,
            bm25_k1=bm25_k1,
            bm25_b=bm25_b,
            dense_index=dense_index,
            rebuild=rebuild,
            progress=progress,
        )
        qa.last_report.timings = {"read_s": round(read_seconds, 2), **qa.last_report.timings}
        return qa

    @classmethod
    def build_loaded(
        cls,
        loaded: LoadResult,
        *,
        index_dir: str | os.PathLike[str] | None = None,
        rebuild: bool = False,
        progress: ProgressCallback | None = None,
        **create: Any,
    ) -> "QA":
        """:meth:`build` from documents already loaded — by :func:`qa.ingest.loaders.load_documents`,
        by Ray workers (:mod:`qa.index.distributed`), or by a loader of your own; ``create`` takes the
        index settings :meth:`create` takes.

        >>> from qa.ingest.loaders import load_documents                       # doctest: +SKIP
        >>> qa = QA.build_loaded(load_documents(["docs/"]), index_dir="idx")   # doctest: +SKIP
        """
        previous: IndexContents | None = None
        if index_dir is not None and (Path(index_dir) / "manifest.json").exists():
            if not rebuild:
                raise InputError(
                    f"an index already exists at {str(index_dir)!r}; use QA.load(...).add(paths) to update it, or "
                    "rebuild=True (CLI: --rebuild) to start over"
                )
            try:
                previous = load_index(index_dir)
            except IndexFormatError:
                previous = None  # a damaged index is exactly what --rebuild is for
        qa = cls.create(index_dir=None, **create)
        qa.index_dir = Path(index_dir) if index_dir is not None else None
        reusable = None
        if previous is not None and previous.settings.model == qa.settings.model and previous.settings.dim == qa.settings.dim:
            reusable = previous
        if qa.index_dir is not None:
            qa.index_dir.mkdir(parents=True, exist_ok=True)
            if previous is not None:
                qa._contents.generation = previous.generation
        qa.last_report = qa._apply(
            loaded.documents,
            removed=set(),
            skipped=loaded.skipped,
            progress=progress,
            vector_source=reusable,
            reload=False,
            files=loaded.files,
        )
        return qa

    @classmethod
    def load(
        cls,
        index_dir: str | os.PathLike[str],
        *,
        model: str | None = None,
        embedder: Embedder | None = None,
        mmap: bool = False,
        verify: str = "auto",
    ) -> "QA":
        """Open an index directory. Refuses a different embedding model (``model`` / ``embedder``)
        than the one the index was built with, a corrupt index, or an unknown format version."""
        contents = load_index(index_dir, mmap=mmap, verify=verify)
        settings = contents.settings
        if model is not None and model != settings.model:
            raise IndexFormatError(
                f"the index {str(index_dir)!r} was built with the model {settings.model!r}, not {model!r}; "
                f"load it without a model, or rebuild it: qa index PATH... --index {index_dir} --model {model} --rebuild"
            )
        if embedder is None:
            embedder = load_embedder(settings.model, precision=settings.precision)
        elif embedder.name != settings.model:
            raise IndexFormatError(
                f"the index {str(index_dir)!r} was built with the model {settings.model!r}, but the embedder given "
                f"is {embedder.name!r}; use the same model or rebuild the index"
            )
        # The model loads lazily (on the first question), so its dimension is checked then.
        return cls(contents, embedder=embedder, index_dir=index_dir)

    # --- properties ---------------------------------------------------------------------

    @property
    def settings(self) -> IndexSettings:
        return self._contents.settings

    @property
    def documents(self) -> list[Document]:
        """The indexed documents, in the order they were added."""
        return list(self._contents.documents.values())

    @property
    def passages(self) -> list[Passage]:
        """Every passage, in index row order."""
        return list(self._contents.passages)

    def document(self, source: str) -> Document:
        """The indexed document ``source`` (as in ``Citation.source``), with its whole text.

        >>> doc = qa.document(answer.citations[0].source)      # doctest: +SKIP
        >>> doc.text[c.start:c.end] == c.text                   # doctest: +SKIP
        True
        """
        try:
            return self._contents.documents[source]
        except KeyError:
            raise InputError(f"no indexed document {source!r}; list them with: qa info --index DIR --documents") from None

    def files(self) -> list[FileRecord]:
        """Every file seen, indexed or skipped, in path order (see :class:`FileRecord`). Documents
        indexed before files were recorded, or added with :meth:`add_documents`, are listed as
        indexed files without a size."""
        records = dict(self._contents.files)
        for doc in self._contents.documents.values():
            if doc.path not in records:
                records[doc.path] = FileRecord(doc.path, -1, -1, "indexed", sources=(doc.source,))
            elif doc.source not in records[doc.path].sources and records[doc.path].size < 0:
                record = records[doc.path]
                records[doc.path] = replace(record, sources=record.sources + (doc.source,))
        return [records[path] for path in sorted(records)]

    def passage_counts(self) -> dict[str, int]:
        """Number of passages of each document, by source."""
        passages = self._contents.passages
        sources = passages.sources if isinstance(passages, PassageTable) else [p.source for p in passages]
        return dict(Counter(sources))

    def __len__(self) -> int:
        """Number of passages."""
        return len(self._contents.passages)

    def info(self) -> dict[str, Any]:
        """A JSON-able summary: location, model, settings, counts."""
        contents = self._contents
        return {
            "index_dir": str(self.index_dir) if self.index_dir else None,
            "model": contents.settings.model,
            "dim": contents.settings.dim,
            "precision": contents.settings.precision,
            "chunking": contents.settings.chunking.to_dict(),
            "context": contents.settings.context,
            "bm25": {"k1": contents.settings.bm25_k1, "b": contents.settings.bm25_b},
            "dense_index": f"{contents.settings.dense_index} ({contents.dense.kind})",
            "documents": len(contents.documents),
            "passages": len(contents.passages),
            "sentences": {"count": len(contents.sentences), "vectors": len(contents.sentences.codes), "bits": contents.sentences.bits},
            "disk_bytes": sum(int(f["bytes"]) for f in read_manifest(self.index_dir)["files"].values()) if self._saved() else None,
            "generation": contents.generation,
            "search": self.search_settings.to_dict(),
            "answer": self.answer_settings.to_dict(),
        }

    def _saved(self) -> bool:
        return self.index_dir is not None and (self.index_dir / "manifest.json").exists()

    # --- updating -----------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        show_progress: bool = False,
        progress: ProgressCallback | None = None,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        max_file_passages: int | None = None,
    ) -> IndexReport:
        """Index new or changed files under ``paths``; unchanged files cost nothing (a file with
        the size and modification time recorded when it was indexed is not even read).

        ``max_file_passages`` skips (with a reason) a file that would make more passages than
        that — an upload of generated text must not take hours and multiply the index.

        >>> report = qa.add(["more-docs/"])     # doctest: +SKIP
        >>> report.summary()                     # doctest: +SKIP
        """
        progress = _progress_display(show_progress, progress)
        return self._update(
            _as_path_list(paths), delete_missing=False, progress=progress, max_file_mb=max_file_mb, max_file_passages=max_file_passages
        )

    def sync(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        show_progress: bool = False,
        progress: ProgressCallback | None = None,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        max_file_passages: int | None = None,
    ) -> IndexReport:
        """Make the index match the files under ``paths``: add new and changed files, and remove
        the documents of files deleted from disk. Unchanged files are not read, so an unchanged
        folder syncs without embedding anything. ``max_file_passages`` as in :meth:`add`.

        Refused when a path itself does not exist (an unmounted drive must not empty the index):
        remove a folder that is gone for good with :meth:`remove`.

        >>> qa.sync(["docs/"]).removed                 # doctest: +SKIP
        ['/home/me/docs/deleted.md']
        """
        paths = _as_path_list(paths)
        gone = [p for p in paths if not os.path.lexists(p)]
        if gone:
            raise InputError(
                f"{gone[0]!r} does not exist, so sync cannot tell deleted files from a folder that is not there "
                f"(an unmounted drive?); if it is gone for good, remove its documents with: qa remove {gone[0]}"
            )
        progress = _progress_display(show_progress, progress)
        return self._update(paths, delete_missing=True, progress=progress, max_file_mb=max_file_mb, max_file_passages=max_file_passages)

    def _update(
        self, paths: list[str], *, delete_missing: bool, progress: ProgressCallback | None, max_file_mb: float, max_file_passages: int | None
    ) -> IndexReport:
        if max_file_passages is not None and (isinstance(max_file_passages, bool) or not isinstance(max_file_passages, int) or max_file_passages < 1):
            raise InputError(f"max_file_passages must be an integer >= 1 (or None for no limit), got {max_file_passages!r}")
        contents = self._contents
        started = time.perf_counter()
        loaded = load_documents(paths, max_file_mb=max_file_mb, known=contents.files, progress=progress)
        loaded = within_passage_limit(loaded, contents.settings, max_file_passages)
        read_seconds = time.perf_counter() - started
        sources_by_path: dict[str, list[str]] = {}
        for doc in contents.documents.values():
            sources_by_path.setdefault(doc.path, []).append(doc.source)
        records, stale = [], set()
        for record in loaded.files:
            before = sources_by_path.get(record.path, [])
            if record.indexed:
                stale.update(set(before) - set(record.sources))  # e.g. lines deleted from a JSONL file
                records.append(record)
            elif before:
                # A changed file that cannot be read now (damaged mid-copy?) keeps what was indexed.
                note = f"the changed file could not be read ({record.reason}); the version indexed earlier is kept"
                records.append(replace(record, status="indexed", reason="", sources=tuple(before), notes=(note,)))
            else:
                records.append(record)
        deleted_files: set[str] = set()
        if delete_missing:
            roots = [source_name(p).rstrip("/") for p in paths]
            for path in set(contents.files) | set(sources_by_path):
                inside = any(path == root or path.startswith(root + "/") for root in roots)
                if inside and not os.path.lexists(path):
                    deleted_files.add(path)
                    stale.update(sources_by_path.get(path, ()))
        report = self._apply(
            loaded.documents,
            removed=stale,
            skipped=loaded.skipped,
            progress=progress,
            files=records,
            drop_files=deleted_files,
        )
        report.timings = {"read_s": round(read_seconds, 2), **report.timings}
        report.files_read = len(loaded.files)
        report.files_unchanged = len(loaded.unchanged_files)
        # The documents of files not read are unchanged too.
        report.unchanged.extend(s for path in loaded.unchanged_files for s in contents.files[path].sources if s in self._contents.documents)
        return report

    def add_documents(
        self, documents: Iterable[Document], *, show_progress: bool = False, progress: ProgressCallback | None = None
    ) -> IndexReport:
        """Index already loaded :class:`Document` records (same rules as :meth:`add`)."""
        return self._apply(list(documents), removed=set(), skipped=[], progress=_progress_display(show_progress, progress))

    def remove(self, source: str | os.PathLike[str], *, allow_empty: bool = False) -> IndexReport:
        """Delete a document (by its source, its file path, or a folder holding indexed files).

        Refused with :class:`InputError`: nothing matching (the message says how to list what is
        indexed); ``/``, ``.``, ``..`` and glob patterns, which would name far more than meant;
        and a removal that would leave the index empty, unless ``allow_empty=True``.

        >>> qa.remove("docs/old.md").removed                    # doctest: +SKIP
        ['/home/me/docs/old.md']
        """
        raw = os.fspath(source)
        if not raw.strip():
            raise InputError("name the document to remove, e.g. qa.remove('docs/old.md'); list them with: qa info --index DIR --documents")
        known = self._contents.documents
        if raw not in known:
            if _GLOB.search(raw):
                raise InputError(f"{raw!r} is a pattern; patterns are not expanded, name a document or a folder as listed by: qa info --index DIR --documents")
            normalized = os.path.normpath(raw)
            resolved = os.path.realpath(raw)
            if normalized in (os.curdir, os.pardir) or all(part == os.pardir for part in normalized.split(os.sep) if part) or os.path.dirname(resolved) == resolved:
                raise InputError(f"{raw!r} names no document but a whole folder tree; name a document or a folder of documents inside it")
        matches = self._match_sources(source)
        if not matches:
            raise InputError(
                f"no indexed document matches {str(source)!r}; list the indexed sources with: qa info --index DIR --documents"
            )
        if len(set(matches)) == len(known) and not allow_empty:
            raise InputError(
                f"{raw!r} would remove all {len(known)} documents and leave the index empty; pass allow_empty=True "
                "(qa remove --allow-empty) to do that"
            )
        return self._apply([], removed=set(matches), skipped=[], progress=None)

    def _match_sources(self, source: str | os.PathLike[str]) -> list[str]:
        raw = os.fspath(source)
        absolute = source_name(raw) if raw and "#" not in raw else raw
        folder = absolute.rstrip("/")
        found = []
        for doc in self._contents.documents.values():
            if raw in (doc.source, doc.path) or absolute in (doc.source, doc.path):
                found.append(doc.source)
            elif folder and doc.path.startswith(folder + "/"):
                found.append(doc.source)
        return found

    def _apply(
        self,
        documents: list[Document],
        *,
        removed: set[str],
        skipped: list[SkippedFile],
        progress: ProgressCallback | None,
        vector_source: IndexContents | None = None,
        reload: bool = True,
        files: Sequence[FileRecord] = (),
        drop_files: set[str] | frozenset[str] = frozenset(),
    ) -> IndexReport:
        """Apply one update: index ``documents``, delete the ``removed`` sources, and record
        ``files`` (what was read now) while forgetting ``drop_files`` (files deleted from disk)."""
        args = (documents, removed, skipped, progress, vector_source, reload, files, drop_files)
        with self._write_lock:
            if self.index_dir is not None:
                with write_lock(self.index_dir):
                    report = self._apply_locked(*args)
            else:
                report = self._apply_locked(*args)
        self.last_report = report
        return report

    def _apply_locked(
        self,
        documents: list[Document],
        removed: set[str],
        skipped: list[SkippedFile],
        progress: ProgressCallback | None,
        vector_source: IndexContents | None,
        reload: bool,
        files: Sequence[FileRecord],
        drop_files: set[str] | frozenset[str],
    ) -> IndexReport:
        if reload and self.index_dir is not None and (self.index_dir / "manifest.json").exists():
            # Another process may have written since we loaded: start from what is on disk.
            if int(read_manifest(self.index_dir).get("generation", 0)) != self._contents.generation:
                self._contents = load_index(self.index_dir)
        old = self._contents
        plan = plan_update(old, documents, removed)
        report = IndexReport(
            added=plan.added, updated=plan.updated, unchanged=plan.unchanged, removed=plan.removed, skipped=list(skipped)
        )
        clock = StageClock()
        split = split_documents(plan.new_documents, old.settings)
        clock.lap("chunk_s")
        report.passages = len(plan.keep_rows) + len(split.passages)
        ledger = updated_ledger(old.files, files, drop_files, plan.documents)
        if not report.changed and (self.index_dir is None or old.generation > 0):
            if ledger != old.files:  # only file records changed (a touched file): nothing to re-index
                contents = replace(old, files=ledger)
                if self.index_dir is not None:
                    save_index(self.index_dir, contents, records_only=True)
                    clock.lap("save_s")
                self._contents = contents
            report.timings = clock.laps
            return report
        passages = updated_passages(old, plan, split)
        # BM25 before the vectors: its temporaries come and go while the build holds the least.
        lexical = LexicalIndex.build(passage_terms(passages, old.settings), k1=old.settings.bm25_k1, b=old.settings.bm25_b)
        clock.lap("bm25_s")
        known = [old] + ([vector_source] if vector_source is not None else [])
        # Vectors wait in temporary files next to the index (on its disk, not in memory) until assembled.
        passage_vectors, sentence_vectors = reusable_vectors(split, known, directory=self.index_dir)
        try:
            clock.lap("reuse_s")  # finding vectors of unchanged text in the index
            split = replace(split, sentence_keys=[])  # planned: the sentences' rows are all that is needed now
            self._compute_missing(split, passage_vectors, sentence_vectors, progress, clock)
            report.embedded = len(passage_vectors.missing)
            report.reused = int(np.count_nonzero(passage_vectors.reused[passage_vectors.rows]))
            report.sentences_embedded = len(sentence_vectors.missing)
            release_free_memory()  # the model's last batches: not to count while the index is assembled
            contents = assemble(old, plan, split, passages, lexical, passage_vectors, sentence_vectors, ledger)
        finally:
            passage_vectors.values.close()
            sentence_vectors.values.close()
        clock.lap("index_s")
        if self.index_dir is not None:
            save_index(self.index_dir, contents)
            clock.lap("save_s")
        report.timings = clock.laps
        self._contents = contents  # readers switch to the new index in one assignment
        return report

    def _compute_missing(
        self, split: SplitDocuments, passages: EmbeddingPlan, sentences: EmbeddingPlan, progress: ProgressCallback | None, clock: StageClock
    ) -> None:
        """Embed the rows the plans (passages, then sentences) could not reuse, as one "embedding"
        stage of the progress, timing each plan. Texts are made from ``split`` and sent to the
        model :data:`EMBED_CHUNK` at a time, each chunk's vectors stored (as codes, for
        sentences) before the next: neither the texts nor the float32 vectors of a whole corpus
        are held at once."""
        total = len(passages.missing) + len(sentences.missing)
        tracker = StageTracker(progress, "embedding", total) if progress is not None and total else None
        for plan, text_of, lap in ((passages, split.passage_text, "embed_passages_s"), (sentences, split.sentence_text, "embed_sentences_s")):
            for start in range(0, len(plan.missing), EMBED_CHUNK):
                rows = plan.missing[start : start + EMBED_CHUNK]
                texts = [text_of(int(item)) for item in plan.first[rows]]
                plan.fill(rows, self.embedder.embed_documents(texts, on_progress=tracker.advance if tracker is not None else None))
            clock.lap(lap)

    def save_settings(self) -> None:
        """Store the current search and answer settings (and a refitted calibration) as the
        index's defaults. Only the manifest (and the small file ledger) is written: the new
        generation hard-links every other file of the current one."""
        if self.index_dir is None:
            raise InputError("this index is in memory only (no index_dir), so there is nowhere to save settings")
        defaults: dict[str, Any] = {"search": self.search_settings.to_dict(), "answer": self.answer_settings.to_dict()}
        if self.calibration != DEFAULT_CALIBRATION:
            defaults["calibration"] = self.calibration.to_dict()
        with self._write_lock, write_lock(self.index_dir):
            contents = self._contents
            if int(read_manifest(self.index_dir).get("generation", 0)) != contents.generation:
                contents = load_index(self.index_dir)  # another process wrote since: start from what is on disk
            contents = replace(contents, query_defaults=defaults)
            save_index(self.index_dir, contents, records_only=True)
            self._contents = contents

    # --- querying -----------------------------------------------------------------------

    def search(self, question: str, k: int = 10, *, filters: Mapping[str, Any] | None = None, **overrides: Any) -> list[Hit]:
        """The ``k`` passages that best match ``question``, best first.

        Keyword overrides change the search for this call only, e.g.
        ``qa.search("q", k=5, mode="dense")`` (see :class:`SearchSettings`). ``filters`` keeps
        only the passages that match (:mod:`qa.retrieval.filters`), before the top ``k`` are
        taken: ``qa.search("q", filters={"kind": "pdf", "page": {"from": 3}})``; a filter no
        passage matches gives no hits.
        """
        question = _check_question(question)
        k = _check_k(k)
        settings = self.search_settings.with_overrides(overrides)
        with single_blas_thread:
            contents = self._contents
            mask = self._filter_mask(contents, filters)
            return [hit for hit, _ in self._search_rows(contents, question, k, settings, None, mask)]

    def filter_keys(self) -> list[str]:
        """The keys a filter may use on this index: the built-in ones and the documents' own
        metadata fields (see :mod:`qa.retrieval.filters`)."""
        return known_keys(self._contents.documents)

    def _filter_mask(self, contents: IndexContents, filters: Mapping[str, Any] | None) -> np.ndarray | None:
        """The rows ``filters`` allow (read-only: it may be shared with earlier calls)."""
        if filters is None:
            return None
        try:
            key = json.dumps(filters, sort_keys=True)
        except (TypeError, ValueError):  # not plain data: computed (and refused with its message) below
            key = None
        with self._masks_lock:
            if self._masks_of is not contents:
                self._masks.clear()
                self._masks_of = contents
            if key is not None and key in self._masks:
                self._masks.move_to_end(key)
                return self._masks[key]
        mask = self._compute_filter_mask(contents, filters)
        mask.setflags(write=False)
        if key is not None:
            with self._masks_lock:
                if self._masks_of is contents:
                    self._masks[key] = mask
                    while len(self._masks) > FILTER_MASKS_KEPT:
                        self._masks.popitem(last=False)
        return mask

    def _compute_filter_mask(self, contents: IndexContents, filters: Mapping[str, Any]) -> np.ndarray:
        passages = contents.passages
        cached = self._source_rows
        if cached is None or cached[0] is not contents:  # once per loaded or updated index
            sources = passages.sources if hasattr(passages, "sources") else [p.source for p in passages]
            cached = self._source_rows = (contents, rows_by_source(sources))
        return passage_mask(
            filters,
            documents=contents.documents,
            rows_of=cached[1],
            size=len(passages),
            sections=lambda row: passages[row].section,
            pages=lambda row: passages[row].page,
            files=contents.files,
        )

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self.embedder.embed_query(text)
        if vector.shape != (self.settings.dim,):
            raise IndexFormatError(
                f"the index holds {self.settings.dim}-dimensional vectors but the model {self.embedder.name!r} makes "
                f"{vector.shape[-1]}-dimensional ones (the model files changed?); rebuild the index with --rebuild"
            )
        return vector

    def _search(self, question: str, k: int, settings: SearchSettings, query_vector: np.ndarray | None = None) -> list[Hit]:
        return [hit for hit, _ in self._search_rows(self._contents, question, k, settings, query_vector)]

    def _search_rows(
        self,
        contents: IndexContents,
        question: str,
        k: int,
        settings: SearchSettings,
        query_vector: np.ndarray | None,
        allowed: np.ndarray | None = None,
    ) -> list[tuple[Hit, int]]:
        if not contents.passages or (allowed is not None and not allowed.any()):
            return []
        if query_vector is None and settings.mode != "lexical":
            query_vector = self._embed_query(question)
        depth = min(3 * k + 10 if settings.diversify else k, len(contents.passages))
        candidates = retrieve(
            dense=contents.dense,
            lexical=contents.lexical,
            sentences=contents.sentences,
            query_vector=query_vector,
            query_terms=query_terms(question),
            k=depth,
            settings=settings,
            section_starts=contents.section_starts if settings.section_start_bonus else None,
            allowed=allowed,
        )
        if settings.diversify:
            keep = distinct_passages([contents.passages[c.row] for c in candidates], k)
            candidates = [candidates[i] for i in keep]
        return [
            (
                Hit(
                    passage=contents.passages[c.row],
                    score=c.score,
                    rank=rank,
                    dense_score=c.dense_score,
                    lexical_score=c.lexical_score,
                ),
                c.row,
            )
            for rank, c in enumerate(candidates, 1)
        ]

    def ask(self, question: str, k: int = 5, *, query: str | None = None, filters: Mapping[str, Any] | None = None, **overrides: Any) -> Answer:
        """Answer ``question`` from the documents, with numbered citations, or abstain.

        ``query`` is what is actually searched when it differs from the question shown (e.g. a
        follow-up completed with the previous question). Keyword overrides apply to this call:
        search settings (``mode=``...) and ``abstain_threshold=``. ``filters`` restricts the
        passages it may answer from (as in :meth:`search`); when none matches, it abstains and
        says so.

        >>> answer = qa.ask("Which countries joined the statement?")   # doctest: +SKIP
        >>> answer.abstained, answer.citations[0].highlight            # doctest: +SKIP
        """
        question = _check_question(question)
        query = _check_question(query) if query is not None else question
        k = _check_k(k)
        answer_overrides = {name: overrides.pop(name) for name in list(overrides) if name in AnswerSettings.field_names()}
        search_settings = self.search_settings.with_overrides(overrides)
        answer_settings = self.answer_settings.with_overrides(answer_overrides)
        with single_blas_thread:
            contents = self._contents  # one consistent snapshot even if an add() swaps it meanwhile
            mask = self._filter_mask(contents, filters)
            if mask is not None and not mask.any():
                return Answer(
                    question=question, query=query, text=f"No indexed passage matches the filters ({describe(filters)}).",
                    abstained=True, reason=f"no passage matches the filters {describe(filters)}",
                )
            query_vector = self._embed_query(query)
            depth = max(k, answer_settings.evidence_depth, SIGNAL_DEPTH)
            found = self._search_rows(contents, query, depth, search_settings, query_vector, mask)
            return answer_question(
                question=question,
                query=query,
                hits=[hit for hit, _ in found],
                sentences=[
                    (contents.sentences.spans_of(row), contents.sentences.similarities(row, query_vector)) for _, row in found
                ],
                k=k,
                lexical=contents.lexical,
                settings=answer_settings,
                calibration=self.calibration,
                section_starts=[bool(contents.section_starts[row]) for _, row in found],
                corpus=contents.passages,
                ocr_pages=contents.ocr_pages,
            )

    def warm_up(self) -> None:
        """Load now what the first question would otherwise wait for — the model, the word
        frequency tables, the sentence vectors (about a second; the first answer took 0.6 s more
        than the next ones without it). A server calls it before it takes questions.

        >>> qa.warm_up()   # doctest: +SKIP
        """
        self.embedder.embed_query("warm up")
        if len(self):
            self.ask("What does the document say about its main subject?")  # content words: their frequencies are looked up

    def evaluate(self, questions: Any, *, k: int = 10, **kwargs: Any):
        """Run a question set against this index; see :func:`qa.evaluation.run.evaluate`."""
        from .evaluation.run import evaluate

        return evaluate(self, questions, k=k, **kwargs)


def check_loaded(loaded: LoadResult, paths: Sequence[str]) -> None:
    """Refuse to build an index from nothing, saying why each path gave nothing."""
    if not loaded.documents:
        reasons = "; ".join(str(s) for s in loaded.skipped[:5]) or "no files found"
        more = f" (and {len(loaded.skipped) - 5} more)" if len(loaded.skipped) > 5 else ""
        raise InputError(f"nothing to index in {', '.join(paths)} ({reasons}{more})")


def _progress_display(show: bool, callback: ProgressCallback | None) -> ProgressCallback | None:
    """The progress callback to use: the caller's, else the console's when asked to show it."""
    if callback is not None:
        return callback
    return console_progress() if show else None


def _as_path_list(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    out = [os.fspath(p) for p in paths]
    if not out:
        raise InputError("no paths given; pass files or folders to index, e.g. QA.build(['docs/'])")
    return out
