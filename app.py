"""The chat app: a thin Gradio UI over :class:`qa.QA`.

    python app.py [--index DIR ...] [--collections DIR] [--docs PATH ... [--watch]] [--host 127.0.0.1] [--port 7860]

With no arguments it serves the bundled sample corpus (``data/sample``), building its index on
first start; several ``--index`` (or ``--collections``) serve several collections. Every UI
action is also a named API endpoint, callable with ``gradio_client``: ``/ask``
(Answer.to_dict()), ``/search``, ``/documents``, ``/upload``, ``/remove_document``,
``/collections`` and ``/chat`` (the chat turn itself), each taking ``collection=``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import hmac
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's queue keeps timing records of its latest events (10,000 by default) and, by default,
# rebuilds a pandas table of all of them after every event, for a monitoring page this app does
# not show: under 20 chat users that was ~6 % of the time the app held the GIL and grew with
# the run (bench/load.py). Summarised every 1,000 events, over the latest 1,000.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent
SAMPLE_DOCS = ROOT / "data" / "sample"
SAMPLE_QUESTIONS = ROOT / "data" / "sample_questions.jsonl"
DEFAULT_INDEX = ROOT / "data" / "indexes" / "sample"
UPLOAD_FOLDER = "uploads"
# The loaders' SUPPORTED_SUFFIXES, spelled out so that starting the app does not import qa (a
# test keeps the two equal).
UPLOAD_SUFFIXES = (
    ".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx", ".pptx", ".xlsx", ".csv", ".tsv",
    ".epub", ".eml", ".jsonl",
)  # fmt: skip
DEFAULT_MAX_UPLOAD_MB = 20.0
MIN_API_KEY_CHARS = 16
# About 400,000 words (a 1,500-page book): more from one upload is generated text, not reading,
# and would take hours to embed on a small machine.
DEFAULT_MAX_UPLOAD_PASSAGES = 5000
ERROR_PREFIX = "⚠️"
READ_ONLY_REFUSAL = f"{ERROR_PREFIX} this app is read-only (started with --read-only): documents cannot be added or removed here"

TOGGLE_THEME_JS = """() => {
    const dark = !document.body.classList.contains('dark');
    document.body.classList.toggle('dark', dark);
    localStorage.setItem('grounded-qa-theme', dark ? 'dark' : 'light');
}"""
RESTORE_THEME_JS = """() => {
    const theme = localStorage.getItem('grounded-qa-theme');
    if (theme) document.body.classList.toggle('dark', theme === 'dark');
}"""
# Gradio's slider clamps a typed value silently (15 becomes 10). This runs before Gradio's own
# handlers (capture phase): a value out of range, or a fraction where whole numbers are asked for,
# never reaches the slider; the setting keeps its value and #settings-note says why.
RANGE_GUARD_JS = """() => {
    if (window.qaRangeGuard) return;
    window.qaRangeGuard = true;
    const names = {'setting-k': 'k', 'setting-threshold': 'The abstention threshold'};
    const show = (text) => {
        const note = document.querySelector('#settings-note .qa-settings-note');
        if (note) note.textContent = text;
    };
    const guard = (event) => {
        const input = event.target;
        if (!(input instanceof HTMLInputElement) || input.type !== 'number') return;
        const box = input.closest('#setting-k, #setting-threshold');
        if (!box) return;
        const range = box.querySelector('input[type=range]');
        const typed = input.value.trim();
        const value = Number(typed), min = Number(input.min), max = Number(input.max);
        const whole = Number(input.step) >= 1;
        const refused = typed === '' || !Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value));
        if (!refused) {
            input.removeAttribute('aria-invalid');
            if (event.type !== 'blur') show('');
            return;
        }
        event.stopImmediatePropagation();
        if (event.type === 'blur' || event.type === 'change') input.value = range ? range.value : '';
        if (typed === '') return;  // still typing
        input.setAttribute('aria-invalid', 'true');
        const kept = range ? range.value : '';
        show(`${names[box.id]} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}; ${typed} was not used (it stays ${kept}).`);
    };
    for (const type of ['input', 'change', 'blur', 'keydown']) {
        document.addEventListener(type, (event) => {
            if (type === 'keydown' && event.key !== 'Enter') return;
            guard(event);
        }, true);
    }
}"""

CSS = """
.qa-sources { font-size: 0.92em; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin-bottom: 8px; }
/* Passages a declined answer came closest to: not sources, so drawn apart from them. */
.qa-near { border-style: dashed; }
.qa-nearest-label { margin-top: 10px; }
.qa-source-meta { color: var(--body-text-color-subdued); font-size: 0.9em; margin: 2px 0 6px; }
.qa-passage { white-space: pre-wrap; margin: 6px 0; }
.qa-doc-text { max-height: 420px; overflow-y: auto; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; }
.qa-cited { background: var(--color-accent-soft); }
.qa-page { position: relative; margin-bottom: 8px; border: 1px solid var(--border-color-primary); }
.qa-page img { width: 100%; display: block; }
.qa-page-mark { position: absolute; background: rgba(253, 230, 138, 0.45); outline: 2px solid #d97706; border-radius: 2px; }
/* Highlights set their own text colour: "inherit" gave near-white text on light yellow in dark mode. */
mark { background: #fde68a; color: #1c1917; padding: 0 2px; border-radius: 3px; }
.dark mark { background: #854d0e; color: #fef9c3; }
"""


def safe_upload_name(name: str) -> str:
    """A file name that is safe to create inside the uploads folder: no directories, no leading
    dots, only letters, digits, ``.``, ``-`` and ``_`` (other characters become ``_``).

    >>> safe_upload_name("../../etc/passwd.txt"), safe_upload_name("Ré sumé (v2).PDF")
    ('passwd.txt', 'R_sum_v2.pdf')
    """
    base = os.path.basename(name.replace("\\", "/"))
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()
    return f"{stem[:100]}.{suffix}" if suffix else stem[:100]


def store_uploads(paths: list[str], upload_dir: Path, *, max_mb: float) -> tuple[list[Path], list[str]]:
    """Copy uploaded temp files into ``upload_dir`` under sanitised names.

    Returns the stored paths and one reason per refused file. A name already taken by a file
    with different content gets a numbered variant, so an upload never overwrites another.
    """
    upload_dir.mkdir(parents=True, exist_ok=True)
    stored: list[Path] = []
    refused: list[str] = []
    for temp in paths:
        original = os.path.basename(str(temp))
        name = safe_upload_name(original)
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            refused.append(f"{original}: unsupported file type (supported: {', '.join(UPLOAD_SUFFIXES)})")
            continue
        size = os.path.getsize(temp)
        if size > max_mb * 1024 * 1024:
            refused.append(f"{original}: too large ({size / 1024 / 1024:.1f} MB; the limit is {max_mb:g} MB)")
            continue
        digest = hashlib.blake2b(Path(temp).read_bytes(), digest_size=8).hexdigest()
        target = upload_dir / name
        counter = 1
        while target.exists() and hashlib.blake2b(target.read_bytes(), digest_size=8).hexdigest() != digest:
            stem, dot, suffix = name.rpartition(".")
            target = upload_dir / f"{stem}-{counter}.{suffix}"
            counter += 1
        # Resolve both sides: the target must stay inside the uploads folder whatever the name.
        if upload_dir.resolve() not in target.resolve().parents:
            refused.append(f"{original}: invalid file name")
            continue
        if not target.exists():
            shutil.copyfile(temp, target)
        stored.append(target)
    return stored, refused


def check_port_free(host: str, port: int) -> None:
    """Exit with one line naming the options when ``host:port`` is taken."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise SystemExit(
            f"port {port} on {host} is not free ({exc.strerror or exc}): another app (a grounded-qa already running?) "
            "uses it; choose another with --port N (make run PORT=N, or QA_PORT=N)"
        ) from None


def sync_uploads(qa: Any, index_dir: Path, max_passages: int = DEFAULT_MAX_UPLOAD_PASSAGES) -> None:
    """Uploads stored but not indexed (the app stopped mid-upload) are indexed now (within the
    upload limits), and documents whose stored upload is gone are removed; both are said."""
    uploads = index_dir / UPLOAD_FOLDER
    if not uploads.is_dir():
        return
    report = qa.sync([uploads], max_file_passages=max_passages)
    if report.changed:
        print(f"{index_dir}: uploads synced: {report.summary()}", flush=True)
    for skipped in report.skipped:
        print(f"warning: upload not indexed: {skipped}", file=sys.stderr, flush=True)


def discard_temp_copies(files: list[Any] | None) -> None:
    """Delete Gradio's temporary copies of uploaded files (they stay downloadable from the server
    while they exist); files outside Gradio's upload folder are never touched."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()).resolve()
    for item in files or []:
        path = Path(item if isinstance(item, str) else getattr(item, "name", str(item))).resolve()
        if folder in path.parents:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # Gradio keeps each upload in a folder of its own


def load_examples(path: Path = SAMPLE_QUESTIONS, limit: int = 6) -> list[str]:
    if not path.exists():
        return []
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("evidence"):
                questions.append(row["question"])
    return questions[:limit]


def open_index(
    index_dir: Path, docs: list[Path] | None, *, rebuild_if_unreadable: bool = False, max_upload_passages: int = DEFAULT_MAX_UPLOAD_PASSAGES
) -> Any:
    """Load the index, or build it from ``docs`` when it does not exist yet.

    ``rebuild_if_unreadable`` is for indexes that are derived data only (the bundled sample): one
    left by an older version is rebuilt instead of refused. Uploads left unindexed are indexed
    within ``max_upload_passages`` per file.
    """
    from qa import QA, IndexFormatError

    if (index_dir / "manifest.json").exists():
        try:
            qa = QA.load(index_dir)
        except IndexFormatError as exc:
            if not (rebuild_if_unreadable and docs):
                raise
            print(f"rebuilding {index_dir}: {exc}", flush=True)
            return QA.build(docs, index_dir=index_dir, rebuild=True)
        if docs:
            # The index follows its --docs folders: files added, changed or deleted while the app
            # was not running, and files removed in the app in an earlier run, are synced now.
            # Files unchanged since they were indexed are not read again.
            from qa import InputError

            try:
                report = qa.sync(docs)
            except InputError as exc:  # a --docs folder that is not there (unmounted?)
                print(f"warning: {index_dir} not synced with {', '.join(map(str, docs))}: {exc}", file=sys.stderr, flush=True)
            else:
                if report.changed:
                    print(f"{index_dir}: synced with {', '.join(map(str, docs))}: {report.summary()}", flush=True)
        sync_uploads(qa, index_dir, max_upload_passages)
        return qa
    if not docs:
        raise SystemExit(
            f"no index at {index_dir}; build it with: qa index DOCS --index {index_dir} (or, for one index, start with --docs PATH), "
            "or run without --index for the sample"
        )
    print(f"building the index {index_dir} from {', '.join(map(str, docs))} ...", flush=True)
    qa = QA.build(docs, index_dir=index_dir)
    print(qa.last_report.summary(), flush=True)
    return qa


# What the page may load: only this app's own files. Typed or uploaded text that slips past the
# escaping (the chat shows the user's own question as Markdown) still cannot load anything from
# elsewhere: the browser refuses it.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


LOOPBACK_NAMES = frozenset(("127.0.0.1", "localhost", "::1"))


def _hostname(value: str) -> str:
    """The host name of a ``Host`` header or an origin URL, without port, lower-cased.

    >>> _hostname("Evil.Example:7871"), _hostname("http://127.0.0.1:7860"), _hostname("[::1]:80")
    ('evil.example', '127.0.0.1', '::1')
    """
    value = value.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1].split("/", 1)[0]
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class SecurityHeaders:
    """ASGI middleware in front of the app:

    * a request whose ``Host`` is not one of ``allowed_hosts`` is refused (421): a page on
      another site that rebinds its own name to this machine (DNS rebinding) cannot reach the
      app through it;
    * a request sent by a page of another origin (its ``Origin`` header) is refused (403), so no
      other site can call the API from a visitor's browser;
    * every response carries the Content-Security-Policy and ``nosniff``.
    """

    def __init__(self, app, allowed_hosts: frozenset[str] = LOOPBACK_NAMES) -> None:
        self.app = app
        self.allowed_hosts = frozenset(_hostname(h) for h in allowed_hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = _hostname(headers.get(b"host", ""))
        origin = headers.get(b"origin")
        if host not in self.allowed_hosts:
            return await self._refuse(scope, send, 421, f"host {host!r} is not served here; start the app with --allowed-host {host} to allow it")
        if origin and origin != "null" and _hostname(origin) not in self.allowed_hosts:
            return await self._refuse(scope, send, 403, f"requests from pages of {origin!r} are not allowed")
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                kept.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                kept.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": kept}
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(scope, send, status: int, text: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = text.encode()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def allowed_hosts(bind: str, extra: list[str]) -> frozenset[str]:
    """The names a request may use to reach the app: loopback, the bound address (unless it is
    a wildcard) and the ``--allowed-host`` names.

    >>> sorted(allowed_hosts("0.0.0.0", ["qa.lan"]))
    ['127.0.0.1', '::1', 'localhost', 'qa.lan']
    """
    names = set(LOOPBACK_NAMES) | {_hostname(h) for h in extra}
    if bind not in ("0.0.0.0", "::", ""):
        names.add(_hostname(bind))
    return frozenset(names)


def upload_limit_bytes(max_mb: float) -> int:
    """The upload cap in bytes, for the web server (a fractional MB is kept, not truncated to 0).

    >>> upload_limit_bytes(0.5), upload_limit_bytes(20)
    (524288, 20971520)
    """
    return max(1, round(max_mb * 1024 * 1024))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _positive_mb(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--max-upload-mb must be a number of MB, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"--max-upload-mb must be more than 0, got {text!r}")
    return value


def whole_number(value: Any) -> Any:
    """``value`` as an int when it is one (sliders send 5.0 for 5); anything else is returned
    as it is, for the library to refuse with its message ("k must be a positive integer")."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ChatApp:
    """The app's behaviour, separate from its layout so each action is a plain method that the UI
    and the API endpoints share."""

    def __init__(
        self,
        qa,
        *,
        max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
        max_upload_passages: int = DEFAULT_MAX_UPLOAD_PASSAGES,
        root: str | None = None,
        roots: list[Path] | None = None,
        read_only: bool = False,
    ) -> None:
        self.qa = qa
        self.max_upload_mb = max_upload_mb
        self.max_upload_passages = max_upload_passages
        self.read_only = read_only  # --read-only: no uploads, no removals
        self.root = root
        # Folders whose subfolders may be removed as a whole: the --docs folders (and the uploads).
        self.roots = [Path(r).resolve() for r in roots or []]
        self.watching = False  # the index follows its folders (--watch): the Documents tab refreshes itself
        self._shared_folder: tuple[Any, Path | None] = (None, None)  # (index contents, folder), see _document_folder

    @property
    def upload_dir(self) -> Path:
        if self.qa.index_dir is None:
            raise RuntimeError("uploads need an index directory")
        return Path(self.qa.index_dir) / UPLOAD_FOLDER

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: str | None = None,
        abstain_threshold: float | None = None,
        previous_questions: list[str] | None = None,
        filters: dict | None = None,
    ):
        """One answer; every input is checked before use, so a bad one (``question=None``,
        ``k="abc"``, ``k=True``, ``previous_questions="abc"``) is a clear :class:`qa.InputError`.
        ``mode`` and ``abstain_threshold`` default to the index's saved settings; ``filters``
        restricts the passages (:mod:`qa.retrieval.filters`)."""
        from qa import InputError
        from qa.retrieval.conversation import effective_query

        if not isinstance(question, str):
            raise InputError(f"the question must be text, got {question!r}")
        if previous_questions is None:
            previous_questions = []
        if not isinstance(previous_questions, (list, tuple)) or not all(isinstance(q, str) for q in previous_questions):
            raise InputError(f"previous_questions must be a list of the earlier questions (strings), got {previous_questions!r}")
        query = effective_query(question, list(previous_questions))
        overrides: dict[str, Any] = {} if mode is None else {"mode": mode}
        if abstain_threshold is not None:
            overrides["abstain_threshold"] = abstain_threshold  # converted and range-checked by AnswerSettings
        return self.qa.ask(question, k=whole_number(k), query=query, filters=filters, **overrides)

    def openai_answer(self, request):
        """The answer to an OpenAI-style chat request (:class:`qa.openai_api.ChatRequest`): the
        plain text with its ``[n]`` markers and a line per source, the citations (shown names,
        never server paths) and what was searched. A follow-up is completed with the latest
        answered user question."""
        from qa import QAError
        from qa.openai_api import GroundedReply, OpenAIError
        from qa.presentation import answer_as_text

        try:
            answer = self.ask(request.question, k=request.k, previous_questions=answered_questions(list(request.history)), filters=request.filters)
        except QAError as exc:
            raise OpenAIError(400, str(exc)) from exc
        return GroundedReply(
            text=answer_as_text(answer, name=self.display_name),
            citations=tuple(self.shown(answer.to_dict()).get("citations") or ()),
            grounding={"query": answer.query, "abstained": answer.abstained, "confidence": answer.confidence},
        )

    def document_filter(self, names: Any) -> dict | None:
        """The filter that keeps the documents chosen by their shown names (``None``: all of them).

        A name that is not an indexed document is refused (:class:`qa.InputError`)."""
        import glob

        from qa import InputError

        if names is None or names == [] or names == "":
            return None
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise InputError(f"documents must be a list of document names as listed, got {names!r}")
        known = self._names()
        missing = [n for n in names if n not in known]
        if missing:
            raise InputError(f"{missing[0]!r} is not an indexed document (removed?); choose the documents again")
        return {"source": [glob.escape(known[n]) for n in names]}

    def chat(self, message: str, history: list[dict], k: int, mode: str, abstain_threshold: float, documents: list[str] | None = None):
        """One chat turn: the reply (Markdown/HTML) and the Sources panel."""
        reply, panel, _, _ = self.chat_turn(message, history, k, mode, abstain_threshold, documents)
        return reply, panel

    def chat_turn(self, message: str, history: list[dict], k: int, mode: str, abstain_threshold: float, documents: list[str] | None = None):
        """:meth:`chat` plus the answer's citations (``Citation.to_dict()``), which the page keeps
        to open a citation in its document, and the answer as plain text (for "Copy").
        ``documents`` (shown names) restricts the answer to those documents."""
        from qa import QAError
        from qa.presentation import answer_as_text, chat_message, sources_html

        previous = answered_questions(history or [])
        try:
            filters = self.document_filter(documents)
            answer = self.ask(message, k=k, mode=mode, abstain_threshold=abstain_threshold, previous_questions=previous, filters=filters)
        except QAError as exc:
            from qa.presentation import inert_text

            return f"{ERROR_PREFIX} {inert_text(str(exc))}", sources_html(None), [], str(exc)
        reply = chat_message(answer, threshold=_float_or_none(abstain_threshold))
        return reply, sources_html(answer, name=self.display_name), [c.to_dict() for c in answer.citations], answer_as_text(answer, name=self.display_name)

    def citation_choices(self, citations: list[dict] | None) -> list[str]:
        """The labels of the dropdown that opens a citation in its document."""
        return [f"[{c['number']}] {c['title']} — {self.display_name(c['source'])}" for c in citations or []]

    def document_view(self, choice: str | None, citations: list[dict] | None) -> str:
        """The document of the chosen citation with the cited passage marked (escaped HTML)."""
        from qa import QAError
        from qa.presentation import document_view_html
        from qa.types import Citation

        if not choice or not citations:
            return ""
        number = choice.partition("]")[0].lstrip("[")
        chosen = next((c for c in citations if str(c.get("number")) == number), None)
        if chosen is None:
            return ""
        try:
            citation = Citation.from_dict(chosen)
            document = self.qa.document(citation.source)
        except (QAError, KeyError, TypeError, ValueError):
            return '<div class="qa-doc qa-empty">That document is no longer in the index.</div>'
        return self._page_html(document, citation) + document_view_html(document, citation, name=self.display_name(citation.source))

    def document_excerpt(self, source: str, start: Any = 0, end: Any = 0, context_chars: Any = 2000) -> dict:
        """Characters ``start``..``end`` of an indexed document (a citation's offsets) with up to
        ``context_chars`` on each side: ``{"source", "title", "text", "text_start", "start", "end"}``
        where ``text`` begins at document offset ``text_start``. ``source`` is the name clients see."""
        from qa import InputError

        names = self._names()
        if not isinstance(source, str) or source not in names:
            raise InputError(f"no indexed document {source!r}; use a source as /ask, /search or /documents give it")
        start, end, context_chars = (whole_number(v) for v in (start, end, context_chars))
        for name, value in (("start", start), ("end", end), ("context_chars", context_chars)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"{name} must be a whole number >= 0, got {value!r}")
        document = self.qa.document(names[source])
        if not start <= end <= len(document.text):
            raise InputError(f"start and end must satisfy 0 <= start <= end <= {len(document.text)}, got {start} and {end}")
        context_chars = min(context_chars, 50_000)
        text_start, text_end = max(0, start - context_chars), min(len(document.text), end + context_chars)
        return {
            "source": source,
            "title": document.title,
            "text": document.text[text_start:text_end],
            "text_start": text_start,
            "start": start,
            "end": end,
        }

    def _page_html(self, document: Any, citation: Any) -> str:
        """A cited PDF page as an image with the quoted sentence boxed ("" when it cannot be drawn:
        not a PDF, the file gone, or the ocr extra missing)."""
        from qa import page_view
        from qa.presentation import page_image_html

        if document.kind != "pdf" or not citation.page or not page_view.available() or not Path(document.path).is_file():
            return ""
        try:
            image = page_view.render_page(document.path, citation.page, citation.highlight)
        except Exception:  # a PDF PDFium cannot render: the text view below still shows the passage
            return ""
        return page_image_html(image.png, image.boxes, label=f"page {citation.page} of {self.display_name(document.source)}")

    def documents(self) -> list[list]:
        """The Documents tab's rows: every file seen, with what became of it."""
        from qa.presentation import files_table

        documents = {d.source: d for d in self.qa.documents}
        return files_table(self.qa.files(), documents, self.qa.passage_counts(), name=self.display_name)

    def serving_line(self) -> str:
        """What is loaded, under the page title (evaluated at each page load)."""
        from qa.presentation import inert_text

        documents, passages = len(self.qa.documents), len(self.qa)
        where = inert_text(Path(self.qa.index_dir).name) if self.qa.index_dir is not None else "memory"
        if not documents:
            return f"The index **{where}** is empty: add documents in the Documents tab, or start with `--docs PATH`."
        return f"Answering from **{documents} document{'s' if documents != 1 else ''}** ({passages} passages) in the index **{where}**."

    def files_summary(self) -> str:
        """The line above the table, e.g. "423 of 501 files indexed (78 skipped)"."""
        from qa.presentation import files_summary

        return files_summary(self.qa.files())

    def sources(self) -> list[str]:
        """The indexed documents by the names clients see (no absolute server paths)."""
        return list(self._names())

    def display_name(self, source: str) -> str:
        """A document's name for clients: relative to the document or upload folder holding it
        ("sample/notes.md", "uploads/report.pdf"), else to the app's working folder."""
        from qa.presentation import display_source

        path, sep, record = source.partition("#")
        file = Path(path)
        folder = self._document_folder()
        for root in self._remove_roots() + ([folder] if folder is not None else []):
            if root in file.parents:
                name = f"{root.name}/{file.relative_to(root).as_posix()}"
                break
        else:
            name = display_source(path, root=self.root)
        return name + (f"#{record}" if sep else "")

    def _document_folder(self) -> Path | None:
        """For an index served without ``--docs``: the folder holding all its documents (other
        than uploads), so that names are shown relative to it and never as server paths."""
        if self.roots:
            return None
        contents = getattr(self.qa, "_contents", None)
        cached_for, folder = self._shared_folder
        if cached_for is not contents or contents is None:
            uploads = self._uploads_resolved if self.qa.index_dir is not None else None
            folders = {str(Path(d.path).resolve().parent) for d in self.qa.documents}
            folders = {f for f in folders if uploads is None or not Path(f).is_relative_to(uploads)}
            common = Path(os.path.commonpath(sorted(folders))) if folders else None
            folder = common if common is not None and common.name else None  # never "/" itself
            self._shared_folder = (contents, folder)
        return folder

    def _names(self) -> dict[str, str]:
        """Client name -> source; a name two sources would share falls back to the source itself."""
        names: dict[str, list[str]] = {}
        for document in self.qa.documents:
            names.setdefault(self.display_name(document.source), []).append(document.source)
        out = {}
        for name, sources in names.items():
            for source in sources:
                out[name if len(sources) == 1 else source] = source
        return out

    def upload(self, files: list[str] | None, progress: Any = None) -> str:
        """Store uploaded files and index them; ``progress`` (a :class:`qa.progress.Progress`
        callback) follows the reading of each file and the embedding, with an ETA."""
        from qa.presentation import inert_text

        if self.read_only:
            return READ_ONLY_REFUSAL
        if not files:
            return "Choose one or more files to add."
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]
        stored, refused = store_uploads(paths, self.upload_dir, max_mb=self.max_upload_mb)
        lines = []
        if stored:
            report = self.qa.add(stored, progress=progress, max_file_passages=self.max_upload_passages)
            lines.append(f"**{inert_text(report.summary())}**")
            for source in report.added:
                lines.append(f"- added {inert_text(os.path.basename(source))}")
            for source in report.updated:
                lines.append(f"- updated {inert_text(os.path.basename(source))}")
            for source in report.unchanged:
                lines.append(f"- unchanged (already indexed) {inert_text(os.path.basename(source))}")
            for skipped in report.skipped:
                lines.append(f"- skipped {inert_text(os.path.basename(skipped.path))}: {inert_text(skipped.reason)}")
        for reason in refused:
            lines.append(f"- refused {inert_text(reason)}")
        return "\n".join(lines) or "Nothing was added."

    def _not_removable(self, source: str) -> str:
        from qa.presentation import inert_text

        places = ", ".join(r.name + "/" for r in self._remove_roots()) or "none"
        return (
            f"{ERROR_PREFIX} {inert_text(source)} is not an indexed document; choose one from the list, or give a folder "
            f"inside the document folders ({inert_text(places)})."
        )

    def _removal_target(self, source: Any) -> tuple[str | Path | None, str]:
        """What a removal of ``source`` (a name as listed, or a folder as shown) acts on: an
        indexed source (``str``) or a folder inside the app's roots (``Path``); or ``None`` and the
        message saying why nothing can be removed."""
        from qa.presentation import inert_text

        if self.read_only:
            return None, READ_ONLY_REFUSAL
        if source is None or isinstance(source, str) and not source.strip():
            return None, "Choose a document to remove."
        if not isinstance(source, str):
            return None, f"{ERROR_PREFIX} the document to remove must be given by its name as listed, got {inert_text(repr(source))}"
        names = self._names()
        if source in names or source in names.values():
            return names.get(source, source), ""
        folder = self._removable_folder(source)
        if folder is None:
            return None, self._not_removable(source)
        return folder, ""

    def removal_question(self, source: str | None) -> str:
        """What a removal of ``source`` would take away, as a question to confirm ("Remove
        **uploads/notes.md** and its 12 passages from the index?"), or why it cannot be done."""
        from qa.presentation import inert_text

        target, refusal = self._removal_target(source)
        if target is None:
            return refusal
        if isinstance(target, Path):
            targets = [d.source for d in self.qa.documents if Path(d.path).resolve().is_relative_to(target)]
            if not targets:
                return f"{ERROR_PREFIX} no indexed document lies in {inert_text(source)}."
        else:
            targets = [target]
        counts = self.qa.passage_counts()
        passages = sum(counts.get(t, 0) for t in targets)
        what = f"**{inert_text(source)}**" + (f" ({len(targets)} documents)" if len(targets) > 1 else "")
        return f"Remove {what} and its {passages} passage{'s' if passages != 1 else ''} from the index? This cannot be undone."

    def remove(self, source: str | None) -> str:
        """Remove one listed document, or every document of a folder inside the app's document or
        upload folders. Anything else — "/", ".", a pattern, a path outside those folders, a
        removal that would empty the index — is refused with a message and changes nothing."""
        from qa import QAError
        from qa.presentation import inert_text

        target, refusal = self._removal_target(source)
        if target is None:
            return refusal
        try:
            report = self.qa.remove(str(target))
        except QAError as exc:
            message = str(exc)
            if "leave the index empty" in message:
                message = "that would remove every document and leave nothing to answer from; add another document first"
            return f"{ERROR_PREFIX} {inert_text(message)}"
        self._delete_removed_uploads(report.removed)
        return f"Removed {inert_text(', '.join(os.path.basename(s) for s in report.removed))}; {report.passages} passages left."

    def shown(self, record: dict) -> dict:
        """An ``Answer``/``Hit`` dict as clients get it: every ``source`` by its shown name (no
        absolute server paths)."""
        def rename(item: Any) -> Any:
            if isinstance(item, dict):
                return {k: self.display_name(v) if k == "source" and isinstance(v, str) else rename(v) for k, v in item.items()}
            if isinstance(item, list):
                return [rename(v) for v in item]
            return item

        return rename(record)

    def _delete_removed_uploads(self, removed: list[str]) -> None:
        """Delete the stored copy of each removed upload (a file of the uploads folder none of
        whose documents is indexed any more): removing a document must not leave it on disk."""
        if self.qa.index_dir is None:
            return
        uploads = self.upload_dir.resolve()
        still_indexed = {d.path for d in self.qa.documents}
        for path in {source.partition("#")[0] for source in removed}:
            file = Path(path)
            if uploads in file.resolve().parents and path not in still_indexed:
                file.unlink(missing_ok=True)

    def _remove_roots(self) -> list[Path]:
        roots = list(self.roots)
        if self.qa.index_dir is not None:
            roots.append(self._uploads_resolved)
        return roots

    @functools.cached_property
    def _uploads_resolved(self) -> Path:
        return self.upload_dir.resolve()  # resolved once: every name shown to a client asks for it

    def _removable_folder(self, source: str) -> Path | None:
        """The folder ``source`` names — absolute, or as shown ("sample/sub") — when it lies in
        one of the app's document or upload folders; else ``None``."""
        folder = Path(source)
        if any(part in (".", "..") for part in folder.parts) or not folder.parts:
            return None
        roots = self._remove_roots()
        candidates = [folder] if folder.is_absolute() else [r / Path(*folder.parts[1:]) for r in roots if folder.parts[0] == r.name]
        for candidate in candidates:
            resolved = candidate.resolve()
            if any(resolved == root or root in resolved.parents for root in roots):
                return resolved
        return None


