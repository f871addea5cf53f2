"""Azure OpenAI stand-in (a local stand-in, not a model service): chat completions with tool calls, streamed or
not, and embeddings, on the Azure OpenAI paths (/openai/deployments/<deployment>/..., and /openai/v1/...).

- Answers come from tools/local/standins/chat_model.py: deterministic rules, so every run gives the same answer.
- Embeddings come from WordLlama's packaged 256-dimension static token embeddings (the wheel ships its weights;
  nothing is downloaded), truncated and re-normalized when fewer dimensions are asked for.
- Auth as the deployed account (local auth off): a bearer token for the Cognitive Services scope is required, an
  `api-key` header is refused.
- Faults, switchable at POST /_stand-in/faults {"fault": ..., "count": n, "retry_after": s}: `rate_limit` (429
  with Retry-After), `content_filter` (400 code content_filter, the prompt filter), `content_filter_completion`
  (the answer ends with finish_reason content_filter), `context_length` (400 code context_length_exceeded). A
  prompt above `context_tokens` (about 4 characters a token) always gets the context-length error.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from runtime.stand_in_token import token_for
from tools.local.standins.chat_model import PromptFiltered, Reply, respond

OPENAI_SCOPE = "https://cognitiveservices.azure.com/.default"
FAULTS = ("rate_limit", "content_filter", "content_filter_completion", "context_length")
NATIVE_DIMENSIONS = 256


class StaticEmbedder:
    """WordLlama's shipped model (l2_supercat, 256 dimensions), loaded once; downloads disabled."""

    _lock = threading.Lock()
    _model: Any = None

    @classmethod
    def embed(cls, texts: list[str], dimensions: int) -> list[list[float]]:
        with cls._lock:
            if cls._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: nothing may reach a model hub
                import wordllama
                from wordllama import WordLlama

                # The wheel ships weights/ and tokenizers/; 0.4.0 looks for its own tokenizer under "tokenizer/",
                # so the package folder is named as the cache that holds both.
                cls._model = WordLlama.load(dim=NATIVE_DIMENSIONS, disable_download=True,
                                            cache_dir=Path(wordllama.__file__).parent)
            vectors = cls._model.embed(texts, norm=False)
        out = []
        for row in vectors[:, :dimensions]:
            norm = math.sqrt(float((row * row).sum())) or 1.0
            out.append([float(x) / norm for x in row])
        return out


def _error(http_status: int, code: str, message: str, headers: dict[str, str] | None = None,
           **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=http_status,
                        headers=headers)


@dataclass
class Fault:
    kind: str
    remaining: int
    retry_after: int = 2


