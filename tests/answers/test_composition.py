from qa.answers.composition import (
    Segment,
    is_code,
    is_label,
    opens_section,
    pieces,
    prose_words,
    render_quote,
    segments,
    trim_quote,
    widen_lead,
)

MARKDOWN = """# Honey

## The Honey Council Since 1921

The council sets the price of honey every spring. It meets in Paris.

To start the hive, run this:

```
hive --start <b>
hive --status
```

- first **item** with [a link](http://example.org)
- second item
"""


def _kinds(text):
    return [(s.kind, text[s.start : s.end]) for s in segments(text)]


def test_segments_see_headings_prose_code_and_list_items():
    kinds = _kinds(MARKDOWN)
    assert kinds[:3] == [("heading", "# Honey"), ("heading", "## The Honey Council Since 1921"), ("text", "The council sets the price of honey every spring. It meets in Paris.")]
    assert ("code", "hive --start <b>\nhive --status") in kinds
    assert [k for k in kinds if k[0] == "item"] == [("item", "first **item** with [a link](http://example.org)"), ("item", "second item")]


def test_segments_of_html_extracted_text():
    # HTML lists are extracted as a "-" line then the item; <pre> blocks keep their lines.
    text = "The following help:\n\n-\n\nNuitka (Cross-platform)\n\n-\n\nPyInstaller\n\nThis code:\n\n>>> x = 10\n>>> def bar():\n...     print(x)\n\nworks."
    kinds = _kinds(text)
    assert ("item", "Nuitka (Cross-platform)") in kinds and ("item", "PyInstaller") in kinds
    assert ("code", ">>> x = 10\n>>> def bar():\n...     print(x)") in kinds
    assert ("heading", "-") not in kinds and ("text", "-") not in kinds


def test_one_line_paragraphs_are_paragraphs():
    text = "NATO countries condemn the deployment – statement\nThe countries condemn it strongly today.\nThis is serious."
    assert [k for k, _ in _kinds(text)] == ["heading", "text", "text"]


def test_hard_wrapped_prose_stays_one_paragraph():
    line = "word " * 12
    text = "\n".join([line.strip()] * 5) + "."
    assert [k for k, _ in _kinds(text)] == ["text"]


def test_trim_quote_drops_headings_glued_to_a_sentence():
    start = MARKDOWN.index("## The Honey")
    end = MARKDOWN.index("spring.") + len("spring.")
    a, b = trim_quote(MARKDOWN, start, end)
    assert MARKDOWN[a:b] == "The council sets the price of honey every spring."
    assert trim_quote(MARKDOWN, 0, MARKDOWN.index("\n\nThe council")) is None  # headings only


def test_widen_lead_adds_the_sentence_referred_to_and_the_one_that_continues():
    text = "Intro line here. Lists are mutable. This means you can change them in place, after creation. Tuples are not."
    a = text.index("This means")
    b = text.index(" Tuples")
    assert text[slice(*widen_lead(text, a, b, max_words=60))] == "Lists are mutable. This means you can change them in place, after creation."
    a, b = text.index("Lists"), text.index(" This")
    assert text[slice(*widen_lead(text, a, b, max_words=60))] == "Lists are mutable. This means you can change them in place, after creation."
    # the word budget holds
    assert text[slice(*widen_lead(text, a, b, max_words=4))] == "Lists are mutable."


def test_a_short_lead_takes_the_next_sentences_of_its_paragraph_up_to_min_words():
    text = "Use a dict. Keys must be hashable. Values may be anything at all here.\n\nA new paragraph starts here now."
    a, b = 0, text.index(" Keys")
    widened = lambda **kw: text[slice(*widen_lead(text, a, b, max_words=60, **kw))]
    assert widened(min_words=3) == "Use a dict."
    assert widened(min_words=6) == "Use a dict. Keys must be hashable."
    assert widened(min_words=10) == "Use a dict. Keys must be hashable. Values may be anything at all here."
    assert widened(min_words=40) == widened(min_words=10)  # never into the next paragraph
    assert text[slice(*widen_lead(text, a, b, max_words=8, min_words=40))] == "Use a dict. Keys must be hashable."  # nor past max_words


