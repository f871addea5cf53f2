"""The assistant's page and JSON API: ask a question (the answer streams back as NDJSON events), read the
session's history. The session is anonymous: a random, HttpOnly, SameSite=Strict cookie; the store keeps only a
digest of it. The POST takes application/json only, which a cross-site form cannot send and a cross-site script
may not send without CORS permission (never granted), as for the rest of the API.

Errors the model service reports before the answer starts get their own status (422 content filter, 413 too
long, 429 with Retry-After, 503 unavailable); one that arrives mid-answer ends the stream with an `error` event.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from app.web.errors import error_response, one_error

if TYPE_CHECKING:  # the AI SDKs load only when the assistant is configured (app.main.build_assistant)
    from app.assistant.orchestrator import Event
    from app.assistant.service import Assistant

router = APIRouter(include_in_schema=False)
COOKIE = "carprice_chat"
NDJSON = "application/x-ndjson"


def _assistant(request: Request) -> Assistant | None:
    return getattr(request.app.state, "assistant", None)


def _cookie(request: Request) -> tuple[str, bool]:
    value = request.cookies.get(COOKIE, "")
    if len(value) == 43 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(32), True


def _set_cookie(request: Request, response: Response, value: str) -> None:
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(COOKIE, value, httponly=True, samesite="strict", secure=secure, path="/",
                        max_age=30 * 24 * 3600)


def _not_configured() -> Response:
    return error_response(503, one_error("The assistant is not configured here.", "(assistant)",
                                         "no Azure OpenAI or Azure AI Search endpoint is set"))


def _line(kind: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": kind, **data}) + b"\n"


@router.get("/assistant", response_class=HTMLResponse)
async def page(request: Request) -> HTMLResponse:
    from app.web.pages import _render  # the pages' one renderer (footer, CSRF cookie, nav)

    return _render(request, "assistant.html", configured=_assistant(request) is not None)


@router.get("/api/assistant/history")
async def history(request: Request) -> Response:
    assistant = _assistant(request)
    if assistant is None:
        return _not_configured()
    from app.assistant.service import session_key

    cookie, fresh = _cookie(request)
    turns = [] if fresh else await assistant.history.recent(session_key(cookie), 50)
    shown = ("id", "created_at", "question", "answer", "outcome", "citations", "prices")
    response = Response(orjson.dumps({"turns": [{k: t.get(k) for k in shown} for t in turns]}),
                        media_type="application/json")
    _set_cookie(request, response, cookie)
    return response


async def _question(request: Request, limit: int) -> str | Response:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return error_response(415, one_error("Unsupported media type.", "(body)",
                                             "send the question as JSON (Content-Type: application/json)"))
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        return error_response(422, one_error("The request is not valid.", "(body)", f"not valid JSON: {exc}"))
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return error_response(422, one_error("The request is not valid.", "message", "a non-empty string is required"))
    if len(message) > limit:
        return error_response(422, one_error("The request is not valid.", "message",
                                             f"at most {limit} characters; got {len(message)}"))
    return message.strip()


@router.post("/api/assistant/messages")
async def ask(request: Request) -> Response:
    assistant = _assistant(request)
    if assistant is None:
        return _not_configured()
    from app.assistant.orchestrator import Answer, AssistantError
    from app.assistant.service import session_key

    question = await _question(request, assistant.settings.assistant_max_question_chars)
    if isinstance(question, Response):
        return question
    cookie, _ = _cookie(request)
    session = session_key(cookie)
    earlier = await assistant.history.recent(session, assistant.settings.assistant_history_turns)
    result = Answer()
    events = assistant.answer(session, question, earlier, result).__aiter__()
    first: list[Event] = []
    try:
        # Tool rounds run before the first word: a refusal there still gets its own status code.
        async for event in events:
            first.append(event)
            if event.kind in ("delta", "refused"):
                break
    except AssistantError as error:
        await assistant.keep(session, question, result, outcome=error.reason)
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        response = error_response(error.status, one_error(error.detail, "message", error.reason), headers)
        _set_cookie(request, response, cookie)
        return response

    async def stream() -> AsyncIterator[bytes]:
        outcome = None
        for event in first:
            yield _line(event.kind, event.data)
        try:
            async for event in events:
                yield _line(event.kind, event.data)
        except AssistantError as error:
            outcome = error.reason
            yield _line("error", {"status": error.status, "detail": error.detail, "retry_after": error.retry_after})
        turn = await assistant.keep(session, question, result, outcome)
        yield _line("done", {"turn_id": turn["id"], "outcome": turn["outcome"], "citations": turn["citations"],
                             "prices": turn["prices"]})

    response = StreamingResponse(stream(), media_type=NDJSON, headers={"x-accel-buffering": "no"})
    _set_cookie(request, response, cookie)
    return response
