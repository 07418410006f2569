"""The write path of an index, as stages: plan what an update changes, cut the new documents
into what is embedded, find the vectors that can be reused, and assemble the new contents.

:class:`qa.QA` runs the stages in order (embedding in between, with its model) under the index's
writer lock; each stage here is a plain function of its inputs, so an update can be followed
and tested stage by stage.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from array import array
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..ingest.chunking import chunk_document
from ..ingest.loaders import LoadResult, SkippedFile
from ..retrieval.hybrid import passage_index_text
from ..text import content_terms
from ..types import Document, FileRecord, Passage, content_hash
from .dense import DenseIndex, resolve_kind
from .lexical import LexicalIndex
from .sentences import (
    SentenceTable,
    passage_sentence_spans,
    quantize_rows,
    sentence_embed_text,
    stored_bits,
)
from .store import IndexContents, IndexSettings, PassageTable


@dataclass(frozen=True)
class UpdatePlan:
    """What an update does to an index: the sources added, updated (new text), unchanged and
    removed; the documents to chunk and embed; the passage rows kept; the documents afterwards."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    new_documents: list[Document]
    keep_rows: list[int]
    documents: dict[str, Document]


def plan_update(old: IndexContents, documents: Sequence[Document], removed: set[str]) -> UpdatePlan:
    """Compare incoming ``documents`` (a later duplicate of a source wins) and the sources to
    remove with what ``old`` holds. A document whose text is unchanged is left as it is.

    >>> from qa.index.store import empty_contents
    >>> plan = plan_update(empty_contents(IndexSettings(model="m", dim=4)), [Document.from_text("Hi.", source="a")], set())
    >>> plan.added, plan.keep_rows
    (['a'], [])
    """
    incoming: dict[str, Document] = {}
    for doc in documents:
        incoming[doc.source] = doc
    added, updated, unchanged = [], [], []
    for source, doc in incoming.items():
        existing = old.documents.get(source)
        if existing is None:
            added.append(source)
        elif existing.id != doc.id:
            updated.append(source)
        else:
            unchanged.append(source)
    gone = sorted(s for s in removed if s in old.documents and s not in incoming)
    drop = set(updated) | set(gone)
    new_documents = [incoming[s] for s in added + updated]
    kept = {s: d for s, d in old.documents.items() if s not in drop}
    for doc in new_documents:
        kept[doc.source] = doc
    keep_rows = [i for i, source in enumerate(_passage_sources(old)) if source not in drop]
    return UpdatePlan(added, updated, unchanged, gone, new_documents, keep_rows, kept)


def _passage_sources(contents: IndexContents) -> Sequence[str]:
    passages = contents.passages
    return passages.sources if hasattr(passages, "sources") else [p.source for p in passages]


@dataclass(frozen=True)
class SplitDocuments:
    """Documents cut into what an index stores and embeds, in compact columns: the passages (a
    :class:`~qa.index.store.PassageTable` over the documents), the content key of the exact text
    embedded for each passage, and each passage's sentence units (CSR spans into its text, as the
    :class:`~qa.index.sentences.SentenceTable` keeps them) with their keys.

    The texts to embed are not kept: :meth:`passage_text` and :meth:`sentence_text` make one again
    when it is embedded, so a build never holds a corpus's worth of them (nor a Passage object
    and a copy of the text per passage).
    """

    passages: PassageTable
    keys: list[str]
    sentence_indptr: np.ndarray  # int64 [passages + 1]: passage i's sentences are indptr[i]:indptr[i + 1]
    sentence_spans: np.ndarray  # int32 [sentences, 2]: offsets into the passage's text
    sentence_keys: list[str]
    context: bool

    def passage_text(self, row: int) -> str:
        """The text embedded for passage ``row`` (with its title and section when ``context``)."""
        return passage_index_text(self.passages[row], context=self.context)

    def sentence_text(self, sentence: int) -> str:
        """The text embedded for sentence ``sentence`` (numbered across all passages)."""
        row = int(np.searchsorted(self.sentence_indptr, sentence, side="right")) - 1
        a, b = (int(x) for x in self.sentence_spans[sentence])
        return sentence_embed_text(self.passages.text_of(row)[a:b])

    def texts(self) -> Iterator[str]:
        """Every text to embed: the passages', then the sentences' (repeats included)."""
        yield from (self.passage_text(row) for row in range(len(self.passages)))
        yield from (self.sentence_text(sentence) for sentence in range(len(self.sentence_spans)))


