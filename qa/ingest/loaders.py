"""Files and folders -> :class:`~qa.types.Document` records.

Supported: ``.txt``, ``.md``/``.markdown``, ``.html``/``.htm``, ``.pdf``, ``.jsonl``, and through
:mod:`qa.ingest.formats` Word (``.docx``), PowerPoint (``.pptx``), Excel (``.xlsx``), ``.csv``/``.tsv``,
e-books (``.epub``) and e-mail (``.eml``). Folders are walked recursively (hidden files and
folders are ignored). A file that cannot be used is never fatal: it is reported in
:attr:`LoadResult.skipped` with a one-line reason, and so is a part of a file that could not be
read (``report.xlsx:Sheet1!C3: formula error #DIV/0! (cell left out)``).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..errors import DocumentError
from ..progress import ProgressCallback, StageTracker
from ..text import is_title
from ..types import Document, FileRecord, Section
from .formats import pdf_tables
from .formats.assembly import Extracted, clean_inline
from .formats.ebook import read_epub
from .formats.mail import read_eml
from .formats.scans import ocr_missing, ocr_pdf_pages
from .formats.sheets import read_delimited, read_xlsx
from .formats.slides import read_pptx
from .formats.word import read_docx
from .html_text import extract_html

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
JSONL_SUFFIXES = {".jsonl"}
DELIMITED_SUFFIXES = {".csv": None, ".tsv": "\t"}  # suffix -> delimiter (None: detected)
# Formats read from their bytes by qa.ingest.formats: suffix -> (reader, kind).
PACKAGE_READERS = {
    ".docx": (read_docx, "docx"),
    ".pptx": (read_pptx, "pptx"),
    ".xlsx": (read_xlsx, "xlsx"),
    ".epub": (read_epub, "epub"),
    ".eml": (read_eml, "email"),
}
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | JSONL_SUFFIXES | set(DELIMITED_SUFFIXES) | set(PACKAGE_READERS)
)

DEFAULT_MAX_FILE_MB = 64.0


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not indexed, and why (one line, meant for people)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class LoadResult:
    """What :func:`load_documents` found: the documents, the files (or parts of files) it
    skipped, a :class:`~qa.types.FileRecord` for each file it read, and the files it did not
    read because they are unchanged since they were recorded (``unchanged_files``)."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    unchanged_files: list[str] = field(default_factory=list)


def source_name(path: str | os.PathLike[str]) -> str:
    """The key a file is indexed under: its absolute path with ``/`` separators.

    Absolute paths make ``qa.remove("docs/a.md")`` and ``qa.add(["docs"])`` agree no matter which
    directory each call was made from.
    """
    return Path(os.path.abspath(os.fspath(path))).as_posix()


