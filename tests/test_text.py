from qa.text import (
    content_terms,
    sentence_spans,
    split_blocks,
    split_sentences,
    split_words,
    word_count,
)


def _texts(text, spans):
    return [text[a:b] for a, b in spans]


def test_split_blocks_blank_lines_and_single_newlines():
    text = "Title line\nFirst paragraph.\n\n  Second paragraph.  \n\n\n"
    assert _texts(text, split_blocks(text)) == ["Title line", "First paragraph.", "Second paragraph."]


def test_split_blocks_hard_wrapped_paragraph_stays_whole():
    line = "This sentence is wrapped at a fixed width so each line is about as long"
    text = "\n".join([line] * 6)
    assert _texts(text, split_blocks(text)) == [text]


def test_split_blocks_respects_start_and_end():
    text = "aaa\n\nbbb\n\nccc"
    assert _texts(text, split_blocks(text, 5, 8)) == ["bbb"]


def test_split_sentences_keeps_abbreviations_initials_and_decimals():
    text = 'Dr. Smith met J. Doe at 3.5 km from the U.S. border. "It works!" she said. Really?'
    assert _texts(text, split_sentences(text)) == [
        "Dr. Smith met J. Doe at 3.5 km from the U.S. border.",
        '"It works!" she said.',
        "Really?",
    ]


def test_split_sentences_closing_quote_ends_sentence():
    text = 'He said "stop." Then he left.'
    assert _texts(text, split_sentences(text)) == ['He said "stop."', "Then he left."]


def test_split_sentences_lowercase_continuation_is_not_a_boundary():
    text = "Use e.g. numpy. arrays are fast. Next one."
    assert _texts(text, split_sentences(text)) == ["Use e.g. numpy. arrays are fast.", "Next one."]


def test_sentence_spans_are_exact_offsets():
    text = "One. Two!\n\nThree? Four."
    spans = sentence_spans(text)
    assert _texts(text, spans) == ["One.", "Two!", "Three?", "Four."]
    assert all(text[a:b].strip() == text[a:b] for a, b in spans)


def test_split_words_cuts_long_spans_on_word_boundaries():
    text = "a b c d e f g"
    assert _texts(text, split_words(text, 0, len(text), 3)) == ["a b c", "d e f", "g"]


def test_word_count():
    assert word_count("  a  b\nc ") == 3
    assert word_count("") == 0


def test_content_terms_drop_stopwords_and_stem():
    assert content_terms("How are the passages ranked by BM25?") == ["passag", "rank", "bm25"]
    assert content_terms("Russia's statement") == ["russia", "statement"]
    assert content_terms("Ünïcödé ＴＥＸＴ") == ["ünïcödé", "text"]


def test_a_short_hard_wrapped_paragraph_stays_whole_but_a_title_above_a_sentence_does_not():
    notice = (
        "  This Source Code Form is subject to the terms of the Mozilla Public\n"
        "  License, v. 2.0. If a copy of the MPL was not distributed with this\n"
        "  file, You can obtain one at http://mozilla.org/MPL/2.0/."
    )
    assert len(split_blocks(notice)) == 1
    assert _texts(notice, split_sentences(notice, *split_blocks(notice)[0]))[1].startswith("If a copy of the MPL was not distributed with this\n  file, You")
    two = "You may convey a covered work under sections 3 and 4 of this License\nwithout being bound by section 3 of the GNU GPL."
    assert _texts(two, split_blocks(two)) == [two]
    # Lines that could each stand alone stay apart: a title over a sentence (its next line starts
    # in capitals), short lines, a line over a long unwrapped paragraph.
    titled = "Installing the package on a fresh Debian machine\nRun make install and wait for it to finish."
    assert _texts(titled, split_blocks(titled)) == titled.split("\n")
    short = "Ann Smith\n12 High Street\nlondon"
    assert _texts(short, split_blocks(short)) == short.split("\n")
    article = "NATO countries condemn the deployment of forces to the war – statement\n" + "The statement says that the allies " * 8
    assert len(split_blocks(article)) == 2


