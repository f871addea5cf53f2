"""The car-price web app (FastAPI). App Service starts it with contract.APP_START_COMMAND:
gunicorn --config app/gunicorn.conf.py app.main:app"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from app.service import PredictionService
from app.settings import Settings
from app.store.cosmos import CosmosStore
from app.store.owners import Owner, open_own_outbox
from app.store.pending_view import PendingView, view_path
from app.web import api, assistant, health, pages
from app.web.errors import BodyTooLarge, on_body_too_large, on_request_validation_error
from app.web.http_methods import MethodsMiddleware
from app.web.openapi import openapi_document
from app.web.prediction_lane import PATH, PredictionLane
from app.web.security import SecurityMiddleware
from ml.carprice.dataset import Dataset
from ml.carprice.schema import served_dataset
from runtime.credentials import azure_credential
from runtime.endpoint import EndpointModel
from runtime.pricing import LocalModel, PriceModel

if TYPE_CHECKING:
    from app.assistant.service import Assistant

HERE = Path(__file__).resolve().parent
log = logging.getLogger("app")


def build_model(settings: Settings, credential: Any = None) -> PriceModel:
    if settings.scoring_mode == "remote":
        return EndpointModel(settings.endpoint_url, settings.endpoint_token_url, settings.endpoint_scope,
                             credential or azure_credential(settings.managed_identity_client_id),
                             timeout_s=settings.endpoint_timeout_s, attempts=settings.endpoint_attempts)
    return LocalModel.load(settings.model_dir)


def build_service(settings: Settings, dataset: Dataset, model: PriceModel | None = None) -> PredictionService:
    store = CosmosStore(settings) if settings.cosmos_endpoint else None
    if store is None:
        log.warning("no Cosmos DB endpoint configured: predictions stay in the outbox at %s", settings.outbox_dir)
    # One outbox per process (gunicorn worker, app/store/owners.py); one pending view per instance, read
    # by all of its workers (app/store/pending_view.py).
    owner = Owner.of_this_process()
    view = PendingView(view_path(settings.outbox_dir, owner.instance, settings.pending_view_dir))
    outbox = open_own_outbox(settings.outbox_dir, owner, settings.outbox_fsync_each_commit, view)
    return PredictionService(settings, model or build_model(settings), dataset, outbox, store, owner=owner)


def build_assistant(settings: Settings, service: PredictionService) -> Assistant | None:
    if not settings.assistant_configured:
        log.info("no Azure OpenAI / AI Search endpoints configured: the assistant page is off")
        return None
    from app.assistant.service import Assistant  # the AI SDKs load only when the assistant is on

    return Assistant.build(settings, service)


class CarPriceApp(FastAPI):
    """FastAPI, except that POST /api/predictions (the hot path) goes straight to its plain-ASGI handler
    (app/web/prediction_lane.py) instead of through FastAPI's middleware stack and router."""

    lane: PredictionLane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if PredictionLane.handles(scope):
            await self.lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, model: PriceModel | None = None) -> FastAPI:
    settings = settings or Settings()
    # The data set the served model was trained on: the form, the API's filters and validation all follow it.
    dataset = served_dataset(settings.model_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = build_service(settings, dataset, model)
        service.start()
        app.state.service = service
        app.state.assistant = build_assistant(settings, service)
        try:
            yield
        finally:
            if app.state.assistant is not None:
                await app.state.assistant.aclose()
            await service.stop()

    app = CarPriceApp(
        title="Car price desk",
        summary="Prices a car from its attributes; keeps every prediction; serves batch results.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,  # served below from vendored assets: no CDN at run time
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.dataset = dataset
    app.lane = PredictionLane(lambda: app.state.service, settings.max_body_bytes)
    app.add_middleware(MethodsMiddleware, routes=lambda: app.routes, extra={PATH: {"POST"}})
    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_body_bytes)  # outermost: every answer
    # FastAPI's decorator form: its signature keeps each handler's own exception type.
    app.exception_handler(RequestValidationError)(on_request_validation_error)
    app.exception_handler(BodyTooLarge)(on_body_too_large)
    app.include_router(health.router)
    app.include_router(api.build_router(dataset))
    app.include_router(pages.router)
    app.include_router(assistant.router)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=HERE / "web" / "static"), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse((HERE / "web" / "templates" / "swagger.html").read_text())

    return app


def _app_from_environment() -> FastAPI:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The Azure SDK and httpx (under the OpenAI SDK) log every HTTP request at INFO: far too much for an app log.
    for chatty in ("azure", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return create_app()


app = _app_from_environment()