def _is_index_folder(path: Path) -> bool:
    """Whether ``path`` holds a grounded-qa index (a manifest beside generation folders)."""
    return (path / "manifest.json").is_file() and any(path.glob("gen-*"))


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(file, None)`` for each file under ``paths`` (recursively, sorted), or
    ``(path, reason)`` when a path cannot be used at all."""
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path, None
        elif path.is_dir():
            seen_dirs: set[tuple[int, int]] = set()
            for root, dirs, files in os.walk(path, followlinks=True):
                try:
                    st = os.stat(root)
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen_dirs:  # a symlink loop or a second link to a folder already walked
                    dirs[:] = []
                    continue
                seen_dirs.add(key)
                # Hidden folders, and index folders (an index kept inside the folder it
                # indexes must not index its own files).
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _is_index_folder(Path(root) / d))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name, None
        elif path.exists() or path.is_symlink():
            yield path, "not a regular file or folder (broken link, device or socket)"
        else:
            yield path, "no such file or folder"


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("qa-cp1252-fallback", _cp1252_fallback)


def _decode(data: bytes, path: Path) -> str:
    """Bytes -> str: UTF-8 (with or without BOM); UTF-8 with stray legacy bytes (a file pieced
    together from several sources) keeps its UTF-8 and reads the strays as cp1252; otherwise
    the detected single-byte or East Asian encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        return data.decode("utf-8", errors="qa-cp1252-fallback").lstrip("\ufeff")
    try:
        western = data.decode("cp1252")
        letters = [ch for ch in western if ch.isalpha()]
        # Western European text is mostly ASCII letters; text in another single-byte code page
        # (Cyrillic, Greek...) read as cp1252 becomes mostly accented letters instead.
        if letters and sum(not ch.isascii() for ch in letters) / len(letters) < 0.5:
            return western
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 1 << 20]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except ImportError:  # pragma: no cover - charset-normalizer is a declared dependency
        pass
    return data.decode("cp1252", errors="replace")


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text has NULs
    if b"\0" in head:
        return True
    controls = sum(b < 9 or 13 < b < 32 for b in head)
    return controls / len(head) > 0.1


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# A word broken at the end of a line by a typesetter or a scanner: "docu-" / "ment".
_LINE_END_HYPHEN = re.compile(r"\b([A-Za-z]*[a-z])-\n[ \t]*([a-z]+)\b")
_WORD_OR_COMPOUND = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def join_line_end_hyphens(pages: list[str]) -> list[str]:
    r"""``pages`` (the text of one PDF, page by page) with the words a typesetter hyphenated at
    the end of a line joined again ("infor-" / "mation" -> "information"), so that searching for
    the word finds it.

    A hyphen that belongs to the word stays: the document decides. Where it writes the hyphenated
    form elsewhere ("well-known"), or both halves are words it uses on their own ("self" and
    "explanatory"), the line break is kept as it is; where it writes the joined word elsewhere,
    or a half is no word of its own ("infor", "mation"), the word is joined.

    >>> join_line_end_hyphens(["The infor-\nmation is well-\nknown: it is well known.", "Self-\nexplanatory, self and explanatory."])
    ['The information is well-\nknown: it is well known.', 'Self-\nexplanatory, self and explanatory.']
    """
    if not any(_LINE_END_HYPHEN.search(page) for page in pages):
        return pages
    used: set[str] = set()  # the words and hyphenated compounds the document writes on one line, and their parts
    for page in pages:
        for word in _WORD_OR_COMPOUND.findall(_LINE_END_HYPHEN.sub(" ", page)):
            used.add(word.lower())
            used.update(part.lower() for part in word.split("-"))

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1).lower(), match.group(2).lower()
        if f"{left}-{right}" in used or (left + right not in used and left in used and right in used):
            return match.group(0)
        return match.group(1) + match.group(2)

    return [_LINE_END_HYPHEN.sub(join, page) for page in pages]


