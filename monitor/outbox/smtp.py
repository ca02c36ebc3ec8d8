"""The email channel: a recorded message handed to the SMTP server, tried again within the send
when the failure is temporary."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from monitor.config import SmtpConfig
from monitor.errors import DeliveryError
from monitor.models import Attempt, Message


@dataclass(frozen=True, slots=True)
class Undelivered:
    """Why a recipient does not have the message: the server's answer, or what failed.

    ``refused``: a permanent answer (5xx) about this recipient or this message; trying again
    changes nothing. ``temporary``: worth another try soon. Neither (a refused login, an
    untrusted certificate): not worth trying again now, but the recipient still waits for it.
    """

    answer: str
    refused: bool = False
    temporary: bool = False

    def attempt(self) -> Attempt:
        """The recipient's delivery after this answer: refused for good, or to be tried again
        by the outbox (a later run may find the login fixed or the server back)."""
        return Attempt("refused" if self.refused else "failed_temporary", self.answer)


class SmtpChannel:
    """Email: every recipient who waits is sent the message in one session (``_send_message``)."""

    def __init__(self, smtp: SmtpConfig) -> None:
        self.smtp = smtp

    def send(self, message: Message, recipients: Sequence[str]) -> dict[str, Attempt]:
        undelivered = _send_message(self.smtp, recipients, message.wire)
        return {
            recipient: undelivered[recipient].attempt() if recipient in undelivered else Attempt("sent")
            for recipient in recipients
        }


def longest_send(smtp: SmtpConfig) -> timedelta:
    """About the longest ``SmtpChannel.send`` can take: each try a connection and a few commands,
    each within ``smtp.timeout``, and the waits between tries."""
    waits = sum((smtp.retry_wait * 2**attempt for attempt in range(smtp.attempts - 1)), timedelta(0))
    return smtp.attempts * 6 * smtp.timeout + waits


def _send_message(smtp: SmtpConfig, recipients: Sequence[str], message: bytes) -> dict[str, Undelivered]:
    """Hand ``message`` (``compose.wire_bytes``) to the SMTP server for ``recipients``: those
    who do not have it, each with why; the others have it, and must not be sent it again.

    A temporary failure (a 4xx answer, a dropped connection, a timeout) is tried again for the
    recipients it concerns, ``smtp.attempts`` times in all, waiting
    ``smtp.retry_wait`` and then twice as long each time; a recipient the server accepted is not
    sent it again. Every try sends the same bytes, so the same Message-ID. Wrong settings (a
    refused connection, no STARTTLS or AUTH offered, TLS against a plain port) are tried once,
    their answer saying what to change; the outbox still tries them again later, since a
    refused connection may be a mail server restarting.
    """
    undelivered: dict[str, Undelivered] = {}
    waiting = list(recipients)
    wait, attempt = smtp.retry_wait.total_seconds(), 1
    while True:
        tried = _try(smtp, waiting, message)
        undelivered = {r: why for r, why in undelivered.items() if r not in waiting} | tried
        waiting = [recipient for recipient, why in tried.items() if why.temporary]
        if not waiting or attempt == smtp.attempts:
            break
        time.sleep(wait)
        wait, attempt = 2 * wait, attempt + 1
    if attempt > 1:
        for recipient in waiting:
            undelivered[recipient] = Undelivered(
                f"{undelivered[recipient].answer} (after {attempt} tries)", temporary=True
            )
    return undelivered


def _try(smtp: SmtpConfig, recipients: Sequence[str], message: bytes) -> dict[str, Undelivered]:
    try:
        answers = _send_once(smtp, recipients, message)
    except DeliveryError as exc:
        return {recipient: Undelivered(str(exc), temporary=exc.temporary) for recipient in recipients}
    return {
        recipient: Undelivered(f"{code} {text}", refused=code >= 500, temporary=code < 500)
        for recipient, (code, text) in answers.items()
    }


def _temporary(exc: BaseException) -> bool:
    """Worth another try within this send: a 4xx answer, a dropped or slow connection. Not a
    TLS failure such as an untrusted certificate: trying again in a few seconds changes
    nothing. (A refused connection never comes here: ``_misconfigured`` names its fix.)"""
    if isinstance(exc, ssl.SSLError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, TimeoutError, OSError))


def _misconfigured(exc: BaseException) -> str | None:
    """What in the ``[smtp]`` settings to change, when ``exc`` says they are wrong."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: is the mail server running, and is the port right?"
    if isinstance(exc, ssl.SSLError) and exc.reason == "WRONG_VERSION_NUMBER":
        return (
            "the server speaks plain SMTP on this port, not TLS: "
            'set security = "starttls" (port 587) or "none"'
        )
    return None


