import json

import pytest

from qa.ingest.chunking import chunk_document
from qa.ingest.loaders import load_documents, load_file, source_name
from tests.helpers import PYFAQ_DIR, pdf_bytes, write


def test_text_file_title_from_first_line(tmp_path):
    path = write(tmp_path / "news.txt", "Big news today\nSomething happened. It was big.\n")
    [doc] = load_file(path).documents
    assert doc.title == "Big news today"
    assert doc.kind == "text"
    assert doc.source == source_name(path)
    assert doc.text.startswith("Big news today")


def test_text_file_title_falls_back_to_file_name(tmp_path):
    path = write(tmp_path / "notes.txt", "A sentence that ends with a period.\n")
    assert load_file(path).documents[0].title == "notes"


def test_document_id_is_a_content_hash(tmp_path):
    a = write(tmp_path / "a.txt", "Same text.")
    b = write(tmp_path / "b.txt", "Same text.")
    c = write(tmp_path / "c.txt", "Other text.")
    ids = [load_file(p).documents[0].id for p in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]


def test_markdown_sections_and_title(tmp_path):
    text = "# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n```\n# not a heading\n```\n\nSetext\n------\n\nMore.\n"
    [doc] = load_file(write(tmp_path / "g.md", text)).documents
    assert doc.title == "Guide"
    assert doc.section_at(text.index("Intro")) == ("Guide",)
    assert doc.section_at(text.index("Run it")) == ("Guide", "Install")
    assert doc.section_at(text.index("not a heading")) == ("Guide", "Install")
    assert doc.section_at(text.index("More.")) == ("Guide", "Setext")


def test_plain_text_headings_become_sections(tmp_path):
    text = (
        "Widget Licence\n==============\n\n"
        "                       TERMS AND CONDITIONS\n\n"
        "  1. Grant of Rights.\n\n  You may use the widget anywhere.\n\n"
        "  1.1 Limits on Use\n\n  Not on the moon.\n\n"
        "  2. Conveying Modified Versions.\n\n  Say what you changed.\n\n"
        "Steps\n-----\n\n1. Install it\n\n2. Run it\n\nDone.\n"
    )
    [doc] = load_file(write(tmp_path / "LICENSE.txt", text)).documents
    assert doc.title == "Widget Licence"
    # A line in capitals is a top-level heading, as one underlined with "=" is; numbers nest.
    assert doc.section_at(text.index("==")) == ("Widget Licence",)
    assert doc.section_at(text.index("anywhere")) == ("TERMS AND CONDITIONS", "1. Grant of Rights.")
    assert doc.section_at(text.index("moon")) == ("TERMS AND CONDITIONS", "1. Grant of Rights.", "1.1 Limits on Use")
    assert doc.section_at(text.index("Say what")) == ("TERMS AND CONDITIONS", "2. Conveying Modified Versions.")
    # Numbered steps are no titles; an underlined line is one.
    assert doc.section_at(text.index("Done.")) == ("TERMS AND CONDITIONS", "Steps")
    passages = chunk_document(doc)
    assert any(p.section == ("TERMS AND CONDITIONS", "1. Grant of Rights.") and "anywhere" in p.text for p in passages)
    # A news article (a title line, then one paragraph per line) has no headings to find.
    [article] = load_file(write(tmp_path / "news.txt", "Big news today\nSomething happened. It was big.\nNOTHING ELSE IS KNOWN YET\n")).documents
    assert article.sections == ()


def test_markdown_front_matter_title(tmp_path):
    [doc] = load_file(write(tmp_path / "p.md", "---\ntitle: \"Front\"\n---\nBody text.\n")).documents
    assert doc.title == "Front"


