"""Chosen sentences -> the answer a person reads: clean quotes, code kept as code, context.

The answer is copied from the documents, never written, but a quote copied blindly reads badly:
a sentence unit can start with the heading above it ("## The Honey Council Since 1921 The
council ..."), a list item brings its marker, a code example loses its line breaks, and a
sentence that opens with "It" or ends with ":" means little alone. This module sees the
structure of a span of passage text (:func:`segments`), trims what is not prose from the ends of
a quote (:func:`trim_quote`), widens a lead sentence with the context a reader needs
(:func:`widen_lead`) and renders quotes as inert Markdown (:func:`render_quote`).

Every function works on ``(start, end)`` offsets into the passage text, so a quote shown to the
reader is always an exact span of the document (``citation.highlight``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Sequence

from ..text import LIST_ITEM, STOPWORDS, TABLE_ROW, is_title, leaves_sentence_open, looks_hard_wrapped, paragraph_runs, split_sentences

Span = tuple[int, int]

# A list marker alone on its line (HTML list items are extracted as "-" then the item's text).
_MARKER_ONLY = re.compile(r"^[ \t]*(?:[-*+•‣◦▪]|\d{1,3}[.)])[ \t]*$")
_NUMBER_MARKER = re.compile(r"^[ \t]*\d{1,3}\.[ \t]+$")  # "6. " before an item's text on its line
_ATX_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_SETEXT_RULE = re.compile(r"^[ \t]{0,3}(?:=+|-+)[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)")
# The line under a Markdown table's header row: "|---|:---:|", "-----|------".
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$")
# Lines that are markup and say nothing to quote: a horizontal rule, HTML tags alone on a line
# ("<details>", "</summary>"), badges and images ("[![build](…svg)](…)"), a bare link, a link
# reference definition ("[hooks]: https://…") and an HTML comment.
_MARKUP_LINE = re.compile(
    r"^[ \t]*(?:(?:[-*_][ \t]*){3,}|(?:<[^>\n]*>[ \t]*)+|(?:\[?!\[[^\]\n]*\]\([^)\n]*\)\]?(?:\([^)\n]*\))?[ \t]*)+"
    r"|\[[^\]\n^]+\]:[ \t]+\S+(?:[ \t]+[\"'(].*)?|<!--.*-->)[ \t]*$"
)
# Lines that can only be code: interpreter and shell prompts, indented code, common statements.
_CODE_PROMPT = re.compile(r"^(?:>>>|\.\.\.(?:[ \t]|$)|\$[ \t]|In \[\d+\]:|C:\\>)")
# A prompt that opens an interactive session: it and every line after it in the paragraph (the
# commands and their output, "Traceback (most recent call last):" included) are code.
_SESSION_PROMPT = re.compile(r"^(?:>>>|\$[ \t]|In \[\d+\]:|C:\\>)")
_CODE_START = re.compile(
    r"^[ \t]*(?:def |class |import |from \S+ import |return\b|if .*:$|for .*:$|while .*:$|try:$|except\b.*:$|"
    r"with .*:$|elif .*:$|else:$|@\w|print\()"
)
# A C preprocessor directive ("#include <stdio.h>", "#  define CHUNK 16384", "#endif"): code even
# alone on its line, never a Markdown heading.
_C_DIRECTIVE = re.compile(
    r"^[ \t]*#[ \t]*(?:include[ \t]*[<\"]|define[ \t]+\w|undef[ \t]+\w|ifn?def[ \t]+\w|if[ \t]+\S|elif[ \t]+\S|else\b|endif\b|pragma[ \t]+\w)"
)
# An assignment or a call ending its line: code, unless the line reads as prose ("Contribution(s)
# alone or by combination of their Contribution(s)").
_CODE_EXPRESSION = re.compile(r"^[ \t]*(?:[A-Za-z_][\w.]*\s*(?:=|\+=|-=)\s*\S|[A-Za-z_][\w.]*\(.*\)\s*$)")
# Sentence punctuation at the end of a line or before a space: a line with it is prose, not a title.
_SENTENCE_PUNCTUATION = re.compile(r"[.!?…:;][\"'”’»)\]]*(?:\s|$)")
_ENDS_SENTENCE = re.compile(r"[.!?…:;][\"'”’»)\]]*\s*$")  # the same punctuation, last in a text
# The number of a numbered heading ("2.4. ", "16.1.2 "), as Sphinx, Word and PDF outlines write them.
_SECTION_NUMBER = re.compile(r"^\s*(?:\d+\.)+\d*\s+(?=\S)")
# A sentence opening with one of these leans on the sentence before it.
_REFERS_BACK = re.compile(r"^(?:it|its|this|that|these|those|they|their|them|such|he|she|here|there|thus|so|hence|otherwise)\b", re.IGNORECASE)
# A following sentence opening with one of these carries the answer on.
_CONTINUES = re.compile(
    r"^(?:for example|for instance|e\.g\.|i\.e\.|in that case|in this case|otherwise|instead|then|this|that|these|it|they|so|however|but|note that)\b",
    re.IGNORECASE,
)
HEADING_MAX_WORDS = 16
# "Source code: Lib/copy.py", "Default: None": a short line naming a value, not a sentence. It is
# quotable (it may be what is asked), but it is not what a section says first.
LABEL_MAX_WORDS = 6
_LABEL = re.compile(r"^[^.!?…:;\n]{1,40}:\s+\S[^\n]*$")
QUESTION_HEADING_MAX_WORDS = 30
# A lead shorter than this rarely stands alone ("Yes.", "See below."): the next sentence joins it.
SHORT_LEAD_WORDS = 12
CODE_MAX_LINES = 12


@dataclass(frozen=True)
class Segment:
    """A span of passage text of one kind: ``"heading"``, ``"text"`` (prose), ``"item"`` (a list
    item's text, marker excluded), ``"code"`` (lines kept as they are) or ``"markup"`` (rules,
    tags, badges: never quoted, see :func:`is_markup_line`)."""

    kind: str
    start: int
    end: int


def _lines(text: str, start: int, end: int) -> list[Span]:
    """Non-blank lines of ``text[start:end]`` as spans (trailing spaces excluded)."""
    out = []
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline < 0 else newline
        a, b = pos, stop
        while b > a and text[b - 1] in " \t\r":
            b -= 1
        if text[a:b].strip():
            out.append((a, b))
        pos = stop + 1
    return out


# Characters prose hardly uses and code uses all the time.
_CODE_SYMBOLS = re.compile(r"[{}=<>`|\\]|\w\.\w+\(|\w\(\)|;\s*$")
_PROSE_WORD = re.compile(r"^[(\"'“‘]*[A-Za-z][A-Za-z'’-]*[.,;:!?)\"'”’]*$")


def reads_as_prose(line: str) -> bool:
    """Whether a line is made of English words rather than code: mostly plain words, at least
    one function word ("the", "of", "you" ...), no code symbols. Plain-text documents (licences,
    RFCs, e-mails) indent their prose, so indentation alone does not make code.

    >>> reads_as_prose("      (b) You must cause any modified files to carry prominent notices")
    True
    >>> reads_as_prose("    total = sum(x for x in values)"), reads_as_prose("    pip install requests flask")
    (False, False)
    """
    words = line.split()
    if len(words) < 4 or _CODE_SYMBOLS.search(line):
        return False
    plain = sum(1 for word in words if _PROSE_WORD.match(word))
    function = sum(1 for word in words if word.strip(".,;:!?()\"'“”‘’").lower() in STOPWORDS)
    return plain >= 0.7 * len(words) and function >= 1


# The short last line of a wrapped paragraph ("       Corresponding Source."): words and a full stop.
_ENDS_A_WRAPPED_SENTENCE = re.compile(r"^[ \t]+(?:[A-Za-z][A-Za-z'’-]*[ \t]+){0,3}[A-Za-z][A-Za-z'’-]*[.!?;:,][\"'”’)]*[ \t]*$")
_COMMENT = re.compile(r"^[ \t]*(?:#|//|/\*|\*|\"\"\"|\'\'\')")
# Lines only code writes: a triple quote, a line left open by a bracket, a line of closing brackets.
_CODE_PUNCTUATION = re.compile(r"\"\"\"|\'\'\'|[(\[{]\s*$|^\s*[)\]}]+[)\]},;:]*\s*$")
# A line that is nothing but inline code ("   `zstd --train samples/* -o dict`"): a paragraph of
# such lines is a command shown on its own, code and never a title.
_CODE_SPAN_LINE = re.compile(r"^[ \t]*(?:`[^`\n]+`[ \t]*)+$")


def _code_line(line: str) -> bool | None:
    """Whether ``line`` is code: True, False, or None for an indented line of prose — code in a
    block that holds code (a docstring, a comment), prose otherwise (an indented paragraph)."""
    if _CODE_PROMPT.match(line) or _CODE_START.match(line) or _C_DIRECTIVE.match(line) or _CODE_PUNCTUATION.search(line):
        return True
    if _CODE_EXPRESSION.match(line) and not reads_as_prose(line):
        return True
    if not line.startswith(("    ", "\t")):
        return False
    if _COMMENT.match(line):
        return True
    if reads_as_prose(line) or _ENDS_A_WRAPPED_SENTENCE.match(line):
        return None
    return True


def _code_lines(lines: Sequence[str]) -> int:
    """How many of a block's lines are code (see :func:`_code_line`). An indented line without
    code symbols under a line of prose that leaves its sentence open is that sentence going on
    (a hanging indent: "Copyright (C) 2001, 2002," + "          2003 Colin Watson.")."""
    kinds = [_code_line(line) for line in lines]
    for i in range(1, len(kinds)):
        if kinds[i] and kinds[i - 1] is not True and leaves_sentence_open(lines[i - 1]) and not _CODE_SYMBOLS.search(lines[i]):
            kinds[i] = None
    code = sum(1 for kind in kinds if kind)
    return code + sum(1 for kind in kinds if kind is None) if code else 0


def _blocks(text: str, start: int, end: int) -> list[list[Span]]:
    """Lines grouped into blocks separated by blank lines."""
    blocks: list[list[Span]] = []
    previous_end = None
    for a, b in _lines(text, start, end):
        if previous_end is None or text[previous_end:a].count("\n") >= 2:
            blocks.append([(a, b)])
        else:
            blocks[-1].append((a, b))
        previous_end = b
    return blocks


def is_markup_line(line: str) -> bool:
    """Whether ``line`` is markup with nothing to quote: a rule, tags, badges, a bare link.

    >>> [is_markup_line(x) for x in ("----", "<details>", "[![CI](https://x/b.svg)](https://x)", "[hooks]: https://x/y")]
    [True, True, True, True]
    >>> [is_markup_line(x) for x in ("See [the docs](https://x).", "<b>Warning</b>: it breaks.", "[^1]: A footnote.")]
    [False, False, False]
    """
    return bool(_MARKUP_LINE.match(line))


def _classify(text: str, block: list[Span], out: list[Segment], pending_marker: bool) -> bool:
    """Append the segments of one paragraph ``block`` (its line spans) to ``out``; returns
    whether a list marker is waiting for its item."""
    lines = [text[a:b] for a, b in block]
    first_a, first_b = block[0]
    if len(lines) == 1 and _MARKER_ONLY.match(lines[0]):
        return True
    if all(is_markup_line(line) for line in lines):
        out.append(Segment("markup", first_a, block[-1][1]))
        return pending_marker
    if pending_marker:
        out.append(Segment("item", first_a, block[-1][1]))
        return False
    if _ATX_HEADING.match(lines[0]):
        out.append(Segment("heading", first_a, first_b))
        if len(block) > 1:  # "### Title" with a rule or a sentence on the next line
            return _classify_paragraph(text, block[1:], out, False)
        return False
    if len(lines) == 2 and _SETEXT_RULE.match(lines[1]):
        out.append(Segment("heading", first_a, block[1][1]))
        return False
    if LIST_ITEM.match(lines[0]):
        for (a, b), line in zip(block, lines):
            marker = LIST_ITEM.match(line)
            if marker:
                out.append(Segment("item", a + marker.end(), b))
            elif out and out[-1].kind == "item":
                out[-1] = Segment("item", out[-1].start, b)
        return False
    # A numbered line ("2.4. Miscellaneous", "4.9. Intermezzo: Coding Style", "9.14. distutils.debug
    # — Distutils debug mode") is a title unless it ends like a sentence: its number's dots, or a
    # colon inside, end no sentence.
    numbered = _SECTION_NUMBER.match(lines[0])
    title = lines[0][numbered.end() :] if numbered else lines[0]
    prose = (_ENDS_SENTENCE.search(title) and not is_title(title)) if numbered else _SENTENCE_PUNCTUATION.search(title)
    if len(lines) == 1 and len(title.split()) <= HEADING_MAX_WORDS and not prose:
        out.append(Segment("heading", first_a, first_b))  # a title line: short, no end punctuation
        return False
    if len(lines) == 1 and len(lines[0].split()) <= QUESTION_HEADING_MAX_WORDS and is_question(lines[0]):
        # A question alone on its line is what the text under it answers (a FAQ entry, an HTML
        # heading): quoting it as the answer would only repeat the question.
        out.append(Segment("heading", first_a, first_b))
        return False
    out.append(Segment("text", first_a, block[-1][1]))
    return False


def _classify_paragraph(text: str, block: list[Span], out: list[Segment], pending_marker: bool) -> bool:
    """:func:`_classify` a block of prose lines as the blocks :func:`qa.text.paragraph_runs` finds
    in it: one hard-wrapped paragraph, or a paragraph per line where its lines are not one (lines
    going on with an open sentence stay together), and a list item or table row per block either
    way. A list whose items are not hard-wrapped is classified whole: a line without a marker
    goes on with the item above it."""
    lines = [text[a:b] for a, b in block]
    if LIST_ITEM.match(lines[0]) and not looks_hard_wrapped(lines) or _SETEXT_RULE.match(lines[-1]):
        return _classify(text, block, out, pending_marker)
    for run in paragraph_runs(lines):  # a paragraph per line, per run of soft-wrapped lines, per list item
        pending_marker = _classify(text, [block[i] for i in run], out, pending_marker)
    return pending_marker


def segments(text: str, start: int = 0, end: int | None = None) -> list[Segment]:
    r"""The structure of ``text[start:end]``: headings, prose, list items and code, in order.

    Paragraphs are separated by blank lines, or by single line breaks where the text is not
    hard-wrapped (the same rule as :func:`qa.text.split_blocks`); a paragraph whose lines look
    like code is one code segment.

    >>> t = "## Setup\n\nRun this:\n\n>>> import os\n>>> os.getcwd()\n\n-\n\nfirst item"
    >>> [(s.kind, t[s.start:s.end]) for s in segments(t)]
    [('heading', '## Setup'), ('text', 'Run this:'), ('code', '>>> import os\n>>> os.getcwd()'), ('item', 'first item')]
    """
    end = len(text) if end is None else end
    out: list[Segment] = []
    in_fence = False
    fence_lines: list[Span] = []
    pending_marker = False
    for block in _blocks(text, start, end):
        lines = [text[a:b] for a, b in block]
        if in_fence or any(_FENCE.match(line) for line in lines):
            for (a, b), line in zip(block, lines):
                if _FENCE.match(line):
                    if in_fence and fence_lines:
                        out.append(Segment("code", fence_lines[0][0], fence_lines[-1][1]))
                    fence_lines = []
                    in_fence = not in_fence
                elif in_fence:
                    fence_lines.append((a, b))
                else:
                    pending_marker = _classify(text, [(a, b)], out, pending_marker)
            continue
        session = next((i for i, line in enumerate(lines) if _SESSION_PROMPT.match(line)), None)
        if session is not None:
            if session:
                pending_marker = _classify_paragraph(text, block[:session], out, pending_marker)
            out.append(Segment("code", block[session][0], block[-1][1]))
            pending_marker = False
            continue
        rule = next((i for i, line in enumerate(lines) if _TABLE_RULE.match(line)), None)
        if rule is not None and all(TABLE_ROW.search(line) for line in lines):
            _table(block, rule, out)
            pending_marker = False
            continue
        code_lines = _code_lines(lines)
        single = len(lines) == 1 and (_CODE_PROMPT.match(lines[0]) or _C_DIRECTIVE.match(lines[0]))
        if code_lines and (single or len(lines) > 1 and code_lines * 2 >= len(lines)) or all(map(_CODE_SPAN_LINE.match, lines)):
            out.append(Segment("code", block[0][0], block[-1][1]))
            pending_marker = False
            continue
        pending_marker = _classify_paragraph(text, block, out, pending_marker)
    if in_fence and fence_lines:
        out.append(Segment("code", fence_lines[0][0], fence_lines[-1][1]))
    return _numbered_titles(text, out)


def _table(block: list[Span], rule: int, out: list[Segment]) -> None:
    """A Markdown table's lines as segments: the header rows are headings, the rule under them is
    markup, and every other row is a paragraph of its own (quotable, never run into the next)."""
    for i, (a, b) in enumerate(block):
        out.append(Segment("heading" if i < rule else "markup" if i == rule else "text", a, b))


def _numbered_titles(text: str, out: list[Segment]) -> list[Segment]:
    """A lone "6. Editors and IDEs" between paragraphs is a chapter's title, not a list of one
    item: an item with a number before it on its line, shaped like a title, and no item on either
    side becomes a heading (its number included). Code between items does not part them: "1.
    Create the dictionary", a command, "2. Compress with it", a command, are steps."""
    kept = [i for i, s in enumerate(out) if s.kind != "code"]
    for n, i in enumerate(kept):
        segment = out[i]
        if segment.kind != "item" or any(0 <= m < len(kept) and out[kept[m]].kind == "item" for m in (n - 1, n + 1)):
            continue
        line_start = text.rfind("\n", 0, segment.start) + 1
        title = text[segment.start : segment.end]
        if (
            _NUMBER_MARKER.match(text[line_start : segment.start])
            and "\n" not in title
            and title[:1].isupper()
            and len(title.split()) <= HEADING_MAX_WORDS
            and (not _ENDS_SENTENCE.search(title) or is_title(title))
        ):
            out[i] = Segment("heading", line_start, segment.end)
    return out


