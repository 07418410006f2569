"""Keep an index in step with folders as files change: ``qa index --watch``, ``app.py --watch``.

Changes are noticed through the operating system's file events (watchdog) and applied with
:meth:`qa.QA.sync` once the folder has been quiet for a moment, so that a file being copied or
saved in several writes is read once, complete. A sync reads only files whose size or
modification time changed, so a burst of events costs little.

>>> watcher = FolderWatcher(qa, ["docs/"], on_sync=print)   # doctest: +SKIP
>>> watcher.start(); ...; watcher.stop()                      # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Sequence

from ..errors import MissingDependencyError, QAError

WATCH_INSTALL = "pip install 'grounded-qa[watch]'"
# Quiet time before a sync: editors save in several steps (temp file, rename), copies of large
# files take a while; two seconds covers both without feeling slow.
DEFAULT_SETTLE_SECONDS = 2.0


def _watchdog():
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:
        raise MissingDependencyError(f"watching folders needs watchdog: {WATCH_INSTALL}") from None
    return Observer, FileSystemEventHandler


class FolderWatcher:
    """Sync ``qa`` with ``paths`` whenever files under them change.

    ``on_sync(report)`` is called after each sync that changed something, ``on_error(exc)`` when
    a sync fails (the watcher keeps going). Events inside the index directory and in hidden files
    are ignored (the index's own writes must not trigger syncs).
    """

    def __init__(
        self,
        qa: Any,
        paths: Sequence[str | os.PathLike[str]],
        *,
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        on_sync: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        max_file_mb: float | None = None,
    ) -> None:
        observer_class, handler_class = _watchdog()
        self.qa = qa
        self.paths = [os.path.abspath(os.fspath(p)) for p in paths]
        self.settle_seconds = settle_seconds
        self.on_sync = on_sync
        self.on_error = on_error
        self.max_file_mb = max_file_mb
        self._ignored = os.path.abspath(os.fspath(qa.index_dir)) if qa.index_dir is not None else None
        self._last_event = 0.0
        self._pending = threading.Event()
        self._stopping = threading.Event()
        self._observer = observer_class()
        watcher = self

        class _Handler(handler_class):
            def on_any_event(self, event) -> None:
                watcher._notice(event)

        handler = _Handler()
        for path in self.paths:
            folder = path if os.path.isdir(path) else os.path.dirname(path)
            self._observer.schedule(handler, folder, recursive=os.path.isdir(path))
        self._thread = threading.Thread(target=self._run, name="qa-folder-watcher", daemon=True)

    def _notice(self, event) -> None:
        if getattr(event, "event_type", "") in ("opened", "closed_no_write"):
            return  # reading a file changes nothing
        for raw in (getattr(event, "src_path", ""), getattr(event, "dest_path", "")):
            path = os.fsdecode(raw) if raw else ""
            if not path:
                continue
            if self._ignored and (path == self._ignored or path.startswith(self._ignored + os.sep)):
                continue
            if self._hidden(path):
                continue
            self._last_event = time.monotonic()
            self._pending.set()
            return

    def _hidden(self, path: str) -> bool:
        """Whether ``path`` is a hidden file or inside a hidden folder below a watched path
        (hidden files are never indexed; editors' swap files are hidden)."""
        for root in self.paths:
            folder = root if os.path.isdir(root) else os.path.dirname(root)
            if path == root or path.startswith(folder + os.sep):
                relative = os.path.relpath(path, folder)
                return any(part.startswith(".") for part in relative.split(os.sep))
        return False

    def start(self) -> "FolderWatcher":
        self._observer.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._pending.set()
        self._observer.stop()
        self._observer.join(timeout=5)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._pending.wait()
            if self._stopping.is_set():
                return
            quiet = time.monotonic() - self._last_event
            if quiet < self.settle_seconds:
                self._stopping.wait(self.settle_seconds - quiet)
                continue
            self._pending.clear()
            self.sync_now()

    def sync_now(self):
        """Sync at once (also what the watcher does after each quiet period); returns the report."""
        kwargs = {"max_file_mb": self.max_file_mb} if self.max_file_mb is not None else {}
        try:
            report = self.qa.sync(self.paths, **kwargs)
        except (QAError, OSError) as exc:  # reported; the watcher keeps going for the next change
            if self.on_error:
                self.on_error(exc)
            return None
        if report.changed or report.skipped:
            if self.on_sync:
                self.on_sync(report)
        return report

    def __enter__(self) -> "FolderWatcher":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