class Collections:
    """The indexes one app serves, each a collection named after its index directory; the first
    is the default. Every endpoint takes a ``collection`` name (``None`` or "" for the default),
    and the OpenAI-compatible API lists the collections as its models.

    >>> Collections({"docs": "app-a", "notes": "app-b"}).get("notes"), Collections({"docs": "app-a"}).get(None)
    ('app-b', 'app-a')
    """

    def __init__(self, apps: dict[str, Any]) -> None:
        if not apps:
            raise ValueError("an app serves at least one collection")
        self.apps = dict(apps)

    @property
    def names(self) -> list[str]:
        return list(self.apps)

    @property
    def default(self) -> str:
        return self.names[0]

    def get(self, name: Any) -> Any:
        """The :class:`ChatApp` of collection ``name``; an unknown name is a :class:`qa.InputError`
        listing the collections there are."""
        if name is None or name == "":
            return self.apps[self.default]
        if not isinstance(name, str) or name not in self.apps:
            from qa import InputError

            raise InputError(f"no collection {name!r}; this app serves: {', '.join(self.names)}")
        return self.apps[name]


def collection_dirs(indexes: list[Path] | None, collections: Path | None) -> list[Path]:
    """The index directories an app serves: each ``--index``, then every index directory (one
    holding a ``manifest.json``) inside ``--collections``, in name order. Names (the directories'
    names) must differ, since clients choose a collection by name.

    >>> [p.name for p in collection_dirs([Path("a/docs")], None)]
    ['docs']
    """
    dirs = list(indexes or [])
    if collections is not None:
        if not collections.is_dir():
            raise SystemExit(f"--collections {collections}: not a folder; give a folder holding index directories (made with: qa index DOCS --index {collections}/NAME)")
        found = sorted(p for p in collections.iterdir() if (p / "manifest.json").is_file())
        if not found:
            raise SystemExit(f"--collections {collections}: no index directory in it; make one with: qa index DOCS --index {collections}/NAME")
        dirs.extend(found)
    seen: dict[str, Path] = {}
    for path in dirs:
        if path.name in seen:
            raise SystemExit(f"two collections would be named {path.name!r} ({seen[path.name]} and {path}); collections are chosen by their folder name: rename one")
        seen[path.name] = path
    return dirs


