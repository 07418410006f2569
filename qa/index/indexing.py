"""The write path of an index, as stages: plan what an update changes, cut the new documents
into what is embedded, find the vectors that can be reused, and assemble the new contents.

:class:`qa.QA` runs the stages in order (embedding in between, with its model) under the index's
writer lock; each stage here is a plain function of its inputs, so an update can be followed
and tested stage by stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

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
from .store import IndexContents, IndexSettings


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
    """Documents cut into what an index stores and embeds: passages with the exact text embedded
    for each (``texts``, keyed by content hash), and the sentence units of each passage."""

    passages: list[Passage]
    texts: list[str]
    keys: list[str]
    sentence_spans: list[list[tuple[int, int]]]
    sentence_texts: list[str]
    sentence_keys: list[str]


def split_documents(documents: Sequence[Document], settings: IndexSettings) -> SplitDocuments:
    """Chunk ``documents`` and derive every text to embed, as an index with ``settings`` does.

    The one definition shared by local indexing and Ray workers (qa.index.distributed), so both embed
    exactly the same texts.
    """
    passages = [p for doc in documents for p in chunk_document(doc, settings.chunking)]
    texts = [passage_index_text(p, context=settings.context) for p in passages]
    spans = [passage_sentence_spans(p.text, settings.chunking.sentence_min_words, code_units=settings.chunking.code_units) for p in passages]
    sentence_texts = [sentence_embed_text(p.text[a:b]) for p, group in zip(passages, spans) for a, b in group]
    return SplitDocuments(
        passages=passages,
        texts=texts,
        keys=[content_hash(t) for t in texts],
        sentence_spans=spans,
        sentence_texts=sentence_texts,
        sentence_keys=[content_hash(t) for t in sentence_texts],
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
    split = split_documents(documents, settings)
    return list(dict.fromkeys(split.texts + split.sentence_texts))


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


@dataclass
class EmbeddingPlan:
    """Vectors for a list of texts by content key: those reused from an index, and the texts
    still to embed (each distinct text once); computed vectors are added to ``vectors``. With
    ``codes`` a vector is kept as the 8-bit codes and scale it is stored as
    (:func:`qa.index.sentences.quantize_row`): a quarter of the memory, and a reused one is
    copied as it is stored."""

    vectors: dict[str, Any]  # by content key: reused ones now, computed ones added later
    reused: set[str]
    missing: dict[str, str]  # key -> text still to embed (each distinct text once)
    codes: bool = False

    def add(self, keys: Sequence[str], computed: np.ndarray) -> None:
        """Record the ``computed`` vectors (rows in the order of ``keys``)."""
        if self.codes:
            codes, scales = quantize_rows(computed)
            self.vectors.update(zip(keys, zip(codes, scales)))
        else:
            self.vectors.update(zip(keys, np.asarray(computed, dtype=np.float32)))


def reuse_vectors(texts: list[str], keys: list[str], known: list[tuple[Sequence[str], Callable[[int], Any]]], *, codes: bool = False) -> EmbeddingPlan:
    """Vectors for ``texts`` by key, taken from ``known`` (keys, row reader) pairs when the same
    text was embedded before; the rest is listed in ``missing``. Only the rows reused are read
    (the known vectors may be a memory map, or sentence codes read row by row)."""
    wanted = set(keys)
    vectors: dict[str, Any] = {}
    for known_keys, read_row in known:
        for row, key in enumerate(known_keys):
            if key in wanted and key not in vectors:
                vectors[key] = read_row(row)
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts):
        if key not in vectors:
            missing.setdefault(key, text)
    return EmbeddingPlan(vectors=vectors, reused=set(vectors), missing=missing, codes=codes)


def _sentence_keys(contents: IndexContents) -> list[str]:
    """Content keys of every stored sentence (recomputed from the text: not stored)."""
    keys = []
    table = contents.sentences
    for row, passage in enumerate(contents.passages):
        for a, b in table.spans_of(row):
            keys.append(content_hash(sentence_embed_text(passage.text[a:b])))
    return keys


def reusable_vectors(split: SplitDocuments, known: Sequence[tuple[IndexContents, np.ndarray]]) -> tuple[EmbeddingPlan, EmbeddingPlan]:
    """Plans for the passage and the sentence vectors of ``split``, reusing those of the same
    texts in the ``known`` indexes (the current one, and an old one being rebuilt), each given
    with its passage vectors (read once by the caller: at a million passages that is costly).
    Sentence vectors are planned as 8-bit codes, as they are stored."""
    passage_plan = reuse_vectors(
        split.texts, split.keys, [(c.embed_keys, lambda row, v=vectors: np.asarray(v[row], dtype=np.float32)) for c, vectors in known if len(c.dense)]
    )
    sentence_plan = reuse_vectors(
        split.sentence_texts, split.sentence_keys, [(_sentence_keys(c), c.sentences.code_of) for c, _ in known if len(c.sentences)], codes=True
    )
    return passage_plan, sentence_plan


def _dense_index(old: IndexContents, old_vectors: np.ndarray, keep_rows: Sequence[int], added: list[np.ndarray], passages: int) -> DenseIndex:
    """The dense index of the kept rows of ``old`` then the ``added`` vectors (no copy of them
    when nothing is kept)."""
    dim = old.settings.dim
    added_vectors = np.stack(added) if added else np.zeros((0, dim), dtype=np.float32)
    del added
    kind = resolve_kind(old.settings.dense_index, passages)
    if len(keep_rows) == len(old.passages) and old.dense.kind == kind and kind != "flat":
        return old.dense.extended(added_vectors)  # nothing removed: extend the graph, no rebuild
    vectors = np.concatenate([old_vectors[keep_rows], added_vectors]) if len(keep_rows) else added_vectors
    return DenseIndex.build(vectors.astype(np.float32, copy=False), dim=dim, kind=kind)


def _sentence_table(old: IndexContents, keep_rows: Sequence[int], split: SplitDocuments, vectors: EmbeddingPlan, passages: int) -> SentenceTable:
    """The sentence table of the kept rows of ``old`` then the new passages, in the bits an
    index of ``passages`` stores."""
    new = SentenceTable.from_keys(split.sentence_spans, split.sentence_keys, vectors.vectors, old.settings.dim)
    kept = old.sentences.select(keep_rows)
    table = SentenceTable.concat([kept, new]) if len(kept) else new
    return table.with_bits(stored_bits(passages, old.settings.dim, current=old.sentences.bits))


def assemble(
    old: IndexContents,
    old_vectors: np.ndarray,
    plan: UpdatePlan,
    split: SplitDocuments,
    passage_vectors: EmbeddingPlan,
    sentence_vectors: EmbeddingPlan,
    files: dict[str, FileRecord],
) -> IndexContents:
    """The contents after the update: kept rows of ``old`` (whose passage vectors are
    ``old_vectors``) then the new passages, with their vectors (all computed by now), sentence
    table, BM25 index and file records."""
    settings = old.settings
    passages = [old.passages[i] for i in plan.keep_rows] + split.passages
    embed_keys = [old.embed_keys[i] for i in plan.keep_rows] + split.keys
    # Built one after the other, each in a function of its own so that its temporaries are gone
    # before the next starts: this is where a build's memory peaks.
    dense = _dense_index(old, old_vectors, plan.keep_rows, [passage_vectors.vectors[k] for k in split.keys], len(passages))
    sentences = _sentence_table(old, plan.keep_rows, split, sentence_vectors, len(passages))
    token_lists = (content_terms(passage_index_text(p, context=settings.context)) for p in passages)
    return IndexContents(
        settings=settings,
        documents=plan.documents,
        passages=passages,
        embed_keys=embed_keys,
        dense=dense,
        lexical=LexicalIndex.build(token_lists, k1=settings.bm25_k1, b=settings.bm25_b),
        sentences=sentences,
        query_defaults=dict(old.query_defaults),
        generation=old.generation,
        files=files,
    )
