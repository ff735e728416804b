"""``canhgac-collector api``: serve the responders' API with uvicorn over the Elasticsearch store.

Can also look for silent agents (``--silence-check-s``) when no collector service does; the check is
idempotent, so running it in several processes is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import uvicorn

from collector.api.app import create_app
from collector.api.connection import add_store_arguments, open_store
from collector.api.context import ReadinessCheck
from collector.api.rules import engine_provider, no_rules
from collector.api.settings import ApiSettings
from collector.incidents.agents import AgentInventory
from collector.incidents.service import IncidentService
from collector.store import StoreUnavailable

log = logging.getLogger("canhgac.api")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--kafka-bootstrap", default=None, help="host:port[,host:port]: checked by /ready")
    parser.add_argument("--rules", type=Path, action="append", default=[], help="rule directory to report")
    parser.add_argument("--pipeline", type=Path, default=None, help="pySigma processing pipeline for --rules")
    parser.add_argument("--incident-window-s", type=int, default=3600)
    parser.add_argument("--silence-multiple", type=float, default=3.0)
    parser.add_argument(
        "--silence-check-s",
        type=float,
        default=0.0,
        help="look for silent agents this often (0: never; the collector service already does it)",
    )


def kafka_reachable(bootstrap: str, timeout_s: float = 2.0) -> Callable[[], Awaitable[bool]]:
    """A readiness check: some bootstrap broker accepts a TCP connection."""

    async def check() -> bool:
        for server in bootstrap.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout_s)
            except (OSError, TimeoutError, ValueError):
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True
        return False

    return check


async def _watch_silence(inventory: AgentInventory, every_s: float) -> None:
    while True:
        try:
            raised = await inventory.check_silent_agents()
            for alert in raised:
                log.warning("silent agent: %s", alert["message"])
        except StoreUnavailable as error:
            log.warning("silent-agent check skipped: %s", error)
        await asyncio.sleep(every_s)


async def _serve(args: argparse.Namespace) -> int:
    store = open_store(args, refresh="wait_for")
    try:
        await store.setup()
        incidents = IncidentService(store, window=timedelta(seconds=args.incident_window_s))
        readiness: dict[str, ReadinessCheck] = {"elasticsearch": store.ping}
        if args.kafka_bootstrap:
            readiness["kafka"] = kafka_reachable(args.kafka_bootstrap)
        rules = no_rules
        if args.rules:
            from collector.detection.engine import DetectionEngine  # heavy: only when rules are asked for

            engine = DetectionEngine.from_paths(args.rules, args.pipeline)
            rules = engine_provider(lambda: engine)
        app = create_app(
            ApiSettings(index_prefix=args.index_prefix),
            store,
            rules=rules,
            readiness=readiness,
            incidents=incidents,
        )
        watcher = None
        if args.silence_check_s > 0:
            inventory = AgentInventory(store, incidents, silence_multiple=args.silence_multiple)
            watcher = asyncio.create_task(_watch_silence(inventory, args.silence_check_s))
        server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="info"))
        await server.serve()
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return 0
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)  # one line per request otherwise
    return asyncio.run(_serve(args))
