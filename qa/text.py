"""Pure text helpers: blocks, sentences, words, terms.

Every splitter returns ``(start, end)`` character spans into the text it was given, never copies,
so callers can keep exact offsets into a document.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Iterable

Span = tuple[int, int]

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_WORD = re.compile(r"\S+")

# A sentence ends at . ! ? or … (possibly followed by closing quotes/brackets) before whitespace.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"'“‘«(\[]*[A-Z0-9À-ÖØ-Þ]")
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st vs etc e.g i.e cf al fig figs eq eqs no nos vol vols ch sec
    approx dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec
    mt ft u.s u.k u.n e.u a.m p.m ph.d
    """.split()
)


# A table row as the loaders write it (qa.ingest.formats.assembly.table_lines): two or more
# "name: value" pairs joined with "; ".
_RECORD = re.compile(r"^[^:;\n]{1,60}: [^;\n]+(?:; [^:;\n]{1,60}: [^;\n]+)+$")


def is_record(text: str) -> bool:
    """Whether ``text`` is one table row written as named values: a unit on its own, never glued
    to the row after it.

    >>> is_record("Country: Japan; Troops: 1,500"), is_record("Note: see below.")
    (True, False)
    """
    return bool(_RECORD.match(text.strip()))


def word_count(text: str) -> int:
    """Number of whitespace-separated words. ``word_count("a b  c") == 3``."""
    return len(_WORD.findall(text))