UNQUOTED = ("heading", "markup")  # pieces a quote never starts or ends with, and never shows


@dataclass(frozen=True)
class Piece:
    """The smallest quotable part of a passage: one sentence of prose or of a list item, or a
    whole heading or code block. ``block`` indexes the :class:`Segment` (paragraph, item, code
    block) it belongs to: pieces with the same ``block`` are one paragraph."""

    kind: str
    start: int
    end: int
    block: int


def pieces(text: str) -> list[Piece]:
    r"""The passage ``text`` as quotable pieces, in order (see :class:`Piece`).

    >>> t = "## Setup\n\nRun it. It is fast.\n\n$ make run"
    >>> [(p.kind, t[p.start:p.end], p.block) for p in pieces(t)]
    [('heading', '## Setup', 0), ('text', 'Run it.', 1), ('text', 'It is fast.', 1), ('code', '$ make run', 2)]
    """
    out: list[Piece] = []
    for index, segment in enumerate(segments(text)):
        if segment.kind in ("text", "item"):
            sentences = split_sentences(text, segment.start, segment.end)
            for n, (a, b) in enumerate(sentences):
                run_in = n == 0 and len(sentences) > 1 and _run_in_title(text, a, b)
                out.append(Piece("heading" if run_in else segment.kind, a, b, index))
        else:
            out.append(Piece(segment.kind, segment.start, segment.end, index))
    return out


