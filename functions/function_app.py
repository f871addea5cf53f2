"""Azure Functions entry point (Python v2 programming model): triggers only; logic in functions.handlers.

- score_listings: Event Hubs trigger on the listings hub, batches (cardinality many), its own consumer
  group, identity-based connection (app settings CARPRICE_EVENTHUB__fullyQualifiedNamespace, ...).
  Exponential-backoff retries re-deliver a batch that failed (no model, Cosmos DB down); handlers
  dead-letter on the last attempt, so no listing is lost when the retries run out.
- price: HTTPS POST /api/price. Anonymous at the function level: the platform's Entra ID
  authentication (App Service Authentication on the function app) admits callers, so no function keys.
"""

from __future__ import annotations

import logging
import threading

import azure.functions as func

import contract
from functions import handlers
from functions.settings import FunctionSettings

MAX_RETRIES = 5
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
_runtime: handlers.Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> handlers.Runtime:
    """The composition root, built on first use (a cold start pays for it once): settings, the served data set,
    the model and the store. Settings errors name the app setting."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = handlers.Runtime.from_settings(FunctionSettings.from_environment())
        return _runtime


def is_final_attempt(context: func.Context | None) -> bool:
    retry = getattr(context, "retry_context", None)
    if retry is None:
        return True
    return retry.max_retry_count >= 0 and retry.retry_count >= retry.max_retry_count


@app.function_name("score_listings")
@app.retry(strategy="exponential_backoff", max_retry_count=str(MAX_RETRIES),
           minimum_interval="00:00:10", maximum_interval="00:15:00")
@app.event_hub_message_trigger(arg_name="events", event_hub_name=contract.STREAM_EVENT_HUB,
                               connection=contract.FUNCTION_EVENTHUB_CONNECTION,
                               consumer_group=contract.STREAM_SCORING_CONSUMER_GROUP,
                               cardinality=func.Cardinality.MANY, data_type=func.DataType.BINARY)
def score_listings(events: list[func.EventHubEvent], context: func.Context) -> None:
    report = handlers.score_listings(events, runtime(), final_attempt=is_final_attempt(context))
    logging.info("scored %d of %d listings, %d dead-lettered", report.scored, report.received,
                 report.dead_lettered)


@app.function_name("price")
@app.route(route=contract.FUNCTION_PRICE_ROUTE, methods=["POST"])
def price(req: func.HttpRequest) -> func.HttpResponse:
    return handlers.price(req, runtime())
