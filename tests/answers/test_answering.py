import numpy as np
import pytest

from qa import InputError
from qa.answers.answering import (
    ABSTAIN_TEXT,
    AnswerSettings,
    answer_question,
    score_sentences,
)
from qa.answers.calibration import Calibration
from qa.answers.composition import pieces
from qa.answers.salience import term_weights
from qa.index.lexical import LexicalIndex
from qa.index.sentences import passage_sentence_spans
from qa.text import content_terms
from qa.types import Hit, Passage

ALWAYS = Calibration(features=("similarity",), coefficients=(0.0,), intercept=5.0, means=(0.0,), scales=(1.0,))
NEVER = Calibration(features=("similarity",), coefficients=(0.0,), intercept=-5.0, means=(0.0,), scales=(1.0,))


def _hit(text, rank, *, source="/d/a.md", start=0, score=0.5):
    passage = Passage(id=f"p{rank}", doc_id="d", source=source, title="A", text=text, start=start, end=start + len(text))
    return Hit(passage=passage, score=score, rank=rank)


def _sentences(hit, similarities):
    """Unit spans as the index stores them, with chosen similarities (the first key found in a
    unit's text gives its similarity; 0.1 otherwise)."""
    spans = passage_sentence_spans(hit.passage.text)
    sims = [next((v for key, v in similarities.items() if key in hit.passage.text[a:b]), 0.1) for a, b in spans]
    return spans, np.array(sims, dtype=np.float32)


def _answer(hits, similarities, *, calibration=ALWAYS, **settings):
    lexical = LexicalIndex.build([content_terms(h.passage.text) for h in hits])
    return answer_question(
        question="When does the council set the honey price?",
        query="When does the council set the honey price?",
        hits=hits,
        sentences=[_sentences(h, similarities) for h in hits],
        k=5,
        lexical=lexical,
        settings=AnswerSettings(**settings),
        calibration=calibration,
    )


DOC = "## The Honey Council Since 1921\n\nThe council sets the price of honey every spring, after the harvest. It meets in Paris.\n\nBees are insects that live in large colonies and make honey."


def test_the_lead_is_trimmed_of_its_heading_and_bold_and_cited_first():
    answer = _answer([_hit(DOC, 1)], {"The council": 0.8, "It meets": 0.2, "Bees": 0.3})
    assert answer.text.startswith("**The council sets the price of honey every spring, after the harvest. It meets in Paris.** [1]")
    assert "#" not in answer.text and "Since 1921" not in answer.lead
    assert answer.lead == "The council sets the price of honey every spring, after the harvest. It meets in Paris."
    c = answer.citations[0]
    assert c.text[c.highlight_start : c.highlight_end] == answer.lead


