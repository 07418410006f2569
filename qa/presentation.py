"""Answer -> what the chat UI shows: the chat message and the Sources panel.

Document text is untrusted. Everything taken from a document is HTML-escaped here (and the
answer's Markdown is made inert by :func:`qa.answers.composition.render_quote`), so a document
holding ``<script>``, ``<img onerror=...>`` or Markdown image/link syntax is shown as text and
never becomes markup, runs code or loads anything.
"""

from __future__ import annotations

import html
import os
import re
from typing import Callable, Mapping, Sequence

from .answers.composition import segments
from .retrieval.hybrid import distinct_passages
from .types import Answer, Citation, Document, FileRecord, Hit, Passage

_PREVIEW_CHARS = 600


# Markdown syntax characters, written as HTML entities: the chat renders Markdown, and text with
# blank lines can end an HTML block, after which "![x](http://...)" would become a live image.
_MARKDOWN_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "[]()!*_`~|\\{}"})


def inert_text(text: str) -> str:
    r"""Untrusted text (a document's, a file name, an error message quoting user input) -> inert
    HTML for a Markdown-rendered component: tags and entities escaped, Markdown syntax
    neutralised, line breaks as ``<br>`` (so no blank line can end the surrounding HTML block).

    >>> inert_text("<b>hi</b> ![x](y)\n\nz")
    '&lt;b&gt;hi&lt;/b&gt; &#33;&#91;x&#93;&#40;y&#41;<br><br>z'
    """
    return html.escape(text, quote=True).translate(_MARKDOWN_ENTITIES).replace("\r", "").replace("\n", "<br>")


_escape = inert_text


def display_source(source: str, *, root: str | None = None) -> str:
    """A short, readable name for a source path: relative to ``root`` (or the current folder)
    when it lies under it, else the path as indexed.

    >>> display_source("/data/docs/a.md", root="/data")
    'docs/a.md'
    """
    path, _, record = source.partition("#")
    base = root if root is not None else os.getcwd()
    try:
        relative = os.path.relpath(path, base)
        if not relative.startswith(".."):
            path = relative
    except ValueError:
        pass
    return f"{path}#{record}" if record else path


def file_name(source: str) -> str:
    """The file name of a source, with its record when it has one (how the chat names sources).

    >>> file_name("/data/docs/a.md"), file_name("/data/faq.jsonl#12")
    ('a.md', 'faq.jsonl#12')
    """
    path, _, record = source.partition("#")
    return os.path.basename(path) + (f"#{record}" if record else "")


def unwrapped(text: str, start: int, end: int) -> str:
    r"""``text[start:end]`` with the line breaks inside its prose turned into spaces (a
    hard-wrapped sentence reads as one line); code keeps its lines.

    >>> t = "(a) You must give any other recipients of the Work or\n    Derivative Works a copy of this License; and"
    >>> unwrapped(t, 4, len(t))
    'You must give any other recipients of the Work or Derivative Works a copy of this License; and'
    >>> unwrapped("Run it:\n\n$ make\n$ make test", 0, 27)
    'Run it:\n\n$ make\n$ make test'
    """
    out, position = [], start
    for segment in segments(text):  # the whole text: a list marker before ``start`` still counts
        a, b = max(start, segment.start), min(end, segment.end)
        if a >= b:
            continue
        out.append(text[position:a])
        out.append(text[a:b] if segment.kind == "code" else re.sub(r"[ \t]*\n[ \t]*", " ", text[a:b]))
        position = b
    out.append(text[position:end])
    return "".join(out)


def location_label(citation: Citation | Passage) -> str:
    """Section and page of a citation (or a passage), e.g. ``"Install > Linux, page 3"`` (may be empty)."""
    parts = []
    if citation.section_label and citation.section_label != citation.title:
        parts.append(citation.section_label)
    if citation.page:
        parts.append(f"page {citation.page}" + (" (scanned, read by OCR)" if getattr(citation, "ocr", False) else ""))
    return ", ".join(parts)