def _run_in_title(text: str, start: int, end: int) -> bool:
    """Whether the sentence ``text[start:end]``, first of its paragraph, is a numbered title run
    into the paragraph ("8. Limitation of Liability. In no event ..."): a section number before it
    on its line (or opening it) and two or more capitalised words.

    >>> t = "8. Limitation of Liability. In no event shall any Contributor be liable."
    >>> _run_in_title(t, 3, 27), _run_in_title("1. Install it. Then run it.", 3, 14)
    (True, False)
    """
    line_start = text.rfind("\n", 0, start) + 1
    sentence = text[start:end]
    numbered = _SECTION_NUMBER.match(sentence)
    if numbered:
        sentence = sentence[numbered.end() :]
    elif not _NUMBER_MARKER.match(text[line_start:start]):
        return False
    return is_title(sentence, min_words=2)


def _inside(parts: Sequence[Piece], start: int, end: int) -> list[int]:
    """Indices of the pieces that overlap ``[start, end)``, headings and markup at either end dropped."""
    chosen = [i for i, p in enumerate(parts) if p.start < end and p.end > start]
    while chosen and parts[chosen[0]].kind in UNQUOTED:
        chosen.pop(0)
    while chosen and parts[chosen[-1]].kind in UNQUOTED:
        chosen.pop()
    return chosen


