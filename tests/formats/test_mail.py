from email.message import EmailMessage

import pytest

from qa.errors import DocumentError
from qa.formats.mail import read_eml


def _message(html: bool = False, attachment: bool = False) -> bytes:
    message = EmailMessage()
    message["Subject"] = "Budget approval"
    message["From"] = "Ana Ruiz <ana@example.org>"
    message["To"] = "team@example.org"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message.set_content("Hi all,\n\nThe bridge budget was approved on Monday.\n\nAna\n")
    if html:
        message.add_alternative("<p>Hi all,</p><p>The bridge budget was <b>approved</b> on Monday.</p>", subtype="html")
    if attachment:
        message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="minutes.pdf")
    return message.as_bytes()


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
