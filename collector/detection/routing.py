"""Which Sigma log sources an event belongs to: a table, so adding a sensor means adding a row.

An event is routed by ``event.dataset`` and ``event.action``; a route carries the Sigma log sources such
events stand for. A rule joins every route whose log sources its own log source covers, so
``product: linux`` alone joins all Linux routes while ``category: process_creation`` joins only exec events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from collector.detection.model import LogSource


@dataclass(frozen=True, slots=True)
class Route:
    """Events with ``event.dataset == dataset`` and (unless ``actions`` is None) an action in ``actions``."""

    name: str
    dataset: str
    actions: frozenset[str] | None
    logsources: tuple[LogSource, ...]

    def accepts(self, rule_logsource: LogSource) -> bool:
        return any(rule_logsource.covers(logsource) for logsource in self.logsources)


def _linux(category: str | None = None, service: str | None = None) -> LogSource:
    return LogSource("linux", category, service)


LINUX_ECS_ROUTES: tuple[Route, ...] = (
    Route("process_creation", "canhgac.process", frozenset({"exec"}), (_linux("process_creation"),)),
    Route("process_termination", "canhgac.process", frozenset({"end"}), (_linux("process_termination"),)),
    Route(
        "file_event",
        "canhgac.file",
        frozenset({"creation", "modification", "attributes_modification", "rename"}),
        (_linux("file_event"), _linux("file_change"), _linux("file_rename")),
    ),
    Route("file_delete", "canhgac.file", frozenset({"deletion"}), (_linux("file_delete"),)),
    # The raw log line is in `message`; Linux service rules are keyword searches on it.
    Route(
        "authentication",
        "canhgac.authentication",
        None,
        tuple(_linux(service=s) for s in ("auth", "sshd", "sudo", "su", "login", "syslog", "cron")),
    ),
    # No sensor sends this dataset yet; the row is here so network_connection rules load into a route.
    Route("network_connection", "canhgac.network", None, (_linux("network_connection"),)),
)


class RoutingTable:
    """Lookup from an event to its route; immutable, shareable between threads."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        names = [route.name for route in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"route names must be unique: {names}")
        # Resolved once here, so an event costs one or two dict lookups: (dataset, action) -> the first
        # route taking that action, and dataset -> a route taking any action (when no earlier route of
        # the dataset took the action).
        self._by_action: dict[tuple[str, str], Route] = {}
        self._any_action: dict[str, Route] = {}
        for route in self.routes:
            if route.dataset in self._any_action:
                continue  # an earlier route of this dataset takes every action
            if route.actions is None:
                self._any_action[route.dataset] = route
            else:
                for action in route.actions:
                    self._by_action.setdefault((route.dataset, action), route)

    def route_for(self, event: Mapping[str, Any]) -> Route | None:
        meta = event.get("event")
        # type() first: an ABC isinstance check costs more than the rest of routing for decoded JSON
        if type(meta) is not dict and not isinstance(meta, Mapping):
            return None
        dataset, action = meta.get("dataset"), meta.get("action")
        if not isinstance(dataset, str):
            return None
        if isinstance(action, str):
            route = self._by_action.get((dataset, action))
            if route is not None:
                return route
        return self._any_action.get(dataset)

    def routes_for_rule(self, logsource: LogSource) -> Sequence[Route]:
        return [route for route in self.routes if route.accepts(logsource)]


LINUX_ECS_ROUTING = RoutingTable(LINUX_ECS_ROUTES)