def highlighted_passage_html(citation: Citation, *, max_chars: int | None = None) -> str:
    """The passage with its answer sentence in ``<mark>``, all text escaped.

    >>> from qa.types import Citation
    >>> c = Citation(1, "p", "d", "a.txt", "A", "Hi <b>. Answer here.", 0, 20, 0.5, 8, 20)
    >>> highlighted_passage_html(c)
    'Hi &lt;b&gt;. <mark>Answer here.</mark>'
    """
    text = citation.text
    start, end = citation.highlight_start, citation.highlight_end
    before, marked, after = text[:start], text[start:end], text[end:]
    if max_chars is not None and len(text) > max_chars:
        room = max(0, max_chars - len(marked)) // 2
        if len(before) > room:
            before = "…" + before[len(before) - room :]
        if len(after) > room:
            after = after[:room] + "…"
    return f"{_escape(before)}<mark>{_escape(marked)}</mark>{_escape(after)}"


DOCUMENT_VIEW_CHARS = 30_000  # of a long document, this much around the passage is shown


def document_view_html(document: Document, citation: Citation, *, name: str, max_chars: int = DOCUMENT_VIEW_CHARS) -> str:
    """The cited document as escaped text with the cited stretch shaded and its answer sentence
    in ``<mark id="qa-doc-highlight">`` (for scrolling into view); a long document is cut to
    ``max_chars`` around the citation, saying what was left out.

    >>> from qa.types import Citation, Document
    >>> doc = Document.from_text("Intro. The <answer> is here. Outro.", source="a.txt")
    >>> c = Citation(1, "p", doc.id, "a.txt", "a", "The <answer> is here.", 7, 28, 0.9, 0, 21)
    >>> document_view_html(doc, c, name="a.txt").split("</div>", 1)[1]
    '<div class="qa-doc-text">Intro. <span class="qa-cited"><mark id="qa-doc-highlight">The &lt;answer&gt; is here.</mark></span> Outro.</div></div>'
    """
    text = document.text
    start, end = citation.start, citation.end
    mark_start, mark_end = start + citation.highlight_start, start + citation.highlight_end
    if text[start:end] != citation.text:
        return f'<div class="qa-doc qa-empty">{_escape(name)} changed since this answer: ask again to cite it.</div>'
    room = max(0, max_chars - (end - start)) // 2
    view_start, view_end = max(0, start - room), min(len(text), end + room)
    pieces = [
        "…" if view_start > 0 else "",
        _escape(text[view_start:start]),
        '<span class="qa-cited">',
        _escape(text[start:mark_start]),
        f'<mark id="qa-doc-highlight">{_escape(text[mark_start:mark_end])}</mark>',
        _escape(text[mark_end:end]),
        "</span>",
        _escape(text[end:view_end]),
        "…" if view_end < len(text) else "",
    ]
    where = location_label(citation)
    head = f"[{citation.number}] {_escape(document.title)} — {_escape(name)}" + (f" ({_escape(where)})" if where else "")
    cut = f" · showing characters {view_start:,}–{view_end:,} of {len(text):,}" if view_start or view_end < len(text) else ""
    return (
        f'<div class="qa-doc"><div class="qa-source-meta">{head} · cited characters {start:,}–{end:,}{cut}</div>'
        f'<div class="qa-doc-text">{"".join(pieces)}</div></div>'
    )


# A citation marker as the answer text writes it: " [3]" after a quote. Brackets inside quoted
# text are escaped ("\[3\]"), so only real markers match.
_MARKER = re.compile(r"(?<![\\\w])\[(\d{1,3})\](?!\()")
# A code span of an answer's Markdown (a backslash-escaped backtick opens none).
_CODE_SPAN = re.compile(r"(?<!\\)(`+)(?=\S)(.+?)(?<=\S)\1")


def link_markers(text: str) -> str:
    r"""Citation markers ``[n]`` as links to their citation below the answer (never inside a code
    span, where a link would show as its HTML).

    >>> link_markers("**Paris is in France.** [1] See note \\[2\\], and `x = [3]`.")
    '**Paris is in France.** <a href="#citation-1" class="qa-marker">[1]</a> See note \\[2\\], and `x = [3]`.'
    """
    return _outside_code_spans(text, lambda part: _MARKER.sub(_marker_link, part))


def _marker_link(match: re.Match[str]) -> str:
    return f'<a href="#citation-{match.group(1)}" class="qa-marker">[{match.group(1)}]</a>'


def _outside_code_spans(markdown: str, transform: Callable[[str], str]) -> str:
    """``markdown`` with ``transform`` applied to the text between its code spans; the spans
    stay as they are."""
    out, position = [], 0
    for span in _CODE_SPAN.finditer(markdown):
        out += [transform(markdown[position : span.start()]), span.group(0)]
        position = span.end()
    return "".join(out) + transform(markdown[position:])