def test_widen_lead_crosses_a_paragraph_only_for_a_referring_sentence():
    text = "The plan violates three resolutions.\n\"This is particularly egregious given its status.\"\nOther news follows here today."
    a, b = 0, text.index("\n")
    assert text[slice(*widen_lead(text, a, b, max_words=60))] == text[: text.index("\nOther")]
    a = text.index("This")
    b = text.index("\nOther")
    assert text[slice(*widen_lead(text, a - 1, b, max_words=60))].startswith("The plan violates")
    a = text.index("Other")
    assert text[slice(*widen_lead(text, a, len(text), max_words=60))] == "Other news follows here today."


def test_widen_lead_takes_the_code_or_list_a_colon_introduces():
    a = MARKDOWN.index("To start")
    b = MARKDOWN.index("this:") + len("this:")
    start, end = widen_lead(MARKDOWN, a, b, max_words=60)
    assert MARKDOWN[start:end].startswith("To start the hive") and MARKDOWN[start:end].endswith("hive --status")
    assert prose_words(MARKDOWN, start, end) == 6  # the code is not counted as words of the answer


def test_render_quote_keeps_code_as_code_and_drops_markup():
    a = MARKDOWN.index("To start")
    start, end = widen_lead(MARKDOWN, a, a + len("To start the hive, run this:"), max_words=60)
    rendered = render_quote(MARKDOWN, start, end, marker="[1]", bold=True)
    assert rendered.startswith("**To start the hive, run this:** [1]\n\n```text\nhive --start <b>\nhive --status\n```")
    items = render_quote(MARKDOWN, MARKDOWN.index("first"), len(MARKDOWN), marker="[2]", bold=False)
    assert items == "- first item with a link [2]\n- second item"  # the marker cites the list it follows
    assert "](" not in items and "**" not in items
    # A lead that is a list item is bold like a lead sentence.
    lead = render_quote(MARKDOWN, MARKDOWN.index("first"), len(MARKDOWN), marker="[1]", bold=True)
    assert lead == "- **first item with a link** [1]\n- **second item**"


def test_render_quote_makes_document_text_inert():
    text = "Click <img src=x onerror=alert(1)> or ![i](http://evil/x.png) now, *really*."
    rendered = render_quote(text, 0, len(text), marker="[1]", bold=False)
    assert "<img" not in rendered and "&lt;img" in rendered
    assert "![" not in rendered and "](" not in rendered and "evil" not in rendered  # link syntax dropped, words kept
    code = "Run:\n\n$ echo ``` done\n$ ls"
    rendered = render_quote(code, 0, len(code), marker="[1]", bold=False)
    assert "````text\n$ echo ``` done\n$ ls\n````" in rendered  # a fence no backtick run inside can close


def test_pieces_are_sentences_of_paragraphs():
    text = "## Setup\n\nRun it. It is fast.\n\n$ make run"
    assert [(p.kind, text[p.start : p.end]) for p in pieces(text)] == [
        ("heading", "## Setup"),
        ("text", "Run it."),
        ("text", "It is fast."),
        ("code", "$ make run"),
    ]


def test_a_line_with_a_sentence_in_it_is_not_a_title():
    text = "The code is 48151623. <script>x</script>\nShort title line\nNumbers: one two"
    assert [k for k, _ in _kinds(text)] == ["text", "heading", "text"]


FAQ = "Installing\n\nHow do I install the tool on a laptop?\n\nRun the installer from the downloads page. It takes a minute.\n\nDoes it need a network?\n\nNo. Everything runs offline."


def test_a_question_alone_on_its_line_is_a_heading_not_a_quote():
    kinds = _kinds(FAQ)
    assert ("heading", "How do I install the tool on a laptop?") in kinds and ("heading", "Does it need a network?") in kinds
    # A question inside a paragraph stays prose.
    assert _kinds("Why does it fail? Because the file is missing.") == [("text", "Why does it fail? Because the file is missing.")]
    # The quote of a unit that glues a question heading to its answer is the answer alone.
    start = FAQ.index("How do I")
    span = trim_quote(FAQ, start, FAQ.index(" It takes"))
    assert FAQ[slice(*span)] == "Run the installer from the downloads page."


def test_opens_section_after_a_question_heading_or_at_a_section_start():
    parts = pieces(FAQ)
    assert opens_section(FAQ, FAQ.index("Run the installer"), parts, passage_opens_section=False)
    assert opens_section(FAQ, FAQ.index("No. Everything"), parts, passage_opens_section=False)
    assert not opens_section(FAQ, FAQ.index("It takes"), parts, passage_opens_section=True)
    text = "Intro words of a plain section. Second sentence here."
    assert opens_section(text, 0, pieces(text), passage_opens_section=True)
    assert not opens_section(text, 0, pieces(text), passage_opens_section=False)
    assert not opens_section(text, text.index("Second"), pieces(text), passage_opens_section=True)
    # Under a title (a topic, not a question) the first sentence is not preferred, section start or not.
    titled = "Installing\n\nRun the installer."
    assert not opens_section(titled, titled.index("Run"), pieces(titled), passage_opens_section=True)
    assert not opens_section(titled, titled.index("Run"), pieces(titled), passage_opens_section=False)