def split_documents(documents: Sequence[Document], settings: IndexSettings) -> SplitDocuments:
    """Chunk ``documents`` and key every text to embed, as an index with ``settings`` does.

    The one definition shared by local indexing and Ray workers (qa.index.distributed), so both embed
    exactly the same texts. Passages are made one document at a time and kept as columns.

    >>> text = "The first sentence has some words in it. The second one has other words in it."
    >>> split = split_documents([Document.from_text(text, source="a")], IndexSettings(model="m", dim=4))
    >>> len(split.passages), split.sentence_indptr.tolist(), split.sentence_text(1)
    (1, [0, 2], 'The second one has other words in it.')
    """
    ids: list[str] = []
    sources: list[str] = []
    offsets = array("q")
    sections: list[tuple[str, ...]] = []
    pages: list[int | None] = []
    shared_sections: dict[tuple[str, ...], tuple[str, ...]] = {}
    keys: list[str] = []
    counts = array("q", [0])
    spans = array("i")
    sentence_keys: list[str] = []
    chunking = settings.chunking
    for doc in documents:
        for passage in chunk_document(doc, chunking):
            ids.append(passage.id)
            sources.append(doc.source)
            offsets.extend((passage.start, passage.end))
            sections.append(shared_sections.setdefault(passage.section, passage.section))
            pages.append(passage.page)
            keys.append(content_hash(passage_index_text(passage, context=settings.context)))
            units = passage_sentence_spans(passage.text, chunking.sentence_min_words, code_units=chunking.code_units)
            counts.append(len(units))
            for a, b in units:
                spans.extend((a, b))
                sentence_keys.append(content_hash(sentence_embed_text(passage.text[a:b])))
    table = PassageTable(
        {doc.source: doc for doc in documents},
        ids=ids,
        sources=sources,
        offsets=np.frombuffer(offsets, dtype=np.int64).reshape(-1, 2).copy(),
        sections=sections,
        pages=pages,
    )
    return SplitDocuments(
        passages=table,
        keys=keys,
        sentence_indptr=np.cumsum(np.frombuffer(counts, dtype=np.int64)),
        sentence_spans=np.frombuffer(spans, dtype=np.int32).reshape(-1, 2).copy(),
        sentence_keys=sentence_keys,
        context=settings.context,
    )


def within_passage_limit(loaded: LoadResult, settings: IndexSettings, limit: int | None) -> LoadResult:
    """``loaded`` without the files whose documents would make more than ``limit`` passages
    together: each such file is skipped with a reason that gives its count and the limit.

    One upload of generated text (a log, a dump, a repeated template) would otherwise cost
    hours of embedding and multiply the index; ``None`` sets no limit.
    """
    if limit is None:
        return loaded
    counts: dict[str, int] = {}
    for doc in loaded.documents:
        counts[doc.path] = counts.get(doc.path, 0) + len(chunk_document(doc, settings.chunking))
    too_long = {path: count for path, count in counts.items() if count > limit}
    if not too_long:
        return loaded
    reasons = {
        path: f"makes {count:,} passages, more than the limit of {limit:,} per file (raise the limit to index it, "
        "or split the file)"
        for path, count in too_long.items()
    }
    return LoadResult(
        documents=[d for d in loaded.documents if d.path not in too_long],
        skipped=list(loaded.skipped) + [SkippedFile(path, reason) for path, reason in reasons.items()],
        files=[
            replace(r, status="skipped", reason=reasons[r.path], sources=(), notes=(), reread=True) if r.path in too_long else r
            for r in loaded.files
        ],
        unchanged_files=list(loaded.unchanged_files),
    )


def texts_to_embed(documents: Sequence[Document], settings: IndexSettings) -> list[str]:
    """Every distinct text an index with ``settings`` embeds for ``documents`` (passages, then
    sentences), each once."""
    return list(dict.fromkeys(split_documents(documents, settings).texts()))


