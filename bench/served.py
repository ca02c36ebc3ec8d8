"""The corpus's captures, served from 127.0.0.1 for the benchmarks, with no import of monitor,
so a script that uses it runs on any checkout's code."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def captures() -> dict[str, bytes]:
    """Every capture of corpus/feeds and corpus/tricky, by ``feeds/NAME.xml``, in order."""
    return {
        f"{path.parent.name}/{path.name}": path.read_bytes()
        for kind in ("feeds", "tricky")
        for path in sorted((CORPUS / kind).glob("*.xml"))
    }


@contextmanager
def serving(bodies: Mapping[str, bytes], tagged: Collection[str] = ()) -> Iterator[int]:
    """Serve ``bodies`` by path (``/name`` → ``bodies["name"]``, else 404) as
    ``application/xml`` without a charset, read at each request, so a caller may change them
    between polls; yields the port. The names in ``tagged`` carry an ETag (their body's hash)
    and answer 304 to a request that sends it back."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            body = bodies.get(name)
            tag = (
                f'"{hashlib.sha256(body).hexdigest()[:16]}"' if body is not None and name in tagged else None
            )
            if tag is not None and self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            self.send_response(200 if body is not None else 404)
            if tag is not None:
                self.send_header("ETag", tag)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
