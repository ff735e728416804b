"""What every route needs, held on ``app.state`` and handed out as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from collector.api.metrics import ApiMetrics
from collector.api.ratelimit import FailureLimiter
from collector.api.roles import GRANTS, Permission, Role
from collector.api.rules import RulesProvider
from collector.api.settings import ApiSettings
from collector.api.tokens import verify
from collector.incidents.acknowledgement import AlertAcknowledger
from collector.incidents.actor import Actor
from collector.incidents.service import IncidentService
from collector.store import Store

ReadinessCheck = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class ApiContext:
    settings: ApiSettings
    store: Store
    incidents: IncidentService
    acknowledger: AlertAcknowledger
    rules: RulesProvider
    readiness: Mapping[str, ReadinessCheck]
    limiter: FailureLimiter
    metrics: ApiMetrics
    clock: Callable[[], datetime]


def context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.context
    return found


Context = Annotated[ApiContext, Depends(context)]


def _client(request: Request) -> str:
    # The direct peer only: X-Forwarded-For would let a guesser pick a fresh address per request.
    return request.client.host if request.client else "unknown"


def _refuse(ctx: ApiContext, client: str, outcome: str) -> HTTPException:
    ctx.metrics.auth_failures.labels(outcome).inc()
    if outcome == "unauthorized":
        ctx.limiter.record_failure(client)
        return HTTPException(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    return HTTPException(429, "too many failed attempts; slow down", headers={"Retry-After": "5"})


async def authenticate(request: Request, ctx: Context) -> Actor:
    """The token's actor, or 401 (missing/unknown/revoked, all alike) or 429 for a client that keeps
    failing."""
    client = _client(request)
    if ctx.limiter.blocked(client):
        raise _refuse(ctx, client, "rate_limited")
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    actor = await verify(ctx.store, presented.strip()) if scheme.lower() == "bearer" else None
    if actor is None:
        raise _refuse(ctx, client, "unauthorized")
    return actor


def requires(permission: Permission) -> Callable[[Actor], Awaitable[Actor]]:
    async def check(actor: Annotated[Actor, Depends(authenticate)]) -> Actor:
        if permission not in GRANTS[Role(actor.role)]:
            raise HTTPException(403, "forbidden")
        return actor

    return check


Reader = Annotated[Actor, Depends(requires(Permission.READ))]
Responder = Annotated[Actor, Depends(requires(Permission.ACT))]
Administrator = Annotated[Actor, Depends(requires(Permission.ADMINISTER))]
