"""The HTTP face of a monitor: /healthz and /metrics, a Starlette app served by Hypercorn on
the daemon's event loop (``[server] listen``) or alone (`monitor serve`). The later web
interface is built on the same app.

Hypercorn rather than uvicorn: uvicorn's ``Server.serve`` takes SIGTERM and SIGINT over on the
main thread and raises them again when it has stopped, so the daemon saw each signal twice (its
second means "stop at once"), and no public setting leaves them alone; Hypercorn's ``serve``
takes a ``shutdown_trigger`` and then installs no handler.
"""
