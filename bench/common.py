"""Helpers shared by the benchmarks: timing with medians, machine facts, JSON results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PYFAQ = SHARED / "evalsets" / "pyfaq"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def timed(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> dict[str, float]:
    """Run ``fn`` ``warmup`` + ``repeat`` times; seconds as median, min and max of the timed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": repeat}


def machine() -> dict[str, object]:
    info: dict[str, object] = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[1].split("\n", 1)[0]
        info["cpu_features"] = [f for f in ("avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if f" {f}" in flags]
        model = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        info["cpu"] = model[0].split(":", 1)[1].strip() if model else "?"
    except (OSError, IndexError):
        pass
    return info


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"), **data}, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path
