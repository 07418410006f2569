"""Index building on Ray against the local path, side by side in one run.

Builds the same corpus (default: pyfaq's FAQ and library pages) with ``QA.build`` and with
``qa index --ray`` at 1 and 2 workers on a local Ray instance, and reports passages/s, the time per
stage and the overhead of Ray over the local path. Checks on the way that every build holds the
same vectors (the Ray path must not change results).

    python bench/ray_build.py [--corpus DIR ...] [--workers 1 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import PYFAQ, save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="+", default=[str(PYFAQ / "corpus" / "faq"), str(PYFAQ / "corpus" / "library" / "os.html")])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()

    from qa import QA
    from qa.index.distributed import build_with_ray

    work = Path(tempfile.mkdtemp(prefix="qa-ray-bench-"))
    rows, reference = [], None
    try:
        runs = [("local (QA.build)", None)] + [(f"Ray, {n} worker{'s' if n > 1 else ''}", n) for n in args.workers]
        for name, workers in runs:
            seconds, stages = [], []
            for attempt in range(args.repeat):
                target = work / f"index-{workers}-{attempt}"
                started = time.perf_counter()
                if workers is None:
                    qa = QA.build(args.corpus, index_dir=target, precision=args.precision)
                else:
                    qa = build_with_ray(args.corpus, index_dir=target, workers=workers, precision=args.precision)
                seconds.append(time.perf_counter() - started)
                stages.append(qa.last_report.timings)
                vectors = qa._contents.dense.vectors()
                if reference is None:
                    reference = vectors
                same = reference.shape == vectors.shape and float(np.abs(reference - vectors).max()) <= 1e-6
                passages = len(qa)
                sentences = len(qa._contents.sentences)
                shutil.rmtree(target, ignore_errors=True)
            median = statistics.median(seconds)
            row = {
                "path": name,
                "seconds_median": round(median, 1),
                "seconds_min": round(min(seconds), 1),
                "seconds_max": round(max(seconds), 1),
                "passages": passages,
                "sentences": sentences,
                "passages_per_s": round(passages / median, 1),
                "stages_s": stages[-1],
                "same_vectors_as_local": same,
            }
            rows.append(row)
            print(row, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    local = rows[0]["seconds_median"]
    for row in rows:
        row["vs_local"] = round(row["seconds_median"] / local, 2)
    print(f"\n{'path':22} {'seconds':>8} {'passages/s':>11} {'vs local':>9}  same vectors")
    for row in rows:
        print(f"{row['path']:22} {row['seconds_median']:8.1f} {row['passages_per_s']:11.1f} {row['vs_local']:8.2f}x  {row['same_vectors_as_local']}")
    save("ray_build", {"corpus": args.corpus, "rows": rows})


if __name__ == "__main__":
    main()