def trim_quote(text: str, start: int, end: int, parts: Sequence[Piece] | None = None) -> Span | None:
    """``(start, end)`` without the headings and markup (rules, tags, badges) that open or close
    it (the index's sentence units join a heading to the sentence under it); ``None`` when nothing
    else is left, since such a span does not answer anything."""
    parts = pieces(text) if parts is None else parts
    chosen = _inside(parts, start, end)
    if not chosen:
        return None
    return max(start, parts[chosen[0]].start), min(end, parts[chosen[-1]].end)


def is_question(text: str) -> bool:
    """Whether a sentence asks rather than tells (it ends with a question mark).

    >>> is_question("How do I stop it?"), is_question("Use os.kill().")
    (True, False)
    """
    return text.rstrip().rstrip("\"'”’»)]").endswith("?")


def opens_section(text: str, start: int, parts: Sequence[Piece], *, passage_opens_section: bool) -> bool:
    r"""Whether the quote starting at ``start`` is the first thing said in answer to a section's
    question: the first prose after a question heading ("How do I ...?" alone on its line), or
    the first prose of a passage that starts an untitled section (a FAQ entry whose question is
    kept elsewhere, a ``<section>`` without a heading).

    The first sentence under a title is not preferred: a title names a topic, and what follows it
    first often restates it ("Install additional Python versions" → "To install additional
    Python versions, use pyenv install") while the answer to a question about the topic comes
    later (bench/README.md, "Markdown documents": answer sentence +8 of 28 questions over READMEs,
    +7 of 157 on pyfaq, +1 of 40 reference questions).

    >>> t = "Setup\n\nHow do I install it?\n\nRun the installer. Then reboot."
    >>> opens_section(t, t.index("Run"), pieces(t), passage_opens_section=False)
    True
    >>> opens_section(t, t.index("Then"), pieces(t), passage_opens_section=True)
    False
    >>> t = "Installing\n\nRun the installer."
    >>> opens_section(t, t.index("Run"), pieces(t), passage_opens_section=True)
    False
    """
    if is_label(text[start : next((p.end for p in parts if p.start >= start), len(text))]):
        return False
    # What precedes the quote (labels do not count): a question heading right before it, or
    # nothing back to the start of a passage that starts a section.
    before = (
        p for p in reversed(parts) if p.end <= start and p.kind != "markup" and (p.kind == "heading" or not is_label(text[p.start : p.end]))
    )
    previous = next(before, None)
    if previous is None:
        return passage_opens_section
    return previous.kind == "heading" and is_question(text[previous.start : previous.end])


