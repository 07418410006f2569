"""E-mail messages (.eml): subject, sender, recipients and date as metadata and as the first
line of the text (so "who wrote about ..." finds them), then the body.

>>> raw = b"Subject: Budget\\nFrom: Ana <ana@example.org>\\nDate: Tue, 1 Dec 2026 10:00:00 +0000\\n\\nIt was approved."
>>> out = read_eml(raw)
>>> out.title, out.text.splitlines()[-1]
('Budget', 'It was approved.')
"""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from ...errors import DocumentError
from ..html_text import extract_html
from .assembly import Extracted, TextAssembler, clean_inline

_HEADERS = (("from", "From"), ("to", "To"), ("cc", "Cc"), ("date", "Date"), ("subject", "Subject"))


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if not isinstance(content, str):
        content = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else ""
    if part.get_content_subtype() == "html":
        return extract_html(content).text
    return content.replace("\r\n", "\n").replace("\r", "\n")


def read_eml(data: bytes) -> Extracted:
    """Read one RFC 5322 message; attachments are listed (not read) in the notes."""
    try:
        message = email.message_from_bytes(data, policy=policy.default)
        headers = {key: clean_inline(str(message.get(name, "") or "")) for key, name in _HEADERS}
    except Exception as exc:  # malformed headers raise a variety of errors in the email package
        raise DocumentError(f"unreadable e-mail ({type(exc).__name__}: {exc})") from None
    if not any(headers.values()) and not message.defects and not message.is_multipart() and b":" not in data[:200]:
        raise DocumentError("not an e-mail message (no headers)")
    assembler = TextAssembler()
    header_line = "; ".join(f"{name}: {headers[key]}" for key, name in _HEADERS if headers[key])
    if header_line:
        assembler.paragraph(header_line)
    try:
        body = _body_text(message)
    except Exception as exc:
        raise DocumentError(f"unreadable e-mail body ({type(exc).__name__}: {exc})") from None
    assembler.paragraphs(body)
    notes = [
        (f"attachment {part.get_filename() or '(unnamed)'}", "attachments are not read; save it and add it as a file")
        for part in message.iter_attachments()
    ] if message.is_multipart() else []
    if not body.strip():
        raise DocumentError("the e-mail has no text body")
    metadata = {key: value for key, value in headers.items() if value}
    return assembler.result(title=headers["subject"], metadata=metadata, notes=notes)