def test_citations_are_numbered_in_order_of_appearance_and_all_are_cited():
    other = "Honey prices are set by the council in spring, as the chronicle of the guild has long recorded."
    third = "Unrelated text about the weather in the mountains, which changes quickly every afternoon."
    hits = [_hit(DOC, 1, score=0.6), _hit(other, 2, source="/d/b.md", score=0.58), _hit(third, 3, source="/d/c.md", score=0.2)]
    answer = _answer(hits, {"The council": 0.8, "Honey prices": 0.75, "Unrelated": 0.1}, support_ratio=0.8)
    numbers = [c.number for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 2
    for n in numbers:
        assert f"[{n}]" in answer.text
    assert answer.text.index("[1]") < answer.text.index("[2]")
    assert "[3]" not in answer.text or len(numbers) == 3
    assert all(c.source != "/d/c.md" for c in answer.citations)  # a weak passage is not quoted, so not cited


def test_overlapping_windows_are_cited_once_and_a_sentence_is_quoted_once():
    first = DOC
    # A second window of the same document that overlaps the first and repeats its best sentence.
    offset = DOC.index("The council")
    second = DOC[offset:] + " Colonies swarm in May."
    hits = [_hit(first, 1, score=0.6), _hit(second, 2, start=offset, score=0.59)]
    answer = _answer(hits, {"The council": 0.8, "Bees": 0.3, "Colonies": 0.7})
    assert len(answer.citations) == 1
    assert answer.text.count("The council sets the price") == 1


def test_same_sentence_in_two_documents_is_quoted_once():
    sentence = "The council sets the price of honey every spring, after the harvest."
    hits = [_hit(sentence, 1, score=0.6), _hit(sentence, 2, source="/d/copy.md", score=0.6)]
    answer = _answer(hits, {"The council": 0.8})
    assert answer.text.count("The council sets") == 1 and len(answer.citations) == 1


def test_abstention_keeps_signals_and_says_why():
    answer = _answer([_hit(DOC, 1)], {"The council": 0.8}, calibration=NEVER)
    assert answer.abstained and answer.text == ABSTAIN_TEXT and answer.citations == () and answer.lead == ""
    assert "below the threshold" in answer.reason and set(answer.signals) >= {"similarity", "missing_terms"}
    assert answer.signals["similarity"] == pytest.approx(0.8)
    assert _answer([], {}).abstained


def test_a_sentence_that_asks_a_question_loses_to_one_that_tells():
    text = "When does the council set the honey price? The council sets it every spring, after the harvest is in."
    hits = [_hit(text, 1)]
    spans, _ = _sentences(hits[0], {})
    sims = np.array([0.85, 0.8], dtype=np.float32)[: len(spans)]
    scored = score_sentences("When does the council set the honey price?", hits, [(spans, sims)], weights={}, settings=AnswerSettings(question_penalty=0.1, opener_weight=0.0, echo_penalty=0.0))
    best = max(scored, key=lambda s: s.score)
    assert text[best.start : best.end].startswith("The council sets it")
    scored = score_sentences("When does the council set the honey price?", hits, [(spans, sims)], weights={}, settings=AnswerSettings(question_penalty=0.0, opener_weight=0.0, echo_penalty=0.0))
    assert text[max(scored, key=lambda s: s.score).start :].startswith("When does")


def test_answer_settings_convert_by_field_type():
    settings = AnswerSettings().with_overrides({"widen": "false", "max_lead_words": "40", "passage_weight": "2", "abstain_threshold": 0.3})
    assert settings.widen is False and settings.max_lead_words == 40 and settings.passage_weight == 2.0 and settings.abstain_threshold == 0.3
    assert AnswerSettings().with_overrides({"widen": "yes"}).widen is True
    for bad in ({"max_lead_words": "2.7"}, {"max_lead_words": 2.7}, {"widen": "maybe"}, {"passage_weight": True}, {"abstain_threshold": 1.5}, {"term_weight": "-1"}):
        with pytest.raises(InputError):
            AnswerSettings().with_overrides(bad)
    with pytest.raises(InputError, match="unknown answer setting 'nope'"):
        AnswerSettings().with_overrides({"nope": 1})
    assert AnswerSettings.from_dict({"lexical_weight": 0.3, "coverage_weight": 0.5}) == AnswerSettings()  # old index keys are ignored


def test_the_answer_under_a_question_heading_leads_not_the_heading():
    text = (
        "When does the council set the honey price?\n\nThe council meets after the harvest, every spring.\n\n"
        "Honey prices rise in dry years, when bees find fewer flowers to visit."
    )
    hits = [_hit(text, 1)]
    sims = {"When does": 0.95, "The council meets": 0.6, "Honey prices": 0.65}
    answer = _answer(hits, sims)
    assert answer.lead == "The council meets after the harvest, every spring."
    # The cue is what decides: without it the more similar later paragraph leads.
    assert _answer(hits, sims, section_weight=0.0).lead.startswith("Honey prices rise")


def test_the_first_sentence_of_a_section_is_preferred_only_where_a_section_starts():
    text = "The council meets after the harvest, every spring. Honey prices rise in dry years, when bees find fewer flowers."
    hit = _hit(text, 1)
    spans, sims = _sentences(hit, {"The council": 0.6, "Honey prices": 0.75})  # opening a paragraph adds 0.1

    def lead(section_starts):
        scored = score_sentences("When is the price set?", [hit], [(spans, sims)], weights={}, settings=AnswerSettings(), section_starts=section_starts)
        best = max(scored, key=lambda s: s.score)
        return text[best.start : best.end]

    assert lead([True]).startswith("The council")
    assert lead([False]).startswith("Honey prices") and lead(None).startswith("Honey prices")


def test_a_code_block_never_leads():
    text = "Prices are computed by the council's own tool, every spring:\n\n>>> price = council.honey_price(year=2024)\n>>> print(price)\n\nThe result is in euros per kilo."
    hits = [_hit(text, 1)]
    answer = _answer(hits, {">>> price": 0.9, "Prices are computed": 0.6, "The result": 0.3})
    assert answer.lead.startswith("Prices are computed")
    assert "```" in answer.text and "honey_price" in answer.text  # the code it introduces is shown, as code
    assert _answer(hits, {">>> price": 0.9, "Prices are computed": 0.6, "The result": 0.3}, code_penalty=0.0).lead.startswith(">>> price")


def test_names_are_looked_up_as_written_in_the_whole_index():
    from qa.answers.answering import _question_names, name_in_index

    texts = [
        "PEP 8 is the style guide. The sys module holds interpreter state.",
        "Monitoring tools for servers are many.",
        "See sys.settrace for tracing; version 3.12 changed nothing here.",
    ]
    corpus = [_hit(t, i).passage for i, t in enumerate(texts, 1)]
    lexical = LexicalIndex.build([content_terms(t) for t in texts])
    assert _question_names("How do I use sys.monitoring (e.g. as PEP 669 says) in Python 3.12?") == ["sys.monitoring", "pep 669", "python 3.12"]
    found = {name: name_in_index(name, lexical, corpus) for name in ("sys.monitoring", "sys.settrace", "pep 8", "PEP 669", "python 3.12", "SYS.SETTRACE")}
    # Brute force: a case-insensitive search of every passage.
    assert found == {name: any(name.casefold() in t.casefold() for t in texts) for name in found}
    assert found["sys.settrace"] and not found["sys.monitoring"]  # "sys" and "monitoring" occur, never together


def test_a_name_the_index_never_holds_counts_as_a_missing_term():
    texts = [f"Style rule {i}: see PEP 8 and the sys module for details of interpreter state number {i}." for i in range(60)]
    hits = [_hit(t, i, source=f"/d/{i}.md") for i, t in enumerate(texts[:5], 1)]
    lexical = LexicalIndex.build([content_terms(t) for t in texts])
    corpus = [_hit(t, i).passage for i, t in enumerate(texts)]

    def missing(question):
        scored = score_sentences(question, hits, [_sentences(h, {}) for h in hits], weights={}, settings=AnswerSettings())
        weights = term_weights(question, lexical)
        from qa.answers.answering import answer_signals

        return answer_signals(question, hits, scored, weights=weights, lexical=lexical, query_terms=content_terms(question), depth=5, corpus=corpus)["missing_terms"]

    assert missing("Which style rule details the sys module and PEP 8?") == 0.0
    # Every word occurs in the index, never as "sys.state" or "PEP 60".
    assert missing("Which style rule details sys.state?") > 0.2
    assert missing("Which style rule details PEP 60?") > 0.2


def test_an_overlapping_window_that_supports_the_answer_widens_its_citation():
    document = DOC + " Colonies swarm in May, when the council also counts the hives."
    offset = document.index("The council")
    first = document[: document.index("\n\nBees")]
    second = document[offset:]
    hits = [_hit(first, 1, score=0.6), _hit(second, 2, start=offset, score=0.59)]
    answer = _answer(hits, {"The council": 0.8, "Bees": 0.3, "Colonies": 0.7})
    [c] = answer.citations
    assert (c.start, c.end, c.text) == (0, len(document), document)  # both windows, as one stretch of the document
    assert c.passage_id == "p1" and c.highlight == answer.lead
    assert answer.text.count("The council sets the price") == 1
    # A window that is not relevant enough is not merged.
    weak = _answer([_hit(first, 1, score=0.6), _hit(second, 2, start=offset, score=0.05)], {"The council": 0.8, "Bees": 0.3, "Colonies": 0.0})
    assert (weak.citations[0].start, weak.citations[0].end) == (0, len(first))


def test_a_supporting_quote_that_introduces_code_brings_the_code():
    other = "The council publishes its prices in a file every spring, after the harvest. Read it like this:\n\n$ cat /srv/honey/prices.txt\n\nThe file is plain text."
    hits = [_hit(DOC, 1, score=0.6), _hit(other, 2, source="/d/b.md", score=0.58)]
    answer = _answer(hits, {"The council sets": 0.8, "The council publishes": 0.75}, support_ratio=0.8)
    support = answer.citations[1]
    assert support.source == "/d/b.md"
    assert support.text[support.highlight_start : support.highlight_end].endswith("$ cat /srv/honey/prices.txt")
    assert "$ cat /srv/honey/prices.txt" in answer.text and "The file is plain text" not in answer.text


def _missing_terms(texts):
    """``missing_terms`` of a question asked over an index of ``texts`` (the first five are the hits)."""
    from qa.answers.answering import answer_signals

    hits = [_hit(t, i, source=f"/d/{i}.md") for i, t in enumerate(texts[:5], 1)]
    lexical = LexicalIndex.build([content_terms(t) for t in texts])

    def missing(question):
        scored = score_sentences(question, hits, [_sentences(h, {}) for h in hits], weights={}, settings=AnswerSettings())
        weights = term_weights(question, lexical)
        return answer_signals(question, hits, scored, weights=weights, lexical=lexical, query_terms=content_terms(question), depth=5)["missing_terms"]

    return missing


def test_a_word_formed_from_one_the_index_uses_is_not_missing():
    missing = _missing_terms([f"Troops of the Democratic People's Republic of Korea were deployed, report {i} says." for i in range(40)])
    assert missing("Which Korea troops were deployed?") == 0.0
    assert missing("Which Korean troops were deployed?") == 0.0  # "korean": the stemmer keeps it apart
    assert missing("Which Koreanish troops were deployed?") > 0.2  # four letters more: another word


def test_a_word_whose_negation_the_index_uses_is_not_missing():
    missing = _missing_terms([f"Each contributor grants an irrevocable licence, clause {i} says; the grant is unlimited." for i in range(40)])
    assert missing("Is the licence revocable?") == 0.0  # the text says "irrevocable"
    assert missing("Is the grant limited?") == 0.0  # "unlimited"
    assert missing("Is the licence transferable?") > 0.2  # neither it nor a negation of it occurs


def test_a_one_word_field_name_is_never_a_supporting_quote():
    from qa.answers.answering import SentenceScore, compose_answer

    field = "Sorting HOW TO\n\nAuthor:\n\nAndrew Dalke and Raymond Hettinger"
    good = "Python lists have a built-in list.sort() method that modifies the list in-place."
    hits = [_hit(good, 1, score=0.6), _hit(field, 2, source="/d/b.md", score=0.59), _hit(good.replace("in-place", "in place today"), 3, source="/d/c.md", score=0.5)]
    author = field.index("Author:")
    scored = [
        SentenceScore(0, 0, 0, len(good), 0.8, 3.0),
        SentenceScore(1, 0, author, author + len("Author:"), 0.7, 2.9),
        SentenceScore(2, 0, 0, len(hits[2].passage.text), 0.6, 2.8),
    ]
    text, citations = compose_answer(hits, scored, AnswerSettings(), [pieces(h.passage.text) for h in hits])
    assert [c.source for c in citations] == ["/d/a.md", "/d/c.md"]
    assert "Author" not in text