def is_label(line: str) -> bool:
    """Whether ``line`` is a short "name: value" line rather than a sentence.

    >>> is_label("Source code: Lib/copy.py"), is_label("Run this: it is fast."), is_label("Assignment copies nothing.")
    (True, False, False)
    """
    line = line.strip()
    return len(line.split()) <= LABEL_MAX_WORDS and bool(_LABEL.match(line)) and not _ENDS_SENTENCE.search(line)


def is_code(parts: Sequence[Piece], start: int, end: int) -> bool:
    """Whether ``[start, end)`` holds nothing but code (a code block is never the answer's lead)."""
    inside = [p for p in parts if p.start < end and p.end > start]
    return bool(inside) and all(p.kind == "code" for p in inside)


def refers_back(text: str) -> bool:
    """Whether a sentence opens with a word that points to the sentence before it.

    >>> refers_back("It is stored in a list."), refers_back("Lists are mutable.")
    (True, False)
    """
    return bool(_REFERS_BACK.match(text.lstrip("\"'“‘(«[ ")))


def _words(text: str, part: Piece) -> int:
    return 0 if part.kind in ("code", "markup") else len(text[part.start : part.end].split())


def widen_lead(
    text: str,
    start: int,
    end: int,
    *,
    max_words: int,
    min_words: int = SHORT_LEAD_WORDS,
    parts: Sequence[Piece] | None = None,
    introduced_only: bool = False,
) -> Span:
    """The span to quote for a lead sentence ``text[start:end]`` of a passage: the sentence,
    trimmed of headings, plus

    * the sentence before it when the lead opens with "It/This/They..." (it may end the
      previous paragraph);
    * the sentence after it when it carries the lead on ("For example", "This", "Otherwise"...;
      it may open the next paragraph), or when the lead ends with ":" (same paragraph);
    * while the quote is shorter than ``min_words`` words, the next sentences of its paragraph
      (a lead that short rarely stands alone);
    * the code block or list that a lead ending with ":" introduces.

    Context is added only while the quote stays within ``max_words`` words of prose. With
    ``introduced_only`` (a supporting quote) only the last point applies: a quote never ends
    with a colon that points at nothing.

    >>> t = "Intro. Lists are mutable. This means you can change them. Tuples are not."
    >>> a = t.index("Lists"); b = t.index(" This")
    >>> t[slice(*widen_lead(t, a, b, max_words=60, min_words=5))]
    'Lists are mutable. This means you can change them.'
    """
    parts = pieces(text) if parts is None else parts
    chosen = _inside(parts, start, end)
    if not chosen:
        return start, end
    first, last = chosen[0], chosen[-1]
    words = sum(_words(text, parts[i]) for i in chosen)
    lead_text = text[parts[first].start : parts[last].end]
    if first > 0 and not introduced_only and refers_back(lead_text):
        before = parts[first - 1]
        # The sentence referred to may end the previous paragraph ("... resolutions." / "This is
        # particularly egregious ..."), but never lies across a heading, a list or code.
        joinable = before.block == parts[first].block or before.kind == parts[first].kind == "text"
        label = is_label(text[before.start : before.end])  # "Source code: Lib/random.py" / "This module ..."
        if before.kind not in UNQUOTED and not label and joinable and words + _words(text, before) <= max_words:
            first -= 1
            words += _words(text, before)
    if last + 1 < len(parts):
        after = parts[last + 1]
        ending = text[parts[last].start : parts[last].end].rstrip()
        # A lead ending with ":" introduces what follows; one that stops without ending its
        # sentence ("... make them executable, e.g. with") is finished by the code after it.
        unfinished = after.kind == "code" and not _ENDS_SENTENCE.search(ending)
        if (ending.endswith(":") and after.kind in ("code", "item")) or unfinished:
            last += 1
            while last + 1 < len(parts) and parts[last + 1].kind == after.kind and parts[last + 1].block != parts[last].block and after.kind == "item":
                if words + _words(text, parts[last + 1]) > max_words:
                    break
                last += 1
                words += _words(text, parts[last])
        elif after.kind == parts[last].kind != "code" and not introduced_only:
            following = text[after.start : after.end].lstrip()
            same_paragraph = after.block == parts[last].block
            continues = refers_back(following) or bool(_CONTINUES.match(following))
            wanted = continues if not same_paragraph else continues or ending.endswith(":") or words < min_words
            if wanted and (same_paragraph or after.kind == "text") and words + _words(text, after) <= max_words:
                last += 1
                words += _words(text, after)
                # A lead still too short takes the rest of its paragraph, sentence by sentence.
                while words < min_words and last + 1 < len(parts):
                    after = parts[last + 1]
                    if after.kind != parts[last].kind or after.block != parts[last].block or words + _words(text, after) > max_words:
                        break
                    last += 1
                    words += _words(text, after)
    return parts[first].start, parts[last].end