def updated_ledger(
    old: dict[str, FileRecord], read: Sequence[FileRecord], dropped: set[str] | frozenset[str], documents: dict[str, Document]
) -> dict[str, FileRecord]:
    """The file records after an update: the files read now replace their records, deleted files
    are forgotten, and so is an indexed file none of whose documents is left (removed with
    :meth:`QA.remove`: adding it again must read it)."""
    ledger = {path: record for path, record in old.items() if path not in dropped}
    for record in read:
        ledger[record.path] = record
    return {
        path: record
        for path, record in ledger.items()
        if not record.indexed or any(source in documents for source in record.sources)
    }


class StageClock:
    """Seconds spent in each stage of an update, in order (``IndexReport.timings``)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self._last, 2)
        self._last = now


class SpilledRows:
    """A table of ``count`` rows of ``width`` values of ``dtype``, kept in an unnamed temporary
    file (gone when it is closed, or when the process ends) rather than in memory.

    A build computes the vectors of a whole corpus over many minutes while the model needs its
    working memory; spilled, they do not add to the build's peak (for pyfaq: 33 MB of passage
    vectors and 34 MB of sentence codes). They are read back once, a block at a time, when the
    index is assembled. Rows never written read as zeros.

    >>> rows = SpilledRows(4, 2, np.float32)
    >>> rows.write(np.array([1, 2]), np.array([[1, 2], [3, 4]]))
    >>> rows.take(np.array([2, 0, 2])).tolist()
    [[3.0, 4.0], [0.0, 0.0], [3.0, 4.0]]
    >>> rows.close()
    """

    def __init__(self, count: int, width: int, dtype: Any, *, directory: str | os.PathLike[str] | None = None) -> None:
        self.count, self.width, self.dtype = count, width, np.dtype(dtype)
        self._row_bytes = width * self.dtype.itemsize
        self._file = tempfile.TemporaryFile(dir=directory)
        self._file.truncate(count * self._row_bytes)

    def __len__(self) -> int:
        return self.count

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Store ``values`` (one per row, in the order of ``rows``)."""
        values = np.ascontiguousarray(values, dtype=self.dtype).reshape(len(rows), self.width)
        for start, stop in _runs(rows):
            os.pwrite(self._file.fileno(), values[start:stop].tobytes(), int(rows[start]) * self._row_bytes)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The values of ``rows`` (any order, repeats allowed), read a run of rows at a time
        (rows in order, the common case, straight into the result)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.width), dtype=self.dtype)
        if len(rows) and bool(np.all(np.diff(rows) == 1)):
            self._read_into(out, int(rows[0]))
            return out
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        for start, stop in _runs(wanted, repeats=True):
            first, last = int(wanted[start]), int(wanted[stop - 1])
            block = np.empty((last - first + 1, self.width), dtype=self.dtype)
            self._read_into(block, first)
            out[order[start:stop]] = block[wanted[start:stop] - first]
        return out

    def _read_into(self, array: np.ndarray, first_row: int) -> None:
        view = memoryview(array).cast("B")
        done, offset = 0, first_row * self._row_bytes
        while done < len(view):
            read = os.preadv(self._file.fileno(), [view[done:]], offset + done)
            if read <= 0:
                raise OSError(f"the temporary vector file ended at byte {offset + done} (rows {self.count})")
            done += read

    def close(self) -> None:
        self._file.close()


def _runs(rows: np.ndarray, *, repeats: bool = False) -> Iterator[tuple[int, int]]:
    """``[start, stop)`` of each run of consecutive row numbers in ``rows`` (equal neighbours
    continue a run when ``repeats``)."""
    if not len(rows):
        return
    steps = np.diff(np.asarray(rows, dtype=np.int64))
    breaks = np.flatnonzero((steps > 1) | (steps < 0) if repeats else steps != 1) + 1
    bounds = [0, *breaks.tolist(), len(rows)]
    yield from zip(bounds[:-1], bounds[1:])


