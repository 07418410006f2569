"""kill -9 a writer at random moments: the index always loads afterwards, as the old state or the
new one, and nothing that was indexed is lost."""

import random
import signal
import subprocess
import sys
import time

import pytest

from qa import QA
from tests.helpers import ROOT

TRIALS = 24

WRITER = """
import sys
sys.path.insert(0, {root!r})
from qa import QA
qa = QA.load({index!r})
print("loaded", flush=True)
qa.add([{docs!r}])
print("done", flush=True)
"""


def _state(index):
    qa = QA.load(index, verify="full")
    return frozenset(d.source for d in qa.documents), len(qa)


@pytest.mark.slow
def test_kill_9_during_writes_never_breaks_the_index(tmp_path, hashing_embedder):
    base = tmp_path / "base"
    base.mkdir()
    for i in range(30):
        (base / f"old{i}.txt").write_text(f"Old document {i} about harbours and tides number {i}. " * 20, encoding="utf-8")
    index = tmp_path / "index"
    QA.build([base], index_dir=index, embedder=hashing_embedder)
    old_state = _state(index)

    new = tmp_path / "new"
    new.mkdir()
    for i in range(60):
        (new / f"new{i}.txt").write_text(f"New document {i} about lighthouses and storms number {i}. " * 40, encoding="utf-8")

    script = WRITER.format(root=str(ROOT), index=str(index), docs=str(new))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    duration = time.perf_counter() - started
    new_state = _state(index)
    assert new_state[0] > old_state[0]

    rng = random.Random(1234)
    outcomes = {"old": 0, "new": 0}
    for trial in range(TRIALS):
        # Back to the old state: a rebuild from the old folder only (vectors are reused, so fast).
        QA.build([base], index_dir=index, embedder=hashing_embedder, rebuild=True)
        assert _state(index) == old_state
        process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stdout.readline()  # "loaded": the writer is about to start
        time.sleep(rng.uniform(0, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = _state(index)  # loads, with every checksum verified
        assert state in (old_state, new_state), f"trial {trial}: a state that is neither old nor new"
        outcomes["old" if state == old_state else "new"] += 1
        # The writer's lock died with it: the next writer gets in at once.
        QA.load(index, embedder=hashing_embedder).add([base])
    assert outcomes["old"] >= 1, outcomes  # some kills landed before the commit point
