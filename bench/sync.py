"""`qa sync` of a 500-file folder: unchanged, one file edited, one deleted — whole `qa` processes.

The folder mixes the formats people keep (text, Markdown, HTML, Word, CSV, e-mail). The index is
built once with the bundled model; each sync is then timed as a fresh `qa sync` process (import,
index load, walk, stat, write), median of several runs. The reference, measured in the same run,
is reading every file again (what an update without file records must do), in-process.

    python bench/sync.py [--files 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from common import ROOT, save, timed

sys.path.insert(0, str(ROOT))

from tests.helpers import docx_bytes  # noqa: E402  (the benchmark writes real files as the tests do)

QA = [sys.executable, "-m", "qa"]
TOPICS = ["harbour", "bridge", "library", "orchard", "observatory", "bakery", "railway", "museum", "vineyard", "lighthouse"]


def _sentence(i: int, j: int) -> str:
    topic = TOPICS[(i + j) % len(TOPICS)]
    return f"The {topic} number {i} opened in {1900 + (i * 7 + j) % 120} and serves {10 + (i * 13 + j) % 900} visitors a day."


def write_folder(folder: Path, files: int) -> None:
    kinds = ["txt", "md", "html", "docx", "csv", "eml"]
    for i in range(files):
        kind = kinds[i % len(kinds)]
        body = " ".join(_sentence(i, j) for j in range(6))
        path = folder / f"part{i % 10}" / f"note-{i:04d}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "txt":
            path.write_text(f"Note {i}\n\n{body}\n", encoding="utf-8")
        elif kind == "md":
            path.write_text(f"# Note {i}\n\n## Details\n\n{body}\n", encoding="utf-8")
        elif kind == "html":
            path.write_text(f"<html><body><main><h1>Note {i}</h1><p>{body}</p></main></body></html>", encoding="utf-8")
        elif kind == "docx":
            path.write_bytes(docx_bytes([("title", f"Note {i}"), ("p", body)]))
        elif kind == "csv":
            rows = "\n".join(f"{TOPICS[(i + j) % 10]} {i},{1900 + j},{10 + j}" for j in range(6))
            path.write_text(f"Place,Opened,Visitors\n{rows}\n", encoding="utf-8")
        else:
            message = EmailMessage()
            message["Subject"], message["From"] = f"Note {i}", "clerk@example.org"
            message.set_content(body)
            path.write_bytes(message.as_bytes())


def run(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(QA + list(args), cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="qa-sync-bench-"))
    try:
        folder, index = work / "docs", work / "index"
        write_folder(folder, args.files)
        build = run("index", str(folder), "--index", str(index), "-q")
        print(f"built the index of {args.files} files in {build:.0f} s")

        import statistics

        unchanged = [run("sync", str(folder), "--index", str(index), "-q") for _ in range(args.runs)]
        edited, deleted = [], []
        for r in range(args.runs):
            target = folder / "part3" / "note-0003.md"
            target.write_text(f"# Note 3\n\nEdited {r}: the bridge now serves {r} visitors.\n", encoding="utf-8")
            edited.append(run("sync", str(folder), "--index", str(index), "-q"))
            victim = sorted((folder / f"part{r + 4}").iterdir())[0]
            victim.unlink()
            deleted.append(run("sync", str(folder), "--index", str(index), "-q"))

        from qa.ingest.loaders import load_documents

        reread = timed(lambda: load_documents([folder]), repeat=args.runs, warmup=0)

        def summary(times):
            return {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": len(times)}

        results = {
            "files": args.files,
            "build_seconds": build,
            "sync_unchanged": summary(unchanged),
            "sync_one_edited": summary(edited),
            "sync_one_deleted": summary(deleted),
            "reference_read_every_file_in_process": reread,
        }
        for name in ("sync_unchanged", "sync_one_edited", "sync_one_deleted", "reference_read_every_file_in_process"):
            r = results[name]
            print(f"{name:40} {r['median']:.2f} s (min {r['min']:.2f}, max {r['max']:.2f})")
        save("sync", results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
