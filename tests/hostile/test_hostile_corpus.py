"""A folder of hostile files, generated here (no committed binaries): indexing completes, every
skipped file has a reason, and memory stays bounded."""

import io
import os
import subprocess
import sys
import zipfile

import pytest

from qa import QA
from qa.ingest.loaders import load_documents
from tests.helpers import pdf_bytes


def _pdf_bytes(text: str, *, encrypt: str | None = None) -> bytes:
    plain = pdf_bytes(text)
    if encrypt is None:
        return plain
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password=encrypt, owner_password=encrypt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "good.md").write_text("# Good\n\nThe lighthouse keeper logs every ship that passes.\n", encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "whitespace.txt").write_text("   \n\t\n", encoding="utf-8")
    (root / "binary.txt").write_bytes(os.urandom(4096) + b"\x00" * 100)
    (root / "invalid-utf8.txt").write_bytes("Caf\u00e9 au lait, cr\u00e8me br\u00fbl\u00e9e et d\u00e9j\u00e0 vu.".encode("latin-1") + b" \xff\xfe\xfd end.")
    (root / "mixed.txt").write_bytes("Grüße aus Köln. ".encode("utf-8") + "Smörgåsbord".encode("latin-1"))
    nested = "<div>" * 10_000 + "Deeply nested text survives." + "</div>" * 10_000
    (root / "nested.html").write_text(f"<html><body><main>{nested}</main></body></html>", encoding="utf-8")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * (50 * 1024 * 1024))
    (root / "bomb.txt").write_bytes(bomb.getvalue())
    pdf = _pdf_bytes("A PDF about tides and harbours.")
    (root / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    (root / "encrypted.pdf").write_bytes(_pdf_bytes("Secret tide tables.", encrypt="hunter2"))
    (root / "big.txt").write_bytes(b"lorem ipsum dolor sit amet " * (3 * 1024 * 1024 // 27 + 1))  # ~3 MB
    loop = root / "loop"
    loop.mkdir()
    (loop / "again").symlink_to(loop, target_is_directory=True)
    (root / "dangling.txt").symlink_to(root / "does-not-exist.txt")
    locked = root / "locked.txt"
    locked.write_text("You cannot read me.", encoding="utf-8")
    locked.chmod(0)
    yield root
    locked.chmod(0o644)


def test_hostile_folder_loads_with_a_reason_for_every_skip(hostile):
    result = load_documents([hostile], max_file_mb=2)
    titles = {d.title for d in result.documents}
    assert "Good" in titles
    texts = " ".join(d.text for d in result.documents)
    assert "Deeply nested text survives." in texts
    assert "Café au lait" in texts and "Grüße aus Köln" in texts
    reasons = {os.path.basename(s.path): s.reason for s in result.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["whitespace.txt"] == "empty (no text)"
    assert "binary" in reasons["binary.txt"]
    assert "binary" in reasons["bomb.txt"]
    assert "PDF" in reasons["truncated.pdf"]
    assert "encrypted" in reasons["encrypted.pdf"]
    assert "too large" in reasons["big.txt"]
    assert "broken link" in reasons["dangling.txt"] or "no such file" in reasons["dangling.txt"]
    if os.geteuid() != 0:  # root reads anything, so the permission case only exists for users
        assert "permission denied" in reasons["locked.txt"]
    assert all(reason for reason in reasons.values())


def test_indexing_a_hostile_folder_completes_and_answers(hostile, hashing_embedder, tmp_path):
    qa = QA.build([hostile], index_dir=tmp_path / "idx", embedder=hashing_embedder, max_file_mb=2)
    assert qa.last_report.skipped
    assert qa.search("lighthouse keeper ships", k=1)[0].passage.title == "Good"


def test_memory_stays_bounded_on_large_files(tmp_path, hashing_embedder):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as fh:  # 100 MB of text, written in pieces
        line = b"The quick brown fox jumps over the lazy dog near the river bank today.\n"
        for _ in range(100 * 1024 * 1024 // len(line)):
            fh.write(line)
    # In a fresh process, so the peak-RSS high-water mark is not an earlier test's: reading the
    # file into memory would raise it by 100 MB.
    script = (
        "import resource, sys\n"
        "from qa.ingest.loaders import load_documents\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "result = load_documents([sys.argv[1]])  # default cap: 64 MB\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(len(result.documents), (after - before) * 1024, result.skipped[0].reason if result.skipped else '')\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(big)], capture_output=True, text=True, check=True, timeout=120).stdout.split(maxsplit=2)
    documents, grown, reason = int(out[0]), int(out[1]), out[2]
    assert documents == 0 and "too large" in reason
    assert grown < 20 * 1024 * 1024  # the file was never read into memory


def test_file_disappearing_mid_scan_is_reported(tmp_path, monkeypatch):
    folder = tmp_path / "vanishing"
    folder.mkdir()
    (folder / "a.txt").write_text("Alpha text.", encoding="utf-8")
    (folder / "b.txt").write_text("Beta text.", encoding="utf-8")
    import qa.ingest.loaders as loaders

    real = loaders.load_file

    def load_after_delete(path, **kwargs):
        if os.path.basename(path) == "b.txt":
            os.remove(path)
        return real(path, **kwargs)

    monkeypatch.setattr(loaders, "load_file", load_after_delete)
    result = loaders.load_documents([folder])
    assert [d.title for d in result.documents] == ["a"]
    assert result.skipped[0].reason == "no such file or folder"
