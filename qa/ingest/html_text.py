"""Main-content text extraction from HTML, keeping headings so passages know their section.

The page's main region is found by the usual landmarks (``<main>``, ``role="main"``,
``<article>``, Sphinx's ``div.body``), and navigation, headers, footers, sidebars, scripts and
forms are dropped. Blocks (paragraphs, list items, table rows, code blocks, headings) become
paragraphs separated by blank lines; code blocks keep their line breaks. A table with header
cells reads one row per line with each value named by its column ("Country: Japan; Troops:
1,500"), so a row found by a question says what its values are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..types import Section
from .formats.assembly import table_lines

_DROP_TAGS = frozenset(
    """script style noscript template nav header footer aside form button select input textarea
    iframe svg canvas object embed head link meta map area audio video source track dialog""".split()
)
_DROP_ROLES = frozenset("navigation banner contentinfo search complementary menu menubar toolbar dialog".split())
_DROP_CLASSES = frozenset(
    """headerlink sphinxsidebar sphinxsidebarwrapper related footer breadcrumb breadcrumbs navbar
    sidebar menu skip-link skiplink cookie-banner mobile-nav version_switcher_placeholder
    language_switcher_placeholder""".split()
)
_BLOCK_TAGS = frozenset(
    """p div li ul ol dl dt dd table thead tbody tfoot tr caption blockquote section article main
    figure figcaption address details summary hr br center body html fieldset legend""".split()
)
# A sectioning element starts a new part of the page even when it has no heading of its own (a
# heading may have been removed, or be drawn by CSS): passages never run across its start.
# docutils' HTML4 writer (older Sphinx) marks sections as <div class="section">.
_SECTIONING_TAGS = frozenset(("section", "article"))


def _is_sectioning(tag: str, element) -> bool:
    return tag in _SECTIONING_TAGS or tag == "div" and "section" in (element.get("class") or "").split()
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_MAIN_XPATHS = (
    "//main",
    "//*[@role='main']",
    "//article",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' body ')]",
    "//*[@id='content']",
    "//*[@id='main']",
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class HtmlText:
    """Extracted text with its heading sections and a title."""

    text: str
    title: str
    sections: tuple[Section, ...]


def _is_dropped(element) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag.lower() in _DROP_TAGS:
        return True
    role = (element.get("role") or "").lower()
    if role in _DROP_ROLES:
        return True
    classes = (element.get("class") or "").lower().split()
    if any(c in _DROP_CLASSES for c in classes):
        return True
    return element.get("hidden") is not None or (element.get("aria-hidden") or "").lower() == "true"


def _main_region(root):
    body_text = len(" ".join(root.itertext()).split())
    for xpath in _MAIN_XPATHS:
        for candidate in root.xpath(xpath):
            # A landmark that holds a fair share of the page is the content; tiny ones are widgets.
            if len(" ".join(candidate.itertext()).split()) >= max(20, 0.2 * body_text):
                return candidate
    bodies = root.xpath("//body")
    return bodies[0] if bodies else root


class _Builder:
    """Accumulates blocks (kind, level, text) while walking the tree."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, int, str]] = []
        self.inline: list[str] = []

    def add_inline(self, text: str | None) -> None:
        if text:
            self.inline.append(text)

    def flush(self) -> None:
        if self.inline:
            text = _SPACES.sub(" ", "".join(self.inline)).strip()
            self.inline = []
            if text:
                self.blocks.append(("p", 0, text))

    def add_block(self, kind: str, level: int, text: str) -> None:
        self.flush()
        if text:
            self.blocks.append((kind, level, text))


def _visible_text(element) -> str:
    """Text of an element without the parts that would be dropped (e.g. Sphinx's ¶ links)."""
    parts: list[str] = []
    stack = [(element, False)]
    while stack:
        node, done = stack.pop()
        if done:
            if node is not element and node.tail:
                parts.append(node.tail)
            continue
        if node is not element and _is_dropped(node):
            if node.tail:
                parts.append(node.tail)
            continue
        if node.text and isinstance(node.tag, str):
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node)))
    return "".join(parts)


def _cell_text(cell) -> str:
    return _SPACES.sub(" ", _visible_text(cell)).strip()


