"""``/health/live`` (the process answers) and ``/health/ready`` (Elasticsearch and Kafka answer).
No token needed: load balancers and systemd watchdogs call these."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from collector.api.context import Context, ReadinessCheck
from collector.api.schemas import Liveness, Readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=Liveness)
async def live() -> Liveness:
    return Liveness(status="ok")


async def _passes(check: ReadinessCheck, timeout_s: float) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), timeout_s))
    except Exception:  # a failing check means "not ready", whatever the failure
        return False


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(ctx: Context) -> JSONResponse:
    names = list(ctx.readiness)
    outcomes = await asyncio.gather(
        *(_passes(ctx.readiness[name], ctx.settings.readiness_timeout_s) for name in names)
    )
    checks = dict(zip(names, outcomes, strict=True))
    body = Readiness(status="ready" if all(outcomes) else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if all(outcomes) else 503)
