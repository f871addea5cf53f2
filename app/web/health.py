"""Probes: liveness for App Service's health check (cheap, no I/O) and readiness for Traffic Manager
(model loaded and Cosmos DB reachable, so traffic fails over to a region that can serve)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

import contract

router = APIRouter(tags=["health"])

_ALIVE = b'{"status":"ok"}'


class Liveness(BaseModel):
    status: str = Field(description="Always `ok` while the process serves")


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="model, store and outbox_pending (records not yet in Cosmos DB)")


@router.get(contract.HEALTH_PATH, summary="Liveness", response_model=Liveness)
async def healthz() -> Response:
    return Response(_ALIVE, media_type="application/json")


@router.get(
    contract.READY_PATH, summary="Readiness: model loaded, store reachable", response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: model not loaded or store unreachable"}},
)
async def readyz(request: Request) -> JSONResponse:
    result = await request.app.state.service.readiness()
    return JSONResponse(result, status_code=200 if result["ready"] else 503)
