"""Sentence vectors of every passage, for max-sim rescoring and answer highlighting.

A passage vector blurs several ideas into one point; the question is usually answered by one
sentence. So each passage also stores one vector per sentence, and a candidate passage is
rescored by its best sentence's similarity to the question (measured on pyfaq: +12 points
hit@5 over passage vectors alone, see bench/README.md). The same vectors pick the sentence to highlight
in an answer, so answering needs no model call beyond the question's own embedding.

Layout (CSR): the sentences of passage ``i`` are rows ``indptr[i]:indptr[i + 1]`` of ``spans``
(start/end offsets inside the passage text) and ``rows``; sentence ``j``'s vector is row
``rows[j]`` of ``codes`` and ``scales``, stored as 8-bit codes times one scale per row (vector =
codes * scale). A quarter of float32 and half of float16 — the sentence vectors are most of an
index's size; measured on pyfaq, the codes keep a cosine of 0.99997 (mean; 0.99992 min) to the
vectors and leave retrieval and answers unchanged (bench/README.md, "Scale"). A sentence that
occurs in several passages (the overlap of neighbouring windows, boilerplate repeated across
pages) has its vector stored once: on pyfaq 142,772 sentences share 88,608 vectors.

From :data:`SENTENCE_4BIT_THRESHOLD` passages the vectors are stored in 4 bits a component (two
per byte, :func:`quantize_rows_4bit`): half the bytes again, for a million-passage index the
difference between 4.2 and 3.4 KB a passage. Measured on pyfaq stored in 4 bits: hit@1 .471 ->
.478, hit@5 .713 -> .701, MRR@10 .580 -> .579, evidence cited .777 both, the same abstention
(bench/README.md, "Scale") — a small cost, which smaller indexes do not pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..answers.composition import segments
from ..text import is_record, sentence_spans

# Sentences longer than this are code blocks or tables; their first words say what they are,
# and embedding all of a 500-word block would cost more than the rest of its passage.
MAX_SENTENCE_WORDS = 60


# Fragments shorter than this (headings, list items, code lines) join the next sentence: alone
# they match questions by accident, and they would multiply the vectors to store.
MIN_UNIT_WORDS = 8


def passage_sentence_spans(text: str, min_words: int = MIN_UNIT_WORDS, *, code_units: bool = True) -> list[tuple[int, int]]:
    r"""Sentence-like units inside a passage text: sentences, with fragments under ``min_words``
    words merged into the next one (at least one span for any non-blank text).

    With ``code_units`` a code block (see :func:`qa.answers.composition.segments`) is one unit and is
    never merged with the prose around it: "print(x)\n10\n\nIn Python, variables ..." would
    otherwise give the sentence a vector half made of code.

    >>> text = "Install\n\nRun the installer and follow the steps shown. Then reboot the machine and log in again as before."
    >>> [text[a:b] for a, b in passage_sentence_spans(text)]
    ['Install\n\nRun the installer and follow the steps shown.', 'Then reboot the machine and log in again as before.']
    >>> code = "Try this:\n\n$ make run\n$ make test\n\nBoth commands set everything up on a fresh machine."
    >>> [code[a:b] for a, b in passage_sentence_spans(code)]
    ['Try this:', '$ make run\n$ make test', 'Both commands set everything up on a fresh machine.']
    """
    spans = sentence_spans(text)
    if not spans:
        return [(0, len(text))] if text.strip() else []
    if not code_units:
        return _merge_short(text, spans, min_words)
    structure = segments(text)
    code = [s for s in structure if s.kind == "code"]
    items = [(s.start, s.end) for s in structure if s.kind == "item"]
    units: list[tuple[int, int]] = []
    prose: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        block = next((c for c in code if c.start <= spans[i][0] < c.end), None)
        if block is None:
            prose.append(spans[i])
            i += 1
            continue
        units.extend(_merge_short(text, prose, min_words, items))
        prose = []
        end = spans[i][1]
        while i < len(spans) and spans[i][0] < block.end:
            end = max(end, spans[i][1])
            i += 1
        units.append((block.start if block.start <= end else spans[i - 1][0], end))
    units.extend(_merge_short(text, prose, min_words, items))
    return units


def _merge_short(
    text: str, spans: list[tuple[int, int]], min_words: int, items: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    r"""Consecutive sentence spans with fragments under ``min_words`` merged into the next one.
    A table row (:func:`qa.text.is_record`) ends its unit: rows are never glued together. A list
    item (a span inside one of ``items``) ends its unit before a sentence outside every item: the
    paragraph after a list is no part of its last item.

    >>> t = "Troops\n\nCountry: Japan; Troops: 1,500\n\nCountry: Korea; Troops: 900"
    >>> [t[a:b] for a, b in _merge_short(t, [(0, 6), (8, 37), (39, 66)], 8)]
    ['Troops\n\nCountry: Japan; Troops: 1,500', 'Country: Korea; Troops: 900']
    >>> t = "- Read NEWS.md first.\n\nThe C source requires a C99 compiler."
    >>> [t[a:b] for a, b in _merge_short(t, [(0, 21), (23, 61)], 8, items=[(2, 21)])]
    ['- Read NEWS.md first.', 'The C source requires a C99 compiler.']
    """
    if not spans:
        return []

    def in_item(span: tuple[int, int]) -> bool:
        return any(a < span[1] and span[0] < b for a, b in items)

    units: list[tuple[int, int]] = []
    unit_closed: list[bool] = []  # whether each finished unit ends with a table row or a list item
    start, end, words = spans[0][0], spans[0][1], len(text[spans[0][0] : spans[0][1]].split())
    closed = is_record(text[start:end])
    item = in_item(spans[0])
    for a, b in spans[1:]:
        n = len(text[a:b].split())
        next_item = in_item((a, b))
        list_ends = item and not next_item
        if words < min_words and not closed and not list_ends and words + n <= MAX_SENTENCE_WORDS:
            end, words = b, words + n
        else:
            units.append((start, end))
            unit_closed.append(closed or list_ends)
            start, end, words = a, b, n
        closed, item = is_record(text[a:b]), next_item
    tail_joins = units and words < min_words and not closed and not unit_closed[-1]
    if tail_joins and len(text[units[-1][0] : end].split()) <= MAX_SENTENCE_WORDS:
        units[-1] = (units[-1][0], end)  # a short tail joins the unit before it
    else:
        units.append((start, end))
    return units


def sentence_embed_text(sentence: str) -> str:
    """What is embedded for a sentence: its words, cut to :data:`MAX_SENTENCE_WORDS`."""
    return " ".join(sentence.split()[:MAX_SENTENCE_WORDS])


def quantize_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows as int8 codes and a float32 scale each (the row's largest magnitude maps to 127).

    >>> codes, scales = quantize_rows(np.array([[0.6, -0.8], [0.0, 0.0]]))
    >>> codes.tolist(), [round(float(s), 5) for s in scales]
    ([[95, -127], [0, 0]], [0.0063, 0.0])
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    largest = np.abs(vectors).max(axis=1) if vectors.size else np.zeros(len(vectors), dtype=np.float32)
    scales = (largest / 127.0).astype(np.float32)
    safe = np.where(scales > 0, scales, 1.0)[:, None]
    codes = np.clip(np.rint(vectors / safe), -127, 127).astype(np.int8)
    return codes, scales


def quantize_row(vector: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """One vector as int8 codes and its scale (see :func:`quantize_rows`)."""
    codes, scales = quantize_rows(np.asarray(vector, dtype=np.float32).reshape(1, -1))
    return codes[0], scales[0]


# An index of this many passages stores its sentence vectors in 4 bits (and keeps them so).
SENTENCE_4BIT_THRESHOLD = 500_000
# 4-bit codes are 15 levels around an exact zero, the outermost at +-2.5 root-mean-square values
# of the row (beyond is clipped), then the row's step is refitted by least squares (so a sparse
# row clipped alike keeps its direction and its length). On pyfaq's sentence vectors the score
# error (std) is 0.0060; ranges of 2.75 / 3 RMS gave 0.0061 / 0.0065, the row's largest value
# 0.0064, 16 levels without a zero 0.0058 — but a zero level keeps the zeros of sparse vectors
# zero (8-bit: 0.0003).
_RANGE_RMS = 2.5


def quantize_rows_4bit(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows as 4-bit codes, two per byte (component ``2j`` in the low half of byte ``j``), and a
    float32 step each: component = (code - 8) x step, codes 1..15.

    >>> codes, steps = quantize_rows_4bit(np.array([[0.6, -0.8, 0.0, 0.0]]))
    >>> [round(float(x), 2) for x in decode_rows(codes, steps, 4)[0]]
    [0.6, -0.8, 0.0, 0.0]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] % 2:
        raise ValueError(f"4-bit codes need rows of an even length, got shape {vectors.shape}")
    rms = np.sqrt(np.mean(vectors * vectors, axis=1)) if vectors.size else np.zeros(len(vectors), dtype=np.float32)
    steps = _RANGE_RMS * rms / 7
    safe = np.where(steps > 0, steps, 1.0)[:, None]
    signed = np.clip(np.rint(vectors / safe), -7, 7)
    norms = (signed * signed).sum(axis=1)
    steps = np.where(norms > 0, (signed * vectors).sum(axis=1) / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
    levels = signed.astype(np.int16) + 8
    packed = (levels[:, 0::2] | (levels[:, 1::2] << 4)).astype(np.uint8)
    return packed, steps


def decode_rows(codes: np.ndarray, scales: np.ndarray, dim: int) -> np.ndarray:
    """The float32 vectors of 8-bit (int8) or 4-bit (packed uint8) codes."""
    codes = np.asarray(codes)
    scales = np.asarray(scales, dtype=np.float32)
    if codes.dtype == np.int8:
        return codes.astype(np.float32) * scales[:, None]
    out = np.empty((len(codes), dim), dtype=np.float32)
    out[:, 0::2] = codes & 15
    out[:, 1::2] = codes >> 4
    return (out - 8.0) * scales[:, None]


def stored_bits(passages: int, dim: int, *, current: int = 8) -> int:
    """Bits a component for the sentence vectors of an index of ``passages`` (see
    :data:`SENTENCE_4BIT_THRESHOLD`; an index stored in 4 bits stays so).

    >>> stored_bits(20_000, 384), stored_bits(1_000_000, 384), stored_bits(1_000, 384, current=4)
    (8, 4, 4)
    """
    if dim % 2:
        return 8
    return 4 if current == 4 or passages >= SENTENCE_4BIT_THRESHOLD else 8


class RowVectors:
    """Read access to the float32 vectors of a :class:`SentenceTable`, sentence by sentence
    (decoded on demand: the whole table is never expanded)."""

    def __init__(self, table: "SentenceTable") -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, sentence: int) -> np.ndarray:
        codes, scale = self._table.code_of(sentence)
        return codes.astype(np.float32) * np.float32(scale)


@dataclass
class SentenceTable:
    """Per-passage sentence spans and vectors (see the module docstring)."""

    indptr: np.ndarray  # int64 [n_passages + 1]
    spans: np.ndarray  # int32 [n_sentences, 2]
    rows: np.ndarray  # int32 [n_sentences]: each sentence's row of codes and scales
    codes: np.ndarray  # int8 [n_vectors, dim]
    scales: np.ndarray  # float32 [n_vectors]

    @classmethod
    def empty(cls, dim: int) -> "SentenceTable":
        return cls(
            np.zeros(1, dtype=np.int64),
            np.zeros((0, 2), dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros((0, dim), dtype=np.int8),
            np.zeros(0, dtype=np.float32),
        )

    @classmethod
    def from_lists(cls, spans: Sequence[Sequence[tuple[int, int]]], vectors: np.ndarray, dim: int) -> "SentenceTable":
        """Build from per-passage span lists and the matching vectors (one per sentence, rows in
        the same order; each stored as it is, without looking for repeats)."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
        codes, scales = quantize_rows(vectors)
        return cls._assemble(spans, np.arange(len(vectors), dtype=np.int32), codes, scales)

    @classmethod
    def _assemble(cls, spans: Sequence[Sequence[tuple[int, int]]], rows: np.ndarray, codes: np.ndarray, scales: np.ndarray) -> "SentenceTable":
        counts = np.array([len(s) for s in spans], dtype=np.int64)
        indptr = np.zeros(len(spans) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        flat = np.array([span for group in spans for span in group], dtype=np.int32).reshape(-1, 2)
        if len(flat) != len(rows):
            raise ValueError(f"{len(flat)} sentence spans but {len(rows)} vectors")
        return cls(indptr, flat, rows, codes, scales)

    @property
    def bits(self) -> int:
        """Bits a component: 8 (int8 codes) or 4 (two per byte)."""
        return 4 if self.codes.dtype == np.uint8 else 8

    @property
    def dim(self) -> int:
        return int(self.codes.shape[1]) * (2 if self.bits == 4 else 1)

    def with_bits(self, bits: int) -> "SentenceTable":
        """This table with its vectors stored in ``bits`` (itself when they already are),
        re-encoded a block of rows at a time."""
        if bits == self.bits:
            return self
        encode = quantize_rows_4bit if bits == 4 else quantize_rows
        parts = [encode(decode_rows(self.codes[i : i + 65_536], self.scales[i : i + 65_536], self.dim)) for i in range(0, len(self.codes), 65_536)]
        if not parts:
            parts = [encode(np.zeros((0, self.dim), dtype=np.float32))]
        return SentenceTable(
            self.indptr, self.spans, self.rows, np.concatenate([c for c, _ in parts]), np.concatenate([s for _, s in parts])
        )

    @property
    def vectors(self) -> RowVectors:
        """The vector of each sentence, decoded on access."""
        return RowVectors(self)

    def code_of(self, sentence: int) -> tuple[np.ndarray, np.float32]:
        """The 8-bit codes and scale of ``sentence``'s vector (as a build plans them, :func:`qa.index.indexing.reuse_vectors`): as
        stored, or re-encoded from 4 bits."""
        row = int(self.rows[sentence])
        if self.bits == 4:
            return quantize_row(decode_rows(self.codes[row : row + 1], self.scales[row : row + 1], self.dim)[0])
        return np.asarray(self.codes[row]), np.float32(self.scales[row])

    @property
    def passages(self) -> int:
        return len(self.indptr) - 1

    def __len__(self) -> int:
        return int(self.indptr[-1])

    def rows_of(self, passage: int) -> slice:
        """The sentences of ``passage`` (a slice of ``spans`` and ``rows``)."""
        return slice(int(self.indptr[passage]), int(self.indptr[passage + 1]))

    def spans_of(self, passage: int) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in self.spans[self.rows_of(passage)]]

    def select(self, passages: Sequence[int]) -> "SentenceTable":
        """The table restricted to ``passages`` (in that order), keeping only the vectors they use."""
        if not len(passages):
            return SentenceTable.empty(self.dim)
        sentence_index = np.concatenate([np.arange(self.indptr[p], self.indptr[p + 1]) for p in passages])
        counts = np.array([self.indptr[p + 1] - self.indptr[p] for p in passages], dtype=np.int64)
        indptr = np.zeros(len(passages) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        used, rows = np.unique(np.asarray(self.rows)[sentence_index], return_inverse=True)
        return SentenceTable(
            indptr, np.asarray(self.spans[sentence_index]), rows.astype(np.int32), np.asarray(self.codes[used]), np.asarray(self.scales[used])
        )

    @staticmethod
    def concat(tables: Sequence["SentenceTable"]) -> "SentenceTable":
        """The tables one after the other (in 4 bits when any of them is)."""
        bits = min((t.bits for t in tables if len(t.codes)), default=8)
        tables = [t.with_bits(bits) for t in tables]
        indptrs, row_parts, offset, vectors = [np.zeros(1, dtype=np.int64)], [], 0, 0
        for table in tables:
            indptrs.append(table.indptr[1:] + offset)
            row_parts.append(np.asarray(table.rows, dtype=np.int64) + vectors)
            offset += len(table)
            vectors += len(table.codes)
        return SentenceTable(
            np.concatenate(indptrs),
            np.concatenate([np.asarray(t.spans) for t in tables]),
            np.concatenate(row_parts).astype(np.int32),
            np.concatenate([np.asarray(t.codes) for t in tables]),
            np.concatenate([np.asarray(t.scales) for t in tables]),
        )

    def _similarities(self, sentence_index, query_vector: np.ndarray) -> np.ndarray:
        rows = np.asarray(self.rows[sentence_index])
        query = np.asarray(query_vector, dtype=np.float32)
        scales = np.asarray(self.scales[rows], dtype=np.float32)
        if self.bits == 4:  # (code - 8) x step, summed half by half without unpacking the rows
            codes = np.asarray(self.codes[rows])
            dots = (codes & 15).astype(np.float32) @ query[0::2] + (codes >> 4).astype(np.float32) @ query[1::2]
            return (dots - 8.0 * float(query.sum())) * scales
        return (np.asarray(self.codes[rows], dtype=np.float32) @ query) * scales

    def similarities(self, passage: int, query_vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of each sentence of ``passage`` to the (unit) query vector."""
        return self._similarities(self.rows_of(passage), query_vector)

    def best_similarities(self, passages: Sequence[int], query_vector: np.ndarray) -> np.ndarray:
        """For each passage, the similarity of its best sentence (``-1`` for a passage without
        sentences)."""
        out = np.full(len(passages), -1.0, dtype=np.float32)
        if not len(passages):
            return out
        starts = self.indptr[np.asarray(passages)]
        ends = self.indptr[np.asarray(passages) + 1]
        sentence_index = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(self) else np.zeros(0, dtype=np.int64)
        if not len(sentence_index):
            return out
        sims = self._similarities(sentence_index, query_vector)
        counts = ends - starts
        owners = np.repeat(np.arange(len(passages)), counts)
        np.maximum.at(out, owners, sims)
        return out
