"""What deploys monitor: compose.yaml and the config it runs (`docker compose up` starts monitor
on PostgreSQL and sends its digests to the Mailpit service; no engine runs here, so the files
are checked against each other and the config loaded as the daemon loads it), and the systemd
units, verified by systemd-analyze where it is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_docker_compose_config_accepts_compose_yaml():
    """The Compose engine's own check, where the docker CLI has its compose plugin."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("no docker compose here")

    done = subprocess.run(
        [docker, "compose", "--file", str(ROOT / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize(
    ("unit", "instance"), [("monitor.service", "monitor.service"), ("monitor@.service", "monitor@1.service")]
)
def test_the_systemd_units_verify_clean(tmp_path, unit, instance):
    """systemd-analyze verify, on a copy whose ExecStart is this environment's monitor (it
    checks that the command exists); a misspelt key would be a warning, and fails here too."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    command = Path(sys.executable).with_name("monitor")
    if not command.exists():
        pytest.skip(f"no monitor command beside {sys.executable} for the unit to start")
    text = (
        (ROOT / "deploy" / unit).read_text(encoding="utf-8").replace("/opt/monitor/bin/monitor", str(command))
    )
    (tmp_path / unit).write_text(text, encoding="utf-8")

    done = subprocess.run(
        [analyze, "verify", str(tmp_path / instance)], capture_output=True, text=True, timeout=60
    )

    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    assert "DynamicUser=yes" in text and "ProtectSystem=strict" in text and "StateDirectory=monitor" in text
