import pytest

from qa.errors import DocumentError
from qa.ingest.formats.mail import read_eml
from tests.helpers import eml_bytes


def _message(html: bool = False, attachment: bool = False) -> bytes:
    return eml_bytes(
        "Hi all,\n\nThe bridge budget was approved on Monday.\n\nAna\n",
        subject="Budget approval",
        to="team@example.org",
        html="<p>Hi all,</p><p>The bridge budget was <b>approved</b> on Monday.</p>" if html else None,
        attachment="minutes.pdf" if attachment else None,
    )


def test_headers_are_metadata_and_the_first_line():
    out = read_eml(_message())
    assert out.title == "Budget approval"
    assert out.metadata["from"] == "Ana Ruiz <ana@example.org>"
    first, *body = out.text.split("\n\n")
    assert first.startswith("From: Ana Ruiz <ana@example.org>; To: team@example.org; Date: ")
    assert body == ["Hi all,", "The bridge budget was approved on Monday.", "Ana"]


def test_plain_text_body_is_preferred_and_attachments_are_noted():
    out = read_eml(_message(html=True, attachment=True))
    assert "<b>" not in out.text and "approved on Monday." in out.text
    assert ("attachment minutes.pdf", "attachments are not read; save it and add it as a file") in out.notes


def test_message_without_body_is_refused():
    with pytest.raises(DocumentError, match="no text body"):
        read_eml(b"Subject: empty\n\n")
