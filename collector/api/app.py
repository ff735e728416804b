"""``create_app``: the FastAPI application, versioned under ``/api/v1``, OpenAPI at ``/openapi.json``,
Prometheus metrics at ``/metrics``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from collector.api.context import ApiContext, Reader, ReadinessCheck
from collector.api.metrics import ApiMetrics
from collector.api.ratelimit import FailureLimiter
from collector.api.routes import alerts, health, inventory, tokens
from collector.api.routes import incidents as incident_routes
from collector.api.rules import RulesProvider, no_rules
from collector.api.settings import ApiSettings
from collector.incidents.acknowledgement import AlertAcknowledger
from collector.incidents.errors import StateConflict, UnknownObject
from collector.incidents.service import IncidentService, utc_now
from collector.store import Store, StoreUnavailable
from collector.store.errors import QueryRejected

API_PREFIX = "/api/v1"


def create_app(
    settings: ApiSettings,
    store: Store,
    *,
    rules: RulesProvider = no_rules,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    incidents: IncidentService | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """The API over ``store`` (already set up by the caller, who also closes it). ``readiness`` maps a
    dependency's name to an async check; by default only the store is checked."""
    app = FastAPI(
        title="Canh Gác API",
        version="1",
        description="Alerts, incidents, agents and rules for the SOC's responders.",
    )
    metrics = ApiMetrics()
    app.state.context = ApiContext(
        settings=settings,
        store=store,
        incidents=incidents or IncidentService(store, clock=clock),
        acknowledger=AlertAcknowledger(store, clock),
        rules=rules,
        readiness=readiness if readiness is not None else {"elasticsearch": store.ping},
        limiter=FailureLimiter(settings.auth_failure_burst, settings.auth_failure_refill_per_s),
        metrics=metrics,
        clock=clock,
    )
    for router in (alerts.router, incident_routes.router, inventory.router, tokens.router, health.router):
        app.include_router(router, prefix=API_PREFIX)
    _add_error_handlers(app)
    _add_metrics(app, metrics)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    async def not_found(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    async def conflict(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StateConflict)
        return JSONResponse({"detail": error.message, "current": dict(error.current)}, status_code=409)

    async def rejected(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"the query was refused: {error}"}, status_code=400)

    async def unavailable(_request: Request, _error: Exception) -> JSONResponse:
        return JSONResponse({"detail": "storage unavailable; try again shortly"}, status_code=503)

    async def invalid(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = [
            {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
            for item in error.errors()
        ]
        summary = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems[:5])
        return JSONResponse({"detail": summary or "invalid request", "errors": problems}, status_code=422)

    app.add_exception_handler(UnknownObject, not_found)
    app.add_exception_handler(StateConflict, conflict)
    app.add_exception_handler(QueryRejected, rejected)
    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(RequestValidationError, invalid)


def _add_metrics(app: FastAPI, metrics: ApiMetrics) -> None:
    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", None)
        if route is None:
            route = "unmatched"  # one label for every unknown path: scanners cannot blow up the series
        elif request.url.path.startswith(API_PREFIX) and not route.startswith(API_PREFIX):
            route = API_PREFIX + route  # the router reports its path without the mount prefix
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    async def exposition(_actor: Reader) -> Response:
        """Needs a token like every endpoint but health: a scraper is given a viewer token."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
