"""compose.yaml and the config it runs: `docker compose up` starts monitor on PostgreSQL and
sends its digests to the Mailpit service; no engine runs here, so the files are checked
against each other and the config loaded as the daemon loads it."""

from __future__ import annotations

from pathlib import Path

import yaml  # PyYAML, which apprise brings

from monitor.checks import load

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_monitor_on_postgresql_with_its_mail_to_mailpit(monkeypatch):
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    monitor = services["monitor"]
    mount = next(volume for volume in monitor["volumes"] if volume.endswith(":/config/monitor.toml:ro"))
    monkeypatch.setenv("MONITOR_STORAGE_URL", monitor["environment"]["MONITOR_STORAGE_URL"])

    config = load(ROOT / mount.split(":")[0])

    assert set(services) == {"monitor", "postgres", "mailpit"}
    assert (
        config.storage.url.startswith("postgresql+psycopg://monitor:")
        and "@postgres:5432/" in config.storage.url
    )
    assert (config.smtp.host, config.smtp.port, config.smtp.username) == ("mailpit", 1025, "")
    assert "127.0.0.1:8025:8025" in services["mailpit"]["ports"]  # the inbox, on this machine only
    assert set(monitor["depends_on"]) == {"postgres", "mailpit"}
    assert any(
        watchlist.digest and watchlist.digest.text == "*/15 * * * *" for watchlist in config.watchlists
    )