@dataclass
class EmbeddingPlan:
    """The vectors of a list of items (passages or sentences), one row per distinct content key
    in the order keys first occur: ``rows[i]`` is item ``i``'s row, ``first[r]`` the first item
    of row ``r`` (whose text is embedded for it). Rows reused from an index are filled when the
    plan is made; ``missing`` lists the rows still to embed, filled by :meth:`fill`.

    ``values`` holds float32 vectors, or with ``scales`` the 8-bit codes the vectors are stored
    as (:func:`qa.index.sentences.quantize_rows`; a reused one is copied as it is stored), in a
    :class:`SpilledRows` file until the index is assembled.
    """

    rows: np.ndarray  # int64 [items]
    first: np.ndarray  # int64 [distinct keys]
    reused: np.ndarray  # bool [distinct keys]: filled from an index
    missing: np.ndarray  # int64: the rows still to embed, ascending
    values: SpilledRows
    scales: np.ndarray | None = None  # float32 [distinct keys], with 8-bit codes

    def fill(self, rows: np.ndarray, computed: np.ndarray) -> None:
        """Record the ``computed`` vectors of ``rows`` (in the same order)."""
        if self.scales is not None:
            codes, self.scales[rows] = quantize_rows(computed)
            self.values.write(rows, codes)
        else:
            self.values.write(rows, computed)

    def item_blocks(self, size: int = 8192) -> Iterator[np.ndarray]:
        """The vectors (or codes) of the items in order, ``size`` items at a time."""
        for start in range(0, len(self.rows), size):
            yield self.values.take(self.rows[start : start + size])

    def distinct_values(self) -> np.ndarray:
        """Every row's vector (or codes), in row order, in memory."""
        return self.values.take(np.arange(len(self.values)))


def reuse_vectors(
    keys: Sequence[str],
    known: list[tuple[Sequence[str], Callable[[int], Any]]],
    dim: int,
    *,
    codes: bool = False,
    directory: str | os.PathLike[str] | None = None,
) -> EmbeddingPlan:
    """A plan for the items with content ``keys``, with the vectors of keys found in ``known``
    (keys, row reader) pairs filled in: a text embedded before is not embedded again. Only the
    rows reused are read (the known vectors may be a memory map, or codes read row by row).
    ``directory`` is where the plan's :class:`SpilledRows` file goes (the system's temporary
    folder by default).

    >>> plan = reuse_vectors(["a", "b", "a"], [(["b"], lambda row: np.ones(2))], 2)
    >>> plan.rows.tolist(), plan.missing.tolist(), plan.distinct_values()[1].tolist()
    ([0, 1, 0], [0], [1.0, 1.0])
    """
    row_of: dict[str, int] = {}
    rows = np.fromiter((row_of.setdefault(key, len(row_of)) for key in keys), dtype=np.int64, count=len(keys))
    first = np.unique(rows, return_index=True)[1].astype(np.int64)
    reused = np.zeros(len(row_of), dtype=bool)
    plan = EmbeddingPlan(
        rows=rows,
        first=first,
        reused=reused,
        missing=np.zeros(0, dtype=np.int64),
        values=SpilledRows(len(row_of), dim, np.int8 if codes else np.float32, directory=directory),
        scales=np.zeros(len(row_of), dtype=np.float32) if codes else None,
    )
    for known_keys, read_row in known:
        for known_row, key in enumerate(known_keys):
            row = row_of.get(key)
            if row is not None and not reused[row]:
                if plan.scales is not None:
                    row_codes, plan.scales[row] = read_row(known_row)
                    plan.values.write(np.array([row]), row_codes)
                else:
                    plan.values.write(np.array([row]), read_row(known_row))
                reused[row] = True
    plan.missing = np.flatnonzero(~reused)
    return plan


def _sentence_keys(contents: IndexContents) -> list[str]:
    """Content keys of every stored sentence (recomputed from the text: not stored)."""
    keys = []
    table = contents.sentences
    for row, passage in enumerate(contents.passages):
        for a, b in table.spans_of(row):
            keys.append(content_hash(sentence_embed_text(passage.text[a:b])))
    return keys


