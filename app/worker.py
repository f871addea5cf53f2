"""The gunicorn worker class App Service runs (app/gunicorn.conf.py): uvicorn-worker's, without the
`server: uvicorn` header, so responses do not advertise the server software."""

from __future__ import annotations

from uvicorn_worker import UvicornWorker


class AppWorker(UvicornWorker):
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "server_header": False}
