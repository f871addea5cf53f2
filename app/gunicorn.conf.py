"""Gunicorn settings for App Service (contract.APP_START_COMMAND: gunicorn --config app/gunicorn.conf.py app.main:app).

Uvicorn workers run the ASGI app. App Service sends traffic to the port in $PORT (WEBSITES_PORT when
set) on all interfaces of its container; anywhere else the app binds to loopback only.
CARPRICE_BIND overrides both (the tests and `make serve` use it).
"""

import os

_port = os.environ.get("WEBSITES_PORT") or os.environ.get("PORT") or "8000"
_host = "0.0.0.0" if os.environ.get("WEBSITE_SITE_NAME") else "127.0.0.1"  # noqa: S104 - App Service only

bind = os.environ.get("CARPRICE_BIND", f"{_host}:{_port}")
# The uvicorn-worker package's worker (uvicorn.workers.UvicornWorker is deprecated in its favour), minus the
# `server` header (app/worker.py).
worker_class = "app.worker.AppWorker"
# Scoring is CPU-bound and in-process: one worker per core (App Service sets WEB_CONCURRENCY if wanted).
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
timeout = 60
graceful_timeout = 20
keepalive = 5
errorlog = "-"
loglevel = os.environ.get("CARPRICE_LOG_LEVEL", "info")
# Access logs cost a write per request; App Service's front end already logs every request.
accesslog = os.environ.get("CARPRICE_ACCESS_LOG") or None
# App Service terminates TLS in front of the container and sets X-Forwarded-*.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Gunicorn's control socket is not used; without it several instances (tests, twin) never collide.
control_socket_disable = True