def plain_text(markdown: str) -> str:
    r"""An answer's Markdown as plain text: no bold, no escapes, entities decoded (code spans
    keep their text as written, backslashes included).

    >>> plain_text(r"**Use \[brackets\] &amp; more.** [1] Run `dir C:\temp`.")
    'Use [brackets] & more. [1] Run `dir C:\\temp`.'
    """
    return _outside_code_spans(markdown, _unescaped)


def _unescaped(markdown: str) -> str:
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown)).replace("**", "")


def answer_as_text(answer: Answer, *, name: Callable[[str], str] = lambda source: source) -> str:
    """What "Copy" puts on the clipboard: the answer as plain text, then one line per citation
    (number, title, file, section or page), no HTML.

    >>> from qa.types import Citation
    >>> c = Citation(1, "p", "d", "/d/a.txt", "Notes", "Hi.", 0, 3, 0.5, 0, 3, section=("Intro",))
    >>> print(answer_as_text(Answer(question="q", text="**Hi.** [1]", citations=(c,)), name=lambda s: "a.txt"))
    Hi. [1]
    <BLANKLINE>
    [1] Notes — a.txt (Intro)
    """
    lines = [plain_text(answer.text)]
    if answer.citations:
        lines.append("")
    for c in answer.citations:
        where = location_label(c)
        lines.append(f"[{c.number}] {c.title} — {name(c.source)}" + (f" ({where})" if where else ""))
    nearest = nearest_passages(answer)
    if nearest:
        lines += ["", f"{NEAREST_LABEL}:"]
    for hit in nearest:
        where = location_label(hit.passage)
        lines.append(f"- {hit.passage.title} — {name(hit.passage.source)}" + (f" ({where})" if where else ""))
    return "\n".join(lines)


def page_image_html(png: bytes, boxes: Sequence[tuple[float, float, float, float]], *, label: str) -> str:
    """A rendered page (PNG, inlined as a data URL) with boxes drawn over the quoted sentence;
    box coordinates are fractions of the page, so they fit the image at any displayed size.

    >>> page_image_html(b"png", [(0.1, 0.2, 0.5, 0.01)], label="page 2")[:60]
    '<div class="qa-page"><img src="data:image/png;base64,cG5n" a'
    """
    import base64

    marks = "".join(
        f'<div class="qa-page-mark" style="left:{100 * x:.2f}%;top:{100 * y:.2f}%;width:{100 * w:.2f}%;height:{100 * h:.2f}%"></div>'
        for x, y, w, h in boxes
    )
    return f'<div class="qa-page"><img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{_escape(label)}">{marks}</div>'


# A declined answer still names the passages its search came closest to, so a reader can check
# them rather than take "no" on trust (the answer may be there in words the question did not use).
NEAREST_PASSAGES = 3
NEAREST_LABEL = "Closest passages (they did not answer the question; check them yourself)"
# ... when the documents might still answer it: the confidence is a calibrated probability, and
# below this one the passages are about something else ("Who won the 2022 World Cup?" over a NATO
# statement) and only noise. On the pyfaq index this shows them for 2 of the 4 answerable pyfaq
# questions it declines and for 6 of 28 declined held-out questions it cannot answer.
NEAREST_MIN_CONFIDENCE = 0.05


def nearest_passages(answer: Answer, limit: int = NEAREST_PASSAGES) -> list[Hit]:
    """For a declined answer, the passages its search ranked best: up to ``limit`` of its hits,
    best first, a stretch of a document once (overlapping windows are one place to look). Empty
    for an answer that was given, for one declined before any search (nothing indexed, no
    passage matching the filters), and when the documents almost surely do not answer it
    (confidence below :data:`NEAREST_MIN_CONFIDENCE`).

    >>> from dataclasses import replace
    >>> from qa.types import Hit, Passage
    >>> hit = lambda s, e, rank: Hit(Passage(id=f"{s}", doc_id="d", source="a", title="A", text="x" * (e - s), start=s, end=e), 0.3, rank)
    >>> declined = Answer(question="q", text="no", abstained=True, hits=(hit(0, 100, 1), hit(20, 120, 2), hit(300, 400, 3)), confidence=0.15)
    >>> [h.rank for h in nearest_passages(declined)]
    [1, 3]
    >>> nearest_passages(replace(declined, confidence=0.01))
    []
    """
    if not answer.abstained or answer.confidence < NEAREST_MIN_CONFIDENCE:
        return []
    hits = list(answer.hits)
    return [hits[i] for i in distinct_passages([h.passage for h in hits], limit)]


