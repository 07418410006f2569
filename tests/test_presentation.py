from qa.presentation import (
    chat_message,
    display_source,
    highlighted_passage_html,
    location_label,
    sources_html,
)
from qa.types import Answer, Citation

HOSTILE = 'Intro. <script>window.__pwned=1</script> <img src=x onerror="alert(1)"> ![i](http://evil/x.png) [l](javascript:alert(1)) done.'


def _citation(number=1, text=HOSTILE, start=7, end=48, **kwargs):
    return Citation(number, f"p{number}", "d", "/docs/hostile.md", "Title <b>bold</b>", text, 100, 100 + len(text), 0.42, start, end, **kwargs)


def test_chat_message_escapes_document_text_and_shows_citations():
    answer = Answer(question="q", text="**answer** [1]", citations=(_citation(section=("A", "B"), page=3),), confidence=0.7)
    message = chat_message(answer, root="/docs")
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
