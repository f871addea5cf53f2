"""The HTML pages for business users: predictor, dashboard, batch results (server-rendered, no JS)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

from app.service import PredictionService, RecordNotKept
from app.web import charts, csrf
from app.web.dashboard import parse_time, quality_meaning, summarize
from app.web.form_fields import (
    cell,
    describe_row,
    distinguishing,
    form_fields,
    form_to_row,
    level_label,
    summary_columns,
    summary_text,
    value_label,
)
from app.web.market import summarize_market
from ml.carprice.gate import evaluation_of, quality_rows
from runtime.pricing import ModelUnavailable

router = APIRouter(include_in_schema=False)
BATCH_PAGE_ROWS = 60  # a screenful or two; the make filter narrows the rest
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _money(value: float | None) -> str:
    return "–" if value is None else f"${value:,.0f}"


def _when(text: str) -> str:
    return f"{parse_time(text):%Y-%m-%d %H:%M} UTC"


def _breakable(text: str) -> Markup:
    """Line-break opportunities after separators, so a long id wraps between its parts, never mid-word."""
    return Markup(re.sub(r"([-_.@+:/])", r"\1<wbr>", str(escape(text))))


# Filters that speak the served data set's labels read it from the page's context (set by _render).
templates.env.filters.update(
    money=_money, when=_when, breakable=_breakable,
    label=pass_context(lambda ctx, value, column=None: value_label(ctx["dataset"], value, column)),
    cell=pass_context(lambda ctx, value, column: cell(ctx["dataset"], value, column)),
    row=pass_context(lambda ctx, row: describe_row(ctx["dataset"], row)),
)
templates.env.globals.update(
    range_bar=charts.range_bar,
    summary_text=pass_context(lambda ctx, features: summary_text(ctx["dataset"], features)),
)


def _service(request: Request) -> PredictionService:
    return request.app.state.service


def _render(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    service = _service(request)
    dataset = service.dataset
    token = csrf.token_for(request)
    context |= {
        "dataset": dataset,
        "summary_columns": summary_columns(dataset),
        "level_label": level_label(dataset),
        "model_version": service.model.model_version,
        "region": service.settings.region,
        "active": name.removesuffix(".html"),
        "row_title": dataset.spec.title,
        "csrf_field": csrf.FIELD,
        "csrf_token": token,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status)
    csrf.remember(request, response, token)
    return response


@router.get("/", response_class=HTMLResponse)
async def predictor(request: Request) -> HTMLResponse:
    fields = form_fields(_service(request).dataset)
    return _render(request, "predictor.html", fields=fields, values={}, errors={}, result=None)


@router.post("/", response_class=HTMLResponse)
async def predictor_submit(request: Request) -> HTMLResponse:
    # A plain urlencoded form: parsed here so the app needs no multipart library.
    submitted = parse_qs((await request.body()).decode("utf-8", "replace"))
    form = {k: v[-1] for k, v in submitted.items()}
    dataset = _service(request).dataset
    fields = form_fields(dataset)
    refused = csrf.rejection(request, form)
    if refused:
        problem = f"This car was not priced: {refused}. Reload the page and submit the form again."
        return _render(request, "predictor.html", status=403, fields=fields, values={}, errors={},
                       result=None, problem=problem)
    row, number_errors = form_to_row(dataset, form)
    parsed = dataset.parse_row(row)
    errors = {e.field: e.reason for e in ([] if not isinstance(parsed, list) else parsed)}
    errors |= {e.field: e.reason for e in number_errors}
    # A field sent twice (two makes at once) is refused, not silently resolved to one of them.
    errors |= {name: f"one value expected, got {len(given)} ({', '.join(given)})"
               for name, given in submitted.items() if len(given) > 1 and name in dataset.by_name}
    # What the user typed goes back into the form, minus control characters (a NUL is never echoed).
    values = {k: _CONTROL.sub("", v) for k, v in form.items()}

    def answer(status: int, result: object = None, problem: str | None = None) -> HTMLResponse:
        return _render(request, "predictor.html", status=status, fields=fields, values=values, errors=errors,
                       result=result, problem=problem)

    if errors or isinstance(parsed, list):
        return answer(422)
    try:
        result = await _service(request).predict(parsed)
    except (ModelUnavailable, RecordNotKept) as exc:
        return answer(503, problem=f"We could not price this car right now ({exc}). Please try again in a minute.")
    return answer(200, result)


def _quality(card: dict) -> list[tuple[str, str, str]]:
    """The served model's evaluation figures with their spread and what each means (empty for a remote model:
    its card is not here)."""
    rows = quality_rows(evaluation_of(card["evaluation"])) if "evaluation" in card else []
    return [(label, value, quality_meaning(label)) for label, value in rows]


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    service = _service(request)
    history = await service.history(service.settings.dashboard_window)
    board = summarize(history.items)
    market = await service.market(service.settings.market_window)
    panel = summarize_market(market.listings)
    return _render(
        request, "dashboard.html", board=board, store_ok=history.store_ok, pending=history.pending,
        window=service.settings.dashboard_window, market=panel, market_ok=market.store_ok,
        market_chart=charts.columns(panel.by_minute, "Listings per minute"),
        ratings_chart=charts.horizontal_bars([(r.title(), n) for r, n in panel.ratings], "Deal ratings"),
        quality=_quality(service.model.model_card),
        per_make_chart=charts.horizontal_bars(
            [(value_label(service.dataset, m), n) for m, n in board.per_make],
            f"Predictions per {level_label(service.dataset)}",
        ),
        price_chart=charts.columns(
            board.price_bins, "Price distribution", tooltips=board.price_bin_tips,
        ),
        traffic_chart=charts.columns(board.traffic, "Predictions over time", tooltips=board.traffic_tips),
    )


@router.get("/batch", response_class=HTMLResponse)
async def batch(request: Request, make: str | None = None) -> HTMLResponse:
    dataset = _service(request).dataset
    level = dataset.spec.level_column
    makes = dataset.allowed_values(level) if level else ()
    chosen = make if make in makes else None
    view = await _service(request).batch(chosen)
    priced = [r for r in view.items if not r.get("error")]
    # Reads like a price list: by make, then cheapest first; cars that could not be priced last.
    rows = sorted(view.items, key=lambda r: (bool(r.get("error")), r.get("make") or "", r.get("price") or 0))
    shown = rows[:BATCH_PAGE_ROWS]
    return _render(
        request, "batch.html", view=view, makes=makes, chosen=chosen, priced=len(priced),
        failed=len(view.items) - len(priced), rows=list(zip(shown, distinguishing(dataset, shown), strict=True)),
        total=len(rows),
    )
