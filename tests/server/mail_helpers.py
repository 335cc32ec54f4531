"""A real SMTP server for the tests (aiosmtpd on a free loopback port) and reading its mail."""

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from icalendar import Calendar

from tests.server.postgres import free_port

#: Long enough for a slow machine; a test waits this long only when it is failing.
DEADLINE = 15.0


class Mailbox:
    """What the test SMTP server received, in order; wait() blocks until enough arrived."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._changed:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            self._changed.notify_all()
        return "250 OK"

    def wait(self, count: int, timeout: float = DEADLINE) -> list[EmailMessage]:
        """The first `count` messages, once they have arrived (fails after `timeout`)."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            assert arrived, f"{len(self.messages)} of {count} messages arrived in {timeout} s"
            return list(self.messages[:count])


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 (no TLS, no auth) until the block ends."""
    mailbox = Mailbox()
    port = port or free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def text_part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def calendar_of(message: EmailMessage) -> Calendar:
    attachments = [a for a in message.iter_attachments() if a.get_content_type() == "text/calendar"]
    assert len(attachments) == 1, "one .ics attached"
    assert attachments[0].get_filename() == "invite.ics"
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return Calendar.from_ical(payload)


def join_link(message: EmailMessage) -> str:
    """The 'Join your appointment' button's address, from the HTML part."""
    html = text_part(message, "html")
    found = re.search(r'<a href="([^"]+)"[^>]*>\s*Join your appointment\s*</a>', html)
    assert found, "no Join button"
    return found.group(1).replace("&amp;", "&")


def token_of(link: str) -> str:
    assert "#" in link
    return link.split("#", 1)[1]
