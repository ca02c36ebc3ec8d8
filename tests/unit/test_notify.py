"""A channel's name, which the database, check-config, digest status and the logs show, holds
no secret from the environment in any form Apprise may write it."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest

from monitor.outbox.apprise import endpoint

TOKEN = "123456789:AAHdKq3-secret_Tok3n"


@pytest.mark.parametrize(
    ("url", "environ", "name"),
    [
        ("json://127.0.0.1:8080/hook/${T}", {"T": "plainsecret"}, "json://127.0.0.1:8080/hook/${T}"),
        ("json://127.0.0.1:8080/hook/${T}", {"T": "my secret"}, "json://127.0.0.1:8080/hook/${T}"),
        ("json://127.0.0.1:8080/hook/${T}", {"T": "tajna-šifra"}, "json://127.0.0.1:8080/hook/${T}"),
        ("json://127.0.0.1:8080/hook/${T}", {"T": "a+b&c=d"}, "json://127.0.0.1:8080/hook/${T}"),
        ("json://${CRED}@127.0.0.1/hook", {"CRED": "monitor:pa ss"}, "json://${CRED}@127.0.0.1/hook"),
        (
            "json://${USER}:${PASS}@127.0.0.1/hook",
            {"USER": "mo:nitor", "PASS": "hunter22"},
            "json://${USER}:****@127.0.0.1/hook",
        ),
        (
            "json://monitor:${PASS}@127.0.0.1/hook",
            {"PASS": "s3:cr3t"},
            "json://monitor:****@127.0.0.1/hook",
        ),
        ("json://${USER}:literal@127.0.0.1/hook", {"USER": "us er"}, "json://${USER}:****@127.0.0.1/hook"),
        (
            "json://moj korisnik:${PASS}@127.0.0.1/h",
            {"PASS": "x y"},
            "json://moj%20korisnik:****@127.0.0.1/h",
        ),
        ("tgram://${BOT}/-100123", {"BOT": TOKEN}, "tgram://${BOT}/-100123/"),
        (
            "discord://${ID}/${TOKEN}",
            {"ID": "112233445566", "TOKEN": "tok en-ÄÖ-42"},
            "discord://${ID}/${TOKEN}/",
        ),
    ],
)
def test_a_channels_name_shows_each_variable_as_written_never_its_value(url, environ, name):
    shown = endpoint(url, environ).name

    assert shown == name
    for value in environ.values():
        forms = {
            value,
            quote(value),
            quote(value, safe=""),
            quote_plus(value),
            *value.replace(":", " ").split(),
        }
        assert not any(form in shown for form in forms if len(form) > 3)
