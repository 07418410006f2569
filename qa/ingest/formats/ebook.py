"""E-books (.epub): the chapters in reading order (the spine), each chapter's headings as sections."""

from __future__ import annotations

import io
import posixpath
import zipfile
from urllib.parse import unquote

from lxml import etree

from ...errors import DocumentError
from ...types import Section
from ..html_text import extract_html
from .assembly import Extracted, TextAssembler, clean_inline
from .packages import check_package

_CONTAINER = "META-INF/container.xml"
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_XHTML_TYPES = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}


def _xml(package: zipfile.ZipFile, name: str):
    try:
        data = package.read(name)
    except KeyError:
        raise DocumentError(f"damaged e-book: {name} is missing") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    root = etree.fromstring(data, parser=parser)
    if root is None:
        raise DocumentError(f"damaged e-book: {name} is not XML")
    return root


def read_epub(data: bytes) -> Extracted:
    """Read an EPUB 2/3 book: the package file's spine gives the chapter order; a book without
    a spine is read in manifest order (and says so in its notes).

    The package is read with the standard library's zipfile and lxml (no entity expansion, no
    network), which is all an EPUB is: XHTML chapters listed by an OPF file.
    """
    check_package(data, "e-book", saved_as=".epub")
    notes: list[tuple[str, str]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        container = _xml(package, _CONTAINER)
        rootfiles = container.xpath("//c:rootfile/@full-path", namespaces=_NS)
        if not rootfiles:
            raise DocumentError(f"damaged e-book: {_CONTAINER} names no package file")
        opf_name = str(rootfiles[0])
        opf = _xml(package, opf_name)
        base = posixpath.dirname(opf_name)
        title = clean_inline(" ".join(opf.xpath("//dc:title//text()", namespaces=_NS)))
        creators = [clean_inline(c) for c in opf.xpath("//dc:creator//text()", namespaces=_NS) if c.strip()]
        items = {}
        order = []
        for item in opf.xpath("//opf:manifest/opf:item", namespaces=_NS):
            item_id, href, media = item.get("id"), item.get("href"), item.get("media-type", "")
            if item_id and href and media in _XHTML_TYPES:
                items[item_id] = posixpath.normpath(posixpath.join(base, unquote(href)))
                order.append(item_id)
        spine = [ref for ref in opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=_NS) if ref in items]
        if not spine:
            if not order:
                raise DocumentError("e-book without chapters (no spine and no XHTML in its manifest)")
            notes.append(("spine", "the book has no reading order (spine); chapters are read in manifest order"))
            spine = order
        assembler = TextAssembler()
        for number, item_id in enumerate(dict.fromkeys(spine), 1):
            name = items[item_id]
            try:
                chapter = extract_html(package.read(name), fallback_title=f"Chapter {number}")
            except KeyError:
                notes.append((name, "listed in the book but missing from the file; left out"))
                continue
            if not chapter.text.strip():
                continue
            sections = chapter.sections
            if not sections or sections[0].start > 0:
                # Chapter text before its first heading (or a chapter without headings) still
                # sits under the chapter's title, and a chapter always starts a new section.
                sections = (Section(0, len(chapter.text), (chapter.title,)),) + tuple(sections)
            assembler.extracted(chapter.text, sections)
    if not assembler.pieces:
        raise DocumentError("no text in any chapter of the e-book")
    metadata = {"author": ", ".join(creators)} if creators else {}
    return assembler.result(title=title, metadata=metadata, notes=notes)
