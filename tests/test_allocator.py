import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.allocator import (
    active_allocator,
    jemalloc_library,
    preload_environment,
    requested_allocator,
    restore_preload,
)

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = Path("/usr/lib/libjemalloc.so.2")


def test_requested_allocator_defaults_to_jemalloc_and_accepts_system():
    assert requested_allocator({}) == "jemalloc"
    assert requested_allocator({"QA_ALLOCATOR": ""}) == "jemalloc"
    assert requested_allocator({"QA_ALLOCATOR": " System "}) == "system"


def test_an_unknown_allocator_is_named_in_the_error():
    with pytest.raises(ValueError, match="QA_ALLOCATOR='tcmalloc'.*jemalloc, system"):
        requested_allocator({"QA_ALLOCATOR": "tcmalloc"})


def test_preload_environment_prepends_jemalloc_and_remembers_the_original():
    env = preload_environment({"LD_PRELOAD": "/opt/other.so", "HOME": "/h"}, LIBRARY)
    assert env["LD_PRELOAD"] == f"{LIBRARY}:/opt/other.so"
    assert env["HOME"] == "/h"
    restore_preload(env)
    assert env == {"LD_PRELOAD": "/opt/other.so", "HOME": "/h"}


def test_restore_preload_removes_a_preload_that_was_not_there_before():
    env = preload_environment({}, LIBRARY)
    restore_preload(env)
    assert env == {}
    restore_preload(env)  # nothing to restore: unchanged
    assert env == {}


def test_preload_environment_never_executes_twice():
    once = preload_environment({}, LIBRARY)
    assert preload_environment(once, LIBRARY) is None
    assert preload_environment({"LD_PRELOAD": "/somewhere/libjemalloc.so.2"}, LIBRARY) is None


def test_jemalloc_library_is_found_in_the_first_directory_that_has_it(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert jemalloc_library([str(first), str(second)]) is None
    (second / "libjemalloc.so.2").write_bytes(b"")
    assert jemalloc_library([str(first), str(second)]) == second / "libjemalloc.so.2"


def test_active_allocator_reads_the_process_maps(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n")
    assert active_allocator(maps) == "system"
    maps.write_text(maps.read_text() + "7f02-7f03 r-xp 0 08:01 2 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n")
    assert active_allocator(maps) == "jemalloc"
    assert active_allocator(tmp_path / "absent") == "system"


PROBE = (
    "from qa.allocator import reexec_with_jemalloc, active_allocator; import os, sys; "
    "reexec_with_jemalloc(); print(active_allocator(), os.environ.get('LD_PRELOAD'), sys.argv[1:])"
)


def _probe(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "QA_ALLOCATOR")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--flag", "x y"], cwd=ROOT, env={**environ, **env},
        capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux") or jemalloc_library() is None, reason="needs Linux with libjemalloc2 (make test installs it)")
def test_a_program_executes_itself_again_under_jemalloc_with_its_arguments_and_environment():
    # The preload is gone from the environment afterwards, so the programs it starts are unaffected.
    assert _probe() == "jemalloc None ['--flag', 'x y']"
    assert _probe(LD_PRELOAD="") == "jemalloc None ['--flag', 'x y']"


def test_qa_allocator_system_keeps_the_systems_malloc():
    assert _probe(QA_ALLOCATOR="system") == "system None ['--flag', 'x y']"


def test_an_unknown_qa_allocator_stops_the_program_with_the_reason():
    environ = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**environ, "QA_ALLOCATOR": "tcmalloc"}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "QA_ALLOCATOR='tcmalloc' is not an allocator" in result.stderr


RELEASE_PROBE = """
import sys
from qa.allocator import active_allocator, release_free_memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
blocks = [bytes(2000) + bytes([i % 256]) for i in range(100_000)]  # 200 MB in malloc'd blocks
kept = blocks[::50]  # a few stay, scattered: the heap cannot simply shrink from its top
del blocks
before = rss()
released = release_free_memory()
print(active_allocator(), released, round(before - rss()))
"""


@pytest.mark.parametrize("allocator", ["system", "jemalloc"])
def test_release_free_memory_gives_freed_memory_back_at_once(allocator):
    if not sys.platform.startswith("linux"):
        pytest.skip("needs Linux")
    environ = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "QA_ALLOCATOR")}
    if allocator == "jemalloc":
        library = jemalloc_library()
        if library is None:
            pytest.skip("needs libjemalloc2 (make test installs it)")
        environ = preload_environment(environ, library)
    result = subprocess.run([sys.executable, "-c", RELEASE_PROBE], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=True)
    name, released, freed_mb = result.stdout.split()
    assert name == allocator and released == "True"
    assert int(freed_mb) > 100  # of the ~196 MB freed before the call
