"""Progress of a long update (reading files, embedding texts), for people watching it.

The update path reports :class:`Progress` records to a callback; what shows them is the caller's
choice: :class:`TerminalBar` (one bar with an ETA on a terminal), :class:`PeriodicLines` (a plain
line every few seconds, for logs and pipes), or the web app's progress bar.

>>> seen = []
>>> tracker = StageTracker(seen.append, "reading", total=2)
>>> tracker.advance(1, item="a.pdf"); tracker.advance(1, item="b.pdf")
>>> [(p.stage, p.done, p.total, p.item) for p in seen]
[('reading', 0, 2, ''), ('reading', 1, 2, 'a.pdf'), ('reading', 2, 2, 'b.pdf')]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable, TextIO

STAGE_UNITS = {"reading": "files", "embedding": "texts"}


@dataclass(frozen=True)
class Progress:
    """Where a stage of an update stands: ``done`` of ``total`` units (files read, texts
    embedded), the ``item`` being worked on (a file name), seconds since the stage started."""

    stage: str
    done: int
    total: int
    item: str = ""
    elapsed: float = 0.0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far (None until something is done)."""
        if not self.done or self.elapsed <= 0:
            return None
        return self.elapsed / self.done * (self.total - self.done)

    def describe(self) -> str:
        """One line, e.g. ``"reading 3 of 10 files (report.pdf), about 40 s left"``.

        >>> Progress("embedding", 500, 2000, elapsed=10.0).describe()
        'embedding 500 of 2,000 texts, about 30 s left'
        """
        line = f"{self.stage} {self.done:,} of {self.total:,} {STAGE_UNITS.get(self.stage, 'items')}"
        if self.item:
            line += f" ({self.item})"
        eta = self.eta_seconds
        if eta is not None and self.done < self.total:
            line += f", about {format_duration(eta)} left"
        return line


def format_duration(seconds: float) -> str:
    """``"40 s"``, ``"3 min"``, ``"1 h 5 min"``.

    >>> format_duration(42.4), format_duration(185), format_duration(3900)
    ('42 s', '3 min', '1 h 5 min')
    """
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


ProgressCallback = Callable[[Progress], None]


class StageTracker:
    """Counts the units of one stage and reports each step to ``callback`` (reports at once
    that the stage started)."""

    def __init__(self, callback: ProgressCallback | None, stage: str, total: int) -> None:
        self.callback = callback
        self.stage = stage
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self._report("")

    def _report(self, item: str) -> None:
        if self.callback is not None:
            self.callback(Progress(self.stage, self.done, self.total, item, time.monotonic() - self.started))

    def advance(self, units: int = 1, *, item: str = "") -> None:
        self.done = min(self.total, self.done + units)
        self._report(item)

    def working_on(self, item: str) -> None:
        """Say which item is being worked on now (before it is done)."""
        self._report(item)


class TerminalBar:
    """One tqdm bar on a terminal, reused from stage to stage, with the rate and ETA."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._bar = None
        self._stage = ""

    def __call__(self, progress: Progress) -> None:
        from tqdm.auto import tqdm

        if progress.stage != self._stage or self._bar is None:
            self.close()
            self._stage = progress.stage
            self._bar = tqdm(
                total=progress.total, desc=progress.stage.capitalize(), unit=STAGE_UNITS.get(progress.stage, "item")[:-1],
                file=self.stream, dynamic_ncols=True,
            )
        self._bar.n = progress.done
        if progress.item:
            self._bar.set_postfix_str(progress.item[-40:], refresh=False)
        self._bar.refresh()
        if progress.done >= progress.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class PeriodicLines:
    """A plain line (no bar, no carriage returns) at most every ``every`` seconds, and when a stage
    ends: what a log file or CI output can hold.

    >>> import io
    >>> out = io.StringIO()
    >>> lines = PeriodicLines(out, every=3600)
    >>> for done in range(3): lines(Progress("reading", done, 2))
    >>> out.getvalue().splitlines()
    ['reading 0 of 2 files', 'reading 2 of 2 files']
    """

    def __init__(self, stream: TextIO | None = None, *, every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.every = every
        self._last = float("-inf")
        self._stage = ""

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        new_stage = progress.stage != self._stage
        finished = progress.done >= progress.total
        if new_stage or finished or now - self._last >= self.every:
            print(progress.describe(), file=self.stream, flush=True)
            self._last = now
            self._stage = progress.stage


def console_progress(stream: TextIO | None = None) -> ProgressCallback:
    """The display for a command line: a bar on a terminal, periodic lines otherwise."""
    stream = stream or sys.stderr
    return TerminalBar(stream) if stream.isatty() else PeriodicLines(stream)
