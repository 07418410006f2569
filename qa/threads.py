"""One BLAS thread while a question is answered.

A question is encoded by torch (its own OpenMP threads) and then scored with numpy matmuls
(OpenBLAS threads). On a small machine the two pools spin-wait against each other: measured on 2
cores (bench/scale.py), encode + exact search took 24 ms with both pools at 2 threads against
12 ms with OpenBLAS at 1 thread, while the matmuls themselves are memory-bound and lose little.
So the query path runs inside :data:`single_blas_thread`; the process's own setting is restored
when the last concurrent query leaves it (other numpy work is never left at one thread).
"""

from __future__ import annotations

import threading
from typing import Any


class _SingleBlasThread:
    """A re-entrant, thread-safe ``with`` block that limits BLAS libraries to one thread.

    >>> with single_blas_thread:
    ...     pass
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter: Any = None
        self._controller: Any = None

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                try:
                    from threadpoolctl import ThreadpoolController
                except ImportError:  # pragma: no cover - a declared dependency; only speed is lost
                    self._limiter = None
                else:
                    # Created on first use: by then numpy, torch and faiss have loaded their pools.
                    self._controller = self._controller or ThreadpoolController()
                    self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None


single_blas_thread = _SingleBlasThread()
