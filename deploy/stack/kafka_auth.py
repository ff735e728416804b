"""Kafka security for the local stack: a SASL_SSL listener, SCRAM users and ACLs (standard library only).

Clients reach the broker over TLS (certificate from :mod:`pki`, signed by the stack's CA) and authenticate
with SCRAM-SHA-512. ``admin`` is the super user (the broker uses it itself); ``collector`` may consume the
events topic and write the dead-letter and correlation topics; each agent gets ``agent-NAME``, which may
only produce to the events topic. Users are created at format time (``--add-scram``) or, for agents added
later, with Kafka's ``ConfigCommand``; ACLs and topics with ``AclCommand``/``TopicCommand`` (kafka-tools).
The controller listener stays on loopback with SASL/PLAIN for ``admin`` only, so no anonymous principal
is ever a super user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from deploy.stack import pki

MECHANISM = "SCRAM-SHA-512"
ADMIN = "admin"
COLLECTOR = "collector"
# The names of event_contract/topics.py and collector/config.py; the stack cannot import the project
# (standard library only), so tests/unit/deploy/test_stack_kafka_auth.py checks they agree.
EVENTS_TOPIC = "canhgac.events"
DEAD_LETTER_TOPIC = "canhgac.events.dead-letter"
CORRELATION_TOPIC = "canhgac.correlation"
COLLECTOR_GROUP_PREFIX = "canhgac-"  # canhgac-collector and canhgac-collector.correlation
AGENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SECURE_MARKER = "canhgac-security"  # in the data directory: the mode the cluster was formatted for


def pki_dir(state: Path) -> Path:
    return state / "pki"


def secrets_dir(state: Path) -> Path:
    return state / "secrets"


def password(state: Path, user: str) -> str:
    return pki.ensure_secret(secrets_dir(state), f"kafka-user-{user}")


def ca_file(state: Path) -> Path:
    return pki.ensure_ca(pki_dir(state))


def users(state: Path) -> dict[str, dict[str, str]]:
    """Every SCRAM user but the super user, with its password (``collector`` and each ``agent-*``)."""
    found = {COLLECTOR: {"username": COLLECTOR, "password": password(state, COLLECTOR)}}
    directory = secrets_dir(state)
    for path in sorted(directory.glob("kafka-user-agent-*")) if directory.is_dir() else []:
        name = path.name.removeprefix("kafka-user-")
        found[name] = {"username": name, "password": path.read_text().strip()}
    return found


def client_security(state: Path) -> dict[str, str]:
    """The super user's client settings, as ``stack.py up --json`` reports them under ``kafka_security``."""
    return {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": MECHANISM,
        "username": ADMIN,
        "password": password(state, ADMIN),
    }


def listener_properties(state: Path, port: int, controller_port: int) -> str:
    """The listener and authorizer part of server.properties for the secure mode."""
    cert = pki.ensure_server_cert(pki_dir(state), "kafka")
    store_password = pki.ensure_secret(secrets_dir(state), "kafka-keystore")
    keystore = pki.ensure_pkcs12(cert, store_password)
    admin = password(state, ADMIN)
    scram = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN}" password="{admin}";'
    )
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{ADMIN}" password="{admin}" user_{ADMIN}="{admin}";'
    )
    return "\n".join(
        [
            f"listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=SASL_SSL",
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT",
            f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
            "sasl.mechanism.controller.protocol=PLAIN",
            f"listener.name.sasl_ssl.sasl.enabled.mechanisms={MECHANISM}",
            f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config={scram}",
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            f"listener.name.controller.plain.sasl.jaas.config={plain}",
            "ssl.keystore.type=PKCS12",
            f"ssl.keystore.location={keystore}",
            f"ssl.keystore.password={store_password}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={cert.ca}",
            "ssl.client.auth=none",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            f"super.users=User:{ADMIN}",
            "allow.everyone.if.no.acl.found=false",
            # Agents may not create topics: the stack creates the project's topics itself.
            "auto.create.topics.enable=false",
        ]
    )


