# Container image for `monitor`: the daemon (`monitor run`) by default.
#
#   docker build -t monitor .
#   docker run -d --name monitor \
#       -v monitor-data:/data \
#       -v "$PWD/config/monitor.toml:/config/monitor.toml:ro" \
#       -e MONITOR_SMTP_PASSWORD=... \
#       monitor
#
# /config  the config; the image ships the example config (monitor/example.toml) as /config/monitor.toml
#          so it runs out of the box. Mount your own file (or directory) over it.
# /data    the SQLite database, the heartbeat file and the matcher's word cache (cache/, so a
#          restart compiles the queries without loading dictionaries); writable by uid 10001.
#          MONITOR_STORAGE_URL overrides [storage].url from the config: set it to a
#          postgresql:// URL to use PostgreSQL instead.
# Other commands: docker run --rm monitor monitor check-config   (or hits, feeds, poll --all, ...)
# On SIGTERM the daemon lets running jobs finish for up to 8 s, inside `docker stop`'s 10 s.

ARG PYTHON_IMAGE=python:3.12-slim

# --- builder: wheels for the project and every dependency, installed into /opt/venv --------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
COPY pyproject.toml README.md LICENSE NOTICE requirements.lock ./
COPY monitor ./monitor
# A wheel for every dependency at the version and hash requirements.lock pins (tools/lock
# writes it from pyproject.toml), so two builds a month apart install the same things; then
# the project's own wheel (hatchling runs here only). Any dependency published as an sdist only
# is built here too, never in the final stage. The lock includes [postgres]: psycopg, so
# MONITOR_STORAGE_URL may name a PostgreSQL database.
RUN pip wheel --wheel-dir /wheels --require-hashes -r requirements.lock \
    && pip wheel --wheel-dir /wheels --no-deps .
# Install those wheels, offline, into a venv without pip (the base image's pip does the
# installing); the final stage copies just this venv: no build backend, wheels or pip in it.
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-index --find-links /wheels 'monitor[postgres]'

# --- final: runtime only --------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

COPY --from=builder /opt/venv /opt/venv
RUN groupadd --gid 10001 monitor \
    && useradd --uid 10001 --gid monitor --home-dir /data --no-create-home --no-log-init \
        --shell /usr/sbin/nologin monitor \
    && install -d -o 10001 -g 10001 -m 0750 /data \
    && install -d -m 0755 /config \
    && monitor --version

COPY --chmod=0644 monitor/example.toml /config/monitor.toml

ENV MONITOR_CONFIG=/config/monitor.toml \
    MONITOR_STORAGE_URL=sqlite:////data/monitor.db \
    MONITOR_HEARTBEAT=/data/heartbeat \
    MONITOR_CACHE_DIR=/data/cache

VOLUME ["/config", "/data"]
WORKDIR /data
USER 10001:10001

# `monitor health` asks the daemon's /healthz when the config sets [server] listen (503 or no
# answer: unhealthy); otherwise it reads the heartbeat, which the daemon writes as soon as it
# has started (after the schema migration), then every minute, and fails once it is older than
# 5 minutes.
HEALTHCHECK --interval=1m --timeout=15s --start-period=2m --retries=3 \
    CMD ["monitor", "health"]

CMD ["monitor", "run"]
