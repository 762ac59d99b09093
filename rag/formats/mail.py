"""E-mail (.eml) → a page, and its attachments → documents of their own.

The message is one page: its From, To, Cc, Date and Subject headers, then its body (the plain-text
part, or the HTML part read as text when there is no plain one), then the names of its attachments.
Parsing is Python's ``email`` package with ``policy.default`` (well kept, in the standard library,
decodes RFC 2047 headers and any transfer encoding; it never runs or fetches anything).

:func:`attachments` lists the attachments Folio can read (by their file names' types), with their
bytes, so ingestion can index each as its own document named ``mail.eml › report.pdf``. Images are
taken only when they are real attachments, not the inline logos and signatures of an HTML mail.
It runs in the sandboxed worker like any parse (see :func:`rag.ingest.ingest`).

>>> from email.message import EmailMessage
>>> m = EmailMessage(); m["From"] = "Anna <anna@example.org>"; m["To"] = "depot@example.org"
>>> m["Subject"] = "Brake checks"; m.set_content("Brakes are checked every 30 days.")
>>> m.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="plan.pdf")
>>> print(message_text(m))
From: Anna <anna@example.org>
To: depot@example.org
Subject: Brake checks
<BLANKLINE>
Brakes are checked every 30 days.
<BLANKLINE>
Attachments: plan.pdf
>>> [(a.name, a.size) for a in message_attachments(m, supported=lambda n: n.endswith(".pdf"), max_bytes=10**6)]
[('plan.pdf', 12)]
"""

from __future__ import annotations

import email
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

from rag.documents import Page
from core.errors import DocumentError
from rag.formats.base import html_text

HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_ATTACHMENTS = 100
_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]+")


@dataclass(frozen=True)
class Attachment:
    """One attachment: its (sanitised) file name, size, and bytes (None when over the size limit)."""

    name: str
    size: int
    data: bytes | None


def load_eml(path: Path, name: str) -> list[Page]:
    return [Page(1, message_text(_parse(path, name)))]


def attachments(path: Path, *, name: str, max_bytes: int, supported: Callable[[str], bool]) -> list[Attachment]:
    """The attachments of the mail at ``path`` whose names ``supported`` accepts (at most :data:`MAX_ATTACHMENTS`)."""
    return message_attachments(_parse(path, name), supported=supported, max_bytes=max_bytes)


def _parse(path: Path, name: str) -> EmailMessage:
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(0)
        if b"\x00" in head:
            raise DocumentError(name, "the file is binary, not an e-mail message (check its extension)")
        try:
            message = email.message_from_binary_file(handle, policy=policy.default)
        except (ValueError, TypeError, LookupError, IndexError, RecursionError):
            raise DocumentError(name, "the e-mail message is damaged (it could not be parsed)") from None
    if not any(message.get(header) for header in ("From", "To", "Subject", "Date", "Message-ID")):
        raise DocumentError(name, "the file is not an e-mail message (it has no From, To, Subject or Date header)")
    return message


def message_text(message: EmailMessage) -> str:
    """Headers, body and the list of attachment names of one message, as a page of text."""
    lines = []
    for header in HEADERS:
        value = _header(message, header)
        if value:
            lines.append(f"{header}: {value}")
    body = _body(message)
    names = [_filename(part, index) for index, part in enumerate(_attachment_parts(message), 1)]
    text = "\n".join(lines) + ("\n\n" + body.strip() if body.strip() else "")
    if names:
        text += "\n\nAttachments: " + ", ".join(names)
    return text


def message_attachments(message: EmailMessage, *, supported: Callable[[str], bool], max_bytes: int) -> list[Attachment]:
    found: list[Attachment] = []
    for index, part in enumerate(_attachment_parts(message), 1):
        filename = _filename(part, index)
        if not supported(filename):
            continue
        if part.get_content_maintype() == "image" and part.get_content_disposition() != "attachment":
            continue
        data = _part_bytes(part)
        if data is None:
            continue
        found.append(Attachment(filename, len(data), data if len(data) <= max_bytes else None))
        if len(found) >= MAX_ATTACHMENTS:
            break
    return found


def _header(message: EmailMessage, header: str) -> str:
    try:
        value = message.get(header)
    except (ValueError, TypeError, IndexError, LookupError):
        value = message.get_all(header, failobj=[""])[0] if message.get_all(header) else ""
    return " ".join(str(value or "").split())


def _body(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, ValueError, RecursionError):
        part = None
    if part is None:
        return ""
    text = _part_text(part)
    return html_text(text) if part.get_content_subtype() == "html" else text


def _part_text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError, AttributeError, TypeError):  # an unknown charset, a broken encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def _attachment_parts(message: EmailMessage) -> list[EmailMessage]:
    try:
        return list(message.iter_attachments())[: MAX_ATTACHMENTS * 4]
    except (KeyError, ValueError, TypeError, RecursionError):
        return []


def _filename(part: EmailMessage, index: int) -> str:
    try:
        filename = part.get_filename()
    except (ValueError, TypeError, LookupError):
        filename = None
    if part.get_content_type() == "message/rfc822" and not filename:
        inner = part.get_payload(0) if part.is_multipart() else None
        subject = _header(inner, "Subject") if inner is not None else ""
        filename = (subject[:80] or f"message-{index}") + ".eml"
    if not filename:
        extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        filename = f"attachment-{index}{extension}"
    filename = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .") or f"attachment-{index}"
    return filename[-120:]


def _part_bytes(part: EmailMessage) -> bytes | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        return inner.as_bytes(policy=policy.default) if inner is not None else None
    try:
        return part.get_payload(decode=True)
    except (ValueError, TypeError):
        return None
