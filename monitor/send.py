"""Deliver a rendered digest by SMTP. Building the message is pure; sending is the only I/O."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from monitor.config import SmtpConfig
from monitor.digest import Digest
from monitor.errors import DeliveryError


def build_message(digest: Digest, sender: str, recipients: Sequence[str], now: datetime) -> EmailMessage:
    """A multipart/alternative message: the plain-text part first, the HTML part preferred."""
    message = EmailMessage()
    message["Subject"] = " ".join(digest.subject.split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("digest", domain=sender.rpartition("@")[2])
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    return message


def send_message(smtp: SmtpConfig, message: EmailMessage) -> dict[str, str]:
    """Hand ``message`` to the SMTP server: the recipients it refused, each with the server's
    answer, when it accepted the others (they have their copy, so it must not be sent again);
    DeliveryError when nobody got it.

    A temporary failure (a 4xx answer, a refused or dropped connection, a timeout) is tried
    again, ``smtp.attempts`` times in all, waiting ``smtp.retry_wait`` and then twice as long
    each time; a permanent one (5xx) is not. Every try sends the same Message-ID.
    """
    wait, attempt = smtp.retry_wait.total_seconds(), 1
    while True:
        try:
            refused = _send_once(smtp, message)
            break
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            if attempt == smtp.attempts or not _temporary(exc):
                tries = f" (after {attempt} tries)" if attempt > 1 else ""
                raise DeliveryError(
                    f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}{tries}"
                ) from exc
        time.sleep(wait)
        wait, attempt = 2 * wait, attempt + 1
    return {
        recipient: f"{code} {reply.decode(errors='replace')}" for recipient, (code, reply) in refused.items()
    }


def _temporary(exc: BaseException) -> bool:
    """Worth another try: a 4xx answer, or no answer at all (connection refused, dropped, slow).
    Not a TLS failure such as an untrusted certificate: trying again changes nothing."""
    if isinstance(exc, ssl.SSLError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, TimeoutError, OSError))


def _send_once(smtp: SmtpConfig, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    timeout = smtp.timeout.total_seconds()
    client: smtplib.SMTP
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, smtp.password)
        return client.send_message(message)