def _restore_settings(saved: Any, defaults: Mapping[str, Any] | None = None) -> tuple[Any, Any, Any]:
    """The settings kept in the browser, each only if it is valid and differs from ``defaults``
    (what the controls show already); anything else is left as it is, so a setting changed while
    the page was loading is not overwritten by a restore that carries nothing new.

    >>> _restore_settings({"k": 3, "mode": "bogus", "threshold": 0.2}, {"k": 5, "mode": "hybrid", "threshold": 0.2})
    (3, {'__type__': 'update'}, {'__type__': 'update'})
    """
    import gradio as gr

    from qa.retrieval.hybrid import MODES

    saved = saved if isinstance(saved, dict) else {}
    defaults = defaults or {}
    k, mode, threshold = saved.get("k"), saved.get("mode"), saved.get("threshold")
    restored = (
        k if isinstance(k, (int, float)) and not isinstance(k, bool) and 1 <= k <= 10 else gr.update(),
        mode if mode in MODES else gr.update(),
        threshold if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and 0 <= threshold <= 1 else gr.update(),
    )
    return tuple(gr.update() if name in defaults and value == defaults[name] else value for name, value in zip(("k", "mode", "threshold"), restored))


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def answered_questions(history: list[dict]) -> list[str]:
    """The user's earlier questions that got an answer (oldest first): a follow-up is completed
    with the latest of them, never with a question the documents did not answer."""
    from qa.answers.answering import ABSTAIN_TEXT
    from qa.presentation import WITHHELD_PREFIX

    answered = []
    messages = [m for m in history if isinstance(m, dict)]
    for i, message in enumerate(messages):
        if message.get("role") != "user":
            continue
        reply = next((m for m in messages[i + 1 :] if m.get("role") in ("assistant", "user")), None)
        if reply is None or reply.get("role") != "assistant":
            continue
        text = _message_text(reply).lstrip()
        if text.startswith((ABSTAIN_TEXT, WITHHELD_PREFIX, ERROR_PREFIX)):
            continue
        answered.append(_message_text(message))
    return answered