def plaintext_listener_properties(port: int, controller_port: int) -> str:
    return "\n".join(
        [
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "auto.create.topics.enable=true",
        ]
    )


def format_arguments(state: Path) -> list[str]:
    """``kafka-storage format`` arguments that create the super user and the collector's user."""
    return [
        argument
        for user in (ADMIN, COLLECTOR)
        for argument in ("--add-scram", f"{MECHANISM}=[name={user},password={password(state, user)}]")
    ]


def admin_client_config(state: Path) -> Path:
    """A properties file for Kafka's command-line tools, logged in as the super user (mode 0600)."""
    path = secrets_dir(state) / "kafka-admin.properties"
    admin = password(state, ADMIN)
    path.write_text(
        "security.protocol=SASL_SSL\n"
        f"sasl.mechanism={MECHANISM}\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN}" password="{admin}";\n'
        "ssl.truststore.type=PEM\n"
        f"ssl.truststore.location={ca_file(state)}\n"
    )
    path.chmod(0o600)
    return path


Runner = Callable[[str, list[str]], None]
"""Runs a Kafka tool's main class with arguments (given by stack.py, which knows the JVM and classpath)."""


def acl(
    run: Runner, config: Path, bootstrap: str, principal: str, resources: list[str], ops: list[str]
) -> None:
    arguments = ["--bootstrap-server", bootstrap, "--command-config", str(config), "--add", "--force"]
    arguments += ["--allow-principal", f"User:{principal}", *resources]
    for operation in ops:
        arguments += ["--operation", operation]
    run("org.apache.kafka.tools.AclCommand", arguments)


def provision(run: Runner, state: Path, bootstrap: str, partitions: int = 6) -> None:
    """Create the project's topics and the collector's ACLs (idempotent; stack.py runs it once per format)."""
    config = admin_client_config(state)
    for topic in (EVENTS_TOPIC, DEAD_LETTER_TOPIC, CORRELATION_TOPIC):
        run(
            "org.apache.kafka.tools.TopicCommand",
            ["--bootstrap-server", bootstrap, "--command-config", str(config), "--create", "--if-not-exists"]
            + ["--topic", topic, "--partitions", str(partitions), "--replication-factor", "1"],
        )
    acl(run, config, bootstrap, COLLECTOR, ["--topic", EVENTS_TOPIC], ["Read", "Describe"])
    acl(
        run,
        config,
        bootstrap,
        COLLECTOR,
        ["--topic", DEAD_LETTER_TOPIC, "--topic", CORRELATION_TOPIC],
        ["Read", "Write", "Create", "Describe"],
    )
    acl(
        run,
        config,
        bootstrap,
        COLLECTOR,
        ["--group", COLLECTOR_GROUP_PREFIX, "--resource-pattern-type", "prefixed"],
        ["Read", "Describe"],
    )


def add_agent(run: Runner, state: Path, bootstrap: str, name: str, topic: str) -> dict[str, str]:
    """Create (or keep) the SCRAM user ``agent-NAME`` allowed to produce to ``topic`` only."""
    if not AGENT_NAME.match(name):
        raise ValueError(f"agent name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    user = f"agent-{name}"
    secret = password(state, user)
    config = admin_client_config(state)
    run(
        "kafka.admin.ConfigCommand",
        ["--bootstrap-server", bootstrap, "--command-config", str(config), "--alter"]
        + ["--add-config", f"{MECHANISM}=[iterations=8192,password={secret}]"]
        + ["--entity-type", "users", "--entity-name", user],
    )
    # Idempotent producers need no cluster permission since Kafka 3.0 (KIP-679): WRITE on the topic suffices.
    acl(run, config, bootstrap, user, ["--topic", topic], ["Write", "Describe"])
    return {"username": user, "password": secret, "topic": topic}
