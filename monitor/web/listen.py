"""The socket side of the HTTP face: the address checked and bound before anything starts
(a port in use is a clear error, not a daemon without its face), the token it asks for, and
the probe `monitor health` sends to /healthz."""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
from typing import Any

from monitor.config import ServerConfig, split_listen
from monitor.errors import ConfigError

ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # where the probe asks a server on every address


def is_loopback(listen: str) -> bool:
    """Whether ``listen``'s host is reachable from this machine only."""
    host, _ = split_listen(listen)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def token(server: ServerConfig) -> str:
    """The bearer token the server asks for: required off loopback, optional on it."""
    assert server.listen is not None
    if not server.token and not is_loopback(server.listen):
        raise ConfigError(
            f"[server] listen = {server.listen!r} is reachable from other machines, so /metrics "
            f"needs a bearer token: set the environment variable {server.token_env} to a long random "
            'secret, or listen on loopback ("127.0.0.1:8080")'
        )
    return server.token


def bind(listen: str) -> socket.socket:
    """A listening socket on ``listen`` (host:port)."""
    host, port = split_listen(listen)
    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ConfigError(
            f"[server] listen = {listen!r}: cannot listen there ({why}); "
            "another process may hold the port: choose another one"
        ) from exc


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def probe(listen: str, timeout: float) -> tuple[int, dict[str, Any]]:
    """GET /healthz of the server on ``listen`` (an address for every interface is asked on
    loopback): its status and JSON body. OSError when nothing answers."""
    host, port = split_listen(listen)
    host = ANY_ADDRESS.get(host, host)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        body = json.loads(raw)
    except ValueError:
        body = {"status": "failing", "problems": [f"not the monitor's answer: {raw[:200]!r}"]}
    return response.status, body
