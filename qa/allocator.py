"""The memory allocator a build runs under: jemalloc when the system has it.

With glibc's malloc a build's memory grows with the corpus although it keeps little: the model's
activations come in batches of ever different shapes, and the blocks they free fragment the heap
(3,000 pyfaq passages embedded 500 at a time grow RSS from 946 to 1,234 MB while keeping
nothing). jemalloc gives such blocks back; ``bench/build.py --memory`` measures both side by
side. A process gets its allocator when it starts, so ``qa index`` and ``qa sync`` execute
themselves again, once, with jemalloc preloaded, before anything is imported. Only builds do:
under jemalloc builds take 10-17 % longer and questions are answered 10-15 % slower (measured side
by side on pyfaq), a fair price for half the memory of a big build but not for a server that
mostly answers (its uploads are capped by ``--max-upload-passages``). The library comes from the system (Debian's ``libjemalloc2``, installed by
``make run`` / ``make test``); without it everything runs as before.

``QA_ALLOCATOR=system`` keeps glibc's malloc; ``QA_ALLOCATOR=jemalloc`` asks for jemalloc and
says so when it cannot be found. A program that calls :meth:`qa.QA.build` itself gets the same
effect by starting under ``LD_PRELOAD=<path of libjemalloc.so.2>``, or by calling
:func:`reexec_with_jemalloc` first thing in its entry point (``if __name__ == "__main__":``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ALLOCATOR_VARIABLE = "QA_ALLOCATOR"
ALLOCATORS = ("jemalloc", "system")
# Set on the re-executed process: what LD_PRELOAD was before, so children (OCR, browsers) get it back.
_ORIGINAL_PRELOAD = "QA_ALLOCATOR_ORIGINAL_LD_PRELOAD"
_LIBRARY_NAME = "libjemalloc.so.2"
_LIBRARY_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
)


def jemalloc_library(dirs: Sequence[str] = _LIBRARY_DIRS) -> Path | None:
    """The path of the system's ``libjemalloc.so.2``, or None when it is not installed."""
    for directory in dirs:
        candidate = Path(directory) / _LIBRARY_NAME
        if candidate.is_file():
            return candidate
    return None


def requested_allocator(environ: Mapping[str, str] = os.environ) -> str:
    """The allocator ``QA_ALLOCATOR`` asks for (``jemalloc`` unless it says ``system``).

    >>> requested_allocator({"QA_ALLOCATOR": "system"})
    'system'
    """
    value = environ.get(ALLOCATOR_VARIABLE, "").strip().lower() or "jemalloc"
    if value not in ALLOCATORS:
        raise ValueError(f"{ALLOCATOR_VARIABLE}={environ[ALLOCATOR_VARIABLE]!r} is not an allocator: use one of {', '.join(ALLOCATORS)}")
    return value


def preload_environment(environ: Mapping[str, str], library: Path) -> dict[str, str] | None:
    """The environment to execute again with, jemalloc preloaded; None when there is nothing to do
    (it is preloaded already, or this process was executed again once: never loop).

    >>> env = preload_environment({}, Path("/usr/lib/libjemalloc.so.2"))
    >>> env["LD_PRELOAD"]
    '/usr/lib/libjemalloc.so.2'
    >>> preload_environment(env, Path("/usr/lib/libjemalloc.so.2")) is None
    True
    """
    preload = environ.get("LD_PRELOAD", "")
    if _ORIGINAL_PRELOAD in environ or "jemalloc" in preload:
        return None
    env = dict(environ)
    env["LD_PRELOAD"] = f"{library}:{preload}" if preload else str(library)
    env[_ORIGINAL_PRELOAD] = preload
    return env


def restore_preload(environ: dict[str, str] = os.environ) -> None:  # type: ignore[assignment]
    """Give LD_PRELOAD back its value from before the re-execution, so the programs this process
    starts (Tesseract, a browser) run as they would have."""
    if _ORIGINAL_PRELOAD not in environ:
        return
    original = environ.pop(_ORIGINAL_PRELOAD)
    if original:
        environ["LD_PRELOAD"] = original
    else:
        environ.pop("LD_PRELOAD", None)


def active_allocator(maps: Path = Path("/proc/self/maps")) -> str:
    """``jemalloc`` when this process runs under it, else ``system``."""
    try:
        return "jemalloc" if _LIBRARY_NAME in maps.read_text(errors="replace") else "system"
    except OSError:
        return "system"


# mallctl's name for "every arena" (MALLCTL_ARENAS_ALL in jemalloc.h).
_ALL_ARENAS = 4096


def release_free_memory() -> bool:
    """Give the memory this process has freed back to the system now: jemalloc purges its
    arenas (it would over the next seconds), glibc's malloc trims its heaps (it would not).
    Returns whether an allocator was asked.

    A build calls it between embedding and assembling its index: the model's last batches freed
    tens of MB that would otherwise still count while the index is put together (a build's peak).
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        symbols = ctypes.CDLL(None)  # the process's own symbols, a preloaded jemalloc's included
    except OSError:
        return False
    mallctl = getattr(symbols, "mallctl", None)
    if mallctl is not None:
        return mallctl(f"arena.{_ALL_ARENAS}.purge".encode(), None, None, None, ctypes.c_size_t(0)) == 0
    trim = getattr(symbols, "malloc_trim", None)
    if trim is None:
        return False
    trim(ctypes.c_size_t(0))
    return True


def reexec_with_jemalloc() -> None:
    """Execute this program again with jemalloc preloaded, when the system has it and
    ``QA_ALLOCATOR`` does not say ``system``; otherwise return and carry on.

    Call it first thing in a program's entry point: the process is replaced, so nothing done
    before the call survives. In the re-executed process it only restores LD_PRELOAD.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        wanted = requested_allocator()
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    if _ORIGINAL_PRELOAD in os.environ:
        restore_preload()
        return
    if wanted == "system" or active_allocator() == "jemalloc":
        return
    library = jemalloc_library()
    if library is None:
        if ALLOCATOR_VARIABLE in os.environ:
            print(
                f"warning: {ALLOCATOR_VARIABLE}=jemalloc but {_LIBRARY_NAME} is not installed "
                "(Debian/Ubuntu: apt-get install libjemalloc2); using the system's malloc",
                file=sys.stderr,
            )
        return
    env = preload_environment(os.environ, library)
    if env is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
