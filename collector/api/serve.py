"""``canhgac-collector api``: serve the responders' API with uvicorn over the Elasticsearch store.

Can also look for silent agents (``--silence-check-s``) when no collector service does; the check is
idempotent, so running it in several processes is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import uvicorn

from collector.api.app import create_app
from collector.api.connection import add_store_arguments, load, open_store
from collector.api.context import ReadinessCheck
from collector.api.rules import RulesProvider, engine_provider, no_rules
from collector.api.settings import ApiSettings
from collector.config import CollectorSettings, ConfigError
from collector.incidents.agents import AgentInventory
from collector.incidents.service import IncidentService
from collector.store import StoreUnavailable

log = logging.getLogger("canhgac.api")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_arguments(parser)
    parser.add_argument("--host", default=None, help="address to listen on (overrides api.host)")
    parser.add_argument("--port", type=int, default=None, help="port (overrides api.port)")
    parser.add_argument(
        "--kafka-bootstrap",
        default=None,
        help="host:port[,...] checked by /ready (overrides kafka.bootstrap)",
    )
    parser.add_argument(
        "--rules", type=Path, action="append", default=None, help="rule directory (overrides detection.rules)"
    )
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


async def _serve(args: argparse.Namespace, settings: CollectorSettings) -> int:
    es = settings.elasticsearch
    store = open_store(es, refresh="wait_for")
    try:
        await store.setup()
        incidents = IncidentService(store, window=timedelta(seconds=settings.incidents.window_s))
        readiness: dict[str, ReadinessCheck] = {
            "elasticsearch": store.ping,
            "kafka": kafka_reachable(args.kafka_bootstrap or settings.kafka.bootstrap),
        }
        app = create_app(
            ApiSettings(index_prefix=es.index_prefix),
            store,
            rules=_rules(args.rules or settings.detection.rules, settings.detection.pipeline),
            readiness=readiness,
            incidents=incidents,
        )
        watcher = None
        if args.silence_check_s > 0:
            inventory = AgentInventory(store, incidents, silence_multiple=settings.api.silent_agent_factor)
            watcher = asyncio.create_task(_watch_silence(inventory, args.silence_check_s))
        host, port = args.host or settings.api.host, args.port or settings.api.port
        certfile, keyfile = settings.api.tls_certfile, settings.api.tls_keyfile
        # HTTPS when both are set (the settings refuse one without the other); uvicorn's default context.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="info",
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
        server = uvicorn.Server(config)
        log.info("API on %s://%s:%d", "https" if settings.api.tls_certfile else "http", host, port)
        await server.serve()
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return 0
    finally:
        await store.close()


def _rules(paths: list[Path], pipeline: Path | None) -> RulesProvider:
    """The rules the API reports, loaded with the detection engine (heavy: imported only here)."""
    from collector.detection.engine import DetectionEngine

    existing = [path for path in paths if path.exists()]
    if not existing:
        return no_rules
    engine = DetectionEngine.from_paths(existing, pipeline)
    return engine_provider(lambda: engine)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        settings = load(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(args, settings))