def test_is_code_only_for_spans_of_code():
    text = "Run this:\n\n>>> import os\n>>> os.getcwd()\n\nIt prints the folder."
    parts = pieces(text)
    code = text.index(">>>")
    assert is_code(parts, code, text.index("\n\nIt prints"))
    assert not is_code(parts, 0, len(text)) and not is_code(parts, 0, 9)


def test_a_short_label_line_does_not_open_its_section():
    text = "How do I copy an object?\n\nSource code: Lib/copy.py\n\nAssignment statements in Python do not copy objects.\n\nNot as such."
    assert [k for k, _ in _kinds(text)] == ["heading", "text", "text", "text"]  # still quotable
    parts = pieces(text)
    assert not opens_section(text, text.index("Source code"), parts, passage_opens_section=True)
    assert opens_section(text, text.index("Assignment"), parts, passage_opens_section=False)
    assert not opens_section(text, text.index("Not as such"), parts, passage_opens_section=True)
    untitled = "Source code: Lib/copy.py\n\nAssignment statements in Python do not copy objects."
    assert opens_section(untitled, untitled.index("Assignment"), pieces(untitled), passage_opens_section=True)
    assert is_label("Default: None") and not is_label("Note: the default is None.") and not is_label("Numbers one two")


def test_numbered_headings_are_headings_and_never_glued_to_the_quote():
    from qa.answers.composition import segments, trim_quote

    text = "2.4. Miscellaneous\n\nTo easily use Python scripts on Unix, you need to make them executable."
    assert [(s.kind, text[s.start : s.end]) for s in segments(text)][0] == ("heading", "2.4. Miscellaneous")
    assert text[slice(*trim_quote(text, 0, len(text)))].startswith("To easily use")
    text = "16.1.2 Executable Python Scripts\n\nOn BSD systems scripts can be made executable."
    assert segments(text)[0].kind == "heading"
    # A colon inside a numbered title or a lower-case first word (a module's name) keep it a title.
    for title in ("4.9. Intermezzo: Coding Style", "9.14. distutils.debug — Distutils debug mode"):
        assert segments(f"{title}\n\nNow that you are about to write longer programs, read this.")[0] == Segment("heading", 0, len(title))
    # A numbered line that ends like a sentence is prose; a list item stays an item.
    assert segments("3.11 is the version we ship.")[0].kind == "text"
    assert [s.kind for s in segments("1. Install it\n2. Configure it\n\nThen run.")] == ["item", "item", "text"]


def test_a_lead_that_stops_mid_sentence_before_code_takes_the_code():
    from qa.answers.composition import widen_lead

    text = "To use scripts on Unix, make them executable, e.g. with\n\n$ chmod +x script.py\n\nThen run them by name."
    start, end = widen_lead(text, 0, text.index(" with") + 5, max_words=60)
    assert text[start:end].endswith("$ chmod +x script.py")
    finished = "Run the tests before you commit anything.\n\n$ make test"
    assert widen_lead(finished, 0, finished.index(".") + 1, max_words=60) == (0, finished.index(".") + 1)


def test_an_interactive_session_is_code_with_its_output():
    # Doctest output ("Traceback ...") is not prose, and prompt lines are never headings.
    text = (
        "When you write something like:\n\n>>> t = (['foo'], 'bar')\n>>> t[0] += ['item']\nTraceback (most recent call last):\n"
        "  ...\nTypeError: 'tuple' object does not support item assignment\n\nThe exception is surprising.\n\n"
        "Start it:\n$ make run\nServing on port 7860"
    )
    kinds = _kinds(text)
    assert kinds == [
        ("text", "When you write something like:"),
        ("code", text[text.index(">>>") : text.index("\n\nThe exception")]),
        ("text", "The exception is surprising."),
        ("text", "Start it:"),
        ("code", "$ make run\nServing on port 7860"),
    ]
    traceback = text.index("Traceback")
    assert is_code(pieces(text), traceback, traceback + len("Traceback (most recent call last):"))