@dataclass
class OpenAIStandIn:
    context_tokens: int = 8192
    fault: Fault | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    seconds_serving: float = 0.0  # time spent answering (a benchmark subtracts it)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/_stand-in/faults", self._set_fault, methods=["POST"]),
            Route("/openai/deployments/{deployment}/chat/completions", self._chat, methods=["POST"]),
            Route("/openai/deployments/{deployment}/embeddings", self._embeddings, methods=["POST"]),
            Route("/openai/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/openai/v1/embeddings", self._embeddings, methods=["POST"]),
        ])

    def set_fault(self, kind: str | None, count: int = 1, retry_after: int = 2) -> None:
        if kind is not None and kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULTS)}")
        with self._lock:
            self.fault = None if kind is None else Fault(kind, count, retry_after)

    def _take_fault(self, *kinds: str) -> Fault | None:
        with self._lock:
            if self.fault is None or self.fault.kind not in kinds or self.fault.remaining <= 0:
                return None
            self.fault.remaining -= 1
            return self.fault

    async def _set_fault(self, request: Request) -> Response:
        body = await request.json()
        try:
            self.set_fault(body.get("fault"), int(body.get("count", 1)), int(body.get("retry_after", 2)))
        except ValueError as exc:
            return _error(400, "invalid_fault", str(exc))
        return JSONResponse({"fault": body.get("fault"), "count": body.get("count", 1)})

    def _refused(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        self.requests.append({"path": request.url.path, "authorization": auth,
                              "api_key": request.headers.get("api-key")})
        if request.headers.get("api-key") is not None:
            return _error(401, "401", "API keys are refused: like the deployed account (local auth off), this "
                                      "stand-in takes Entra tokens only.")
        if auth != f"Bearer {token_for(OPENAI_SCOPE)}":
            return _error(401, "401", "Authorization: Bearer <Entra token for Cognitive Services> is required.")
        return None

    async def _embeddings(self, request: Request) -> Response:
        started = time.perf_counter()
        refused = self._refused(request)
        if refused:
            return refused
        body = await request.json()
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dimensions = int(body.get("dimensions") or NATIVE_DIMENSIONS)
        if not 1 <= dimensions <= NATIVE_DIMENSIONS:
            return _error(400, "invalid_value", f"dimensions must be between 1 and {NATIVE_DIMENSIONS}")
        vectors = StaticEmbedder.embed([str(t) for t in texts], dimensions)
        tokens = sum(max(1, len(str(t)) // 4) for t in texts)
        answer = JSONResponse({"object": "list", "model": "stand-in-static-embeddings",
                               "data": [{"object": "embedding", "index": i, "embedding": v}
                                        for i, v in enumerate(vectors)],
                               "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
        self.seconds_serving += time.perf_counter() - started
        return answer

    async def _chat(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            return await self._chat_answer(request)
        finally:
            self.seconds_serving += time.perf_counter() - started

    async def _chat_answer(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        body = await request.json()
        rate = self._take_fault("rate_limit")
        if rate:
            return _error(429, "429", "Requests to the ChatCompletions_Create Operation have exceeded the rate "
                                      f"limit of this stand-in. Please retry after {rate.retry_after} seconds.",
                          headers={"retry-after": str(rate.retry_after)})
        prompt_tokens = len(json.dumps(body.get("messages", []))) // 4
        if self._take_fault("context_length") or prompt_tokens > self.context_tokens:
            return _error(400, "context_length_exceeded",
                          f"This model's maximum context length is {self.context_tokens} tokens. However, your "
                          f"messages resulted in {prompt_tokens} tokens.", type="invalid_request_error",
                          param="messages")
        try:
            if self._take_fault("content_filter"):
                raise PromptFiltered("fault")
            reply = respond(body.get("messages", []), body.get("tools") or [], body.get("tool_choice"))
        except PromptFiltered:
            return _error(400, "content_filter", "The response was filtered due to the prompt triggering the content "
                          "management policy (stand-in filter).", param="prompt", status=400,
                          innererror={"code": "ResponsibleAIPolicyViolation",
                                      "content_filter_result": {"jailbreak": {"filtered": True, "detected": True}}})
        if self._take_fault("content_filter_completion"):
            reply.filtered = True
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 4096)
        finish = "content_filter" if reply.filtered else "tool_calls" if reply.tool_calls else "stop"
        text = reply.text
        if len(text) // 4 > max_tokens:
            text, finish = text[:max_tokens * 4], "length"
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(text) // 4,
                 "total_tokens": prompt_tokens + len(text) // 4}
        model = str(request.path_params.get("deployment") or body.get("model") or "stand-in")
        if body.get("stream"):
            # Rendered here, sent as it is iterated: the stand-in's own time stays inside this handler.
            chunks = list(_chunks(model, reply, text, finish))
            return StreamingResponse(_send(chunks), media_type="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if reply.tool_calls:
            message["tool_calls"] = reply.tool_calls
        return JSONResponse({"id": "chatcmpl-stand-in", "object": "chat.completion", "created": 0, "model": model,
                             "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})


async def _send(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _chunks(model: str, reply: Reply, text: str, finish: str) -> Iterator[bytes]:
    base = {"id": "chatcmpl-stand-in", "object": "chat.completion.chunk", "created": 0, "model": model}
    # Azure sends the prompt filter's results first, in a chunk without choices.
    yield _event({**base, "choices": [], "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]})

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return _event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})

    yield chunk({"role": "assistant", "content": ""})
    for index, call in enumerate(reply.tool_calls):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                     "function": {"name": call["function"]["name"], "arguments": arguments[:half]}}]})
        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]})
    words = text.split(" ")
    for start in range(0, len(words), 4):
        piece = " ".join(words[start:start + 4]) + (" " if start + 4 < len(words) else "")
        yield chunk({"content": piece})
    yield chunk({}, finish)
    yield b"data: [DONE]\n\n"