def test_html_keeps_main_content_and_headings(tmp_path):
    page = """<html><head><title>Site — Page</title><style>p{}</style><script>var x=1;</script></head>
    <body><header>Site header</header><nav>Menu A | Menu B</nav>
    <div class="sphinxsidebar">Sidebar links</div>
    <div role="main"><h1>Topic<a class="headerlink" href="#">¶</a></h1>
    <p>First <b>bold</b> paragraph
       with a line break.</p>
    <ul><li>item one</li><li>item two</li></ul>
    <h2>Details</h2><pre>code line 1
code line 2</pre>
    <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
    </div><footer>Copyright footer</footer></body></html>"""
    [doc] = load_file(write(tmp_path / "p.html", page)).documents
    assert doc.title == "Topic"
    for unwanted in ("Site header", "Menu A", "Sidebar links", "Copyright footer", "var x", "¶"):
        assert unwanted not in doc.text
    assert "First bold paragraph with a line break." in doc.text
    assert "- item one" in doc.text
    assert "code line 1\ncode line 2" in doc.text
    assert "a: 1; b: 2" in doc.text  # a header row names the values of the rows below it
    assert doc.section_at(doc.text.index("code line 1")) == ("Topic", "Details")
    assert doc.section_at(doc.text.index("First bold")) == ("Topic",)


def test_html_sectioning_elements_are_boundaries_even_without_a_heading(tmp_path):
    page = """<html><body><main><h1>FAQ</h1><section><h2>General</h2><p>Intro to the questions.</p>
    <section id="a"><p>Not as such. First answer text.</p><p>More of the first answer.</p></section>
    <div class="section" id="b"><p>Yes. Second answer text.</p></div>
    <section id="c"><h3>Headed part</h3><p>Third text.</p></section></section></main></body></html>"""
    [doc] = load_file(write(tmp_path / "faq.html", page)).documents
    starts = [s.start for s in doc.sections]
    for opener in ("Not as such.", "Yes. Second", "Headed part"):
        assert doc.text.index(opener) in starts, opener
        assert doc.starts_section(doc.text.index(opener))
    assert not doc.starts_section(doc.text.index("More of the first"))
    # A part without a heading keeps the heading path it sits under; a headed one adds its own.
    assert doc.section_at(doc.text.index("Yes. Second")) == ("FAQ", "General")
    assert doc.section_at(doc.text.index("Third text")) == ("FAQ", "General", "Headed part")
    # A heading that opens its sectioning element makes one boundary, not two.
    assert len(starts) == len(set(starts)) == 5
    passages = chunk_document(doc)
    assert not any("First answer" in p.text and "Second answer" in p.text for p in passages)


def test_html_sphinx_page_from_pyfaq_comes_out_clean():
    page = PYFAQ_DIR / "corpus" / "faq" / "general.html"
    if not page.exists():
        pytest.skip("the shared pyfaq corpus is not present beside the checkout")
    [doc] = load_file(page).documents
    assert doc.title == "General Python FAQ"
    assert "Python is an interpreted, interactive, object-oriented programming language." in doc.text
    for boilerplate in ("Navigation", "Table of Contents", "Previous topic", "Report a Bug", "Show Source", "©"):
        assert boilerplate not in doc.text, boilerplate
    assert doc.section_at(doc.text.index("Python is an interpreted")) == ("General Python FAQ", "General Information")


def test_pdf_pages(tmp_path):
    path = write(tmp_path / "two-pages.pdf", pdf_bytes("Page one talks about apples.", "Page two talks about pears."))
    [doc] = load_file(path).documents
    assert doc.kind == "pdf"
    assert doc.pages[0] == 0 and len(doc.pages) == 2
    assert doc.page_at(doc.text.index("apples")) == 1
    assert doc.page_at(doc.text.index("pears")) == 2


def test_words_hyphenated_at_a_line_end_of_a_pdf_are_joined_but_compounds_stay(tmp_path):
    page = (
        "The council publishes the infor-\n"
        "mation every spring, a well-\n"
        "known habit: the well-known report.\n"
        "Beekeepers read it with self-\n"
        "discipline, as self and discipline demand."
    )
    [doc] = load_file(write(tmp_path / "typeset.pdf", pdf_bytes(page))).documents
    assert "publishes the information every spring" in " ".join(doc.text.split())
    assert "infor-" not in doc.text
    assert "well-\nknown habit" in doc.text and "self-\ndiscipline" in doc.text