def test_a_label_line_is_not_prepended_to_a_lead_that_opens_with_this():
    text = "Source code: Lib/random.py\n\nThis module implements pseudo-random number generators for various distributions."
    start = text.index("This")
    assert widen_lead(text, start, len(text), max_words=60) == (start, len(text))
    prose = "Lists are mutable.\n\nThis means you can change them in place, without copying them first."
    assert widen_lead(prose, prose.index("This"), len(prose), max_words=60) == (0, len(prose))


def test_a_lone_numbered_title_is_a_heading_but_a_numbered_list_stays_a_list():
    text = "6. Editors and IDEs\n\nThere are a number of IDEs that support Python."
    assert _kinds(text)[0] == ("heading", "6. Editors and IDEs")
    assert text[slice(*trim_quote(text, 0, len(text)))].startswith("There are")
    steps = "Do this:\n\n1. Install it\n\n2. Run it\n\nThat is all."
    assert [k for k, _ in _kinds(steps)] == ["text", "item", "item", "text"]
    # An item that reads as a sentence, or under a marker on a line of its own, stays an item.
    assert _kinds("Intro.\n\n1. Install it first.\n\nDone now.")[1] == ("item", "Install it first.")
    assert _kinds("Intro.\n\n1.\n\nInstall it\n\nDone now.")[1] == ("item", "Install it")


APACHE_LIKE = """   4. Redistribution. You may reproduce and distribute copies of the
      Work or Derivative Works thereof in any medium, with or without
      modifications, and in Source or Object form, provided that You
      meet the following conditions:

      (a) You must give any other recipients of the Work or
          Derivative Works a copy of this License; and

      (b) You must cause any modified files to carry prominent notices
          stating that You changed the files; and"""

LGPL_LIKE = """  You may convey a covered work under sections 3 and 4 of this License
without being bound by section 3 of the GNU GPL.

  2. Conveying Modified Versions.

  If you modify a copy of the Library, and, in your modifications, a
facility refers to a function or data to be supplied by an Application."""


def test_indented_prose_of_a_plain_text_document_is_prose_not_code():
    # Licences, RFCs and e-mails indent their paragraphs: indentation alone does not make code.
    kinds = _kinds(APACHE_LIKE)
    assert [k for k, _ in kinds] == ["item", "item", "item"]
    assert kinds[2] == ("item", "You must cause any modified files to carry prominent notices\n          stating that You changed the files; and")
    parts = pieces(APACHE_LIKE)
    start = APACHE_LIKE.index("You must cause")
    assert not is_code(parts, start, start + 20)
    # The lettered marker is not quoted, nor the numbered title ending with a period.
    assert APACHE_LIKE[slice(*trim_quote(APACHE_LIKE, start - 4, start + 30))].startswith("You must cause")
    assert [k for k, _ in _kinds(LGPL_LIKE)] == ["text", "heading", "text"]
    heading = LGPL_LIKE.index("  2. Conveying")
    assert LGPL_LIKE[slice(*trim_quote(LGPL_LIKE, heading, len(LGPL_LIKE)))].startswith("If you modify")
    assert LGPL_LIKE[slice(*trim_quote(LGPL_LIKE, 0, heading + 20))].endswith("section 3 of the GNU GPL.")


def test_code_stays_code_with_its_docstrings_comments_and_data_lines():
    docstring = 'class MyHandler:\n    """\n    A simple handler for logging events. It runs in the listener process and\n    dispatches events to loggers.\n    """'
    assert _kinds(docstring) == [("code", docstring)]
    query = "cur.execute(\"\"\"\n    INSERT INTO movie VALUES\n        ('Monty Python and the Holy Grail', 1975, 8.2),\n        ('And Now for Something Completely Different', 1971, 7.5)\n\"\"\")"
    assert _kinds(query) == [("code", query)]
    commented = "# Next two import lines for this demo only\nfrom random import choice, random\nimport time"
    assert _kinds(commented) == [("code", commented)]
    indented = "Run it:\n\n    pip install requests flask\n    python -m http.server 8000"
    assert _kinds(indented)[1][0] == "code"


