"""Which stack, on which ports, with which credentials: what the stack's scripts and its clients share.
Standard library only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deploy.stack import kafka_auth
from deploy.stack.artifacts import is_root

HEAP = os.environ.get("CANHGAC_STACK_HEAP", "512m")
# Ports per stack name, so a demo and a test run can live side by side.
DEFAULT_PORTS = {"dev": (9092, 9200), "test": (29092, 29200), "ci": (39092, 39200), "bench": (49092, 49200)}


def state_dir(name: str) -> Path:
    # Not /root: the Elasticsearch user must reach its data directory. /var/tmp survives reboots.
    private = Path.home() / ".local" / "state" / "canhgac"
    base = Path("/var/tmp/canhgac") if is_root() else private  # noqa: S108
    return Path(os.environ.get("CANHGAC_STACK_DIR", base / f"stack-{name}"))


@dataclass(frozen=True)
class Connection:
    name: str
    kafka_bootstrap: str
    es_url: str
    state_dir: str
    ca_file: str
    # Client settings of the Kafka super user: security_protocol, sasl_mechanism, username, password.
    kafka_security: dict[str, str]
    # The other SCRAM users (collector, agent-*): {"username", "password"} each.
    kafka_users: dict[str, dict[str, str]]


def ports(name: str) -> tuple[int, int]:
    kafka, es = DEFAULT_PORTS.get(name, (9092, 9200))
    return int(os.environ.get("CANHGAC_KAFKA_PORT", kafka)), int(os.environ.get("CANHGAC_ES_PORT", es))


def kafka_insecure(state: Path) -> bool:
    """Whether the stack was last brought up with ``--insecure`` (plaintext Kafka, for benchmarks)."""
    return (state / "kafka" / "insecure").exists()


def connection(name: str) -> Connection:
    kafka, es = ports(name)
    state = state_dir(name)
    if kafka_insecure(state):
        security: dict[str, str] = {"security_protocol": "PLAINTEXT"}
        users: dict[str, dict[str, str]] = {}
    else:
        security, users = kafka_auth.client_security(state), kafka_auth.users(state)
    ca = kafka_auth.ca_file(state)
    return Connection(
        name, f"127.0.0.1:{kafka}", f"https://127.0.0.1:{es}", str(state), str(ca), security, users
    )
