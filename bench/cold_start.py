"""Cold start: seconds from `python app.py` (sample corpus, index already built) to the first
answer served over HTTP, median of several runs; plus `qa ask` from the command line.

    python bench/cold_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from common import ROOT, save


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_to_first_answer() -> float:
    from gradio_client import Client

    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    started = time.perf_counter()
    app = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                if app.poll() is not None:
                    raise SystemExit("the app exited")
                time.sleep(0.05)
        answer = Client(url, verbose=False).predict(question="Which countries joined the statement?", api_name="/ask")
        assert answer["citations"]
        return time.perf_counter() - started
    finally:
        app.terminate()
        app.wait(10)


def cli_ask() -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "qa", "ask", "Which countries joined the statement?", "--index", str(ROOT / "data" / "indexes" / "sample")],
        cwd=ROOT, check=True, capture_output=True, env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (ROOT / "data" / "indexes" / "sample" / "manifest.json").exists():
        raise SystemExit("build the sample index first: run `make run` (or `python app.py`) once")
    app_times = [app_to_first_answer() for _ in range(args.runs)]
    cli_times = [cli_ask() for _ in range(args.runs)]
    result = {
        "app_to_first_answer_s": {"median": statistics.median(app_times), "min": min(app_times), "max": max(app_times)},
        "cli_ask_s": {"median": statistics.median(cli_times), "min": min(cli_times), "max": max(cli_times)},
    }
    print(f"python app.py -> first answer: median {result['app_to_first_answer_s']['median']:.2f} s (min {min(app_times):.2f}, max {max(app_times):.2f})")
    print(f"qa ask (whole process):        median {result['cli_ask_s']['median']:.2f} s (min {min(cli_times):.2f}, max {max(cli_times):.2f})")
    save("cold_start", result)


if __name__ == "__main__":
    main()
