from qa.presentation import (
    NEAREST_LABEL,
    NEAREST_MIN_CONFIDENCE,
    answer_as_text,
    chat_message,
    display_source,
    highlighted_passage_html,
    location_label,
    nearest_passages,
    sources_html,
)
from qa.types import Answer, Citation, Hit, Passage

HOSTILE = 'Intro. <script>window.__pwned=1</script> <img src=x onerror="alert(1)"> ![i](http://evil/x.png) [l](javascript:alert(1)) done.'


def _citation(number=1, text=HOSTILE, start=7, end=48, **kwargs):
    return Citation(number, f"p{number}", "d", "/docs/hostile.md", "Title <b>bold</b>", text, 100, 100 + len(text), 0.42, start, end, **kwargs)


def test_chat_message_escapes_document_text_and_shows_citations():
    answer = Answer(question="q", text="**answer** [1]", citations=(_citation(section=("A", "B"), page=3),), confidence=0.7)
    message = chat_message(answer)
    assert message.startswith("**answer** <a href=\"#citation-1\" class=\"qa-marker\">[1]</a>")
    assert "<script>" not in message and "<img" not in message and "&lt;script&gt;" in message
    assert "onerror=&quot;alert&#40;1&#41;&quot;" in message
    assert "![" not in message and "](" not in message  # Markdown image/link syntax is neutralised
    assert "\n\n" not in message.split("<details", 1)[1]  # no blank line inside the HTML block
    assert '<details class="qa-citation" id="citation-1"><summary>[1] Title &lt;b&gt;bold&lt;/b&gt; — hostile.md (A &gt; B, page 3)</summary>' in message
    assert "<mark>" in message


def test_chat_message_shows_the_effective_query_for_follow_ups():
    answer = Answer(question="and who?", query="Which statement? and who?", text="x [1]", citations=(_citation(),))
    assert "Searched for: <em>Which statement? and who?</em>" in chat_message(answer)
    plain = Answer(question="q", query="q", text="x [1]", citations=(_citation(),))
    assert "Searched for" not in chat_message(plain)


def test_abstention_message_and_sources():
    answer = Answer(question="q", text="The indexed documents do not answer this question.", abstained=True, reason="confidence 0.1 <b>")
    assert chat_message(answer) == answer.text
    panel = sources_html(answer)
    assert "No sources" in panel and "&lt;b&gt;" in panel and "<b>" not in panel


def _hit(rank, start, end, *, source="/docs/hostile.md", text=HOSTILE, **kwargs):
    passage = Passage(id=f"p{rank}", doc_id="d", source=source, title="Title <b>bold</b>", text=text, start=start, end=end, **kwargs)
    return Hit(passage, 0.5 - rank / 100, rank)


def _declined(confidence, hits):
    return Answer(question="q", text="The indexed documents do not answer this question.", abstained=True, confidence=confidence, reason="low", hits=tuple(hits))


def test_a_near_miss_names_its_closest_passages_once_each_escaped():
    # Windows 1 and 2 overlap (one place to look); 3 is elsewhere in the file; 4 is another file.
    hits = [_hit(1, 0, 90), _hit(2, 40, 130), _hit(3, 500, 590, section=("Setup",), page=2), _hit(4, 0, 90, source="/docs/other.md"), _hit(5, 900, 990)]
    answer = _declined(NEAREST_MIN_CONFIDENCE + 0.01, hits)
    assert [h.rank for h in nearest_passages(answer)] == [1, 3, 4]

    message = chat_message(answer)
    assert message.startswith(answer.text)  # still reads as declined first (follow-ups skip it)
    assert f'<details class="qa-nearest"><summary>{NEAREST_LABEL}</summary>' in message
    assert message.count('class="qa-source qa-near"') == 3 and "hostile.md · Setup, page 2 · score 0.470 · chars 500–590" in message
    assert "<script>" not in message and "<img" not in message and "![" not in message and "&lt;script&gt;" in message
    assert "<mark>" not in message  # nothing in them is presented as the answer
    assert "\n\n" not in message.split("<details", 1)[1]

    panel = sources_html(answer, name=lambda source: source.rsplit("/", 1)[-1])
    assert "No sources" in panel and NEAREST_LABEL in panel and panel.count('class="qa-source qa-near"') == 3
    assert "<script>" not in panel and "<b>" not in panel and "<mark>" not in panel
    text = answer_as_text(answer, name=lambda source: source.rsplit("/", 1)[-1])
    assert text.splitlines()[-4:] == [f"{NEAREST_LABEL}:", "- Title <b>bold</b> — hostile.md", "- Title <b>bold</b> — hostile.md (Setup, page 2)", "- Title <b>bold</b> — other.md"]


def test_closest_passages_only_for_a_declined_question_the_documents_might_answer():
    hits = [_hit(1, 0, 90)]
    far = _declined(NEAREST_MIN_CONFIDENCE - 0.01, hits)
    assert nearest_passages(far) == [] and chat_message(far) == far.text and NEAREST_LABEL not in sources_html(far)
    answered = Answer(question="q", text="x [1]", citations=(_citation(),), confidence=0.9, hits=tuple(hits))
    assert nearest_passages(answered) == [] and NEAREST_LABEL not in chat_message(answered)
    nothing_searched = _declined(0.5, [])
    assert nearest_passages(nothing_searched) == [] and chat_message(nothing_searched) == nothing_searched.text


def test_sources_panel_lists_file_location_score_offsets_and_highlight():
    answer = Answer(question="q", text="x [1]", citations=(_citation(page=2),), confidence=0.66)
    panel = sources_html(answer, root="/docs")
    for expected in ("[1] Title &lt;b&gt;bold&lt;/b&gt;", "hostile.md", "page 2", "score 0.420", "chars 100–", "confidence 0.66", "<mark>"):
        assert expected in panel, expected
    assert "<script" not in panel and "<img" not in panel
    assert "Ask a question" in sources_html(None)


def test_highlight_window_is_trimmed_around_the_sentence():
    text = "a" * 1000 + " The answer. " + "b" * 1000
    start = text.index("The answer.")
    c = _citation(text=text, start=start, end=start + len("The answer."))
    html = highlighted_passage_html(c, max_chars=100)
    assert "<mark>The answer.</mark>" in html and html.startswith("…") and html.endswith("…") and len(html) < 200


def test_small_helpers():
    assert display_source("/x/docs/a.jsonl#7", root="/x") == "docs/a.jsonl#7"
    assert display_source("/elsewhere/a.md", root="/x/y") == "/elsewhere/a.md"
    assert location_label(_citation(section=("Title <b>bold</b>",))) == ""


def test_the_answer_sentence_of_hard_wrapped_text_reads_as_one_line_but_code_keeps_its_lines():
    text = "      (b) You must cause any modified files to carry prominent notices\n          stating that You changed the files; and"
    start = text.index("You")
    citation = Citation(1, "p", "d", "/docs/LICENSE", "Apache License", text, 0, len(text), 0.5, start, len(text))
    panel = sources_html(Answer(question="q", text="x [1]", citations=(citation,), confidence=0.9))
    assert "<mark>You must cause any modified files to carry prominent notices stating that You changed the files; and</mark>" in panel
    code = "Run it:\n\n$ make\n$ make test"
    citation = Citation(1, "p", "d", "/docs/README", "Readme", code, 0, len(code), 0.5, 0, len(code))
    panel = sources_html(Answer(question="q", text="x [1]", citations=(citation,), confidence=0.9))
    assert "$ make<br>$ make test" in panel