def _source_meta(source_name: str, where: str, score: float, start: int, end: int) -> str:
    """The grey line under a source card's title: file, section/page, score, offsets (escaped)."""
    return f'<div class="qa-source-meta">{_escape(source_name)}{" · " + _escape(where) if where else ""} · score {score:.3f} · chars {start}–{end}</div>'


def _nearest_cards(hits: Sequence[Hit], name: Callable[[str], str]) -> str:
    cards = []
    for number, hit in enumerate(hits, 1):
        p = hit.passage
        text = p.text if len(p.text) <= _PREVIEW_CHARS else p.text[:_PREVIEW_CHARS].rstrip() + "…"
        cards.append(
            f'<div class="qa-source qa-near" id="near-{number}">'
            f'<div class="qa-source-head"><strong>{_escape(p.title)}</strong></div>'
            f"{_source_meta(name(p.source), location_label(p), hit.score, p.start, p.end)}"
            f'<blockquote class="qa-passage">{_escape(text)}</blockquote>'
            "</div>"
        )
    return "".join(cards)


WITHHELD_PREFIX = "No answer shown:"


def withheld_by_threshold(answer: Answer, threshold: float | None) -> bool:
    """Whether a declined answer was declined by a threshold raised above the default, not by
    the documents: its confidence would have passed the default."""
    from .answers.calibration import DEFAULT_ABSTAIN_THRESHOLD

    return answer.abstained and threshold is not None and answer.confidence >= DEFAULT_ABSTAIN_THRESHOLD and answer.confidence < threshold


def chat_message(answer: Answer, *, show_query: bool = True, threshold: float | None = None) -> str:
    """The chat reply: the answer, what was searched, and each citation expandable in place.

    ``threshold`` is the abstention threshold the user chose: when it, not the documents,
    withheld the answer, the reply says so.

    >>> from qa.types import Answer
    >>> print(chat_message(Answer(question="q", text="The documents do not answer this.", abstained=True)))
    The documents do not answer this.
    >>> print(chat_message(Answer(question="q", text="x", abstained=True, confidence=0.58), threshold=0.9))
    No answer shown: its confidence 0.58 is below your threshold 0.90; lower the threshold in Settings to see it.
    """
    if withheld_by_threshold(answer, threshold):
        parts = [f"{WITHHELD_PREFIX} its confidence {answer.confidence:.2f} is below your threshold {threshold:.2f}; lower the threshold in Settings to see it."]
    else:
        parts = [answer.text if answer.abstained else link_markers(answer.text)]
    if answer.abstained:
        if show_query and answer.query and answer.query != answer.question:
            parts.append(f"<small>Searched for: <em>{_escape(answer.query)}</em></small>")
        nearest = nearest_passages(answer)
        if nearest:
            parts.append(f'<details class="qa-nearest"><summary>{NEAREST_LABEL}</summary>{_nearest_cards(nearest, file_name)}</details>')
        return "\n\n".join(parts)
    if show_query and answer.query and answer.query != answer.question:
        parts.append(f"<small>Searched for: <em>{_escape(answer.query)}</em></small>")
    for citation in answer.citations:
        where = location_label(citation)
        name = file_name(citation.source)
        title = citation.title if len(citation.title) <= 70 else citation.title[:67] + "…"
        summary = f"[{citation.number}] {_escape(title)} — {_escape(name)}"
        if where:
            summary += f" ({_escape(where)})"
        body = highlighted_passage_html(citation, max_chars=_PREVIEW_CHARS)
        parts.append(
            f'<details class="qa-citation" id="citation-{citation.number}"><summary>{summary}</summary>'
            f'<blockquote class="qa-passage">{body}</blockquote></details>'
        )
    return "\n\n".join(parts)