def test_a_numbered_title_run_into_its_paragraph_is_a_heading_not_a_quote():
    text = (
        "   7. You are solely responsible for determining the appropriateness of using or\n"
        "      redistributing the Work.\n\n"
        "   8. Limitation of Liability. In no event and under no legal theory shall any\n"
        "      Contributor be liable to You for damages."
    )
    kinds = [(p.kind, text[p.start : p.end]) for p in pieces(text)]
    assert ("heading", "Limitation of Liability.") in kinds
    assert kinds[-1][0] == "item" and kinds[-1][1].startswith("In no event")
    # A quote that runs into the title stops before it, and the title is never rendered.
    start, end = trim_quote(text, 0, text.index("In no event"))
    assert text[start:end].endswith("redistributing the Work.")
    assert "Limitation" not in render_quote(text, 0, len(text), marker="[1]", bold=False)
    # A numbered step is not a title.
    steps = "1. Install it. Then run it from the menu."
    assert [p.kind for p in pieces(steps)] == ["item", "item"]


def test_lettered_items_lose_their_marker_in_a_quote():
    text = "   d) Do one of the following:\n\n   e) Provide Installation Information, but only if you would otherwise be\n   required to provide such information."
    assert [(s.kind, text[s.start : s.end][:10]) for s in segments(text)] == [("item", "Do one of "), ("item", "Provide In")]
    start, end = trim_quote(text, text.index("e)"), len(text))
    assert text[start:end].startswith("Provide Installation Information")


README = """# pyenv [![CI](https://example.org/ci.svg)](https://example.org/ci)

[![Join the chat](https://badges.example.org/chat.svg)](https://chat.example.org)

pyenv lets you easily switch between multiple versions of Python. It is
simple and unobtrusive.

### D. Install Python build dependencies
----

<details> <summary> Notes about python releases </summary>

**NOTE:** Most releases are source releases and are built
from source as part of installation (that is why you need build dependencies).

</details>

[hooks]: https://github.com/pyenv/pyenv/wiki/Authoring-plugins
"""


def test_markup_lines_of_a_readme_are_never_quoted():
    kinds = _kinds(README)
    assert ("markup", "[![Join the chat](https://badges.example.org/chat.svg)](https://chat.example.org)") in kinds
    assert ("markup", "----") in kinds and ("markup", "</details>") in kinds
    assert ("markup", "[hooks]: https://github.com/pyenv/pyenv/wiki/Authoring-plugins") in kinds
    # A soft-wrapped sentence is one piece, and the markup around it is trimmed from its quote.
    note = README.index("**NOTE:**")
    sentence_end = README.index("dependencies).") + len("dependencies).")
    assert (note, sentence_end) in [(p.start, p.end) for p in pieces(README)]
    start = README.index("----")
    assert README[slice(*trim_quote(README, start, sentence_end))].startswith("**NOTE:** Most releases")
    badge_and_intro = trim_quote(README, README.index("[![Join"), README.index(" It is"))
    assert README[slice(*badge_and_intro)] == "pyenv lets you easily switch between multiple versions of Python."
    assert trim_quote(README, README.index("</details>"), len(README)) is None  # markup only
    rendered = render_quote(README, README.index("[![Join"), README.index("### D."), marker="[1]", bold=True)
    assert rendered == "**pyenv lets you easily switch between multiple versions of Python. It is simple and unobtrusive.** [1]"
    assert prose_words(README, start, start + len("----")) == 0  # a rule is no word read


def test_a_markdown_table_row_is_a_quotable_paragraph_of_its_own():
    text = (
        "You can affect it with these variables:\n\n"
        "name | default | description\n-----|---------|------------\n"
        "`PYENV_VERSION` | | Specifies the Python version to be used.\n"
        "`PYENV_ROOT` | `~/.pyenv` | Defines the directory under which Python versions reside.\n\n"
        "| Category | Default level |\n|---|---|\n| `clippy::all` | **warn** |\n"
    )
    kinds = _kinds(text)
    assert ("heading", "name | default | description") in kinds and ("markup", "-----|---------|------------") in kinds
    assert ("text", "`PYENV_ROOT` | `~/.pyenv` | Defines the directory under which Python versions reside.") in kinds
    assert ("heading", "| Category | Default level |") in kinds and ("text", "| `clippy::all` | **warn** |") in kinds
    row = text.index("`PYENV_ROOT`")
    span = widen_lead(text, row, text.index("reside.") + len("reside."), max_words=60)
    assert text[slice(*span)].startswith("`PYENV_ROOT`")  # no rule or neighbouring row glued to it
    rendered = render_quote(text, *span, marker="[1]", bold=False)
    assert rendered == r"`PYENV_ROOT` \| `~/.pyenv` \| Defines the directory under which Python versions reside. [1]"
    last = text.index("| `clippy")
    assert render_quote(text, last, last + len("| `clippy::all` | **warn** |"), marker="[2]", bold=False) == r"`clippy::all` \| warn [2]"


