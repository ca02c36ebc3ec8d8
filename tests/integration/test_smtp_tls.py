"""SMTP over TLS on loopback: STARTTLS and implicit TLS (ssl) with aiosmtpd, a certificate from a
throwaway CA that trustme makes, the password read from the environment; an untrusted
certificate is refused, and not tried again. Wrong settings fail at once, saying what to change."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from monitor.cli import main
from monitor.config import SmtpConfig
from monitor.errors import DeliveryError
from monitor.models import Attempt, Message
from monitor.outbox.compose import wire_bytes
from monitor.outbox.smtp import SmtpChannel, check_login
from tests.conftest import MailSink, free_port
from tests.support.feeds import SERBIAN_NEWS, rss

PASSWORD = "correct horse"


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def certificate(authority: trustme.CA) -> trustme.LeafCert:
    return authority.issue_cert("127.0.0.1")


@pytest.fixture
def trusted(authority: trustme.CA, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client trusts the CA that issued the servers' certificate (SSL_CERT_FILE)."""
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))


def _server_context(certificate: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    return context


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"monitor", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture
def starttls_server(certificate: trustme.LeafCert) -> Iterator[tuple[int, MailSink]]:
    sink = MailSink()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
    )
    controller.start()
    yield controller.port, sink
    controller.stop()


@pytest.fixture
def ssl_server(certificate: trustme.LeafCert) -> Iterator[tuple[int, MailSink]]:
    sink = MailSink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), ssl_context=_server_context(certificate)
    )
    controller.start()
    yield controller.port, sink
    controller.stop()


def _message() -> Message:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = (
        "[monitor] bia: 1 new item",
        "m@example.org",
        "d@example.org",
    )
    message.set_content("BIA saslušala ruskog aktivistu")
    return Message("digest", "<1@example.org>", wire_bytes(message))


def _smtp(port: int, security: str, **options: Any) -> SmtpConfig:
    return SmtpConfig.model_validate(
        {"host": "127.0.0.1", "port": port, "security": security, "from": "m@example.org", "timeout": "5s"}
        | options
    )


def test_starttls_with_a_trusted_certificate_and_the_password_from_the_environment(
    trusted, starttls_server, monkeypatch
):
    port, sink = starttls_server
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", PASSWORD)

    tried = SmtpChannel(_smtp(port, "starttls", username="monitor")).send(_message(), ["d@example.org"])

    assert tried == {"d@example.org": Attempt("sent")}
    [(recipients, raw)] = sink.envelopes
    assert recipients == ["d@example.org"] and b"BIA saslu" in raw


def test_a_wrong_password_is_not_delivered_and_says_so(trusted, starttls_server, monkeypatch):
    port, sink = starttls_server
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "wrong")

    tried = SmtpChannel(_smtp(port, "starttls", username="monitor")).send(_message(), ["d@example.org"])

    why = tried["d@example.org"]
    assert why.state == "failed_temporary" and "535" in (why.error or "")
    assert "after" not in (why.error or "")  # one try: a wrong password stays wrong
    assert sink.envelopes == []


def test_implicit_tls_with_a_trusted_certificate(trusted, ssl_server):
    port, sink = ssl_server

    assert SmtpChannel(_smtp(port, "ssl")).send(_message(), ["d@example.org"]) == {
        "d@example.org": Attempt("sent")
    }
    assert [recipients for recipients, _ in sink.envelopes] == [["d@example.org"]]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_refused_once_not_tried_again(
    certificate, starttls_server, ssl_server, security, monkeypatch, tmp_path
):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))  # trust nothing
    port, sink = starttls_server if security == "starttls" else ssl_server
    smtp = _smtp(port, security, attempts=3, retry_wait="1s")

    tried = SmtpChannel(smtp).send(_message(), ["d@example.org"])

    why = tried["d@example.org"]
    assert why.error and "CERTIFICATE_VERIFY_FAILED" in why.error and "after" not in why.error  # one try
    assert why.state == "failed_temporary" and sink.envelopes == []  # the outbox tries it later


@pytest.mark.parametrize(
    ("server", "security", "username", "said"),
    [
        ("closed", "none", "", "connection refused: is the mail server running, and is the port right?"),
        (
            "plain",
            "starttls",
            "",
            'the server does not offer STARTTLS; set security = "none" or use port 587',
        ),
        ("plain", "none", "monitor", 'the server does not offer AUTH before TLS; set security = "starttls"'),
        ("plain", "ssl", "", 'the server speaks plain SMTP on this port, not TLS: set security = "starttls"'),
        ("starttls", "none", "monitor", "the server does not offer AUTH before TLS"),
    ],
)
def test_wrong_settings_fail_at_once_saying_what_to_change(
    smtp_server, starttls_server, server, security, username, said
):
    port = {"closed": free_port(), "plain": smtp_server.port, "starttls": starttls_server[0]}[server]
    smtp = _smtp(port, security, username=username, attempts=3, retry_wait="2s")

    started = time.monotonic()
    why = SmtpChannel(smtp).send(_message(), ["d@example.org"])["d@example.org"]

    assert why.error and why.error.startswith(f"SMTP 127.0.0.1:{port}: {said}")
    assert why.state == "failed_temporary" and "after" not in why.error  # one try, not refused
    assert time.monotonic() - started < 2
    assert smtp_server.sink.envelopes == []


def test_a_refused_connection_leaves_the_digest_in_the_outbox_for_the_next_run(
    feed_server, tmp_path, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config({"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=free_port())

    def monitor(*args: str) -> Any:
        return CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)

    monitor("poll", "--all")
    sent = monitor("digest", "send")
    status = monitor("digest", "status", "--json")

    assert sent.exit_code == 1
    assert "pending relocants: 1 hits; not yet delivered to desk@example.org, " in sent.stderr
    assert "connection refused: is the mail server running" in sent.stderr
    [run] = [json.loads(line) for line in status.stdout.splitlines()]
    assert [d["state"] for d in run["deliveries"]] == ["failed_temporary"] * 2


def test_the_login_check_starts_tls_and_logs_in_then_quits_sending_nothing(
    trusted, starttls_server, monkeypatch
):
    port, sink = starttls_server
    smtp = _smtp(port, "starttls", username="monitor")
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", PASSWORD)

    check_login(smtp)
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "wrong")
    with pytest.raises(DeliveryError, match="535") as refused:
        check_login(smtp)

    assert not refused.value.temporary
    assert sink.envelopes == [] and sink.data_commands == 0
