"""Documents -> passages: windows of whole sentences that never cross a heading or a page.

Every passage keeps exact offsets, so ``document.text[p.start:p.end] == p.text`` always holds,
and its id is a hash of its source and text, so it survives re-indexing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping

from ..errors import InputError
from ..text import raw_terms, split_blocks, split_sentences, split_words, word_count
from ..types import Document, Passage, content_hash

# Chosen by measurement on pyfaq (see bench/README.md, "Retrieval quality (pyfaq)"): the smallest windows that
# still hold a whole FAQ answer opening retrieved best with MiniLM, whose input is cut at 256
# word pieces anyway (~180 words of prose).
DEFAULT_CHUNK_WORDS = 120
DEFAULT_OVERLAP_WORDS = 40
# A window sharing this share of its 5-word phrases with one of the document's last
# NEAR_DUPLICATE_LOOKBACK windows kept is a near-duplicate and left out (a licence pasted again
# with another name in it, a page repeated with a changed word): on pyfaq's 21,542 windows 0.9
# drops 10, all copies of licence boilerplate. Numbers count as words, so the windows of a table
# whose rows differ in their numbers stay (as do a log's lines that differ in their timestamps:
# telling those from a table's rows would take knowing which numbers matter).
NEAR_DUPLICATE_SHARE = 0.9
NEAR_DUPLICATE_LOOKBACK = 50
SHINGLE_WORDS = 5


@dataclass(frozen=True)
class ChunkingSettings:
    """How documents are cut into passages (an index setting: changing it means re-indexing).

    >>> ChunkingSettings(chunk_words=100, overlap_words=20).chunk_words
    100
    """

    chunk_words: int = DEFAULT_CHUNK_WORDS
    overlap_words: int = DEFAULT_OVERLAP_WORDS
    align_blocks: bool = True  # start windows at paragraph starts where possible (bench/README.md: +5 MRR@10 on pyfaq)
    sentence_min_words: int = 8  # shorter sentence fragments join the next (qa.index.sentences)
    code_units: bool = True  # a code block is a sentence unit of its own, never glued to prose (qa.index.sentences)
    near_duplicates: bool = True  # leave out a window that nearly repeats a recent one of its document

    def __post_init__(self) -> None:
        if not isinstance(self.chunk_words, int) or self.chunk_words < 8:
            raise InputError(f"chunk_words must be an integer >= 8, got {self.chunk_words!r}")
        if not isinstance(self.sentence_min_words, int) or self.sentence_min_words < 1:
            raise InputError(f"sentence_min_words must be an integer >= 1, got {self.sentence_min_words!r}")
        if not isinstance(self.near_duplicates, bool):
            raise InputError(f"near_duplicates must be true or false, got {self.near_duplicates!r}")
        if not isinstance(self.overlap_words, int) or not 0 <= self.overlap_words < self.chunk_words:
            raise InputError(
                f"overlap_words must be an integer in [0, chunk_words={self.chunk_words}), got {self.overlap_words!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ChunkingSettings":
        return cls(
            chunk_words=int(data.get("chunk_words", DEFAULT_CHUNK_WORDS)),
            overlap_words=int(data.get("overlap_words", DEFAULT_OVERLAP_WORDS)),
            align_blocks=bool(data.get("align_blocks", True)),
            sentence_min_words=int(data.get("sentence_min_words", 8)),
            # Indexes written before the setting existed glued code to prose.
            code_units=bool(data.get("code_units", False)),
        )


def _segments(doc: Document) -> list[tuple[int, int]]:
    """Spans of the text between hard boundaries: section (heading) starts and page starts."""
    cuts = {0, len(doc.text)}
    cuts.update(s.start for s in doc.sections if 0 < s.start < len(doc.text))
    cuts.update(p for p in doc.pages if 0 < p < len(doc.text))
    ordered = sorted(cuts)
    return list(zip(ordered, ordered[1:]))


Unit = tuple[int, int, int, bool]  # start, end, words, whether it opens a paragraph


def _units(text: str, start: int, end: int, max_words: int) -> list[Unit]:
    """Sentences of ``text[start:end]`` as ``(start, end, words, opens_block)``; over-long
    sentences are cut on words."""
    units: list[Unit] = []
    for block_start, block_end in split_blocks(text, start, end):
        first = True
        for a, b in split_sentences(text, block_start, block_end):
            n = word_count(text[a:b])
            pieces = [(a, b)] if n <= max_words else split_words(text, a, b, max_words)
            for x, y in pieces:
                units.append((x, y, n if len(pieces) == 1 else word_count(text[x:y]), first))
                first = False
    return units


def _pack(units: list[Unit], chunk_words: int, overlap_words: int, *, align_blocks: bool = False) -> list[tuple[int, int]]:
    """Greedy windows of whole units up to ``chunk_words``. The next window re-starts with up to
    ``overlap_words`` of the previous one's last units — or, with ``align_blocks``, at the first
    paragraph start at least half a stride into the window, so that what opens a paragraph
    (often the answer to a heading's question) opens a window too."""
    windows: list[tuple[int, int]] = []
    half_stride = max(1, (chunk_words - overlap_words) // 2)
    words_after = [0] * (len(units) + 1)  # words_after[j]: words of units[j:] (summing each time was quadratic)
    for index in range(len(units) - 1, -1, -1):
        words_after[index] = words_after[index + 1] + units[index][2]
    i = 0
    while i < len(units):
        j, words = i, 0
        while j < len(units) and (j == i or words + units[j][2] <= chunk_words):
            words += units[j][2]
            j += 1
        rest = words_after[j]
        if j < len(units) and rest <= chunk_words // 4 and words + rest <= chunk_words * 5 // 4:
            j = len(units)  # a tiny tail joins this window instead of making a mostly repeated one
        windows.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        k, overlap = j, 0
        while k - 1 > i and overlap + units[k - 1][2] <= overlap_words:
            k -= 1
            overlap += units[k][2]
        if align_blocks:
            offset = 0
            for b in range(i + 1, j + 1):
                offset += units[b - 1][2]
                if b < len(units) and units[b][3] and offset >= half_stride:
                    k = b
                    break
        i = k
    return windows


def chunk_document(doc: Document, settings: ChunkingSettings | None = None) -> list[Passage]:
    """Cut one document into passages.

    >>> doc = Document.from_text("One. Two three. Four five six.", source="a.txt")
    >>> [p.text for p in chunk_document(doc, ChunkingSettings(chunk_words=8, overlap_words=0))]
    ['One. Two three. Four five six.']

    A window with the same text as an earlier one of the document is left out, and so is a
    near-duplicate of a recent one (see :data:`NEAR_DUPLICATE_SHARE`; ``near_duplicates=False``
    keeps them).
    """
    settings = settings or ChunkingSettings()
    passages: list[Passage] = []
    seen: set[str] = set()
    recent: list[frozenset[int]] = []  # the 5-word phrases of the latest windows kept
    for seg_start, seg_end in _segments(doc):
        units = _units(doc.text, seg_start, seg_end, settings.chunk_words)
        for start, end in _pack(units, settings.chunk_words, settings.overlap_words, align_blocks=settings.align_blocks):
            text = doc.text[start:end]
            passage_id = content_hash(doc.source, text)
            if passage_id in seen:
                # The same words again in the same document: a question finds the first copy, and a
                # file of one repeated paragraph must not multiply the index (one 19 MB upload
                # made 49,307 passages before).
                continue
            seen.add(passage_id)
            if settings.near_duplicates:
                phrases = shingles(text)
                if any(_shared(phrases, earlier) >= NEAR_DUPLICATE_SHARE for earlier in recent):
                    continue
                recent.append(phrases)
                del recent[:-NEAR_DUPLICATE_LOOKBACK]
            passages.append(
                Passage(
                    id=passage_id,
                    doc_id=doc.id,
                    source=doc.source,
                    title=doc.title,
                    text=text,
                    start=start,
                    end=end,
                    section=doc.section_at(start),
                    page=doc.page_at(start),
                )
            )
    return passages


def shingles(text: str) -> frozenset[int]:
    """Hashes of the overlapping 5-word phrases of ``text`` (case and punctuation aside).

    >>> len(shingles("one two three four five six")), shingles("a b") == shingles("A, b!")
    (2, True)
    """
    words = raw_terms(text)
    if len(words) <= SHINGLE_WORDS:
        return frozenset((hash(tuple(words)),))
    return frozenset(hash(tuple(words[i : i + SHINGLE_WORDS])) for i in range(len(words) - SHINGLE_WORDS + 1))


def _shared(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two phrase sets."""
    return len(a & b) / len(a | b) if a or b else 1.0


def chunk_documents(docs: Iterable[Document], settings: ChunkingSettings | None = None) -> list[Passage]:
    """:func:`chunk_document` over many documents, in order."""
    return [p for doc in docs for p in chunk_document(doc, settings)]
