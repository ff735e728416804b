"""Kafka (KRaft, single node) for the local stack: format once, start, provision topics and ACLs, stop.
Standard library only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from deploy.stack import kafka_auth
from deploy.stack.artifacts import KAFKA_VERSION, find_java_home, kafka_libs, kafka_tools, log
from deploy.stack.connection import HEAP, Connection, ports
from deploy.stack.processes import pid_alive, port_open, stop_group, wait_for

HERE = Path(__file__).resolve().parent


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


def start(conn: Connection, java_home: Path) -> None:
    run_dir = Path(conn.state_dir) / "kafka"
    state, data = Path(conn.state_dir), run_dir / "data"
    pid_file = run_dir / "kafka.pid"
    kafka_port, _ = ports(conn.name)
    mode = conn.kafka_security["security_protocol"]
    log4j = run_dir / "log4j2.xml"
    if pid_alive(pid_file) and port_open(kafka_port):
        if formatted_mode(data) == mode:
            log(f"Kafka already running on {conn.kafka_bootstrap} ({mode})")
            provision(conn, java_home, log4j)
            return
        log(f"Kafka is running in another mode than {mode}: restarting it")
        stop(conn)
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
    provision(conn, java_home, log4j)
    log(f"Kafka {KAFKA_VERSION} ready on {conn.kafka_bootstrap} ({mode})")


def provision(conn: Connection, java_home: Path, log4j: Path) -> None:
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


def stop(conn: Connection) -> None:
    stop_group(Path(conn.state_dir) / "kafka" / "kafka.pid", ports(conn.name)[0], "kafka")
