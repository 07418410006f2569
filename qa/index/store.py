"""The index directory: plain files plus a manifest, written atomically.

Layout::

    my-index/
      manifest.json          format version, model, settings, counts, versions, file checksums
      gen-000007/            the current generation (the manifest names it)
        documents.jsonl      one Document per line, with its extracted text
        files.jsonl          one FileRecord per file seen: size, modification time, indexed or skipped
        passages.jsonl       one passage per line: offsets into its document (text is derived)
        dense.faiss          FAISS inner-product index, row i = passage i
        sentence_*.npy       per-passage sentence spans (CSR), each sentence's vector row, and the
                             vectors as 8-bit codes with a scale each (a repeated sentence's once;
                             4-bit, two per byte, from 500,000 passages)
        bm25/                bm25s arrays and vocabulary (JSON + .npy, no pickle)
      .lock                  held by the one process that may write

A write builds a whole new generation folder next to the current one, syncs it to disk, and only
then replaces ``manifest.json`` with an atomic rename. A reader therefore sees the old index or
the new one, never a half-written one, and a crash at any point leaves the last committed index.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import operator
import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, overload

import numpy as np

from ..errors import IndexFormatError, IndexLockedError, IndexNotFoundError, InputError
from ..ingest.chunking import ChunkingSettings
from ..types import Document, FileRecord, Passage
from .dense import DenseIndex
from .lexical import BM25_B, BM25_K1, LexicalIndex
from .sentences import SentenceTable, quantize_rows

FORMAT_NAME = "grounded-qa-index"
# 3: a sentence occurring in several passages has its vector stored once (sentence_rows.npy).
# 2: sentence vectors stored as int8 codes and scales. 1: float16 vectors. Both still read.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
MANIFEST = "manifest.json"
LOCK_FILE = ".lock"
GENERATION_PREFIX = "gen-"
# Files up to this size are checksummed on every load; larger ones (vectors of big corpora) only
# have their size checked unless a full verification is asked for (``qa info --verify``).
VERIFY_ON_LOAD_MAX_BYTES = 256 * 1024 * 1024

REBUILD_HINT = "rebuild it with: qa index PATH... --index {dir} --rebuild"


@dataclass(frozen=True)
class IndexSettings:
    """What an index was built with; fixed for the life of the index.

    ``context`` prefixes each passage with its document title and section path when it is
    embedded and keyword-indexed (the stored and displayed passage stays the original text).
    """

    model: str
    dim: int
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    context: bool = True
    precision: str = "fp32"
    bm25_k1: float = BM25_K1
    bm25_b: float = BM25_B
    dense_index: str = "auto"  # flat, hnsw, hnsw-sq8, or auto (by size: qa.index.dense.HNSW_THRESHOLD)

    def to_dict(self) -> dict[str, Any]:
        return {
            "embedding": {"model": self.model, "dim": self.dim, "precision": self.precision},
            "chunking": self.chunking.to_dict(),
            "context": self.context,
            "bm25": {"k1": self.bm25_k1, "b": self.bm25_b},
            "dense": {"index": self.dense_index},
        }

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> "IndexSettings":
        embedding = manifest["embedding"]
        return cls(
            model=str(embedding["model"]),
            dim=int(embedding["dim"]),
            precision=str(embedding.get("precision", "fp32")),
            chunking=ChunkingSettings.from_dict(manifest.get("chunking") or {}),
            context=bool(manifest.get("context", True)),
            bm25_k1=float((manifest.get("bm25") or {}).get("k1", BM25_K1)),
            bm25_b=float((manifest.get("bm25") or {}).get("b", BM25_B)),
            dense_index=str((manifest.get("dense") or {}).get("index", "auto")),
        )


@dataclass
class IndexContents:
    """Everything an index holds, in memory. Rows of ``passages``, ``embed_keys``, ``dense``,
    ``lexical`` and ``sentences`` line up: row ``i`` of each is passage ``i``."""

    settings: IndexSettings
    documents: dict[str, Document]  # by source, in insertion order
    passages: Sequence[Passage]  # a PassageTable (built or loaded); an empty index's is a list
    embed_keys: list[str]  # hash of the exact text that was embedded for each passage
    dense: DenseIndex
    lexical: LexicalIndex
    sentences: SentenceTable
    # The saved defaults of queries: {"search": ..., "answer": ..., "calibration": ...} (what
    # QA.save_settings and qa eval --calibrate store), apart from the index settings above.
    query_defaults: dict[str, Any] = field(default_factory=dict)
    generation: int = 0
    files: dict[str, FileRecord] = field(default_factory=dict)  # by path: every file seen (qa sync)

    @functools.cached_property
    def section_starts(self) -> np.ndarray:
        """For each passage row, whether the passage starts where a section of its document
        starts (a heading, or a sectioning element of an HTML page). Computed on first use."""
        starts = {source: {s.start for s in doc.sections} for source, doc in self.documents.items() if doc.sections}
        if isinstance(self.passages, PassageTable):
            rows = zip(self.passages.sources, (int(a) for a in self.passages.offsets[:, 0]))
        else:
            rows = ((p.source, p.start) for p in self.passages)
        return np.fromiter((start in starts.get(source, ()) for source, start in rows), dtype=bool, count=len(self.passages))

    @functools.cached_property
    def ocr_pages(self) -> dict[str, frozenset[int]]:
        """The pages of each document that were read by OCR (scanned PDF pages), by source."""
        return {
            source: frozenset(int(p) for p in doc.metadata["ocr_pages"])
            for source, doc in self.documents.items()
            if isinstance(doc.metadata.get("ocr_pages"), list)
        }


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose output is stored in an index."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in ("grounded-qa", "numpy", "faiss-cpu", "bm25s", "sentence-transformers", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows: Iterator[Mapping[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")


def _passage_row(passage: Passage, embed_key: str) -> dict[str, Any]:
    return {
        "id": passage.id,
        "doc_id": passage.doc_id,
        "source": passage.source,
        "start": passage.start,
        "end": passage.end,
        "section": list(passage.section),
        "page": passage.page,
        "embed_key": embed_key,
    }


@contextlib.contextmanager
def write_lock(index_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the index's writer lock, or fail at once with :class:`IndexLockedError`."""
    import fcntl

    directory = Path(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    fh = open(directory / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLockedError(
                f"the index {str(directory)!r} is being written by another process; wait for it to finish "
                f"(or, if no other qa process runs, delete {str(directory / LOCK_FILE)!r})"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        fh.close()  # closing releases the flock


def read_manifest(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed, checked manifest of an index directory."""
    directory = Path(index_dir)
    path = directory / MANIFEST
    hint = REBUILD_HINT.format(dir=directory)
    if not path.is_file():
        if directory.is_dir() and any(directory.glob(f"{GENERATION_PREFIX}*")):
            raise IndexFormatError(f"the index {str(directory)!r} has data but no manifest.json; {hint}")
        raise IndexNotFoundError(
            f"no index at {str(directory)!r} (no manifest.json); build one with: qa index PATH... --index {directory}"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFormatError(f"the manifest {str(path)!r} is not valid JSON ({exc}); {hint}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{str(path)!r} is not a grounded-qa index manifest (format {manifest.get('format') if isinstance(manifest, dict) else None!r}); {hint}")
    version = manifest.get("format_version")
    if version not in READABLE_VERSIONS:
        raise IndexFormatError(
            f"the index {str(directory)!r} has format version {version!r}, but this grounded-qa reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}; {hint}"
        )
    for key in ("data_dir", "embedding", "counts", "files"):
        if key not in manifest:
            raise IndexFormatError(f"the manifest {str(path)!r} has no {key!r} entry; {hint}")
    return manifest


def _verify_files(data_dir: Path, files: Mapping[str, Any], *, mode: str, hint: str) -> None:
    for name, info in files.items():
        path = data_dir / name
        if not path.is_file():
            raise IndexFormatError(f"the index file {str(path)!r} is missing; {hint}")
        size = path.stat().st_size
        if size != info.get("bytes"):
            raise IndexFormatError(
                f"the index file {str(path)!r} has {size} bytes, the manifest says {info.get('bytes')}: it is "
                f"truncated or was changed; {hint}"
            )
        if mode == "full" or (mode == "auto" and size <= VERIFY_ON_LOAD_MAX_BYTES):
            if _checksum(path) != info.get("blake2b"):
                raise IndexFormatError(f"the index file {str(path)!r} is corrupt (checksum mismatch); {hint}")


class PassageTable(Sequence[Passage]):
    """The passages of an index, each made when it is read: the text is a slice of its
    document's, so the table keeps ids and offsets rather than a Passage object and a copy of
    the text per passage (at 1M passages that was most of the memory a loaded index took; a
    build of pyfaq held 30 MB of passage texts).

    >>> doc = Document(id="d", source="a.txt", path="a.txt", title="A", text="One. Two.")
    >>> table = PassageTable({"a.txt": doc}, ids=["p"], sources=["a.txt"], offsets=[(5, 9)], sections=[()], pages=[None])
    >>> table[0].text, len(table)
    ('Two.', 1)
    """

    def __init__(
        self,
        documents: Mapping[str, Document],
        *,
        ids: list[str],
        sources: list[str],
        offsets: Sequence[tuple[int, int]],
        sections: list[tuple[str, ...]],
        pages: list[int | None],
    ) -> None:
        self._documents = documents
        self._ids = ids
        self._sources = sources
        self._offsets = np.asarray(offsets, dtype=np.int64).reshape(len(ids), 2)
        self._sections = sections
        self._pages = pages

    @classmethod
    def concat(cls, documents: Mapping[str, Document], parts: Sequence[Sequence[Passage]]) -> "PassageTable":
        """One table over ``documents`` (which hold every row's source) of the rows of ``parts``
        in order: tables, whose columns are taken as they are, or lists of passages.

        >>> doc = Document(id="d", source="a.txt", path="a.txt", title="A", text="One. Two.")
        >>> one = PassageTable({"a.txt": doc}, ids=["p"], sources=["a.txt"], offsets=[(5, 9)], sections=[()], pages=[None])
        >>> [p.text for p in PassageTable.concat({"a.txt": doc}, [one, [Passage("q", "d", "a.txt", "A", "One.", 0, 4)]])]
        ['Two.', 'One.']
        """
        ids: list[str] = []
        sources: list[str] = []
        sections: list[tuple[str, ...]] = []
        pages: list[int | None] = []
        offsets: list[np.ndarray] = []
        for part in parts:
            if isinstance(part, PassageTable):
                ids += part._ids
                sources += part._sources
                sections += part._sections
                pages += part._pages
                offsets.append(part._offsets)
            else:
                ids += [p.id for p in part]
                sources += [p.source for p in part]
                sections += [p.section for p in part]
                pages += [p.page for p in part]
                offsets.append(np.array([(p.start, p.end) for p in part], dtype=np.int64).reshape(-1, 2))
        joined = np.concatenate(offsets) if offsets else np.zeros((0, 2), dtype=np.int64)
        return cls(documents, ids=ids, sources=sources, offsets=joined, sections=sections, pages=pages)

    def select(self, rows: Sequence[int]) -> "PassageTable":
        """The table of ``rows`` (in that order), over the same documents."""
        return PassageTable(
            self._documents,
            ids=[self._ids[r] for r in rows],
            sources=[self._sources[r] for r in rows],
            offsets=self._offsets[np.asarray(rows, dtype=np.int64)],
            sections=[self._sections[r] for r in rows],
            pages=[self._pages[r] for r in rows],
        )

    def text_of(self, row: int) -> str:
        """The text of passage ``row`` (without making the :class:`Passage`)."""
        start, end = self._offsets[row]
        return self._documents[self._sources[row]].text[int(start) : int(end)]

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def sources(self) -> list[str]:
        """The source of each row."""
        return self._sources

    @property
    def offsets(self) -> np.ndarray:
        """``[start, end)`` of each row in its document's text (int64, shape ``(rows, 2)``)."""
        return self._offsets

    @overload
    def __getitem__(self, row: int) -> Passage: ...

    @overload
    def __getitem__(self, row: slice) -> list[Passage]: ...

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = operator.index(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} out of range 0..{len(self) - 1}")
        doc = self._documents[self._sources[row]]
        start, end = (int(x) for x in self._offsets[row])
        return Passage(
            id=self._ids[row],
            doc_id=doc.id,
            source=doc.source,
            title=doc.title,
            text=doc.text[start:end],
            start=start,
            end=end,
            section=self._sections[row],
            page=self._pages[row],
        )


def load_index(index_dir: str | os.PathLike[str], *, mmap: bool = False, verify: str = "auto") -> IndexContents:
    """Read an index directory, refusing anything inconsistent with a clear error.

    ``verify``: ``"auto"`` checksums files up to 256 MB and checks the size of larger ones,
    ``"full"`` checksums everything, ``"none"`` only checks sizes.
    """
    if verify not in ("auto", "full", "none"):
        raise InputError(f"verify must be 'auto', 'full' or 'none', got {verify!r}")
    directory = Path(index_dir)
    manifest = read_manifest(directory)
    hint = REBUILD_HINT.format(dir=directory)
    data_dir = directory / str(manifest["data_dir"])
    if not data_dir.is_dir():
        raise IndexFormatError(f"the index data folder {str(data_dir)!r} named by the manifest is missing; {hint}")
    _verify_files(data_dir, manifest["files"], mode=verify, hint=hint)

    try:
        settings = IndexSettings.from_manifest(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexFormatError(f"the manifest of {str(directory)!r} has invalid settings ({exc}); {hint}") from exc

    documents: dict[str, Document] = {}
    try:
        with open(data_dir / "documents.jsonl", encoding="utf-8") as fh:
            for line in fh:
                doc = Document.from_dict(json.loads(line))
                documents[doc.source] = doc
        ids: list[str] = []
        sources: list[str] = []
        offsets: list[tuple[int, int]] = []
        sections: list[tuple[str, ...]] = []
        pages: list[int | None] = []
        shared_sections: dict[tuple[str, ...], tuple[str, ...]] = {}
        embed_keys: list[str] = []
        with open(data_dir / "passages.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                doc = documents[row["source"]]
                start, end = int(row["start"]), int(row["end"])
                if not 0 <= start < end <= len(doc.text) or row["doc_id"] != doc.id:
                    raise ValueError(f"passage {row['id']} does not fit its document {doc.source}")
                ids.append(row["id"])
                sources.append(doc.source)
                offsets.append((start, end))
                section = tuple(row.get("section") or ())
                sections.append(shared_sections.setdefault(section, section))
                pages.append(row.get("page"))
                embed_keys.append(row["embed_key"])
        passages = PassageTable(documents, ids=ids, sources=sources, offsets=offsets, sections=sections, pages=pages)
        files: dict[str, FileRecord] = {}
        if "files.jsonl" in manifest["files"]:  # indexes written before files were recorded have none
            with open(data_dir / "files.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    record = FileRecord.from_dict(json.loads(line))
                    files[record.path] = record
    except FileNotFoundError as exc:
        raise IndexFormatError(f"the index file {exc.filename!r} is missing; {hint}") from exc
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise IndexFormatError(f"the index {str(directory)!r} has damaged document or passage data ({exc}); {hint}") from exc

    counts = manifest["counts"]
    if len(documents) != counts.get("documents") or len(passages) != counts.get("passages"):
        raise IndexFormatError(
            f"the index {str(directory)!r} holds {len(documents)} documents and {len(passages)} passages, but its "
            f"manifest says {counts.get('documents')} and {counts.get('passages')}; {hint}"
        )
    dense = DenseIndex.load(data_dir / "dense.faiss", mmap=mmap)
    if len(dense) != len(passages) or dense.dim != settings.dim:
        raise IndexFormatError(
            f"the vector index of {str(directory)!r} has {len(dense)} vectors of dimension {dense.dim}, expected "
            f"{len(passages)} of dimension {settings.dim}; {hint}"
        )
    lexical = LexicalIndex.load(data_dir / "bm25", len(passages), mmap=mmap)
    sentences = _load_sentences(data_dir, len(passages), settings.dim, mmap=mmap, hint=hint)
    return IndexContents(
        settings=settings,
        documents=documents,
        passages=passages,
        embed_keys=embed_keys,
        dense=dense,
        lexical=lexical,
        sentences=sentences,
        # Manifests before 2026-12 kept them under "retrieval".
        query_defaults=dict(manifest.get("query_defaults") or manifest.get("retrieval") or {}),
        generation=int(manifest.get("generation", 0)),
        files=files,
    )


SENTENCE_ROWS = "sentence_rows.npy"  # absent before format 3: one vector per sentence, in order
SENTENCE_FILES = ("sentence_indptr.npy", "sentence_spans.npy", SENTENCE_ROWS, "sentence_codes.npy", "sentence_scales.npy")
LEGACY_SENTENCE_VECTORS = "sentence_vectors.npy"  # format 1: float16 vectors


def _load_sentences(data_dir: Path, passages: int, dim: int, *, mmap: bool, hint: str) -> SentenceTable:
    def load(name: str, *, mapped: bool = False) -> np.ndarray:
        return np.load(data_dir / name, mmap_mode="r" if mapped else None, allow_pickle=False)

    try:
        indptr, spans = load("sentence_indptr.npy"), load("sentence_spans.npy")
        if (data_dir / LEGACY_SENTENCE_VECTORS).exists():
            codes, scales = quantize_rows(load(LEGACY_SENTENCE_VECTORS))  # an index of format 1
        else:
            codes, scales = load("sentence_codes.npy", mapped=mmap), load("sentence_scales.npy")
        rows = load(SENTENCE_ROWS) if (data_dir / SENTENCE_ROWS).exists() else np.arange(len(spans), dtype=np.int32)
    except FileNotFoundError as exc:
        raise IndexFormatError(f"the index file {exc.filename!r} is missing; {hint}") from exc
    except ValueError as exc:
        raise IndexFormatError(f"the sentence data in {str(data_dir)!r} is unreadable ({exc}); {hint}") from exc
    if (
        indptr.shape != (passages + 1,)
        or (passages and int(indptr[-1]) != len(spans))
        or rows.shape != (len(spans),)
        or len(codes) != len(scales)
        or (len(codes) and codes.shape[1] != (dim // 2 if codes.dtype == np.uint8 else dim))
        or codes.dtype not in (np.int8, np.uint8)
        or (len(rows) and not 0 <= int(rows.min()) <= int(rows.max()) < len(codes))
    ):
        raise IndexFormatError(f"the sentence data in {str(data_dir)!r} does not match its {passages} passages; {hint}")
    return SentenceTable(indptr, spans, rows, codes, scales)


def _generation_name(generation: int) -> str:
    return f"{GENERATION_PREFIX}{generation:06d}"


def save_index(index_dir: str | os.PathLike[str], contents: IndexContents, *, records_only: bool = False) -> dict[str, Any]:
    """Write ``contents`` as the new current generation of ``index_dir``; returns the manifest.

    With ``records_only`` (only the file records changed, e.g. a file was touched), the new
    generation hard-links every other file of the current one instead of writing it again: a
    sync after a touch costs the size of ``files.jsonl``, not of the index.

    The caller must hold :func:`write_lock`. Old generations are removed once the new manifest
    is in place.
    """
    directory = Path(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    previous = 0
    with contextlib.suppress(IndexNotFoundError, IndexFormatError):
        previous = int(read_manifest(directory).get("generation", 0))
    generation = max(previous, contents.generation) + 1
    final_dir = directory / _generation_name(generation)
    tmp_dir = directory / f"{_generation_name(generation)}.tmp-{os.getpid()}"
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    tmp_dir.mkdir()

    current: dict[str, Any] | None = None
    if records_only:
        with contextlib.suppress(IndexNotFoundError, IndexFormatError):
            current = read_manifest(directory)
        if current is not None and current.get("format_version") != FORMAT_VERSION:
            current = None  # an older format is written whole, in the current one
    files: dict[str, Any] = {}
    if current is not None:
        source_dir = directory / str(current["data_dir"])
        for name, info in current["files"].items():
            if name == "files.jsonl":
                continue
            target = tmp_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source_dir / name, target)
            except OSError:  # a file system without hard links
                shutil.copy2(source_dir / name, target)
            files[name] = info
        _write_jsonl(tmp_dir / "files.jsonl", (record.to_dict() for record in contents.files.values()))
        written = [tmp_dir / "files.jsonl"]
    else:
        _write_jsonl(tmp_dir / "documents.jsonl", (doc.to_dict() for doc in contents.documents.values()))
        _write_jsonl(tmp_dir / "files.jsonl", (record.to_dict() for record in contents.files.values()))
        _write_jsonl(
            tmp_dir / "passages.jsonl",
            (_passage_row(p, key) for p, key in zip(contents.passages, contents.embed_keys)),
        )
        contents.dense.save(tmp_dir / "dense.faiss")
        table = contents.sentences
        for name, array in zip(SENTENCE_FILES, (table.indptr, table.spans, table.rows, table.codes, table.scales)):
            np.save(tmp_dir / name, np.ascontiguousarray(array), allow_pickle=False)
        contents.lexical.save(tmp_dir / "bm25")
        written = sorted(p for p in tmp_dir.rglob("*") if p.is_file())
    for path in written:
        _fsync_path(path)
        files[path.relative_to(tmp_dir).as_posix()] = {"bytes": path.stat().st_size, "blake2b": _checksum(path)}
    files = dict(sorted(files.items()))
    for sub in [tmp_dir / "bm25", tmp_dir]:
        if sub.is_dir():
            _fsync_path(sub)
    if final_dir.exists():
        shutil.rmtree(final_dir)
    os.rename(tmp_dir, final_dir)

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    created = now
    with contextlib.suppress(IndexNotFoundError, IndexFormatError):
        created = read_manifest(directory).get("created_at", now)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "generation": generation,
        "data_dir": final_dir.name,
        "created_at": created,
        "updated_at": now,
        **contents.settings.to_dict(),
        "query_defaults": contents.query_defaults,
        "counts": {"documents": len(contents.documents), "passages": len(contents.passages)},
        "versions": library_versions(),
        "files": files,
    }
    tmp_manifest = directory / f"{MANIFEST}.tmp-{os.getpid()}"
    with open(tmp_manifest, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp_manifest, directory / MANIFEST)  # the commit point
    _fsync_path(directory)
    contents.generation = generation

    for stale in directory.iterdir():
        if stale.name.startswith(GENERATION_PREFIX) and stale != final_dir:
            shutil.rmtree(stale, ignore_errors=True)
        elif stale.name.startswith(f"{MANIFEST}.tmp-"):
            stale.unlink(missing_ok=True)
    return manifest


def empty_contents(settings: IndexSettings) -> IndexContents:
    return IndexContents(
        settings=settings,
        documents={},
        passages=[],
        embed_keys=[],
        dense=DenseIndex.build(np.zeros((0, settings.dim), dtype=np.float32), dim=settings.dim),
        lexical=LexicalIndex.build([]),
        sentences=SentenceTable.empty(settings.dim),
    )