def prose_words(text: str, start: int, end: int) -> int:
    """Words of a quote outside code blocks and markup (what the reader reads as the answer)."""
    return sum(_words(text, p) for p in pieces(text) if p.start < end and p.end > start)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
# The emphasis and link markup of Markdown sources, dropped from a quote (the words stay): images
# (their alt text) and links, inline or by reference, anywhere ("[`pyenv root`](COMMANDS.md)");
# outside code spans, bold ("**Note:**"; never Python's "f(**kwargs)" or "2 ** 8") and bold with
# underscores around words ("__not__ this": "__init__" stays).
_LINK = re.compile(r"!\[([^\]\n]*)\]\([^)\s]*\)|\[([^\]\n]+)\](?:\([^)\s]*\)|\[[^\]\n]*\])")
_EMPHASIS = re.compile(
    r"(?<![\w(,*\\])\*\*(?=[^\s*])([^\n]+?)(?<=[^\s*])\*\*(?![\w*])"
    r"|(?<![\w_])__(?=[^\s_])([^\n]*?\s[^\n]*?)(?<=[^\s_])__(?![\w_])"
)
_CODE_SPAN = re.compile(r"(`+)(?=\S)(.+?)(?<=\S)\1")


def _drop(markup: re.Pattern[str], text: str) -> str:
    for _ in range(3):  # "[**bold link**](url)": markup nests
        stripped = markup.sub(lambda m: next(g for g in m.groups() if g is not None), text)
        if stripped == text:
            break
        text = stripped
    return text