def sources_html(answer: Answer | None, *, root: str | None = None, name: Callable[[str], str] | None = None) -> str:
    """The Sources panel: one card per citation with file, title, section/page, score, offsets
    and the passage with its highlighted sentence. ``name`` gives a source's displayed name
    (default: relative to ``root``)."""
    name = name or (lambda source: display_source(source, root=root))
    if answer is None:
        return '<div class="qa-sources qa-empty">Ask a question: the passages behind the answer appear here.</div>'
    if answer.abstained:
        reason = f"<p><small>{_escape(answer.reason)}</small></p>" if answer.reason else ""
        nearest = nearest_passages(answer)
        cards = f'<p class="qa-nearest-label">{NEAREST_LABEL}:</p>{_nearest_cards(nearest, name)}' if nearest else ""
        return f'<div class="qa-sources qa-empty"><p>No sources: the documents do not answer this question.</p>{reason}{cards}</div>'
    cards = []
    for c in answer.citations:
        cards.append(
            f'<div class="qa-source" id="source-{c.number}">'
            f'<div class="qa-source-head"><strong>[{c.number}] {_escape(c.title)}</strong></div>'
            f"{_source_meta(name(c.source), location_label(c), c.score, c.start, c.end)}"
            f'<div class="qa-source-answer">Answer sentence: <mark>{_escape(unwrapped(c.text, c.highlight_start, c.highlight_end))}</mark></div>'
            f'<details><summary>Passage</summary><blockquote class="qa-passage">{highlighted_passage_html(c)}</blockquote></details>'
            "</div>"
        )
    confidence = f'<div class="qa-source-meta">confidence {answer.confidence:.2f}</div>'
    return '<div class="qa-sources">' + confidence + "".join(cards) + "</div>"


def file_state(record: FileRecord, passage_counts: Mapping[str, int]) -> str:
    """What became of a file, in a few words, e.g. ``"indexed: 12 passages, 3 pages read by OCR"``
    or ``"skipped: encrypted PDF (needs a password)"``.

    >>> file_state(FileRecord("/d/a.txt", 10, 0, "indexed", sources=("/d/a.txt",)), {"/d/a.txt": 3})
    'indexed: 3 passages'
    >>> file_state(FileRecord("/d/b.pdf", 10, 0, "skipped", reason="empty file"), {})
    'skipped: empty file'
    """
    if not record.indexed:
        return f"skipped: {record.reason}"
    passages = sum(passage_counts.get(source, 0) for source in record.sources)
    parts = [f"indexed: {passages} passage{'s' if passages != 1 else ''}"]
    if len(record.sources) > 1:
        parts.append(f"{len(record.sources)} records")
    if record.ocr_pages:
        parts.append(f"{record.ocr_pages} page{'s' if record.ocr_pages != 1 else ''} read by OCR")
    if record.notes:
        parts.append(f"{len(record.notes)} part{'s' if len(record.notes) != 1 else ''} not read: " + "; ".join(record.notes[:3]) + (" …" if len(record.notes) > 3 else ""))
    return ", ".join(parts)


def files_summary(records: Sequence[FileRecord]) -> str:
    """Totals, e.g. ``"423 of 501 files indexed (78 skipped)"``.

    >>> files_summary([FileRecord("/a", 1, 0, "indexed"), FileRecord("/b", 1, 0, "skipped", reason="x")])
    '1 of 2 files indexed (1 skipped)'
    """
    indexed = sum(1 for r in records if r.indexed)
    skipped = len(records) - indexed
    return f"{indexed} of {len(records)} file{'s' if len(records) != 1 else ''} indexed" + (f" ({skipped} skipped)" if skipped else "")


def files_table(
    records: Sequence[FileRecord],
    documents: Mapping[str, Document],
    passage_counts: Mapping[str, int],
    *,
    root: str | None = None,
    name: Callable[[str], str] | None = None,
) -> list[list]:
    """Rows for the Documents tab, one per file seen: file, state, passages, title, kind (what
    matters first, for narrow screens).
    ``name`` gives a file's displayed name (default: relative to ``root``)."""
    name = name or (lambda path: display_source(path, root=root))
    rows = []
    for record in records:
        docs = [documents[s] for s in record.sources if s in documents]
        title = docs[0].title if len(docs) == 1 else f"{len(docs)} records" if docs else ""
        kind = docs[0].kind if docs else ""
        passages = sum(passage_counts.get(s, 0) for s in record.sources)
        rows.append([name(record.path), file_state(record, passage_counts), passages, title, kind])
    return rows
