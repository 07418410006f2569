"""Metadata filters: which passages a question may be answered from.

A filter is a mapping from a key to what its value must be::

    {"kind": ["pdf", "docx"], "source": "reports/*.pdf", "page": {"from": 3, "to": 7},
     "modified": {"after": "2024-01-01"}, "author": "Ann"}

- ``source``, ``folder``, ``title``, ``section``: text; a pattern with ``*``, ``?`` or ``[...]``
  is a glob, anything else must match whole; case is ignored. ``source`` and ``folder`` also
  match at the end of the path, so ``"report.pdf"`` or ``"docs/*.md"`` need no leading folders.
- ``kind``: the document kind (``pdf``, ``html``, ``markdown``, ``text``, ``docx``, ``jsonl`` ...).
- ``page``: a page number, a list of them, or ``{"from": a, "to": b}`` (inclusive).
- ``modified``: the file's modification time, ``{"after": "2024-01-01", "before": "2025-01-01"}``
  (ISO dates or times; either bound may be left out).
- Any other key is a document's own metadata (a JSONL record's fields, a Markdown file's front
  matter, a mail's ``from``): equality (case ignored for text), or any of a list; a list field
  such as ``tags`` matches when one of its items does.

A list means any of its values; all keys must match. Filters are applied before the top ``k``
are taken, so a filtered search returns the best passages among those that match, never the
unfiltered results. An unknown key is refused with the list of known ones.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..types import SECTION_SEPARATOR, Document, FileRecord

BUILT_IN_KEYS = ("source", "folder", "kind", "title", "section", "page", "modified")
_PASSAGE_KEYS = ("section", "page")  # the rest are properties of the whole document


def known_keys(documents: Mapping[str, Document]) -> list[str]:
    """The keys a filter may use on an index with ``documents``: the built-in ones, then every
    metadata field some document has.

    >>> known_keys({"a": Document(id="a", source="a", path="a", title="A", text="x", metadata={"author": "Ann"})})
    ['source', 'folder', 'kind', 'title', 'section', 'page', 'modified', 'author']
    """
    extra = sorted({key for doc in documents.values() for key in doc.metadata} - set(BUILT_IN_KEYS))
    return list(BUILT_IN_KEYS) + extra


def _text_matcher(key: str, wanted: Any, *, path_like: bool) -> Callable[[str], bool]:
    values = wanted if isinstance(wanted, list) else [wanted]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise InputError(f"filter {key!r} takes text or a list of texts (globs allowed), got {wanted!r}")
    patterns = [v.casefold() for v in values]
    if path_like:  # "docs/*.md" also matches that folder anywhere in a path
        patterns += ["*/" + pattern.lstrip("/") for pattern in patterns]
    # One regular expression for all the globs: one match per text instead of one per glob.
    pattern = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))
    return lambda text: pattern.match(text.casefold()) is not None


def _page_matcher(wanted: Any) -> Callable[[int | None], bool]:
    if isinstance(wanted, dict):
        unknown = set(wanted) - {"from", "to"}
        low, high = wanted.get("from"), wanted.get("to")
        if unknown or not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (low, high)) or low is high is None:
            raise InputError(f"filter 'page' takes a page number, a list of them, or {{'from': a, 'to': b}}, got {wanted!r}")
        return lambda page: page is not None and (low is None or page >= low) and (high is None or page <= high)
    values = wanted if isinstance(wanted, list) else [wanted]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InputError(f"filter 'page' takes a page number, a list of them, or {{'from': a, 'to': b}}, got {wanted!r}")
    pages = set(values)
    return lambda page: page in pages


def _timestamp(value: Any) -> float:
    if not isinstance(value, str):
        raise InputError(f"filter 'modified' takes ISO dates such as '2024-01-31', got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"filter 'modified' takes ISO dates such as '2024-01-31', got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _modified_matcher(wanted: Any) -> Callable[[float | None], bool]:
    if not isinstance(wanted, dict) or not wanted or set(wanted) - {"after", "before"}:
        raise InputError(f"filter 'modified' takes {{'after': '2024-01-01', 'before': '2025-01-01'}} (either may be left out), got {wanted!r}")
    after = _timestamp(wanted["after"]) if "after" in wanted else None
    before = _timestamp(wanted["before"]) if "before" in wanted else None
    return lambda mtime: mtime is not None and (after is None or mtime >= after) and (before is None or mtime < before)


def _value_matcher(key: str, wanted: Any) -> Callable[[Any], bool]:
    values = wanted if isinstance(wanted, list) else [wanted]
    if not values or not all(isinstance(v, (str, int, float, bool)) for v in values):
        raise InputError(f"filter {key!r} takes a value or a list of values, got {wanted!r}")
    def same(value: Any, v: Any) -> bool:
        if isinstance(value, str) and isinstance(v, str):
            return value.casefold() == v.casefold()
        return value == v and type(value) is type(v)

    # A list field (front-matter tags) matches when any of its items does.
    return lambda value: any(same(item, v) for item in (value if isinstance(value, list) else [value]) for v in values)


def rows_by_source(sources: Sequence[str]) -> dict[str, np.ndarray]:
    """The rows of each source, given the source of every row (computed once per loaded index).

    >>> {s: r.tolist() for s, r in rows_by_source(["a", "b", "a"]).items()}
    {'a': [0, 2], 'b': [1]}
    """
    grouped: dict[str, list[int]] = {}
    for row, source in enumerate(sources):
        grouped.setdefault(source, []).append(row)
    return {source: np.asarray(rows, dtype=np.int64) for source, rows in grouped.items()}


def passage_mask(
    filters: Mapping[str, Any],
    *,
    documents: Mapping[str, Document],
    rows_of: Mapping[str, np.ndarray],
    size: int,
    sections: Callable[[int], tuple[str, ...]],
    pages: Callable[[int], int | None],
    files: Mapping[str, FileRecord],
) -> np.ndarray:
    """Which of the ``size`` rows (passages) match ``filters``, as a boolean array; ``rows_of``
    gives the rows of each source (:func:`rows_by_source`). Document-level keys are decided once
    per document; ``sections(row)`` and ``pages(row)`` are read only when a filter asks for them."""
    if not isinstance(filters, Mapping):
        raise InputError(f"filters must be a mapping of key to value, got {filters!r}")
    keys = known_keys(documents)
    unknown = [key for key in filters if key not in keys]
    if unknown:
        raise InputError(f"unknown filter key {unknown[0]!r}; this index knows: {', '.join(keys)}")
    document_tests: list[Callable[[Document], bool]] = []
    for key, wanted in filters.items():
        if key in _PASSAGE_KEYS:
            continue
        if key == "source":
            test = _text_matcher(key, wanted, path_like=True)
            document_tests.append(lambda doc, test=test: test(doc.source))
        elif key == "folder":
            test = _text_matcher(key, wanted, path_like=True)
            document_tests.append(lambda doc, test=test: test(os.path.dirname(doc.path) or "."))
        elif key == "title":
            test = _text_matcher(key, wanted, path_like=False)
            document_tests.append(lambda doc, test=test: test(doc.title))
        elif key == "kind":
            test = _text_matcher(key, wanted, path_like=False)
            document_tests.append(lambda doc, test=test: test(doc.kind))
        elif key == "modified":
            test = _modified_matcher(wanted)
            document_tests.append(lambda doc, test=test: test(files[doc.path].mtime_ns / 1e9 if doc.path in files else None))
        else:
            test = _value_matcher(key, wanted)
            document_tests.append(lambda doc, test=test, key=key: key in doc.metadata and test(doc.metadata[key]))
    mask = np.zeros(size, dtype=bool)
    for source, doc in documents.items():
        if source in rows_of and all(test(doc) for test in document_tests):
            mask[rows_of[source]] = True
    if "section" in filters:
        test_section = _text_matcher("section", filters["section"], path_like=False)
        for row in np.flatnonzero(mask):
            section = sections(int(row))
            # A section filter matches the heading path as shown ("FAQ > General") or any heading in it.
            if not (test_section(SECTION_SEPARATOR.join(section)) or any(test_section(heading) for heading in section)):
                mask[row] = False
    if "page" in filters:
        test_page = _page_matcher(filters["page"])
        for row in np.flatnonzero(mask):
            if not test_page(pages(int(row))):
                mask[row] = False
    return mask


def parse_filter_options(items: Sequence[str] | None) -> dict[str, Any] | None:
    """``--filter KEY=VALUE`` options as a filter (``None`` when there are none). A value with
    commas is a list; ``page=3-7`` a range; ``modified=2024-01-01..2024-07-01`` a date range
    (either side may be left out); whole numbers are numbers; a value in ``{...}`` or ``[...]``
    is read as JSON.

    >>> parse_filter_options(["kind=pdf,docx", "page=3-7", "modified=2024-01-01..", "year=2021", "source=*.md"])
    {'kind': ['pdf', 'docx'], 'page': {'from': 3, 'to': 7}, 'modified': {'after': '2024-01-01'}, 'year': 2021, 'source': '*.md'}
    """
    if not items:
        return None
    filters: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise InputError(f"--filter takes KEY=VALUE (e.g. kind=pdf, page=3-7, modified=2024-01-01..), got {item!r}")
        if key in filters:
            raise InputError(f"--filter {key} is given twice; list the values once: {key}=a,b")
        filters[key] = _option_value(key, raw)
    return filters


def _option_value(key: str, raw: str) -> Any:
    if raw[0] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"--filter {key}={raw} is not valid JSON ({exc})") from None
    if key == "modified":
        after, dots, before = raw.partition("..")
        if not dots:
            raise InputError(f"--filter modified takes a date range: 2024-01-01..2024-07-01, 2024-01-01.. or ..2024-07-01; got {raw!r}")
        return {k: v for k, v in (("after", after.strip()), ("before", before.strip())) if v}
    if key == "page" and re.fullmatch(r"\d*-\d*", raw) and raw != "-":
        low, high = raw.split("-")
        return {k: int(v) for k, v in (("from", low), ("to", high)) if v}
    values = [_scalar(v.strip()) for v in raw.split(",") if v.strip()]
    return values if len(values) > 1 else values[0]


def _scalar(text: str) -> Any:
    return int(text) if text.lstrip("-").isdigit() else text


def describe(filters: Mapping[str, Any]) -> str:
    """The filters as one line for messages.

    >>> describe({"kind": ["pdf", "docx"], "page": {"from": 2}})
    'kind in [pdf, docx], page {from: 2}'
    """
    def show(value: Any) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(show(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
        return str(value)

    return ", ".join(f"{key} in {show(v)}" if isinstance(v, list) else f"{key} {show(v)}" if isinstance(v, dict) else f"{key} = {show(v)}" for key, v in filters.items())
