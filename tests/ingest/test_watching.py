"""FolderWatcher: file events lead to one sync once the folder is quiet (real watchdog, real files)."""

import threading
import time

import pytest

from qa import QA
from qa.ingest.watching import FolderWatcher
from tests.helpers import write


def _wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_changes_are_synced_after_the_folder_settles_and_index_writes_are_ignored(tmp_path, hashing_embedder):
    docs = tmp_path / "docs"
    write(docs / "a.txt", "Alpha\n\nThe alpha file talks about apples.")
    # The index lives inside the watched folder: its own writes must not cause syncs.
    qa = QA.build([docs], index_dir=docs / "index", embedder=hashing_embedder)
    reports, errors = [], []
    done = threading.Event()

    def synced(report):
        reports.append(report)
        done.set()

    with FolderWatcher(qa, [docs], settle_seconds=0.3, on_sync=synced, on_error=errors.append):
        write(docs / "b.txt", "Beta\n\nThe beta file talks about bananas.")
        write(docs / ".b.txt.swp", "editor swap file")
        (docs / "a.txt").unlink()
        assert done.wait(15), "no sync after the changes"
        time.sleep(1.0)  # a sync's own index write must not trigger another sync
    assert len(reports) == 1, [r.summary() for r in reports]
    [report] = reports
    assert [s.rsplit("/", 1)[1] for s in report.added] == ["b.txt"]
    assert [s.rsplit("/", 1)[1] for s in report.removed] == ["a.txt"]
    assert not errors
    assert sorted(d.title for d in QA.load(docs / "index", embedder=hashing_embedder).documents) == ["Beta"]


def test_a_failed_sync_is_reported_and_the_watcher_keeps_going(tmp_path, hashing_embedder):
    docs = tmp_path / "docs"
    write(docs / "a.txt", "Alpha\n\nThe alpha file talks about apples.")
    qa = QA.build([docs], embedder=hashing_embedder)
    errors = []
    watcher = FolderWatcher(qa, [docs], settle_seconds=0.1, on_error=errors.append)
    watcher.paths.append(str(tmp_path / "gone"))  # a root that does not exist: sync refuses
    assert watcher.sync_now() is None and "does not exist" in str(errors[0])
    watcher.paths.pop()
    write(docs / "b.txt", "Beta\n\nThe beta file talks about bananas.")
    assert watcher.sync_now().added
