"""Deliver a rendered digest by SMTP. Building the message is pure; sending is the only I/O."""

from __future__ import annotations

import smtplib
import ssl
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
    DeliveryError when nobody got it."""
    timeout = smtp.timeout.total_seconds()
    try:
        client: smtplib.SMTP
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password)
            refused = client.send_message(message)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}") from exc
    return {
        recipient: f"{code} {reply.decode(errors='replace')}" for recipient, (code, reply) in refused.items()
    }