def _strip_span(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def looks_hard_wrapped(lines: list[str]) -> bool:
    """True when most lines have similar, medium lengths: text wrapped at a fixed width, where a
    single newline is just a space inside a paragraph.

    Two or three lines say little about a width, so a paragraph that short counts as wrapped
    only when every line but the last has a wrapped line's length, none is longer, and a line
    goes on with a sentence in lowercase (a title above a sentence never does):

    >>> looks_hard_wrapped(["  This Source Code Form is subject to the terms of the Mozilla Public",
    ...                     "  License, v. 2.0. If a copy of the MPL was not distributed with this",
    ...                     "  file, You can obtain one at http://mozilla.org/MPL/2.0/."])
    True
    >>> looks_hard_wrapped(["Installing the package on a fresh Debian machine", "Run make install and wait."])
    False
    """
    kept = [line.rstrip() for line in lines if line.strip()]
    lengths = [len(line) for line in kept]
    if len(lengths) < 2:
        return False
    if len(lengths) < 4:
        return (
            all(45 <= n <= 100 for n in lengths[:-1])
            and lengths[-1] <= 100
            and any(line.lstrip()[:1].islower() for line in kept[1:])
        )
    in_band = sum(45 <= n <= 100 for n in lengths)
    return in_band / len(lengths) >= 0.75


TITLE_MAX_WORDS = 10
_INNER_PUNCTUATION = re.compile(r"[.!?…:;][\"'”’»)\]]*\s")


def is_title(line: str, *, min_words: int = 1) -> bool:
    """Whether ``line`` is written as a title: at most :data:`TITLE_MAX_WORDS` words, at least
    ``min_words`` of them not small ones and all those capitalised, at most a final period.
    Plain-text licences and manuals end their numbered headings with one ("2. Conveying Modified
    Versions."); a numbered step ("1. Run the installer.") is a sentence.

    >>> is_title("Conveying Modified Versions."), is_title("Exception to Section 3 of the GNU GPL."), is_title("Run the installer.")
    (True, True, False)
    >>> is_title("Definitions."), is_title("Definitions.", min_words=2)
    (True, False)
    """
    words = line.strip().removesuffix(".").split()
    if not words or len(words) > TITLE_MAX_WORDS or _INNER_PUNCTUATION.search(" ".join(words) + " "):
        return False
    significant = [w for w in words if w.lower() not in STOPWORDS]
    return len(significant) >= max(1, min_words) and all(w[:1].isupper() or w[:1].isdigit() for w in significant)


# Markers of list items: bullets, "1." / "1)", and the lettered or roman ones of legal and
# technical text: "(a)", "a)", "(iv)", "(2)".
_LIST_MARKER = r"(?:[-*+•‣◦▪]|\d{1,3}[.)]|[a-z]\)|\((?:[a-z]|[ivx]{1,4}|\d{1,3})\))"
# A list item: its marker, then its text (which can wrap onto the lines below).
LIST_ITEM = re.compile(rf"^[ \t]*{_LIST_MARKER}[ \t]+(?=\S)")
# A line that starts a block of its own in Markdown or plain text: a list item, a heading, a
# quote, a table row, a code fence, an HTML tag, a horizontal rule or a setext underline.
_OPENS_BLOCK = re.compile(rf"^[ \t]*(?:{_LIST_MARKER}[ \t]|#{{1,6}}(?:[ \t]|$)|>|\||```|~~~|<[A-Za-z/!]|(?:[-*_=][ \t]*){{3,}}$)")
# A row of a Markdown table: cells between pipes ("| a | b |", "a | b", "---|---").
TABLE_ROW = re.compile(r"^[ \t]*\||\|[ \t]*$|[ \t]\|[ \t]|^[ \t]*:?-{3,}:?[ \t]*\|")
# How a line that closes its clause ends: sentence punctuation, then closing quotes, brackets or markup.
_CLOSES_CLAUSE = re.compile(r"[.!?…:;|][\"'”’»)\]*_`]*$")
# What a line that goes on with an open sentence can start with besides a lowercase word: inline
# code, a link, emphasis, an opening bracket or quote.
_INLINE_OPENER = "`[*_(\"'“‘"


def leaves_sentence_open(line: str) -> bool:
    """Whether ``line`` ends where its sentence must go on: after a comma or a small word.

    >>> leaves_sentence_open("Copyright (C) 2001, 2002,"), leaves_sentence_open("as described in"), leaves_sentence_open("See below.")
    (True, True, False)
    """
    words = line.split()
    return bool(words) and (line.rstrip().endswith(",") or words[-1].lower() in STOPWORDS)


def continues_line(previous: str, line: str) -> bool:
    """Whether ``line`` goes on with the sentence ``previous`` left open: a soft line break, as
    Markdown writes every paragraph and people wrap text by hand at any width.

    ``previous`` must leave its clause open (no closing punctuation), neither line may be a
    table row (Markdown's, or a loader's "name: value; name: value" record), and ``line`` must
    not start a block of its own (list item, heading, fence, tag).
    After a comma or a small word ("and", "of", "the") any line goes on ("by the Python
    Software" + "Foundation"); otherwise a line starting in lowercase or with inline markup goes
    on unless ``previous`` reads as a title, and one starting with a capital does not (a title
    above its first sentence).

    >>> continues_line("Projects that intend to support old versions of Rust can disable lints by", "specifying the MSRV.")
    True
    >>> continues_line("Note that `--fix` implies", "`--all-targets`, so it can fix as much code as it can.")
    True
    >>> continues_line("Installing the package on a fresh Debian machine", "Run make install and wait.")
    False
    >>> continues_line("Usage", "pyenv install 3.10"), continues_line("Run the tests:", "make test")
    (False, False)
    """
    previous, line = previous.rstrip(), line.strip()
    if not previous or not line or _OPENS_BLOCK.match(line) or _OPENS_BLOCK.match(previous) and not LIST_ITEM.match(previous):
        return False
    if TABLE_ROW.search(previous) or TABLE_ROW.search(line) or is_record(previous) or is_record(line):
        return False
    if _CLOSES_CLAUSE.search(previous):
        return False
    if leaves_sentence_open(previous):
        return True
    return not is_title(previous) and (line[0].islower() or line[0] in _INLINE_OPENER)


def soft_wrapped_runs(lines: list[str]) -> list[list[int]]:
    """Indexes of ``lines`` grouped into runs joined by soft line breaks (:func:`continues_line`).

    >>> soft_wrapped_runs(["## Usage", "Pass the file and", "the index to it.", "- or use the app"])
    [[0], [1, 2], [3]]
    """
    runs: list[list[int]] = []
    for i, line in enumerate(lines):
        if runs and continues_line(lines[runs[-1][-1]], line):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def paragraph_runs(lines: list[str]) -> list[list[int]]:
    """Indexes of one paragraph's ``lines`` (no blank line among them) grouped into the blocks
    they form: runs of soft-wrapped lines (:func:`soft_wrapped_runs`) where the paragraph is not
    hard-wrapped; one block where it is, except that a list item starts a block of its own (unless
    the line above leaves its sentence open: "as described in" + "(a) above") and the rows of a
    table are a block each. A list of items of similar length looks hard-wrapped too.

    >>> paragraph_runs(["Read the manual in the docs folder before you install the package.",
    ...                 " * Read docs/INSTALL for the options the configure script takes.",
    ...                 " * Read NEWS.md for the visible changes since the last release."])
    [[0], [1], [2]]
    >>> paragraph_runs(["  You may add Your own copyright statement to Your modifications and",
    ...                 "  may provide additional or different license terms and conditions as in",
    ...                 "  (a) above, for use, reproduction, or distribution of Your modifications."])
    [[0, 1, 2]]
    """
    if len(lines) > 1 and not looks_hard_wrapped(lines):
        return soft_wrapped_runs(lines)
    table = len(lines) > 1 and all(TABLE_ROW.search(line) for line in lines)
    runs: list[list[int]] = []
    for i, line in enumerate(lines):
        starts_item = LIST_ITEM.match(line) and not (i and leaves_sentence_open(lines[i - 1]))
        if runs and not table and not starts_item:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def split_blocks(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split ``text[start:end]`` into paragraph-like blocks.

    Blank lines always separate blocks. A single newline separates blocks too, unless the text
    looks hard-wrapped at a fixed width or the line goes on with a sentence the line before left
    open (:func:`continues_line`): then it is a soft line break inside a paragraph. List items
    and table rows are blocks of their own either way (:func:`paragraph_runs`).

    >>> t = "Title\\nFirst para.\\n\\nSecond."
    >>> [t[a:b] for a, b in split_blocks(t)]
    ['Title', 'First para.', 'Second.']
    >>> t = "Install it with\\n`pip install qa`.\\nThen run it."
    >>> [t[a:b] for a, b in split_blocks(t)]
    ['Install it with\\n`pip install qa`.', 'Then run it.']
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    pos = start
    paragraphs: list[Span] = []
    for match in _BLANK_LINE.finditer(text, start, end):
        paragraphs.append((pos, match.start()))
        pos = match.end()
    paragraphs.append((pos, end))
    for p_start, p_end in paragraphs:
        lines = text[p_start:p_end].split("\n")
        starts = [p_start]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        for run in paragraph_runs(lines):
            span = _strip_span(text, starts[run[0]], starts[run[-1]] + len(lines[run[-1]]))
            if span:
                spans.append(span)
    return spans


def _is_abbreviation(text: str, dot_at: int) -> bool:
    """Whether the period at ``dot_at`` ends an abbreviation or an initial rather than a sentence."""
    word_start = dot_at
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "(\"'“[":
        word_start -= 1
    word = text[word_start:dot_at].lower()
    if not word:
        return False
    if len(word) == 1 and word.isalpha():  # an initial, as in "J. Smith"
        return True
    return word.rstrip(".") in _ABBREVIATIONS


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split one block ``text[start:end]`` into sentence spans (no newline handling: call
    :func:`split_blocks` first).

    >>> t = "Dr. Smith arrived at 5 p.m. today. He left! Did he?"
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['Dr. Smith arrived at 5 p.m. today.', 'He left!', 'Did he?']
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    sentence_start = start
    for match in _SENTENCE_END.finditer(text, start, end):
        cut = match.end()
        if not _NEXT_STARTS_SENTENCE.match(text, cut, end):
            continue
        if text[match.start()] == "." and match.end() - match.start() == 1 and _is_abbreviation(text, match.start()):
            continue
        span = _strip_span(text, sentence_start, cut)
        if span:
            spans.append(span)
        sentence_start = cut
    span = _strip_span(text, sentence_start, end)
    if span:
        spans.append(span)
    return spans


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Blocks, then sentences inside each block: the sentence spans of a whole text."""
    return [s for a, b in split_blocks(text, start, end) for s in split_sentences(text, a, b)]


def split_words(text: str, start: int, end: int, max_words: int) -> list[Span]:
    """Cut ``text[start:end]`` into spans of at most ``max_words`` words, on word boundaries."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    return [(words[i][0], words[min(i + max_words, len(words)) - 1][1]) for i in range(0, len(words), max_words)]


# --- terms for lexical matching -----------------------------------------------------------

# Common English function words plus question words; content words are what remains.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he he'd
    he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into
    is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
    or other ought our ours ourselves out over own same shan't she she'd she'll she's should
    shouldn't so some such than that that's the their theirs them themselves then there there's
    these they they'd they'll they're they've this those through to too under until up very was
    wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while
    who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours
    yourself yourselves also just will shall may might must s t d ll re ve m
    """.split()
)

_TERM = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC + casefold: the form in which terms are compared."""
    return unicodedata.normalize("NFKC", text).casefold()


def raw_terms(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits), apostrophes kept inside words."""
    return [t.replace("’", "'") for t in _TERM.findall(normalize(text))]


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer, a declared dependency

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=200_000)
def stem(term: str) -> str:
    """Snowball English stem of one lower-case term (numbers and short words pass through)."""
    if len(term) <= 3 or term.isdigit():
        return term
    return _stemmer().stemWord(term)


def content_terms(text: str) -> list[str]:
    """Stemmed terms without stopwords, in order (duplicates kept) — the BM25 tokenizer.

    >>> content_terms("How are the passages ranked?")
    ['passag', 'rank']
    """
    out = []
    for term in raw_terms(text):
        if term in STOPWORDS:
            continue
        if "'" in term:
            term = term.split("'", 1)[0]
            if not term or term in STOPWORDS:
                continue
        out.append(stem(term))
    return out


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
