"""Each format answers a question whose evidence sits in a heading-scoped paragraph and one whose
evidence sits in a table row, with the evidence cited (real model, real files)."""

import pytest

from qa import QA
from qa.presentation import location_label
from tests.helpers import (
    docx_bytes,
    eml_bytes,
    epub_bytes,
    pptx_bytes,
    scanned_pdf_bytes,
    table_pdf_bytes,
    write,
    xlsx_bytes,
)

QUESTIONS = [
    # (file, question, evidence)
    ("report.docx", "When did the convoy leave Busan?", "3 March"),
    ("report.docx", "How many troops did Japan send?", "Country: Japan; Troops: 1,500"),
    ("deck.pptx", "How much did revenue grow in the third quarter?", "12 percent"),
    ("deck.pptx", "How many people work in the research team?", "Team: Research; People: 17"),
    ("budget.xlsx", "Who owns the tunnel project?", "Project: Tunnel; Cost: 800000; Owner: Ben"),
    ("budget.xlsx", "When does the bridge open?", "Milestone: Bridge opening; Date: 2027-05-01"),
    ("people.csv", "Where was Alan Turing born?", "Name: Alan Turing; Birthplace: Maida Vale"),
    ("people.csv", "What did Grace Hopper work on?", "Known for: COBOL compiler"),
    ("lighthouse.epub", "What was the keeper's dog called?", "The dog was named Storm"),
    ("lighthouse.epub", "How tall is the lighthouse tower?", "Height: 38 metres"),
    ("approval.eml", "Who approved the bridge budget?", "From: Ana Ruiz"),
    ("approval.eml", "When will the parking garage be built?", "Parking garage: autumn 2027"),
    ("fleet.pdf", "Which ships winter in Bergen?", "Both ships winter in Bergen"),
    ("fleet.pdf", "How long is the Borealis?", "Vessel: Borealis; Length: 64 m"),
]


def _write_corpus(folder):
    write(
        folder / "report.docx",
        docx_bytes(
            [
                ("title", "Harbour deployment report"),
                ("h1", "Logistics"),
                ("p", "The convoy left Busan on 3 March with forty trucks and two fuel tankers."),
                ("h1", "Troop contributions"),
                ("p", "Contributions by country are listed below."),
                ("table", [["Country", "Troops"], ["Japan", "1,500"], ["Korea", "900"]]),
            ]
        ),
    )
    write(
        folder / "deck.pptx",
        pptx_bytes(
            [
                {"title": "Quarterly results", "text": "Revenue grew by 12 percent in the third quarter."},
                {"title": "Headcount by team", "table": [["Team", "People"], ["Sales", "42"], ["Research", "17"]]},
            ]
        ),
    )
    write(
        folder / "budget.xlsx",
        xlsx_bytes(
            {
                "Projects": [["Project", "Cost", "Owner"], ["Bridge", 1200000, "Ana"], ["Tunnel", 800000.0, "Ben"]],
                "Milestones": [["Milestone", "Date"], ["Bridge opening", "2027-05-01"], ["Tunnel survey", "2026-09-15"]],
            }
        ),
    )
    write(
        folder / "people.csv",
        "Name,Birthplace,Known for\n"
        "Ada Lovelace,London,the first published computer program\n"
        "Alan Turing,Maida Vale,the Turing machine\n"
        "Grace Hopper,New York City,COBOL compiler\n",
    )
    write(
        folder / "lighthouse.epub",
        epub_bytes(
            [
                "<h1>The Keeper</h1><p>The keeper was called Elias and lived alone.</p><h2>His dog</h2><p>The dog was named Storm.</p>",
                "<h1>The Tower</h1><table><thead><tr><th>Part</th><th>Height</th></tr></thead>"
                "<tr><td>Tower</td><td>38 metres</td></tr><tr><td>Lantern</td><td>4 metres</td></tr></table>",
            ],
            title="The Lighthouse",
        ),
    )
    write(
        folder / "approval.eml",
        eml_bytes(
            "Hello council,\n\nI approved the bridge budget this morning.\n\nThe schedule:\n\nParking garage: autumn 2027\n",
            subject="Bridge budget approved",
            to="council@example.org",
        ),
    )
    write(folder / "harbour.pdf", scanned_pdf_bytes(pages_before=("Harbour notices for the summer season.",)))
    write(
        folder / "fleet.pdf",
        table_pdf_bytes(
            "The research fleet and its ships are listed below.",
            [["Vessel", "Length", "Home port"], ["Aurora", "92 m", "Bergen"], ["Borealis", "64 m", "Bergen"]],
            "Both ships winter in Bergen, where the shipyard maintains them.",
        ),
    )


@pytest.fixture(scope="module")
def formats_qa(tmp_path_factory, real_embedder):
    folder = tmp_path_factory.mktemp("formats")
    _write_corpus(folder)
    return QA.build([folder], embedder=real_embedder)


def test_every_format_is_indexed(formats_qa):
    assert sorted(d.kind for d in formats_qa.documents) == ["docx", "email", "epub", "pdf", "pdf", "pptx", "table", "xlsx"]
    assert not formats_qa.last_report.skipped


@pytest.mark.parametrize("file, question, evidence", QUESTIONS, ids=[f"{f}: {q}" for f, q, _ in QUESTIONS])
def test_each_format_answers_with_the_evidence_cited(formats_qa, file, question, evidence):
    answer = formats_qa.ask(question)
    assert not answer.abstained, f"declined ({answer.reason})"
    cited = [c for c in answer.citations if c.source.endswith(file)]
    assert any(evidence in c.text for c in cited), [c.highlight for c in answer.citations]


def test_a_citation_of_a_scanned_page_says_it_was_read_by_ocr(formats_qa):
    answer = formats_qa.ask("When is the annual regatta held?")
    [cited] = [c for c in answer.citations if c.source.endswith("harbour.pdf")]
    assert "second Sunday of August" in cited.text
    assert cited.ocr and cited.page == 2
    assert location_label(cited) == "page 2 (scanned, read by OCR)"
    text_page = formats_qa.ask("Which season are the harbour notices for?")
    [first_page] = [c for c in text_page.citations if c.source.endswith("harbour.pdf") and c.page == 1]
    assert not first_page.ocr and location_label(first_page) == "page 1"