def _connect(smtp: SmtpConfig) -> smtplib.SMTP:
    """A session greeted, with TLS and login as configured. A server that does not offer
    STARTTLS or AUTH is a DeliveryError saying which setting to change."""
    timeout = smtp.timeout.total_seconds()
    client: smtplib.SMTP
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    try:
        client.ehlo_or_helo_if_needed()
        if smtp.security == "starttls":
            if not client.has_extn("starttls"):
                raise DeliveryError(
                    f"SMTP {smtp.host}:{smtp.port}: the server does not offer STARTTLS; "
                    'set security = "none" or use port 587'
                )
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if smtp.username:
            if not client.has_extn("auth"):
                raise DeliveryError(
                    f"SMTP {smtp.host}:{smtp.port}: the server does not offer AUTH"
                    + (" before TLS" if smtp.security == "none" else "")
                    + '; set security = "starttls" (port 587) or "ssl" (port 465), or username = "" '
                    "if the server takes mail without a login"
                )
            client.login(smtp.username, smtp.password)
    except BaseException:
        client.close()
        raise
    return client


def _failed(smtp: SmtpConfig, exc: BaseException) -> DeliveryError:
    """``exc``, raised by smtplib or the socket, as a DeliveryError: with the fix when the
    settings are wrong (not temporary), else in the library's words."""
    where = f"SMTP {smtp.host}:{smtp.port}"
    fix = _misconfigured(exc)
    if fix:
        return DeliveryError(f"{where}: {fix}")
    return DeliveryError(f"{where}: {type(exc).__name__}: {exc}", temporary=_temporary(exc))


def check_login(smtp: SmtpConfig) -> None:
    """Connect, greet, start TLS and log in as configured, then QUIT, sending nothing: the
    ``[smtp]`` settings work, or a DeliveryError says what is wrong."""
    try:
        _close(_connect(smtp))
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise _failed(smtp, exc) from exc


def _send_once(smtp: SmtpConfig, recipients: Sequence[str], message: bytes) -> dict[str, tuple[int, str]]:
    """One SMTP session: the answer of each recipient the server refused, at RCPT TO, or all
    of them at DATA. A failure of the session itself is a DeliveryError."""
    international = not all(address.isascii() for address in (smtp.sender, *recipients))
    try:
        client = _connect(smtp)
        try:
            refused: Mapping[str, tuple[int, bytes | str]]
            try:
                refused = client.sendmail(
                    smtp.sender,
                    list(recipients),
                    message,
                    ["SMTPUTF8", "BODY=8BITMIME"] if international else [],
                )
            except smtplib.SMTPRecipientsRefused as exc:
                # all refused; or a 421 ended the session before the rest were named: that
                # answer is theirs too, since nobody got the message
                ended = list(exc.recipients.values())[-1]
                refused = {recipient: exc.recipients.get(recipient, ended) for recipient in recipients}
            except smtplib.SMTPDataError as exc:
                refused = {recipient: (exc.smtp_code, exc.smtp_error) for recipient in recipients}
        finally:
            _close(client)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise _failed(smtp, exc) from exc
    return {recipient: (code, _text(reply)) for recipient, (code, reply) in refused.items()}


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _close(client: smtplib.SMTP) -> None:
    """QUIT, and hang up whatever the answer: the message was accepted or refused already."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