def _message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


@contextlib.contextmanager
def _user_errors():
    """A bad request (empty question, unknown mode...) reaches API clients as its message."""
    import gradio as gr

    from qa import QAError

    try:
        yield
    except QAError as exc:
        raise gr.Error(str(exc)) from exc


def build_ui(apps: Collections | ChatApp, *, examples: list[str] | None = None):
    """The Gradio Blocks: chat with a Sources panel, documents, settings, and API endpoints;
    with several collections, a selector that every action follows (and a ``collection``
    parameter on every endpoint)."""
    import gradio as gr

    from qa import QAError
    from qa.presentation import inert_text, sources_html
    from qa.retrieval.hybrid import MODES

    if isinstance(apps, ChatApp):
        apps = Collections({Path(apps.qa.index_dir).name if apps.qa.index_dir is not None else "memory": apps})
    app = apps.get(None)  # the default collection gives the controls their first values
    settings = app.qa.answer_settings
    with gr.Blocks(title="grounded-qa", fill_height=True) as demo:
        gr.Markdown("### grounded-qa — answers only from your documents, with sources")
        several = len(apps.names) > 1  # then the chosen collection (restored on load) fills the panels
        with gr.Row(equal_height=False):
            collection = gr.Dropdown(
                choices=apps.names, value=apps.default, label="Collection", elem_id="collection", visible=several, scale=0, min_width=220
            )
            serving = gr.Markdown("" if several else app.serving_line, elem_id="serving")
            theme_switch = gr.Button("Dark / light", size="sm", scale=0, min_width=120, elem_id="theme-switch")
        # The theme follows the system (or ?__theme=dark); the switch overrides it, remembered by the browser.
        theme_switch.click(None, js=TOGGLE_THEME_JS, api_visibility="private")
        demo.load(None, js=RESTORE_THEME_JS, api_visibility="private")
        demo.load(None, js=RANGE_GUARD_JS, api_visibility="private")
        with gr.Tabs():
            with gr.Tab("Chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        with gr.Accordion("Settings", open=False):
                            k = gr.Slider(1, 10, value=5, step=1, label="Passages to cite, at most (k)", elem_id="setting-k")
                            mode = gr.Radio(list(MODES), value=app.qa.search_settings.mode, label="Retrieval (hybrid = keywords + meaning)", elem_id="setting-mode")
                            threshold = gr.Slider(0.0, 1.0, value=settings.abstain_threshold, step=0.01, label="Abstention threshold (higher = answers less often)", elem_id="setting-threshold")
                            gr.HTML('<div class="qa-settings-note" role="status"></div>', elem_id="settings-note")  # why a typed value was refused (RANGE_GUARD_JS)
                            picked = gr.Dropdown(
                                choices=app.sources(), value=[], multiselect=True, label="Answer only from these documents (all when none is chosen)",
                                elem_id="setting-documents",
                            )
                        sources = gr.HTML(sources_html(None), render=False, elem_id="sources-panel")
                        cited = gr.State([])
                        # The latest answer as plain text with its sources; a (hidden) component,
                        # not a State, because the copy runs in the browser.
                        copied = gr.Textbox(visible=False, render=False)
                        # Replaces Gradio's copy buttons, which copy the reply's HTML.
                        copy_button = gr.Button("Copy answer", elem_id="copy-answer", render=False)

                        # The parameter names are the /chat API's (they shadow the controls here only).
                        def chat(message, history, k, mode, abstain_threshold, documents=None, collection=None):
                            """Answer a chat message (from the chosen documents of the chosen collection, if any); returns the reply and the Sources panel."""
                            try:
                                chosen = apps.get(collection)
                            except QAError as exc:
                                return f"{ERROR_PREFIX} {inert_text(str(exc))}", sources_html(None), [], str(exc)
                            return chosen.chat_turn(message, history, k, mode, abstain_threshold, documents)

                        conversation = gr.ChatInterface(
                            chat,
                            chatbot=gr.Chatbot(
                                height=520,
                                sanitize_html=True,
                                allow_tags=False,
                                elem_id="chat",
                                placeholder="Ask a question about the indexed documents.",
                                show_label=False,  # the "Chatbot" label covered the first line of answers
                                buttons=[copy_button],
                            ),
                            textbox=gr.Textbox(placeholder="Ask a question…", elem_id="question", submit_btn=True),
                            additional_inputs=[k, mode, threshold, picked, collection],
                            additional_outputs=[sources, cited, copied],
                            examples=[[q] for q in examples] if examples else None,
                            run_examples_on_click=True,
                            api_name="chat",
                            fill_height=True,
                            save_history=True,  # conversations survive a reload (the browser's storage)
                        )
                        copy_button.click(None, inputs=copied, js="(text) => { navigator.clipboard.writeText(text || ''); }", api_visibility="private")
                        # The settings survive a reload too; what the browser hands back is checked
                        # like any input when it is used.
                        defaults = {"k": 5, "mode": app.qa.search_settings.mode, "threshold": settings.abstain_threshold}
                        saved = gr.BrowserState(dict(defaults), storage_key="grounded-qa-settings")
                        demo.load(
                            lambda stored: _restore_settings(stored, defaults), inputs=saved, outputs=[k, mode, threshold], api_visibility="private"
                        )
                        for control in (k, mode, threshold):
                            control.change(
                                lambda k_, mode_, threshold_: {"k": k_, "mode": mode_, "threshold": threshold_},
                                inputs=[k, mode, threshold], outputs=saved, api_visibility="private",
                            )
                    with gr.Column(scale=2):
                        gr.Markdown("#### Sources")
                        sources.render()
                        copied.render()
                        opened = gr.Dropdown(choices=[], value=None, label="Open a citation in its document", elem_id="open-citation")
                        document_view = gr.HTML("", elem_id="document-view")
                        cited.change(
                            lambda c, name: gr.Dropdown(choices=apps.get(name).citation_choices(c), value=None),
                            inputs=[cited, collection], outputs=opened, api_visibility="private",
                        )
                        opened.change(
                            lambda choice, c, name: apps.get(name).document_view(choice, c), inputs=[opened, cited, collection], outputs=document_view,
                            api_visibility="private",
                        ).then(
                            None, js="() => document.getElementById('qa-doc-highlight')?.scrollIntoView({block: 'center'})"
                        )
            with gr.Tab("Documents"):
                uploads = gr.File(
                    label=f"Add documents ({', '.join(UPLOAD_SUFFIXES)}; up to {app.max_upload_mb:g} MB each)",
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    elem_id="upload",
                    visible=not app.read_only,
                )
                add_button = gr.Button("Add to index", variant="primary", elem_id="add-button", visible=not app.read_only)
                status = gr.Markdown(elem_id="upload-status")
                totals = gr.Markdown(value=None if several else app.files_summary, elem_id="files-summary")
                table = gr.Dataframe(
                    headers=["file", "state", "passages", "title", "kind"],
                    value=None if several else app.documents,
                    interactive=False,
                    elem_id="documents",
                )
                with gr.Row():
                    choice = gr.Dropdown(
                        choices=app.sources(), value=None, label="Document to remove", elem_id="remove-choice",
                        allow_custom_value=True, visible=not app.read_only,
                    )
                    remove_button = gr.Button("Remove…", variant="stop", elem_id="remove-button", visible=not app.read_only)
                # Removal is two clicks: the second names what goes (the API call stays one).
                with gr.Row(visible=False, elem_id="remove-confirm") as confirm_row:
                    confirm_text = gr.Markdown(elem_id="remove-question")
                    confirm_button = gr.Button("Yes, remove it", variant="stop", elem_id="remove-yes")
                    cancel_button = gr.Button("Cancel", elem_id="remove-cancel")

                def refresh(chosen, name):
                    shown = apps.get(name)
                    names = shown.sources()
                    kept = [n for n in chosen or [] if n in names]  # a removed document leaves the picker
                    return shown.files_summary(), shown.documents(), gr.Dropdown(choices=names, value=None), gr.Dropdown(choices=names, value=kept)

                if any(a.watching for a in apps.apps.values()):  # files change on disk: show the synced state without a click
                    gr.Timer(5).tick(
                        lambda name: (apps.get(name).files_summary(), apps.get(name).documents()), inputs=collection, outputs=[totals, table],
                        api_visibility="private",
                    )

                def upload(files, collection=None, progress=gr.Progress()):
                    """Add the files to the index (of the chosen collection); returns what happened to each (Markdown)."""
                    try:
                        with _user_errors():
                            chosen = apps.get(collection)
                        return chosen.upload(files, progress=lambda p: progress(p.fraction, desc=p.describe()))
                    finally:
                        discard_temp_copies(files)

                # One build at a time, and the button stays disabled until it is done.
                add_button.click(lambda: gr.Button(interactive=False), outputs=add_button, queue=False, api_visibility="private").then(
                    upload, inputs=[uploads, collection], outputs=status, api_name="upload", show_progress="full", concurrency_limit=1
                ).then(refresh, inputs=[picked, collection], outputs=[totals, table, choice, picked], api_visibility="private").then(
                    lambda: gr.Button(interactive=True), outputs=add_button, api_visibility="private"
                )
                def ask_to_confirm(source, name):
                    question = apps.get(name).removal_question(source)
                    if question.startswith(ERROR_PREFIX) or question.startswith("Choose"):
                        return gr.Row(visible=False), "", question
                    return gr.Row(visible=True), question, ""

                remove_button.click(ask_to_confirm, inputs=[choice, collection], outputs=[confirm_row, confirm_text, status], api_visibility="private")
                cancel_button.click(lambda: (gr.Row(visible=False), "Nothing was removed."), outputs=[confirm_row, status], api_visibility="private")
                def remove_document(source, collection=None):
                    """Remove a document (by its name as listed) or a folder from the index of the chosen collection."""
                    with _user_errors():
                        chosen = apps.get(collection)
                    return chosen.remove(source)

                confirm_button.click(remove_document, inputs=[choice, collection], outputs=status, api_name="remove_document").then(
                    lambda: gr.Row(visible=False), outputs=confirm_row, api_visibility="private"
                ).then(refresh, inputs=[picked, collection], outputs=[totals, table, choice, picked], api_visibility="private")

        def panels(name):
            """What the page shows of collection ``name``: the serving line, the files summary and
            table, the removal choices and the (cleared) document picker."""
            shown = apps.get(name)
            names = shown.sources()
            return shown.serving_line(), shown.files_summary(), shown.documents(), gr.Dropdown(choices=names, value=None), gr.Dropdown(choices=names, value=[])

        def switch(name):
            """Everything shown follows the chosen collection; the conversation starts afresh, so
            that a follow-up is never completed with a question asked of another collection."""
            return (*panels(name), sources_html(None), [], None, [])

        # Only a choice made in the page starts a new conversation (.input); the collection
        # restored after a reload keeps the conversation restored with it.
        collection.input(
            switch, inputs=collection,
            outputs=[serving, totals, table, choice, picked, sources, cited, conversation.conversation_id, conversation.chatbot],
            api_visibility="private",
        ).then(lambda history: history, inputs=conversation.chatbot, outputs=conversation.chatbot_state, api_visibility="private")
        if several:
            remembered = gr.BrowserState(apps.default, storage_key="grounded-qa-collection")

            def restore(name):
                """The collection chosen before a reload (if it is still served) and its panels."""
                chosen = name if isinstance(name, str) and name in apps.apps else apps.default
                return (chosen, *panels(chosen))

            demo.load(restore, inputs=remembered, outputs=[collection, serving, totals, table, choice, picked], api_visibility="private")
            collection.change(lambda name: name, inputs=collection, outputs=remembered, api_visibility="private")

        def ask(
            question: str,
            k: int = 5,
            mode: str | None = None,
            abstain_threshold: float | None = None,
            previous_questions: list[str] | None = None,
            filters: dict | None = None,
            collection: str | None = None,
        ) -> dict:
            """Answer a question; returns Answer.to_dict() (text, citations, abstained, confidence, query).
            ``filters`` keeps only matching passages, e.g. {"kind": "pdf", "source": "reports/*"};
            ``collection`` names the index to answer from (see /collections; default: the first)."""
            with _user_errors():
                chosen = apps.get(collection)
                answer = chosen.ask(question, k=k, mode=mode, abstain_threshold=abstain_threshold, previous_questions=previous_questions, filters=filters)
                return chosen.shown(answer.to_dict())

        def search(question: str, k: int = 10, mode: str | None = None, filters: dict | None = None, collection: str | None = None) -> list[dict]:
            """The k best passages for a question, as Hit.to_dict() records (``filters`` and ``collection`` as in /ask)."""
            with _user_errors():
                chosen = apps.get(collection)
                overrides = {} if mode is None else {"mode": mode}  # else the index's saved mode
                return [chosen.shown(hit.to_dict()) for hit in chosen.qa.search(question, k=whole_number(k), filters=filters, **overrides)]

        def documents(collection: str | None = None) -> list[dict]:
            """The indexed documents (of a collection)."""
            with _user_errors():
                chosen = apps.get(collection)
                return [
                    {"source": chosen.display_name(d.source), "title": d.title, "kind": d.kind, "chars": len(d.text)} for d in chosen.qa.documents
                ]

        def files(collection: str | None = None) -> dict:
            """Every file seen (by a collection's index), indexed or skipped, with its state, and the totals."""
            from qa.presentation import file_state

            with _user_errors():
                chosen = apps.get(collection)
                counts = chosen.qa.passage_counts()
                return {
                    "summary": chosen.files_summary(),
                    "files": [
                        {"file": chosen.display_name(r.path), "status": r.status, "state": file_state(r, counts), "notes": list(r.notes)}
                        for r in chosen.qa.files()
                    ],
                }

        def document(source: str, start: int = 0, end: int = 0, context_chars: int = 2000, collection: str | None = None) -> dict:
            """A cited stretch of a document with the text around it (a citation's source, start, end)."""
            with _user_errors():
                return apps.get(collection).document_excerpt(source, start, end, context_chars)

        def collections() -> list[dict]:
            """The collections this app answers from (the first is the default), with their sizes."""
            return [{"name": name, "documents": len(a.qa.documents), "passages": len(a.qa)} for name, a in apps.apps.items()]

        gr.api(ask, api_name="ask")
        gr.api(search, api_name="search")
        gr.api(documents, api_name="documents")
        gr.api(files, api_name="files")
        gr.api(document, api_name="document")
        gr.api(collections, api_name="collections")
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chat with your documents (grounded, cited answers).")
    parser.add_argument("--index", type=Path, action="append", default=None, help="index directory (default: the bundled sample corpus); repeat it to serve several collections")
    parser.add_argument("--collections", type=Path, default=None, metavar="DIR", help="serve every index directory inside DIR as a collection (chosen by folder name)")
    parser.add_argument("--docs", type=Path, nargs="*", default=None, help="documents the index is built from and kept in sync with at start (one index only)")
    parser.add_argument("--read-only", action="store_true", help="serve questions only: no uploads, no removals (UI and API)")
    parser.add_argument("--watch", action="store_true", help="keep the index in sync with --docs while the app runs (pip install 'grounded-qa[watch]')")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", 7860)))
    parser.add_argument("--max-upload-mb", type=_positive_mb, default=DEFAULT_MAX_UPLOAD_MB, help="largest file accepted for upload, in MB (fractions work: 0.5)")
    parser.add_argument("--max-upload-passages", type=_positive_int, default=DEFAULT_MAX_UPLOAD_PASSAGES, metavar="N", help=f"skip an uploaded file that would make more than N passages (default {DEFAULT_MAX_UPLOAD_PASSAGES:,}, about 400,000 words)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME", help="a host name or address clients use to reach the app, besides loopback and --host (repeatable)")
    parser.add_argument("--auth", default=os.environ.get("QA_AUTH"), metavar="USER:PASSWORD", help="require this login for the UI and the API (or set QA_AUTH)")
    parser.add_argument("--api-key", default=os.environ.get("QA_API_KEY"), metavar="KEY", help=f"a key programs log in with, as the password of any user name (or set QA_API_KEY; at least {MIN_API_KEY_CHARS} characters)")
    args = parser.parse_args(argv)
    if args.docs is not None and len(args.index or []) + (args.collections is not None) > 1:
        parser.error("--docs builds and syncs one index; to serve several collections, build each first (qa index DOCS --index DIR) and give them with --index or --collections")
    if args.auth is not None and (":" not in args.auth or not args.auth.split(":", 1)[0] or not args.auth.split(":", 1)[1]):
        parser.error("--auth must be USER:PASSWORD, both non-empty")
    if args.api_key is not None and (len(args.api_key) < MIN_API_KEY_CHARS or args.api_key != args.api_key.strip()):
        parser.error(
            f"--api-key must be at least {MIN_API_KEY_CHARS} characters without spaces around it (got {len(args.api_key)}); "
            "make one with: python -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    return args


def login_check(auth: str | None, api_key: str | None) -> Callable[[str, str], bool] | None:
    """What the login accepts: the ``--auth`` user and password, and the ``--api-key`` as the
    password of any user name (so a program needs one secret: ``Client(url, auth=("api", key))``).
    ``None`` when neither is set: no login. Compared in constant time.

    >>> check = login_check("ann:pw", "k" * 16)
    >>> check("ann", "pw"), check("bob", "k" * 16), check("ann", "k"), login_check(None, None)
    (True, True, False, None)
    """
    if auth is None and api_key is None:
        return None
    user, password = auth.split(":", 1) if auth else (None, None)

    def check(name: str, secret: str) -> bool:
        name_bytes, secret_bytes = str(name).encode(), str(secret).encode()
        by_login = user is not None and hmac.compare_digest(name_bytes, user.encode()) & hmac.compare_digest(secret_bytes, password.encode())
        by_key = api_key is not None and hmac.compare_digest(secret_bytes, api_key.encode())
        return bool(by_login or by_key)

    return check


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_port_free(args.host, args.port)  # before the index loads: fail in a second, not after
    sample = args.index is None and args.collections is None
    index_dirs = [DEFAULT_INDEX] if sample else collection_dirs(args.index, args.collections)
    index_dir = index_dirs[0]
    docs = args.docs if args.docs is not None else ([SAMPLE_DOCS] if sample else None)
    qa = open_index(index_dir, docs, rebuild_if_unreadable=sample, max_upload_passages=args.max_upload_passages)
    examples = load_examples() if sample else []
    roots = [path if path.is_dir() else path.parent for path in (Path(d) for d in docs or [])]
    app = ChatApp(qa, max_upload_mb=args.max_upload_mb, max_upload_passages=args.max_upload_passages, roots=roots, read_only=args.read_only)
    apps = {index_dir.name: app}
    for other in index_dirs[1:]:
        apps[other.name] = ChatApp(
            open_index(other, None, max_upload_passages=args.max_upload_passages), max_upload_mb=args.max_upload_mb,
            max_upload_passages=args.max_upload_passages, read_only=args.read_only,
        )
    collections = Collections(apps)
    for served in collections.apps.values():
        # Users' questions are answered side by side (the queue's workers): one ONNX Runtime
        # thread each does more answers a second than two contending ones (bench/load.py).
        if hasattr(served.qa.embedder, "set_query_threads"):
            served.qa.embedder.set_query_threads(1)
        served.qa.warm_up()  # the model and the tables the first question needs load now (one model for all)
    if args.watch:
        from qa.ingest.watching import FolderWatcher

        if not docs:
            raise SystemExit("--watch keeps the index in sync with --docs folders: name them with --docs PATH")
        FolderWatcher(
            qa,
            docs,
            on_sync=lambda report: print(f"{index_dir}: synced: {report.summary()}", flush=True),
            on_error=lambda exc: print(f"warning: sync of {index_dir} failed: {exc}", file=sys.stderr, flush=True),
        ).start()
        app.watching = True
    demo = build_ui(collections, examples=examples)
    demo.queue(default_concurrency_limit=4)
    for name, served in collections.apps.items():
        print(f"grounded-qa: serving {served.qa.index_dir} ({len(served.qa.documents)} documents, {len(served.qa)} passages)", flush=True)
    hosts = allowed_hosts(args.host, args.allowed_host)
    if _hostname(args.host) not in LOOPBACK_NAMES:
        if args.auth is None and args.api_key is None:
            print(f"warning: --host {args.host} lets other machines connect and no --auth or --api-key is set: anyone who can reach this port can read and change the index", file=sys.stderr, flush=True)
        if args.host in ("0.0.0.0", "::") and not args.allowed_host:
            print("note: requests must name this machine by an allowed host (loopback only so far); add --allowed-host NAME for each name clients use", file=sys.stderr, flush=True)
    print(f"grounded-qa: open http://{args.host if ':' not in args.host else f'[{args.host}]'}:{args.port}/ in a browser (Ctrl-C to stop)", flush=True)
    models = ", ".join(repr(name) for name in collections.names)
    print(f"grounded-qa: OpenAI-compatible API at http://{args.host if ':' not in args.host else f'[{args.host}]'}:{args.port}/v1 (models {models})", flush=True)
    server = create_server(collections, demo, hosts=hosts, auth=args.auth, api_key=args.api_key, max_upload_mb=args.max_upload_mb)
    import uvicorn

    uvicorn.run(server, host=args.host, port=args.port, log_level="warning")


def create_server(apps: Collections, demo: Any, *, hosts: frozenset[str], auth: str | None, api_key: str | None, max_upload_mb: float):
    """The web server: the host and origin checks in front of everything, the OpenAI-compatible
    API under ``/v1`` (:mod:`qa.openai_api`, each collection served as a model of its name), and
    the Gradio app with its login (``--auth``, ``--api-key``) on every other path."""
    import gradio as gr
    from fastapi import FastAPI

    from qa.openai_api import router

    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.add_middleware(SecurityHeaders, allowed_hosts=hosts)
    server.include_router(
        router(
            lambda request: apps.get(request.model).openai_answer(request),
            models=apps.names,
            api_key=api_key,
            open_without_key=auth is None,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
    )
    return gr.mount_gradio_app(
        server,
        demo,
        path="/",
        auth=login_check(auth, api_key),
        show_error=True,
        max_file_size=upload_limit_bytes(max_upload_mb),
        css=CSS,
        footer_links=["api"],
    )

if __name__ == "__main__":
    main(sys.argv[1:])
