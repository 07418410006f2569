"""Run every benchmark in turn (``make bench``), each in its own process, with its defaults.

The pyfaq index (``data/indexes/pyfaq``, built by ``make eval-pyfaq``) is needed by the
abstention and scale benchmarks; without it they are skipped with a message. The 1M-passage scale
run needs ~20 GB of RAM and ~20 minutes; ``--quick`` stops the scale benchmark at 100k.

    python bench/run_all.py [--quick] [--only encode scale ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import ROOT

PYFAQ_INDEX = ROOT / "data" / "indexes" / "pyfaq"


def plan(quick: bool) -> dict[str, list[str]]:
    sizes = ["10000", "100000"] if quick else ["10000", "100000", "1000000"]
    return {
        "encode": ["encode.py", "--passages", "256", "--repeat", "3"],
        "cold_start": ["cold_start.py", "--runs", "3"],
        "load": ["load.py", "--users", "20", "--seconds", "60"],
        "abstention": ["abstention.py", "--index", str(PYFAQ_INDEX)],
        "held_out": ["held_out.py"],
        "scale": ["scale.py", "--index", str(PYFAQ_INDEX), "--sizes", *sizes],
        "ray_build": ["ray_build.py"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="scale benchmark up to 100k passages only")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    args = parser.parse_args()
    benchmarks = plan(args.quick)
    unknown = set(args.only or ()) - set(benchmarks)
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; choose from {sorted(benchmarks)}")
    failed = []
    for name, command in benchmarks.items():
        if args.only and name not in args.only:
            continue
        if "--index" in command and not (PYFAQ_INDEX / "manifest.json").exists():
            print(f"== {name}: skipped, no pyfaq index at {PYFAQ_INDEX} (build it with: make eval-pyfaq)", flush=True)
            continue
        print(f"== {name}: {' '.join(command)}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, *command], cwd=ROOT / "bench")
        print(f"== {name}: {'ok' if result.returncode == 0 else f'FAILED ({result.returncode})'} in {time.perf_counter() - started:.0f} s", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