def _markdown_sections(text: str) -> tuple[tuple[Section, ...], str]:
    """ATX (``#``) and setext (``===``/``---``) headings outside code fences -> sections, title."""
    headings: list[tuple[int, int, str]] = []  # (offset, level, text)
    lines = text.split("\n")
    offset = 0
    in_fence = False
    previous = ""
    previous_offset = 0
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence:
            atx = re.match(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if atx and atx.group(2):
                headings.append((offset, len(atx.group(1)), atx.group(2)))
            elif previous.strip() and re.match(r"^ {0,3}(=+|-+)\s*$", line) and not previous.lstrip().startswith(("-", "*", ">")):
                headings.append((previous_offset, 1 if stripped.startswith("=") else 2, previous.strip()))
        previous, previous_offset = line, offset
        offset += len(line) + 1

    title = next((h for _, level, h in headings if level == 1), "")
    return _nested_sections(headings, len(text)), title


def _nested_sections(headings: list[tuple[int, int, str]], length: int) -> tuple[Section, ...]:
    """``(offset, level, heading)`` in document order -> sections with their heading paths."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    for i, (start, level, heading) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        end = headings[i + 1][0] if i + 1 < len(headings) else length
        sections.append(Section(start, end, tuple(h for _, h in stack)))
    return tuple(sections)


_NUMBERED_TITLE = re.compile(r"^\s{0,12}((?:\d+\.)*\d+)\.?\s+(\S.*?)\s*$")
_UNDERLINE = re.compile(r"^\s{0,12}(=+|-+)\s*$")


def plain_text_sections(text: str) -> tuple[Section, ...]:
    r"""The headings a plain-text file shows without markup -> sections: a line alone in its
    paragraph that is in capitals ("TERMS AND CONDITIONS", level 1), underlined with ``===`` or
    ``---`` (levels 1 and 2), or numbered with a title of two or more capitalised words ("2.
    Conveying Modified Versions.", "4.1 Installing From Source"; one level deeper per number).

    >>> t = "TERMS AND CONDITIONS\n\n  0. Definitions Used Here.\n\n  Words mean things.\n\n  1. Install it\n\nDone."
    >>> [(t[s.start:s.start + 12], s.path) for s in plain_text_sections(t)]
    [('TERMS AND CO', ('TERMS AND CONDITIONS',)), ('  0. Definit', ('TERMS AND CONDITIONS', '0. Definitions Used Here.'))]
    """
    headings: list[tuple[int, int, str]] = []
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > 100:
            continue
        before_blank = i == 0 or not lines[i - 1].strip()
        after = lines[i + 1] if i + 1 < len(lines) else ""
        if before_blank and _UNDERLINE.match(after) and len(after.strip()) >= 3:
            headings.append((offsets[i], 1 if after.strip().startswith("=") else 2, stripped))
            continue
        if not before_blank or after.strip():
            continue  # a heading is a paragraph of its own
        letters = [c for c in stripped if c.isalpha()]
        if len(letters) >= 4 and all(c.isupper() for c in letters) and len(stripped.split()) <= 10:
            headings.append((offsets[i], 1, stripped))
            continue
        numbered = _NUMBERED_TITLE.match(line)
        if numbered:
            if is_title(numbered.group(2), min_words=2):
                headings.append((offsets[i], 1 + numbered.group(1).count(".") + 1, stripped))
    return _nested_sections(headings, len(text))


def _front_matter_title(text: str) -> str:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    if match:
        title = re.search(r"^title:\s*[\"']?(.*?)[\"']?\s*$", match.group(1), re.MULTILINE)
        if title:
            return title.group(1)
    return ""


def front_matter(text: str) -> dict[str, Any]:
    """The fields of a Markdown file's YAML front matter that filters can use: text, numbers,
    true/false, dates (as ISO text) and lists of those; anything else, or front matter that is
    not valid YAML, is left out.

    >>> front_matter("---\\nauthor: Ann\\ntags: [birds, owls]\\ndate: 2024-05-01\\nextra: {a: 1}\\n---\\n# Owls\\n")
    {'author': 'Ann', 'tags': ['birds', 'owls'], 'date': '2024-05-01'}
    """
    import datetime

    import yaml

    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}

    def plain(value: Any) -> Any:
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        return value if isinstance(value, (str, int, float, bool)) else None

    fields: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, list):
            items = [plain(v) for v in value]
            if items and all(v is not None for v in items):
                fields[key] = items
        elif plain(value) is not None:
            fields[key] = plain(value)
    return fields


def _load_text(path: Path, data: bytes, kind: str) -> list[Document]:
    if _looks_binary(data):
        raise DocumentError("binary content in a text file")
    text = _normalise_newlines(_decode(data, path))
    if not text.strip():
        raise DocumentError("empty (no text)")
    source = source_name(path)
    if kind == "markdown":
        sections, heading_title = _markdown_sections(text)
        title = _front_matter_title(text) or heading_title
        return [Document.from_text(text, source=source, title=title or None, kind="markdown", sections=sections, metadata=front_matter(text))]
    first_line = text.strip().split("\n", 1)[0].strip()
    # A short first line with no final period reads as the title (as in news articles).
    title = first_line if 0 < len(first_line) <= 150 and not first_line.endswith(".") else None
    return [Document.from_text(text, source=source, title=title, kind="text", sections=plain_text_sections(text))]


def _load_html(path: Path, data: bytes) -> list[Document]:
    if not data.strip():
        raise DocumentError("empty (no text)")
    if b"\0" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("binary content in an HTML file")
    extracted = extract_html(data, fallback_title=path.stem)
    if not extracted.text.strip():
        raise DocumentError("no readable text in the page's main content")
    return [
        Document.from_text(
            extracted.text,
            source=source_name(path),
            title=extracted.title or None,
            kind="html",
            sections=extracted.sections,
        )
    ]


def _load_pdf(path: Path, data: bytes, skipped: list[SkippedFile]) -> list[Document]:
    try:
        import io

        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a declared dependency
        raise DocumentError("PDF support needs pypdf: pip install pypdf") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentError("encrypted PDF (needs a password)")
            except DocumentError:
                raise
            except Exception as exc:
                raise DocumentError(f"encrypted PDF that cannot be opened ({exc})") from exc
        page_texts = []
        for page in reader.pages:
            page_texts.append(_normalise_newlines(page.extract_text() or "").strip())
        if pdf_tables.available():
            for index, text in pdf_tables.pages_with_tables(data, pdf_tables.ruled_pages(reader)).items():
                page_texts[index] = _normalise_newlines(text).strip()
        meta_title = ""
        try:
            meta_title = (reader.metadata.title or "") if reader.metadata else ""
        except Exception:  # broken metadata must not lose the text
            meta_title = ""
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise DocumentError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise DocumentError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc

    if not page_texts:
        raise DocumentError("a PDF without pages")
    ocr_pages = _read_scanned_pages(path, data, page_texts, skipped)
    page_texts = join_line_end_hyphens(page_texts)
    if not any(t.strip() for t in page_texts):
        raise DocumentError(f"no text on any of its {len(page_texts)} pages, even with OCR (blank or pictures only?)")
    pages: list[int] = []
    pieces: list[str] = []
    offset = 0
    for text in page_texts:
        if pieces:
            offset += 2
        pages.append(offset)
        pieces.append(text)
        offset += len(text)
    text = "\n\n".join(pieces)
    first_line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    # As for text files: a short first line without a final period reads as the title.
    title = _pdf_meta_title(meta_title) or (first_line if len(first_line) <= 150 and not first_line.endswith(".") else "")
    metadata = {"ocr_pages": ocr_pages} if ocr_pages else {}
    return [Document.from_text(text, source=source_name(path), title=title or None, kind="pdf", pages=tuple(pages), metadata=metadata)]


_PLACEHOLDER_TITLES = {"", "untitled", "(anonymous)", "anonymous", "title", "document", "(untitled)"}
_PRODUCER_PREFIX = re.compile(r"^(?:microsoft (?:word|powerpoint|excel) - )", re.IGNORECASE)


def _pdf_meta_title(title: str) -> str:
    """The title from a PDF's metadata, unless it is a tool's placeholder ("(anonymous)",
    "Untitled"); "Microsoft Word - report.docx" keeps "report".

    >>> _pdf_meta_title("(anonymous)"), _pdf_meta_title("Microsoft Word - Budget 2026.docx")
    ('', 'Budget 2026')
    """
    title = _PRODUCER_PREFIX.sub("", clean_inline(title))
    if title.lower().endswith((".docx", ".doc", ".pptx", ".ppt", ".xlsx", ".xls")):
        title = title.rsplit(".", 1)[0]
    return "" if title.lower() in _PLACEHOLDER_TITLES else title


def _read_scanned_pages(path: Path, data: bytes, page_texts: list[str], skipped: list[SkippedFile]) -> list[int]:
    """Fill in, by OCR, the pages of ``page_texts`` that have no text layer; returns their 1-based
    numbers. Without OCR a file with some text is indexed and its blank pages are reported; a
    file with none is refused with the install command."""
    blank = [i for i, t in enumerate(page_texts) if not t.strip()]
    if not blank:
        return []
    missing = ocr_missing()
    if missing is not None:
        if len(blank) == len(page_texts):
            raise DocumentError(f"no text layer on any of its {len(blank)} pages (a scanned PDF); {missing}")
        skipped.append(SkippedFile(f"{path}:{_page_list(blank)}", f"no text layer (scanned); {missing}"))
        return []
    read = ocr_pdf_pages(data, blank)
    found = []
    for index, text in read.items():
        text = _normalise_newlines(text).strip()
        if text:
            page_texts[index] = text
            found.append(index)
    unread = [i for i in blank if i not in found]
    if unread and found:
        skipped.append(SkippedFile(f"{path}:{_page_list(unread)}", "no text found by OCR either (blank or pictures only?)"))
    return [i + 1 for i in found]


def _page_list(indexes: list[int]) -> str:
    """``"page 3"`` or ``"pages 3, 5, 9"`` for 0-based page indexes."""
    numbers = ", ".join(str(i + 1) for i in indexes[:20]) + (f" and {len(indexes) - 20} more" if len(indexes) > 20 else "")
    return f"page {numbers}" if len(indexes) == 1 else f"pages {numbers}"


_JSONL_TEXT_FIELDS = ("text", "content", "body")
_JSONL_ID_FIELDS = ("id", "_id", "doc_id", "docid")


def _load_jsonl(path: Path, data: bytes, skipped: list[SkippedFile]) -> list[Document]:
    if _looks_binary(data):
        raise DocumentError("binary content in a JSONL file")
    documents: list[Document] = []
    base = source_name(path)
    seen_ids: set[str] = set()
    for line_number, line in enumerate(_decode(data, path).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{line_number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(SkippedFile(where, f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            skipped.append(SkippedFile(where, "a JSONL line must be an object with a 'text' field"))
            continue
        text = next((record[k] for k in _JSONL_TEXT_FIELDS if isinstance(record.get(k), str)), None)
        if text is None or not text.strip():
            skipped.append(SkippedFile(where, "no 'text' field (or it is empty)"))
            continue
        record_id = next((str(record[k]) for k in _JSONL_ID_FIELDS if record.get(k) not in (None, "")), str(line_number))
        if record_id in seen_ids:
            skipped.append(SkippedFile(where, f"duplicate id {record_id!r} (the first one is kept)"))
            continue
        seen_ids.add(record_id)
        metadata = {k: v for k, v in record.items() if k not in _JSONL_TEXT_FIELDS}
        title = record.get("title") if isinstance(record.get("title"), str) else None
        documents.append(
            Document.from_text(
                _normalise_newlines(text),
                source=f"{base}#{record_id}",
                path=base,
                title=title or f"{path.stem} #{record_id}",
                kind="jsonl",
                metadata=metadata,
            )
        )
    if not documents:
        raise DocumentError("no usable lines (each needs a JSON object with a 'text' field)")
    return documents


def _document(path: Path, extracted: Extracted, kind: str, skipped: list[SkippedFile]) -> Document:
    """A document from what a :mod:`qa.ingest.formats` reader extracted; its notes become skip entries
    naming the part of the file (``book.xlsx:Sheet1!C3``)."""
    skipped.extend(SkippedFile(f"{path}:{where}", clean_inline(why)) for where, why in extracted.notes)
    return Document.from_text(
        extracted.text,
        source=source_name(path),
        title=extracted.title or None,
        kind=kind,
        sections=extracted.sections,
        pages=extracted.pages,
        metadata=extracted.metadata,
    )


def _load_delimited(path: Path, data: bytes, delimiter: str | None, skipped: list[SkippedFile]) -> list[Document]:
    if _looks_binary(data):
        raise DocumentError("binary content in a delimited text file")
    extracted = read_delimited(_normalise_newlines(_decode(data, path)), delimiter=delimiter)
    return [_document(path, extracted, "table", skipped)]


def load_file(path: str | os.PathLike[str], *, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> LoadResult:
    """Load one file into documents (a JSONL file may hold many). Never raises for a bad file:
    problems are reported in ``result.skipped``.

    >>> load_file("missing.txt").skipped[0].reason
    'no such file or folder'
    """
    result = LoadResult()
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if not path.exists():
            raise DocumentError("no such file or folder")
        if suffix not in SUPPORTED_SUFFIXES:
            supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise DocumentError(f"unsupported file type {suffix or '(no extension)'!r} (supported: {supported})")
        size = path.stat().st_size
        if size == 0:
            raise DocumentError("empty file")
        if size > max_file_mb * 1024 * 1024:
            raise DocumentError(
                f"too large ({size / 1024 / 1024:.1f} MB > {max_file_mb:g} MB); raise the limit with max_file_mb "
                "(CLI: --max-file-mb) or split the file"
            )
        try:
            data = path.read_bytes()
        except PermissionError:
            raise DocumentError("permission denied (not readable by this user)") from None
        except OSError as exc:
            raise DocumentError(f"unreadable ({exc.strerror or exc})") from None
        if suffix in TEXT_SUFFIXES:
            result.documents.extend(_load_text(path, data, "text"))
        elif suffix in MARKDOWN_SUFFIXES:
            result.documents.extend(_load_text(path, data, "markdown"))
        elif suffix in HTML_SUFFIXES:
            result.documents.extend(_load_html(path, data))
        elif suffix in PDF_SUFFIXES:
            result.documents.extend(_load_pdf(path, data, result.skipped))
        elif suffix in PACKAGE_READERS:
            reader, kind = PACKAGE_READERS[suffix]
            result.documents.append(_document(path, reader(data), kind, result.skipped))
        elif suffix in DELIMITED_SUFFIXES:
            result.documents.extend(_load_delimited(path, data, DELIMITED_SUFFIXES[suffix], result.skipped))
        else:
            result.documents.extend(_load_jsonl(path, data, result.skipped))
    except DocumentError as exc:
        result.skipped.append(SkippedFile(str(path), clean_inline(str(exc))))  # one line, whatever a library said
    except RecursionError:
        result.skipped.append(SkippedFile(str(path), "too deeply nested to parse"))
    return result


def load_documents(
    paths: Iterable[str | os.PathLike[str]],
    *,
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    known: Mapping[str, FileRecord] | None = None,
    progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load every supported file under ``paths`` (files or folders, recursively).

    ``known`` maps source paths to what an index recorded of them: a file with the same size and
    modification time is not read again (it is listed in ``unchanged_files``). ``progress``
    receives a :class:`~qa.progress.Progress` record as each file is read.

    >>> result = load_documents(["no/such/folder"])
    >>> result.documents, str(result.skipped[0])
    ([], 'no/such/folder: no such file or folder')
    """
    result = LoadResult()
    known = known or {}
    found = list(iter_files(paths))  # the walk is quick; listing first gives the progress a total
    readable = sum(1 for _, problem in found if not problem)
    tracker = StageTracker(progress, "reading", readable) if progress is not None and readable else None
    for path, problem in found:
        if problem:
            result.skipped.append(SkippedFile(str(path), problem))
            continue
        if tracker is not None:
            tracker.working_on(path.name)
        key = source_name(path)
        try:
            stat = path.stat()
        except OSError:
            stat = None
        record = known.get(key)
        if stat is not None and record is not None and not record.reread and record.same_file(stat.st_size, stat.st_mtime_ns):
            result.unchanged_files.append(key)
        else:
            loaded = load_file(path, max_file_mb=max_file_mb)
            result.documents.extend(loaded.documents)
            result.skipped.extend(loaded.skipped)
            if stat is not None:
                result.files.append(file_record(key, stat.st_size, stat.st_mtime_ns, loaded, str(path)))
        if tracker is not None:
            tracker.advance(item=path.name)
    return result


def file_record(key: str, size: int, mtime_ns: int, loaded: LoadResult, shown_path: str) -> FileRecord:
    """The record of one file from what :func:`load_file` made of it (``shown_path`` is the
    path its skip entries name)."""
    whole = [s.reason for s in loaded.skipped if s.path == shown_path]
    parts = [f"{s.path[len(shown_path) + 1:]}: {s.reason}" for s in loaded.skipped if s.path.startswith(shown_path + ":")]
    ocr_pages = sum(len(d.metadata.get("ocr_pages") or ()) for d in loaded.documents if isinstance(d.metadata.get("ocr_pages"), list))
    if loaded.documents:
        sources = tuple(d.source for d in loaded.documents)
        return FileRecord(key, size, mtime_ns, "indexed", sources=sources, notes=tuple(parts), ocr_pages=ocr_pages)
    return FileRecord(key, size, mtime_ns, "skipped", reason="; ".join(whole + parts) or "nothing to index")