def reusable_vectors(
    split: SplitDocuments, known: Sequence[IndexContents], *, directory: str | os.PathLike[str] | None = None
) -> tuple[EmbeddingPlan, EmbeddingPlan]:
    """Plans for the passage and the sentence vectors of ``split``, reusing those of the same
    texts in the ``known`` indexes (the current one, and an old one being rebuilt). Only the
    vectors reused are read from them (all of a million-passage index would be 1.5 GB).
    Sentence vectors are planned as 8-bit codes, as they are stored; ``directory`` as in
    :func:`reuse_vectors`."""
    dim = known[0].settings.dim
    passage_plan = reuse_vectors(
        split.keys,
        [(c.embed_keys, lambda row, dense=c.dense: dense.vectors_of([row])[0]) for c in known if len(c.dense)],
        dim,
        directory=directory,
    )
    sentence_plan = reuse_vectors(
        split.sentence_keys,
        [(_sentence_keys(c), c.sentences.code_of) for c in known if len(c.sentences)],
        dim,
        codes=True,
        directory=directory,
    )
    return passage_plan, sentence_plan


def _dense_index(old: IndexContents, keep_rows: Sequence[int], added: EmbeddingPlan, passages: int) -> DenseIndex:
    """The dense index of the kept rows of ``old`` then the ``added`` passages' vectors, both
    read a block at a time (so that they are never in memory twice)."""
    dim = old.settings.dim
    kind = resolve_kind(old.settings.dense_index, passages)
    if len(keep_rows) == len(old.passages) and old.dense.kind == kind and kind != "flat":
        # Nothing removed: extend the graph, no rebuild.
        return old.dense.extended(np.concatenate([np.zeros((0, dim), dtype=np.float32), *added.item_blocks()]))
    kept = (old.dense.vectors_of(keep_rows[start : start + 8192]) for start in range(0, len(keep_rows), 8192))
    blocks = itertools.chain(kept, added.item_blocks())
    return DenseIndex.from_blocks(blocks, count=passages, dim=dim, kind=kind)


def _sentence_table(old: IndexContents, keep_rows: Sequence[int], split: SplitDocuments, vectors: EmbeddingPlan, passages: int) -> SentenceTable:
    """The sentence table of the kept rows of ``old`` then the new passages, in the bits an
    index of ``passages`` stores."""
    assert vectors.scales is not None, "sentence vectors are planned as codes"
    new = SentenceTable(split.sentence_indptr, split.sentence_spans, vectors.rows.astype(np.int32), vectors.distinct_values(), vectors.scales)
    kept = old.sentences.select(keep_rows)
    table = SentenceTable.concat([kept, new]) if len(kept) else new
    return table.with_bits(stored_bits(passages, old.settings.dim, current=old.sentences.bits))


def updated_passages(old: IndexContents, plan: UpdatePlan, split: SplitDocuments) -> PassageTable:
    """The passages after the update: the kept rows of ``old``, then the new ones."""
    if isinstance(old.passages, PassageTable):
        kept: Sequence[Passage] = old.passages.select(plan.keep_rows)
    else:
        kept = [old.passages[i] for i in plan.keep_rows]
    return PassageTable.concat(plan.documents, [kept, split.passages])


def passage_terms(passages: Sequence[Passage], settings: IndexSettings) -> Iterator[list[str]]:
    """The BM25 terms of each passage, one passage at a time (for :meth:`LexicalIndex.build`)."""
    return (content_terms(passage_index_text(p, context=settings.context)) for p in passages)


def assemble(
    old: IndexContents,
    plan: UpdatePlan,
    split: SplitDocuments,
    passages: PassageTable,
    lexical: LexicalIndex,
    passage_vectors: EmbeddingPlan,
    sentence_vectors: EmbeddingPlan,
    files: dict[str, FileRecord],
) -> IndexContents:
    """The contents after the update: the ``passages`` (:func:`updated_passages`) and their BM25
    index, with their vectors (all computed by now), dense index and sentence table, and the
    file records."""
    settings = old.settings
    embed_keys = [old.embed_keys[i] for i in plan.keep_rows] + split.keys
    # One after the other, each in a function of its own so that its temporaries are gone
    # before the next starts.
    dense = _dense_index(old, plan.keep_rows, passage_vectors, len(passages))
    sentences = _sentence_table(old, plan.keep_rows, split, sentence_vectors, len(passages))
    return IndexContents(
        settings=settings,
        documents=plan.documents,
        passages=passages,
        embed_keys=embed_keys,
        dense=dense,
        lexical=lexical,
        sentences=sentences,
        query_defaults=dict(old.query_defaults),
        generation=old.generation,
        files=files,
    )