def test_jsonl_documents_and_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "a", "title": "Alpha", "text": "Alpha text.", "url": "http://x/a"}),
        "{not json",
        json.dumps({"id": "b", "text": ""}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"_id": "c", "text": "Gamma text."}),
        json.dumps({"id": "a", "text": "Duplicate id."}),
    ]
    path = write(tmp_path / "docs.jsonl", "\n".join(lines) + "\n")
    result = load_file(path)
    assert [d.title for d in result.documents] == ["Alpha", "docs #c"]
    assert result.documents[0].source == source_name(path) + "#a"
    assert result.documents[0].path == source_name(path)
    assert result.documents[0].metadata["url"] == "http://x/a"
    reasons = [s.reason for s in result.skipped]
    assert any("invalid JSON" in r for r in reasons)
    assert any("no 'text' field" in r for r in reasons)
    assert any("must be an object" in r for r in reasons)
    assert any("duplicate id 'a'" in r for r in reasons)
    assert all(":" in s.path for s in result.skipped)  # file:line


def test_bad_files_are_skipped_with_reasons(tmp_path):
    write(tmp_path / "ok.txt", "Fine text.")
    write(tmp_path / "empty.txt", "")
    write(tmp_path / "blank.md", "   \n\n  ")
    write(tmp_path / "binary.txt", b"\x00\x01\x02PK\x03\x04" * 100)
    write(tmp_path / "image.png", b"\x89PNG\r\n")
    write(tmp_path / "broken.pdf", b"%PDF-1.4 this is not really a pdf")
    write(tmp_path / ".hidden.txt", "ignored")
    result = load_documents([tmp_path, tmp_path / "missing.txt"])
    assert [d.title for d in result.documents] == ["ok"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in result.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.md"] == "empty (no text)"
    assert "binary" in reasons["binary.txt"]
    assert "unsupported file type '.png'" in reasons["image.png"]
    assert "PDF" in reasons["broken.pdf"]
    assert reasons["missing.txt"] == "no such file or folder"
    assert ".hidden.txt" not in reasons


def test_encodings_are_detected(tmp_path):
    latin = write(tmp_path / "latin.txt", "Café crème brûlée — déjà vu à Paris, où l'été est très chaud.".encode("cp1252"))
    utf16 = write(tmp_path / "utf16.txt", "Grüße aus Köln".encode("utf-16"))
    bom = write(tmp_path / "bom.txt", "\ufeffHello".encode("utf-8"))
    assert "brûlée" in load_file(latin).documents[0].text
    assert load_file(utf16).documents[0].text == "Grüße aus Köln"
    assert load_file(bom).documents[0].text == "Hello"


def test_size_cap(tmp_path):
    path = write(tmp_path / "big.txt", "word " * 300_000)
    result = load_file(path, max_file_mb=1)
    assert not result.documents
    assert "too large" in result.skipped[0].reason and "max_file_mb" in result.skipped[0].reason


def test_symlink_loop_does_not_hang(tmp_path):
    folder = tmp_path / "loop"
    write(folder / "a.txt", "Text A.")
    (folder / "self").symlink_to(folder, target_is_directory=True)
    result = load_documents([folder])
    assert [d.title for d in result.documents] == ["a"]


def test_pdf_placeholder_metadata_title_gives_way_to_the_first_line(tmp_path):
    from tests.helpers import table_pdf_bytes

    # reportlab, like many tools, writes "(anonymous)" as the title of an untitled PDF.
    data = table_pdf_bytes("Fleet register 2026", [["a", "b"], ["1", "2"]], "End of register.")
    [doc] = load_file(write(tmp_path / "fleet.pdf", data)).documents
    assert doc.title == "Fleet register 2026"