def test_inline_markup_is_dropped_outside_code_but_python_is_left_alone():
    text = "See [**Install deps**](https://x.org) then run `make __init__` and call f(**kwargs) on __init__ and 2 ** 8."
    rendered = render_quote(text, 0, len(text), marker="[1]", bold=False)
    assert rendered.startswith("See Install deps then run `make __init__` and")  # a code span stays code
    assert "f\\(\\*\\*kwargs\\)" in rendered and "on \\_\\_init\\_\\_ and 2 \\*\\* 8." in rendered


def test_c_preprocessor_lines_are_code_not_headings():
    text = (
        "This sets the input and output to binary.\n\n"
        "#if defined(MSDOS) || defined(WIN32)\n#  include <fcntl.h>\n#  define SET_BINARY_MODE(file) setmode(file)\n#else\n#endif\n\n"
        "#define CHUNK 16384\n\n# Installing zlib\n\nRun make."
    )
    kinds = _kinds(text)
    assert ("code", "#if defined(MSDOS) || defined(WIN32)\n#  include <fcntl.h>\n#  define SET_BINARY_MODE(file) setmode(file)\n#else\n#endif") in kinds
    assert ("code", "#define CHUNK 16384") in kinds and ("heading", "# Installing zlib") in kinds


def test_a_hanging_indent_goes_on_with_its_sentence_and_is_not_code():
    notice = (
        "Copyright (C) 1996, 1997, 1998, 2000 Fabrizio Polacco.\n\n"
        "Copyright (C) 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010,\n"
        "              2011, 2012, 2013, 2014 Colin Watson."
    )
    assert [k for k, _ in _kinds(notice)] == ["text", "text"]
    start = notice.index("Copyright (C) 2001")
    assert not is_code(pieces(notice), start, len(notice))
    # Code that goes on after an open line stays code: the line above is code, or the indented
    # line has code symbols.
    call = "result = compute(first_argument,\n                 second_argument)"
    assert [k for k, _ in _kinds(call)] == ["code"]
    prose_then_code = "Call it with the arguments,\n    frobnicate(x=1, y=2) == 3"
    assert "code" in [k for k, _ in _kinds(prose_then_code)]


def test_list_items_in_a_hard_wrapped_paragraph_are_items():
    readme = (
        "Check manual/README for details of the formatters that man-db requires.\n"
        " * Read docs/INSTALL.autoconf for generic options to configure.\n"
        " * Read docs/INSTALL.quick if you know all about man-db.\n"
        " * Read NEWS.md for visible changes since the last public release."
    )
    assert [k for k, _ in _kinds(readme)] == ["text", "item", "item", "item"]
    assert _kinds(readme)[1] == ("item", "Read docs/INSTALL.autoconf for generic options to configure.")


def test_a_command_alone_on_its_line_is_code_and_numbered_steps_around_code_stay_steps():
    how_to = (
        "### Dictionary compression How To:\n\n"
        "1. Create the dictionary\n\n"
        "   `zstd --train FullPathToTrainingSet/* -o dictionaryName`\n\n"
        "2. Compress with dictionary\n\n"
        "   `zstd -D dictionaryName FILE`\n\n"
        "Dictionaries work best on small files of one kind."
    )
    assert [k for k, _ in _kinds(how_to)] == ["heading", "item", "code", "item", "code", "text"]
    assert _kinds(how_to)[2][1].strip() == "`zstd --train FullPathToTrainingSet/* -o dictionaryName`"
    # Quoted, the step reads as a list item and the command as a code block without its backticks.
    step = how_to.index("Create")
    quote = render_quote(how_to, step, how_to.index("2. Compress") - 2, marker="[1]", bold=True)
    assert quote.startswith("- **Create the dictionary** [1]")
    assert "```text\nzstd --train FullPathToTrainingSet/* -o dictionaryName\n```" in quote
    # Inline code inside a sentence's line is still prose, and a lone numbered title between
    # paragraphs is still a title.
    sentence = "Install it with\n`pip install qa`"
    assert [k for k, _ in _kinds(sentence)] == ["text"]
    chapter = "The end of a chapter.\n\n6. Editors and IDEs\n\nThe next chapter starts here."
    assert [k for k, _ in _kinds(chapter)] == ["text", "heading", "text"]
