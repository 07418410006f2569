"""Load: N concurrent chat users for D seconds against the running app on loopback, each asking
the sample questions in a loop through /chat (the same endpoint the chat UI calls). Reports
errors, throughput, latency percentiles, the app's RSS growth and how many cores the app and the
users themselves kept busy (all on one machine).

``--client http`` (the default) speaks Gradio's queue protocol as the browser does: each user
keeps one HTTP connection, joins the queue and reads the event stream, all users in one asyncio
loop — so the load generator costs little CPU next to the app. ``--client gradio`` uses one
``gradio_client.Client`` per user (a thread each, new connections per question): about 90 ms of
CPU per question on the client side, which on a 2-core machine leaves the app starved.

With ``--upload FILE`` one more client uploads FILE through /upload two seconds in, and the
latencies of the questions asked while it was being indexed are reported on their own: how
responsive chat stays while the machine embeds a document.

    python bench/load.py [--users 20] [--seconds 60] [--client http|gradio] [--upload FILE]
"""

from __future__ import annotations

import argparse
import asyncio
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
import uuid
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


def process_usage(pid: int) -> tuple[float, float]:
    """(resident memory in MB, CPU seconds used so far) of process ``pid`` (Linux /proc)."""
    rss_kb = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_kb / 1024, (int(fields[11]) + int(fields[12])) / ticks


def chat_request(client, question: str) -> tuple[dict, int]:
    """What gradio_client sends to join the queue for one /chat question, and where in its
    ``data`` the question sits (so other questions can be sent the same way)."""
    sent: list[dict] = []

    def capture(data, hash_data, protocol, request_headers):
        sent.append(dict(data))
        raise RuntimeError("captured")

    original = client.send_data
    client.send_data = capture
    try:
        client.predict(message=question, k=5, mode="hybrid", abstain_threshold=0.35, api_name="/chat")
    except Exception:
        pass
    finally:
        client.send_data = original
    payload = {k: v for k, v in sent[0].items() if k not in ("session_hash",)}
    return payload, list(payload["data"]).index(question)


async def http_users(url: str, payload: dict, position: int, questions: list[str], users: int, stop_at: float, record) -> None:
    """``users`` chat users in one event loop, each with one kept-alive connection: join the
    queue (``POST /gradio_api/queue/join``), read the event stream until the answer
    (``GET /gradio_api/queue/data``), ask the next question."""
    import httpx

    async def user(number: int) -> None:
        session = uuid.uuid4().hex
        i = number
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while time.time() < stop_at:
                question = questions[i % len(questions)]
                i += 1
                data = list(payload["data"])
                data[position] = question
                started = time.perf_counter()
                asked_at = time.time()
                try:
                    joined = await http.post("gradio_api/queue/join", json={**payload, "data": data, "session_hash": session})
                    joined.raise_for_status()
                    event_id = joined.json()["event_id"]
                    answer = None
                    async with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
                        async for line in stream.aiter_lines():
                            if not line.startswith("data:"):
                                continue
                            message = json.loads(line[5:])
                            if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                                if not message.get("success"):
                                    raise RuntimeError(f"the app failed: {message.get('output')}")
                                answer = message["output"]["data"][0]
                            if message.get("msg") == "close_stream":
                                break
                    assert answer, "no answer"
                    record(asked_at, time.perf_counter() - started, None)
                except Exception as exc:  # every failure counts
                    record(asked_at, None, f"{type(exc).__name__}: {exc}")

    await asyncio.gather(*(user(n) for n in range(users)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--upload", type=Path, default=None, help="a document to upload while the users ask")
    parser.add_argument("--client", choices=("http", "gradio"), default="http", help="how the users talk to the app (see above)")
    args = parser.parse_args()

    from gradio_client import Client, handle_file

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
        during_upload: list[tuple[float, float]] = []  # (asked at, seconds)
        upload_window: list[float] = []  # [start, end] of the upload, once it has run
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.time() + args.seconds

        def uploader() -> None:
            time.sleep(2)
            client = Client(url, verbose=False)
            started = time.time()
            try:
                status = client.predict(files=[handle_file(str(args.upload))], api_name="/upload")
                assert "added 1" in status, status
            except Exception as exc:
                with lock:
                    errors.append(f"upload: {type(exc).__name__}: {exc}")
            upload_window.extend([started, time.time()])

        def user(number: int) -> None:
            client = Client(url, verbose=False)
            i = number
            while time.time() < stop_at:
                question = questions[i % len(questions)]
                i += 1
                started = time.perf_counter()
                asked_at = time.time()
                try:
                    message, _sources, _plain = client.predict(message=question, k=5, mode="hybrid", abstain_threshold=0.35, api_name="/chat")
                    assert message
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
                        if args.upload is not None:
                            during_upload.append((asked_at, elapsed))
                except Exception as exc:  # every failure counts
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")

        def record(asked_at: float, elapsed: float | None, error: str | None) -> None:
            with lock:
                if error is not None:
                    errors.append(error)
                    return
                latencies.append(elapsed)
                if args.upload is not None:
                    during_upload.append((asked_at, elapsed))

        if args.client == "http":
            payload, position = chat_request(Client(url, verbose=False), questions[0])
            threads = [threading.Thread(target=lambda: asyncio.run(http_users(url, payload, position, questions, args.users, stop_at, record)))]
        else:
            threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
        if args.upload is not None:
            threads.append(threading.Thread(target=uploader))
        # One question first: what the server loads on its first request is not growth under load.
        Client(url, verbose=False).predict(message=questions[0], k=5, mode="hybrid", abstain_threshold=0.35, api_name="/chat")
        rss_before, cpu_before = process_usage(app.pid)
        _, client_cpu_before = process_usage(os.getpid())
        stop_at = time.time() + args.seconds  # the users read it when they start
        started = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - started
        rss_after, cpu_after = process_usage(app.pid)
        _, client_cpu_after = process_usage(os.getpid())
    finally:
        app.terminate()
        app.wait(10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)

    result = {
        "users": args.users,
        "client": args.client,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "throughput_per_s": len(latencies) / wall,
        # The app's own resident memory before and after the run, and the cores it kept busy.
        "app_rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1), "growth": round(rss_after - rss_before, 1)},
        "app_cores_busy": round((cpu_after - cpu_before) / wall, 2),
        "load_client_cores_busy": round((client_cpu_after - client_cpu_before) / wall, 2),  # the users' own work, on the same machine
        "latency_ms": {
            "p50": percentile(latencies, 50) * 1000,
            "p95": percentile(latencies, 95) * 1000,
            "max": max(latencies) * 1000 if latencies else float("nan"),
            "mean": statistics.mean(latencies) * 1000 if latencies else float("nan"),
        },
    }
    if args.upload is not None:
        start, end = upload_window if upload_window else (float("nan"), float("nan"))
        inside = [elapsed for asked_at, elapsed in during_upload if start <= asked_at <= end]
        result["upload"] = {
            "file": args.upload.name,
            "bytes": args.upload.stat().st_size,
            "seconds": round(end - start, 1),
            "questions_during": len(inside),
            "latency_ms_during": {"p50": percentile(inside, 50) * 1000, "p95": percentile(inside, 95) * 1000},
        }
    print(json.dumps(result, indent=1))
    save("load", result)


if __name__ == "__main__":
    main()
