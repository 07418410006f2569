from qa.ingest.html_text import extract_html

INTRO = "<p>" + "Enough words of introduction to make this the main content of the page. " * 2 + "</p>"


def _text(body: str) -> list[str]:
    return extract_html(f"<html><body><main><h1>Page</h1>{INTRO}{body}</main></body></html>").text.split("\n\n")[2:]


def test_table_with_thead_reads_rows_with_column_names():
    blocks = _text(
        "<table><caption>Troops sent</caption><thead><tr><th>Country</th><th>Troops</th></tr></thead>"
        "<tbody><tr><td><p>Japan</p></td><td>1,500</td></tr><tr><td>Korea</td><td></td></tr></tbody></table>"
    )
    assert blocks == ["Troops sent", "Country: Japan; Troops: 1,500", "Country: Korea"]


def test_first_row_of_th_cells_is_a_header_without_thead():
    assert _text("<table><tr><th>Name</th><th>Role</th></tr><tr><td>Ada</td><td>Analyst</td></tr></table>") == [
        "Name: Ada; Role: Analyst"
    ]


def test_table_without_header_cells_is_read_cell_by_cell():
    assert _text("<table><tr><td>Name</td><td>Role</td></tr><tr><td>Ada</td><td>Analyst</td></tr></table>") == [
        "Name | Role",
        "Ada | Analyst",
    ]


def test_second_header_row_is_not_a_value_row_and_nested_table_rows_stay_inside_their_cell():
    blocks = _text(
        "<table><thead><tr><th>Part</th><th>Size</th></tr><tr><th>name</th><th>metres</th></tr></thead>"
        "<tr><td>Tower</td><td><table><tr><td>38</td></tr></table></td></tr></table>"
    )
    assert blocks == ["Part: Tower; Size: 38"]


def test_header_table_offsets_match_the_text():
    out = extract_html(f"<html><body><main><h1>Page</h1>{INTRO}<h2>Data</h2><table><tr><th>k</th><th>v</th></tr><tr><td>x</td><td>1</td></tr></table></main></body></html>")
    row = out.text.index("k: x; v: 1")
    assert [s.path for s in out.sections if s.start <= row < s.end][-1] == ("Page", "Data")
