"""A folder of damaged and odd files: each is skipped (or partly read) with a one-line reason,
the rest of the folder is indexed, and nothing indexed before is lost."""

import io

from pypdf import PdfWriter

from qa import QA
from tests.helpers import (
    docx_bytes,
    epub_bytes,
    png_bytes,
    pptx_bytes,
    with_cached_error,
    write,
    xlsx_bytes,
)


def _empty_pdf() -> bytes:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    return buffer.getvalue()


def test_bad_files_are_reported_one_line_each_and_nothing_indexed_is_lost(tmp_path, hashing_embedder):
    good = tmp_path / "good"
    write(good / "cats.txt", "Cats\n\nA group of cats is called a clowder.")
    qa = QA.build([good], index_dir=tmp_path / "index", embedder=hashing_embedder)

    bad = tmp_path / "bad"
    whole = docx_bytes([("h1", "Minutes"), ("p", "The committee met on Monday.")])
    write(bad / "truncated.docx", whole[: len(whole) // 3])
    write(bad / "locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    write(bad / "pictures.pptx", pptx_bytes([{"picture": png_bytes()}]))
    write(bad / "nospine.epub", epub_bytes(["<h1>One</h1><p>The ferry leaves at noon.</p>"], spine=False))
    write(bad / "nopages.pdf", _empty_pdf())
    write(bad / "wide.csv", ",".join(f"c{i}" for i in range(10**6)) + "\n" + ",".join("v" for _ in range(10**6)) + "\n")
    write(bad / "errors.xlsx", with_cached_error(xlsx_bytes({"Sheet": [["Item", "Cost"], ["Rope", 12]]}), "C2"))
    write(bad / "fine.md", "# Owls\n\nOwls hunt at night.\n")

    report = qa.add([bad])
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert "damaged Word document" in reasons["truncated.docx"]
    assert "password-protected" in reasons["locked.xlsx"]
    assert "no text on any of its 1 slides" in reasons["pictures.pptx"]
    assert "no reading order" in reasons["nospine.epub:spine"]
    assert reasons["nopages.pdf"] == "a PDF without pages"
    assert "1,000,000 columns" in reasons["wide.csv:row 1"]
    assert "formula error #DIV/0!" in reasons["errors.xlsx:Sheet!C2"]
    assert all("\n" not in reason for reason in reasons.values())

    indexed = sorted(d.source.rsplit("/", 1)[-1] for d in qa.documents)
    assert indexed == ["cats.txt", "errors.xlsx", "fine.md", "nospine.epub", "wide.csv"]
    assert any("clowder" in h.passage.text for h in qa.search("group of cats", k=3))
    states = {r.path.rsplit("/", 1)[-1]: r for r in qa.files()}
    assert states["locked.xlsx"].status == "skipped" and states["errors.xlsx"].notes
    reloaded = QA.load(tmp_path / "index", embedder=hashing_embedder)
    assert sorted(d.source.rsplit("/", 1)[-1] for d in reloaded.documents) == indexed
