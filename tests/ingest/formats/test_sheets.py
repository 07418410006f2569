import pytest

from qa.errors import DocumentError
from qa.ingest.formats.assembly import MAX_TABLE_COLUMNS
from qa.ingest.formats.sheets import read_delimited, read_xlsx
from qa.ingest.loaders import load_file
from tests.helpers import with_cached_error, write, xlsx_bytes

BOOK = {
    "Budget": [["Project", "Cost", "Owner"], ["Bridge", 1200000, "Ana"], ["Tunnel", 800000.0, "Ben"]],
    "Empty": [],
    "Milestones": [["Milestone", "Date"], ["Bridge opening", "2027-05-01"]],
}


def test_each_row_names_its_columns_and_each_sheet_is_a_section(tmp_path):
    [doc] = load_file(write(tmp_path / "budget.xlsx", xlsx_bytes(BOOK))).documents
    blocks = doc.text.split("\n\n")
    assert "Project: Tunnel; Cost: 800000; Owner: Ben" in blocks  # 800000.0 reads as people write it
    assert "Milestone: Bridge opening; Date: 2027-05-01" in blocks
    assert "Empty" not in blocks, "an empty sheet adds nothing"
    assert doc.section_at(doc.text.index("Project: Bridge")) == ("Budget",)
    assert doc.section_at(doc.text.index("Milestone: Bridge")) == ("Milestones",)
    assert doc.title == "budget", "a workbook is named by its file, not its first sheet"


def test_formula_error_is_left_out_and_reported_with_its_cell(tmp_path):
    data = with_cached_error(xlsx_bytes(BOOK), "D2")
    out = read_xlsx(data)
    assert ("Budget!D2", "formula error #DIV/0! (cell left out)") in out.notes
    assert "Project: Bridge; Cost: 1200000; Owner: Ana" in out.text.split("\n\n")
    result = load_file(write(tmp_path / "budget.xlsx", data))
    assert result.documents and any(s.path.endswith("budget.xlsx:Budget!D2") for s in result.skipped)


def test_password_protected_workbook_is_refused_with_the_fix():
    with pytest.raises(DocumentError, match="password-protected .*save it as .xlsx"):
        read_xlsx(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)


def test_workbook_without_values_is_refused():
    with pytest.raises(DocumentError, match="no filled cells"):
        read_xlsx(xlsx_bytes({"One": [], "Two": [[None, None]]}))


def test_csv_delimiter_is_detected_and_rows_keep_headers():
    out = read_delimited("Name;City;Born\nAda Lovelace;London;1815\nAlan Turing;Wilmslow;1912\n")
    assert out.text.split("\n\n") == ["Name: Ada Lovelace; City: London; Born: 1815", "Name: Alan Turing; City: Wilmslow; Born: 1912"]


def test_csv_with_a_million_columns_is_cut_and_says_so():
    out = read_delimited(",".join(f"h{i}" for i in range(10**6)) + "\n" + ",".join("v" for _ in range(10**6)) + "\n")
    assert out.text.count("; ") == MAX_TABLE_COLUMNS - 1
    assert any("1,000,000 columns" in why for _, why in out.notes)


def test_malformed_csv_keeps_the_rows_before_the_error():
    out = read_delimited('a,b\n1,2\n3,"' + "x" * (2 << 20) + "\n", delimiter=",")
    assert out.text == "a: 1; b: 2"
    assert any(where.startswith("line") and "malformed" in why for where, why in out.notes)


def test_tsv_file_loads(tmp_path):
    [doc] = load_file(write(tmp_path / "t.tsv", "Team\tPeople\nSales\t42\n")).documents
    assert doc.text == "Team: Sales; People: 42" and doc.kind == "table"


def test_an_xml_entity_bomb_in_a_workbook_is_refused_in_one_line(tmp_path):
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes({"S": [["a", "b"], ["c", "d"]]})))
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + ("&" + chr(97 + i) + ";") * 10 + '">' for i in range(8)
    ) + "]>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.decode().replace("<worksheet", bomb + "<worksheet", 1).replace("<t>a</t>", "<t>&i;</t>").encode()
            package.writestr(item, data)
    result = load_file(write(tmp_path / "bomb.xlsx", out.getvalue()))
    assert not result.documents
    assert "\n" not in result.skipped[0].reason and "a" * 1000 not in result.skipped[0].reason
