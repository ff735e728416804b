"""Prometheus metrics of the API, in a registry of its own (several apps may live in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "canhgac_api_requests",
            "HTTP requests answered, by route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "canhgac_api_request_seconds",
            "Time to answer a request",
            ["route"],
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "canhgac_api_auth_failures",
            "Requests refused for a missing, unknown or revoked token, or rate limited",
            ["outcome"],
            registry=self.registry,
        )
        self.actions = Counter(
            "canhgac_api_actions",
            "Responder actions, by kind and outcome",
            ["action", "outcome"],
            registry=self.registry,
        )
