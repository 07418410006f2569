"""Load: N concurrent chat users for D seconds against the running app on loopback, each with
its own gradio_client session asking the sample questions in a loop through /chat (the same
endpoint the chat UI calls). Reports errors, throughput and latency percentiles.

    python bench/load.py [--users 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import ROOT, save


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    from gradio_client import Client

    questions = [json.loads(line)["question"] for line in (ROOT / "data" / "sample_questions.jsonl").read_text().splitlines() if line.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="qa-load-"))
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    log = open(workdir / "app.log", "w")
    app = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--index", str(workdir / "index"), "--docs", str(ROOT / "data" / "sample"), "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline or app.poll() is not None:
                    raise SystemExit(f"the app did not start: {(workdir / 'app.log').read_text()}")
                time.sleep(0.5)

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.time() + args.seconds

        def user(number: int) -> None:
            client = Client(url, verbose=False)
            i = number
            while time.time() < stop_at:
                question = questions[i % len(questions)]
                i += 1
                started = time.perf_counter()
                try:
                    message, _sources, _plain = client.predict(message=question, k=5, mode="hybrid", abstain_threshold=0.35, api_name="/chat")
                    assert message
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
                except Exception as exc:  # every failure counts
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
        started = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - started
    finally:
        app.terminate()
        app.wait(10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)

    result = {
        "users": args.users,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "throughput_per_s": len(latencies) / wall,
        "latency_ms": {
            "p50": percentile(latencies, 50) * 1000,
            "p95": percentile(latencies, 95) * 1000,
            "max": max(latencies) * 1000 if latencies else float("nan"),
            "mean": statistics.mean(latencies) * 1000 if latencies else float("nan"),
        },
    }
    print(json.dumps(result, indent=1))
    save("load", result)


if __name__ == "__main__":
    main()
