"""The HTTP face over real HTTP: /healthz and /metrics in the process that polls, a database
that fails or hangs under it, the token off loopback; then on real processes, `monitor run`
with [server] and `monitor health` probing it, and `monitor serve` alone."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import yaml  # PyYAML, which apprise brings
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from monitor.app import App
from monitor.http.fetch import Fetcher
from monitor.web import app as web_app
from monitor.web.app import for_app
from monitor.web.listen import bind
from monitor.web.serve import serve
from tests.conftest import FeedServer, free_port
from tests.support.cli import monitor
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.processes import start_daemon, wait_until

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def face(
    app: App, token: str = "", scheduler: Callable[[], bool] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app's HTTP face served on a loopback port of its own, and a client of it."""
    sock = bind("127.0.0.1:0")
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(for_app(app, app.metrics.registry, token, scheduler), sock, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        stop.set()
        await serving


def samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Each sample of a Prometheus page, by name and labels, as prometheus_client parses it."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def drop(database_url: str, table: str) -> None:
    """A table of the store gone from under the running monitor."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}{cascade}"))
    engine.dispose()


def test_a_poll_moves_the_counters_and_healthz_says_ok(database_url, n1_config, open_monitor):
    app = open_monitor(n1_config(database_url))

    async def run() -> tuple[dict, dict, httpx.Response]:
        async with face(app, scheduler=lambda: True) as client:
            before = await scrape(client)
            async with Fetcher() as fetcher:
                await app.poller.poll(app.config.feeds, fetcher)
            after = await scrape(client)
            return before, after, await client.get("/healthz")

    before, after, health = asyncio.run(run())

    def moved(name: str, **labels: str) -> tuple[float, float]:
        key = (name, tuple(sorted(labels.items())))
        return before.get(key, 0.0), after[key]

    assert moved("monitor_polls_total", outcome="ok") == (0, 1)
    assert moved("monitor_fetch_seconds_count") == (0, 1)
    assert moved("monitor_items_stored_total") == (0, 3)
    assert moved("monitor_hits_stored_total", watchlist="relocants") == (0, 1)
    assert moved("monitor_matcher_items_total") == (0, 3)
    assert moved("monitor_feeds", health="new") == (1, 0)
    assert moved("monitor_feeds", health="ok") == (0, 1)
    assert after[("monitor_matcher_items_per_second", ())] > 0
    assert after[("process_resident_memory_bytes", ())] > 10_000_000
    assert after[("monitor_database_up", ())] == 1
    assert after[("monitor_last_success_timestamp_seconds", ())] == pytest.approx(time.time(), abs=60)
    assert after[("monitor_messages_waiting", (("kind", "digest"),))] == 0
    assert not any(
        dict(labels).keys() - {"outcome", "kind", "watchlist", "state", "health", "le"} for _, labels in after
    ), "a label whose values are not bounded"
    assert health.status_code == 200
    body = health.json()
    assert (body["status"], body["problems"], body["warnings"]) == ("ok", [], [])
    assert body["scheduler"] == {"alive": True} and body["database"] == {"reachable": True, "error": None}
    assert body["feeds"]["ok"] == 1 and body["polls"]["age_seconds"] < 60
    assert body["outbox"]["waiting"] == {"digest": 0, "alert": 0}


def test_healthz_is_503_with_the_same_body_when_the_database_fails(database_url, n1_polled):
    polled = n1_polled(database_url)

    async def run() -> tuple[httpx.Response, httpx.Response, dict]:
        async with face(polled.monitor, scheduler=lambda: True) as client:
            healthy = await client.get("/healthz")
            drop(database_url, "feeds")
            return healthy, await client.get("/healthz"), await scrape(client)

    healthy, failing, metrics = asyncio.run(run())

    assert healthy.status_code == 200
    assert failing.status_code == 503
    body = failing.json()
    assert body["status"] == "failing" and body["database"]["reachable"] is False
    assert "feeds" in body["database"]["error"] and body["problems"] == [
        f"the database failed: {body['database']['error']}"
    ]
    assert body.keys() == healthy.json().keys()
    assert metrics[("monitor_database_up", ())] == 0  # the scrape itself still answers
    assert ("monitor_feeds", (("health", "ok"),)) not in metrics


def test_healthz_waits_for_a_database_that_hangs_no_longer_than_its_patience(
    database_url, n1_polled, monkeypatch
):
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite file in WAL mode is read while another connection writes")
    polled = n1_polled(database_url)
    monkeypatch.setattr(web_app, "DATABASE_PATIENCE", 0.5)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with engine.begin() as connection:
            connection.execute(text("LOCK TABLE feeds IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        locked.wait(10)

        async def run() -> tuple[httpx.Response, float]:
            async with face(polled.monitor, scheduler=lambda: True) as client:
                began = time.monotonic()
                response = await client.get("/healthz")
                return response, time.monotonic() - began

        response, waited = asyncio.run(_released_after(run(), release))
    finally:
        release.set()
        holder.join()
        engine.dispose()

    assert response.status_code == 503
    assert response.json()["database"]["error"] == "no answer within 0.5 s"
    assert waited < 5


async def _released_after(work: Awaitable[T], release: threading.Event) -> T:
    """``work``'s result; then the lock it met is released, so that the thread left waiting on
    it ends before the event loop waits for its threads."""
    try:
        return await work
    finally:
        release.set()


def test_off_loopback_all_but_healthz_ask_for_the_bearer_token(database_url, n1_polled):
    polled = n1_polled(database_url)

    async def run() -> list[int]:
        async with face(polled.monitor, token="s3cret-token", scheduler=lambda: True) as client:
            return [
                (await client.get(path, headers=headers)).status_code
                for path, headers in (
                    ("/metrics", {}),
                    ("/metrics", {"Authorization": "Bearer wrong"}),
                    ("/metrics", {"Authorization": "s3cret-token"}),
                    ("/metrics", {"Authorization": "Bearer s3cret-token"}),
                    ("/healthz", {}),
                    ("/nowhere", {}),
                    ("/nowhere", {"Authorization": "Bearer s3cret-token"}),
                )
            ]

    assert asyncio.run(run()) == [401, 401, 401, 200, 200, 401, 404]


@pytest.mark.parametrize(
    ("listen", "said"),
    [
        (
            "0.0.0.0:{port}",
            "is reachable from other machines, so /metrics needs a bearer token: "
            "set the environment variable MONITOR_SERVER_TOKEN",
        ),
        ("127.0.0.1:{busy}", "cannot listen there (Address already in use)"),
    ],
)
def test_the_daemon_refuses_to_start_without_its_token_or_its_port(tmp_path, write_config, listen, said):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        address = listen.format(port=free_port(), busy=busy.getsockname()[1])
        config = write_config(
            {"N1": "http://127.0.0.1:1/n1.xml"},
            database_url=f"sqlite:///{tmp_path / 'm.db'}",
            smtp_port=25,
            extra=f'[server]\nlisten = "{address}"\n',
        )
        code, _, stderr = monitor(config, "run")

    assert code == 2
    assert said in " ".join(stderr.split()) and "Traceback" not in stderr


def test_a_daemon_serves_its_face_and_monitor_health_asks_it(
    feed_server: FeedServer, smtp_server, tmp_path, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    port = free_port()
    config = write_config(
        {"N1": url},
        database_url=f"sqlite:///{tmp_path / 'm.db'}",
        smtp_port=smtp_server.port,
        extra=f'[server]\nlisten = "127.0.0.1:{port}"\n',
    )
    daemon = start_daemon(config)
    try:
        wait_until(lambda: feed_server.statuses("/n1.xml") == [200], 30, "a poll")
        _, metrics, (code, said, _), log = asked_then_stopped(daemon, config, port)
    finally:
        daemon.kill()

    assert metrics[("monitor_polls_total", (("outcome", "ok"),))] == 1
    assert metrics[("monitor_items_stored_total", ())] == 3
    assert metrics[("monitor_workers_live", ())] == 1
    assert (code, said.strip()) == (0, "ok")
    assert daemon.returncode == 0, log
    assert f"event=server.listening address=127.0.0.1:{port}" in log and "Traceback" not in log
    code, _, stderr = monitor(config, "health")
    assert code == 1 and f"no answer from the daemon's /healthz at 127.0.0.1:{port}" in stderr


def test_monitor_serve_alone_says_when_no_daemon_runs_and_stops_on_sigterm(tmp_path, write_config):
    port = free_port()
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url=f"sqlite:///{tmp_path / 'm.db'}",
        smtp_port=25,
        extra=f'[server]\nlisten = "127.0.0.1:{port}"\n',
    )
    served = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "serve"], stderr=subprocess.PIPE, text=True
    )
    try:
        health, metrics, (code, _, stderr), log = asked_then_stopped(served, config, port)
    finally:
        served.kill()

    assert health.status_code == 503
    assert health.json()["problems"] == [
        "no `monitor run` is alive on this database: nothing is polled or sent"
    ]
    assert health.json()["scheduler"] is None
    assert metrics[("monitor_feeds", (("health", "new"),))] == 0  # no daemon synced the feeds
    assert not any(name.startswith("monitor_polls") for name, _ in metrics)  # it polls nothing itself
    assert code == 1 and "no `monitor run` is alive" in stderr
    assert served.returncode == 0, log
    assert "event=server.stopped" in log and "Traceback" not in log


def asked_then_stopped(
    process: subprocess.Popen[str], config: Path, port: int
) -> tuple[httpx.Response, dict, tuple[int, str, str], str]:
    """Once its server answers: its /healthz, its metrics and what `monitor health` says; then,
    after SIGTERM, its log."""
    wait_until(lambda: _answers(port), 30, "the server")
    health = httpx.get(f"http://127.0.0.1:{port}/healthz")
    metrics = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
    said = monitor(config, "health")
    process.send_signal(signal.SIGTERM)
    _, log = process.communicate(timeout=30)
    return health, metrics, said, log


def _answers(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except httpx.TransportError:
        return False
    return True


def test_the_sample_alert_rules_ask_for_metrics_the_face_serves(database_url, n1_polled):
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    asked = {name for expression in expressions for name in re.findall(r"\bmonitor_[a-z_]+", expression)}
    polled = n1_polled(database_url)

    async def run() -> dict:
        async with face(polled.monitor, scheduler=lambda: True) as client:
            return await scrape(client)

    served = {name for name, _ in asyncio.run(run())}

    assert asked and asked <= served, asked - served