def _row_cells(tr) -> list:
    return [c for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th") and not _is_dropped(c)]


def _in_thead(tr) -> bool:
    parent = tr.getparent()
    return parent is not None and isinstance(parent.tag, str) and parent.tag.lower() == "thead"


def _header_table(table) -> tuple[list[str], list[list[str]], str] | None:
    """``(header, rows, caption)`` of a table whose header row is marked (``<thead>``, or a first
    row of ``<th>`` cells); None for other tables (layout tables, key-value lists), which are read
    cell by cell. Rows of nested tables are not this table's rows."""
    rows = [tr for tr in table.iter("tr") if next(tr.iterancestors("table"), None) is table]
    if len(rows) < 2:
        return None
    cells = _row_cells(rows[0])
    if len(cells) < 2 or not (_in_thead(rows[0]) or all(c.tag.lower() == "th" for c in cells)):
        return None
    header = [_cell_text(c) for c in cells]
    # A second header row (grouped column names) holds names, not values.
    body = [[_cell_text(c) for c in _row_cells(tr)] for tr in rows[1:] if not _in_thead(tr)]
    captions = table.xpath("./caption")
    return header, body, _cell_text(captions[0]) if captions else ""


def _walk(region, builder: _Builder) -> None:
    # An explicit stack instead of recursion: pages with thousands of nested tags must not
    # overflow Python's recursion limit.
    stack = [(region, False)]
    while stack:
        node, closing = stack.pop()
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if closing:
            if tag in _BLOCK_TAGS:
                builder.flush()
            if node is not region:
                builder.add_inline(node.tail)
            continue
        if not tag:  # comments and processing instructions: keep only their tail
            builder.add_inline(node.tail)
            continue
        if node is not region and _is_dropped(node):
            builder.add_inline(node.tail)
            continue
        if tag in _HEADINGS:
            builder.add_block("h", _HEADINGS[tag], _SPACES.sub(" ", _visible_text(node)).strip())
            builder.add_inline(node.tail)
            continue
        if tag == "pre":
            code = _visible_text(node).strip("\n")
            builder.add_block("pre", 0, code if code.strip() else "")
            builder.add_inline(node.tail)
            continue
        if tag == "table" and node is not region:
            table = _header_table(node)
            if table is not None:
                header, body, caption = table
                builder.flush()
                if caption:
                    builder.add_block("p", 0, caption)
                for line in table_lines(body, header=header):
                    builder.add_block("p", 0, line)
                builder.add_inline(node.tail)
                continue
        if tag in _BLOCK_TAGS:
            builder.flush()
            if _is_sectioning(tag, node):
                builder.blocks.append(("s", 0, ""))
            if tag == "li":
                builder.add_inline("- ")
        elif tag in ("td", "th") and node.getprevious() is not None:
            builder.add_inline(" | ")
        builder.add_inline(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node)))
    builder.flush()


def extract_html(markup: str | bytes, *, fallback_title: str = "") -> HtmlText:
    """Extract the main text, headings and title of an HTML page.

    >>> page = "<html><head><title>T</title></head><body><nav>menu</nav><main><h1>Intro</h1>"
    >>> page += "<p>Hello <b>world</b>.</p></main></body></html>"
    >>> out = extract_html(page)
    >>> out.text, out.title, out.sections[0].path
    ('Intro\\n\\nHello world.', 'Intro', ('Intro',))
    """
    import lxml.html
    from lxml import etree

    if isinstance(markup, str):
        # lxml refuses str input that carries an XML encoding declaration.
        markup = markup.encode("utf-8")
        parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True)
    else:
        parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True)
    try:
        root = lxml.html.document_fromstring(markup, parser=parser)
    except (etree.ParserError, ValueError):
        return HtmlText(text="", title=fallback_title, sections=())

    page_title = ""
    titles = root.xpath("//title")
    if titles:
        page_title = _SPACES.sub(" ", titles[0].text_content()).strip()

    builder = _Builder()
    _walk(_main_region(root), builder)

    pieces: list[str] = []
    sections: list[Section] = []
    heading_stack: list[tuple[int, str]] = []
    first_h1 = ""
    offset = 0
    open_section: tuple[int, tuple[str, ...]] | None = None
    new_part = False  # a sectioning element opened since the last block
    for kind, level, text in builder.blocks:
        if kind == "s":
            new_part = True
            continue
        if pieces:
            offset += 2  # the blank line between blocks
        if new_part and kind != "h" and offset > (open_section[0] if open_section else 0):
            # A part without a heading of its own: the same heading path, but a boundary.
            if open_section is not None:
                sections.append(Section(open_section[0], offset - 2, open_section[1]))
            open_section = (offset, open_section[1] if open_section else ())
        new_part = False
        if kind == "h":
            while heading_stack and heading_stack[-1][0] >= level:
                heading_stack.pop()
            heading_stack.append((level, text))
            if level == 1 and not first_h1:
                first_h1 = text
            if open_section is not None and offset > open_section[0]:
                sections.append(Section(open_section[0], offset - 2, open_section[1]))
            open_section = (offset, tuple(t for _, t in heading_stack))
        pieces.append(text)
        offset += len(text)
    if open_section is not None:
        sections.append(Section(open_section[0], offset, open_section[1]))

    title = first_h1 or page_title or fallback_title
    text = "\n\n".join(pieces)
    if not text.strip():
        # libxml2 gives up below ~2,000 levels of nesting and drops what is deeper; a streaming
        # parser has no depth limit, so pathological pages still yield their text (no sections).
        return HtmlText(text=_flat_text(markup), title=title, sections=())
    return HtmlText(text=text, title=title, sections=tuple(sections))


def _flat_text(markup: bytes) -> str:
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style", "noscript", "template"):
                self.skip += 1

        def handle_endtag(self, tag):
            if tag in ("script", "style", "noscript", "template") and self.skip:
                self.skip -= 1

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    collector = Collector()
    collector.feed(markup.decode("utf-8", errors="replace"))
    collector.close()
    return _SPACES.sub(" ", " ".join(collector.parts)).strip()