def _inert(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def _inline_prose(text: str) -> str:
    r"""One line of prose as inert Markdown: the source's own link markup is dropped, and its
    emphasis outside code spans (the words stay), whitespace collapsed, HTML escaped, Markdown
    syntax backslash-escaped; a code span stays a code span (whose text Markdown shows as it is,
    tags included, and never reads as markup).

    >>> print(_inline_prose("[**Install deps**](https://x) with `make __init__` or f(**kwargs), see [`root`](a.md)"))
    Install deps with `make __init__` or f\(\*\*kwargs\), see `root`
    """
    text = _drop(_LINK, " ".join(text.split()))
    out, position = [], 0
    for span in _CODE_SPAN.finditer(text):
        out.append(_inert(_drop(_EMPHASIS, text[position : span.start()])))
        out.append(span.group(0))
        position = span.end()
    out.append(_inert(_drop(_EMPHASIS, text[position:])))
    return "".join(out)


def _code_block(code: str) -> str:
    """A fenced code block that no backtick run inside ``code`` can close. Commands written as
    inline code on lines of their own lose their backticks and indentation.

    >>> print(_code_block("   `zstd -D dict FILE`"))
    ```text
    zstd -D dict FILE
    ```
    """
    lines = code.split("\n")
    if all(_CODE_SPAN_LINE.match(line) for line in lines if line.strip()):
        lines = [_CODE_SPAN.sub(r"\2", line.strip()) for line in lines]
        code = "\n".join(lines)
    if len(lines) > CODE_MAX_LINES:
        lines = lines[:CODE_MAX_LINES] + ["…"]
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n" + "\n".join(lines) + f"\n{fence}"


def render_quote(text: str, start: int, end: int, *, marker: str, bold: bool, parts: Sequence[Piece] | None = None) -> str:
    r"""Markdown for the quote ``text[start:end]``: prose (bold for the lead), list items as a
    list, code as a fenced block; ``marker`` (e.g. ``"[1]"``) follows the prose it cites.

    >>> print(render_quote("Run this:\n\n$ ls <b>", 0, 19, marker="[1]", bold=True))
    **Run this:** [1]
    <BLANKLINE>
    ```text
    $ ls <b>
    ```
    """
    parts = pieces(text) if parts is None else parts
    chosen = [p for p in parts if p.start < end and p.end > start and p.kind not in UNQUOTED]
    if not chosen:
        chosen = [Piece("text", start, end, 0)]
    rendered: list[str] = []
    prose: list[str] = []
    items: list[str] = []  # the current list, an item per entry
    marked = False

    def emphasised(line: str) -> str:
        return f"**{line}**" if bold else line

    def mark(line: str) -> str:
        nonlocal marked
        if marked:
            return line
        marked = True
        return f"{line} {marker}"

    def flush() -> None:
        if prose:
            rendered.append(mark(emphasised(" ".join(prose))))
            prose.clear()
        if items:
            lines = [f"- {emphasised(item)}" for item in items]
            lines[0] = mark(lines[0])  # a lead that is a list item is bold and cited like prose
            rendered.append("\n".join(lines))
            items.clear()

    previous: Piece | None = None
    for part in chosen:
        chunk = text[max(start, part.start) : min(end, part.end)]
        if part.kind == "text":
            if items:
                flush()
            if TABLE_ROW.search(chunk) and "\n" not in chunk.strip():
                chunk = chunk.strip().strip("|")  # a table row: its cells, without the outer pipes
            prose.append(_inline_prose(chunk))
        elif part.kind == "item":
            if prose:
                flush()
            if items and previous is not None and previous.kind == "item" and previous.block == part.block:
                items[-1] += " " + _inline_prose(chunk)  # another sentence of the same item
            else:
                items.append(_inline_prose(chunk))
        else:
            flush()
            rendered.append(_code_block(chunk))
        previous = part
    flush()
    if not marked:
        rendered.append(marker)
    return "\n\n".join(rendered)