def test_a_line_going_on_with_an_open_sentence_joins_it_at_any_width():
    # Markdown paragraphs and hand-wrapped text break lines anywhere: a line that leaves its
    # sentence open (no closing punctuation) and a next line that goes on with it (lowercase,
    # inline code or a link, or anything after "and"/"by"/a comma) are one paragraph.
    readme = (
        "Projects that intend to support old versions of Rust can disable lints pertaining to newer features by\n"
        "specifying the minimum supported Rust version (MSRV) in the Clippy configuration file.\n"
        "Clippy can automatically apply some lint suggestions. Note that `--fix` implies\n"
        "`--all-targets`, so it can fix as much code as it can.\n"
        "This project was forked from [rbenv](https://github.com/rbenv/rbenv) and\n"
        "[ruby-build](https://github.com/rbenv/ruby-build), and modified for Python by the\n"
        "Python Foundation."
    )
    assert _texts(readme, split_blocks(readme)) == [
        "Projects that intend to support old versions of Rust can disable lints pertaining to newer features by\n"
        "specifying the minimum supported Rust version (MSRV) in the Clippy configuration file.",
        "Clippy can automatically apply some lint suggestions. Note that `--fix` implies\n`--all-targets`, so it can fix as much code as it can.",
        "This project was forked from [rbenv](https://github.com/rbenv/rbenv) and\n"
        "[ruby-build](https://github.com/rbenv/ruby-build), and modified for Python by the\nPython Foundation.",
    ]
    # Lines that start a block of their own, or follow one that closed its clause, stay apart.
    blocks = "To install it, run\n* `make install`\n## Usage\nusage text\n| a | b |\n| c | d |\nRun the tests:\nmake test"
    assert _texts(blocks, split_blocks(blocks)) == blocks.split("\n")
    item = "* **Manage virtualenv.** Of course, you can create one\n    yourself, or use a plugin."
    assert len(split_blocks(item)) == 1
    records = "name: honey; price: 12\nname: wax; price: 30"  # a sheet's rows, lowercase headers
    assert _texts(records, split_blocks(records)) == records.split("\n")


def test_list_items_and_table_rows_are_blocks_of_their_own_in_hard_wrapped_text():
    # A list of items of similar length looks hard-wrapped: its items must still stay apart,
    # or a sentence unit (and a quote) runs over the whole list.
    readme = (
        "Check manual/README for details of the formatters that man-db requires.\n"
        " * Read docs/INSTALL.autoconf for generic options to configure.\n"
        " * Read docs/INSTALL.quick if you know all about man-db.\n"
        " * Read NEWS.md for visible changes since the last public release.\n"
        " * Read ChangeLog for details of recent source code changes."
    )
    assert _texts(readme, split_blocks(readme)) == [line.strip() for line in readme.split("\n")]
    assert _texts(readme, sentence_spans(readme))[1] == "* Read docs/INSTALL.autoconf for generic options to configure."
    # A lettered item continuing a sentence ("as stated in" + "(a) above") is no item.
    licence = (
        "  You may add Your own copyright statement to Your modifications and may provide the\n"
        "  additional or different license terms and conditions for use as stated in\n"
        "  (a) above, for reproduction, or distribution of Your modifications, or for any such"
    )
    assert _texts(licence, split_blocks(licence)) == [licence.strip()]
    table = (
        "| Compressor name         | Ratio | Compression| Decompress.|\n"
        "| ---------------         | ------| -----------| ---------- |\n"
        "| **zstd 1.5.1 -1**       | 2.887 |   530 MB/s |  1700 MB/s |\n"
        "| [zlib] 1.2.11 -1        | 2.743 |    95 MB/s |   400 MB/s |"
    )
    assert _texts(table, split_blocks(table)) == table.split("\n")


def test_leaves_sentence_open():
    from qa.text import leaves_sentence_open

    assert leaves_sentence_open("Copyright (C) 2001, 2002,") and leaves_sentence_open("as described in")
    assert not leaves_sentence_open("See below.") and not leaves_sentence_open("Usage") and not leaves_sentence_open("")
