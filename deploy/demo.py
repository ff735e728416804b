"""``make demo``: the whole product on this machine, doing its job on real activity.

Starts the local stack (Kafka + Elasticsearch), then an agent watching a demo web root with the process
sensor on the kernel's proc connector, a collector with the project's rules, and the API. It then does what
an intruder would — drops a PHP script into the web root, runs a program from /tmp, starts a reverse-shell
command line — and shows, through the API, the alerts and the incident they opened, which it acknowledges.
Everything stays running; ``make stack-down`` stops it all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
STACK = REPO / "deploy" / "stack" / "stack.py"
WEB_ROOT = Path("/var/www/canhgac-demo")
API_PORT = int(os.environ.get("CANHGAC_DEMO_API_PORT", "8080"))
API = f"http://127.0.0.1:{API_PORT}/api/v1"
EXPECTED_RULES = {
    "Script file created in a web root or upload directory",
    "Program run from a temporary directory",
    "Reverse shell command line",
}


def say(text: str) -> None:
    print(f"\033[1m==> {text}\033[0m", flush=True)


def stack_up() -> dict[str, Any]:
    say("starting the local stack (Kafka + Elasticsearch on loopback)")
    out = subprocess.run(
        [PY, str(STACK), "up", "--name", "dev", "--json"], check=True, stdout=subprocess.PIPE
    )
    return dict(json.loads(out.stdout))


def start(name: str, argv: list[str], workdir: Path, env: dict[str, Any] | None = None) -> int:
    """Start a background process of the demo; its pid goes where ``stack.py down`` finds it."""
    pids = workdir.parent / "processes"
    pids.mkdir(parents=True, exist_ok=True)
    stop_previous(pids / f"{name}.pid")
    with (workdir / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        )
    (pids / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def stop_previous(pid_file: Path) -> None:
    try:
        os.killpg(int(pid_file.read_text()), signal.SIGTERM)
        time.sleep(2)
    except (OSError, ValueError):
        pass


def kafka_section(conn: dict[str, Any], credentials: dict[str, str], workdir: Path) -> dict[str, Any]:
    """A ``kafka`` configuration section for one principal of the stack; its password goes in a 0600 file."""
    security = conn["kafka_security"]
    if security["security_protocol"] == "PLAINTEXT":  # a stack brought up with --insecure
        return {"bootstrap": conn["kafka_bootstrap"]}
    password_file = workdir / f"kafka-{credentials['username']}.password"
    password_file.touch(mode=0o600)
    password_file.write_text(credentials["password"])
    return {
        "bootstrap": conn["kafka_bootstrap"],
        "security_protocol": security["security_protocol"],
        "sasl_mechanism": security["sasl_mechanism"],
        "username": credentials["username"],
        "password_file": str(password_file),
        "ssl_cafile": conn["ca_file"],
    }


def add_agent(name: str) -> dict[str, str]:
    """The demo agent's own Kafka principal (agent-NAME), allowed to produce to the events topic only."""
    out = subprocess.run(
        [PY, str(STACK), "add-agent", "--name", "dev", name], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return dict(json.loads(out))


def es_section(conn: dict[str, Any], user: str, workdir: Path) -> dict[str, Any]:
    """The stack's Elasticsearch over TLS as its least-privilege ``user`` (collector or api); the password
    goes to a file of this user only, not into the configuration."""
    credentials = conn["es_users"][user]
    password_file = workdir / f"es-{user}.password"
    password_file.touch(mode=0o600)
    password_file.chmod(0o600)
    password_file.write_text(credentials["password"])
    return {
        "url": conn["es_url"],
        "ca_certs": conn["ca_file"],
        "username": credentials["username"],
        "password_file": str(password_file),
    }


def api_environment(conn: dict[str, Any], workdir: Path) -> dict[str, str]:
    """The API and the token command run as the ``api`` user, configured through the environment."""
    section = es_section(conn, "api", workdir)
    return {f"CANHGAC_COLLECTOR__ELASTICSEARCH__{key.upper()}": value for key, value in section.items()}


def write_configs(conn: dict[str, Any], workdir: Path) -> tuple[Path, Path]:
    secure = conn["kafka_security"]["security_protocol"] != "PLAINTEXT"
    collector_kafka = kafka_section(conn, conn["kafka_users"].get("collector", {}), workdir)
    agent_kafka = kafka_section(conn, add_agent("demo") if secure else {}, workdir)
    collector = {
        "kafka": collector_kafka | {"poll_timeout_ms": 100},
        "elasticsearch": es_section(conn, "collector", workdir),
        "detection": {
            "rules": [str(REPO / "rules" / "sigma")],
            "pipeline": str(REPO / "rules" / "pipelines" / "linux-ecs.yml"),
        },
    }
    sensors: dict[str, Any] = {
        "file_integrity": {"paths": [str(WEB_ROOT)], "rescan_interval_s": 3600},
        "process": {"enabled": True},
        "login": {"enabled": Path("/var/log/auth.log").exists()},
    }
    agent = {
        "organization": {"id": "so-tttt-demo", "name": "Sở Thông tin và Truyền thông (demo)"},
        "system": {"name": "Cổng thông tin điện tử tỉnh", "security_level": 3},
        "kafka": agent_kafka,
        "state_dir": str(workdir / "agent-state"),
        "heartbeat": {"interval_s": 10},
        "sensors": sensors,
    }
    (workdir / "collector.yaml").write_text(yaml.safe_dump(collector, allow_unicode=True))
    (workdir / "agent.yaml").write_text(yaml.safe_dump(agent, allow_unicode=True))
    return workdir / "collector.yaml", workdir / "agent.yaml"


def create_token(conn: dict[str, Any], workdir: Path) -> str:
    out = subprocess.run(
        [PY, "-m", "collector.cli", "token", "create", "--role", "analyst", "--name", "demo analyst"],
        check=True,
        cwd=REPO,
        env={**os.environ, **api_environment(conn, workdir)},
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    match = re.search(r"secret.*?:\s*(\S+)\s*$", out, re.MULTILINE)
    if not match:
        sys.exit(f"demo: could not read the token from: {out}")
    return match.group(1)


def wait(what: str, check: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(1)
    sys.exit(f"demo: timed out waiting for {what}; see the logs in the demo directory")


def _when(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def act_like_an_intruder() -> None:
    say("doing suspicious things on this machine")
    upload = WEB_ROOT / "uploads"
    upload.mkdir(parents=True, exist_ok=True)
    shell = upload / f"thumb-{int(time.time())}.php"  # a new name each run: a creation, not a change
    shell.write_text('<?php system($_GET["c"]); ?>\n')
    print(f"    dropped {shell}")
    tool = Path("/tmp/canhgac-demo-tool")  # noqa: S108 - the point: a program started from /tmp
    shutil.copy("/bin/true", tool)
    subprocess.run([str(tool)], check=False)
    print(f"    ran {tool}")
    reverse_shell = "sleep 1; exec 3<>/dev/tcp/127.0.0.1/9 || true"
    subprocess.run(["bash", "-c", reverse_shell], check=False, stderr=subprocess.DEVNULL)
    print(f"    ran bash -c '{reverse_shell}' (a reverse-shell pattern, to a closed port)")


def main() -> int:
    if os.geteuid() != 0:
        print("demo: run as root (the agent reads the kernel's process events and watches /var/www)")
    conn = stack_up()
    workdir = Path(conn["state_dir"]) / "demo"
    workdir.mkdir(parents=True, exist_ok=True)
    WEB_ROOT.mkdir(parents=True, exist_ok=True)
    (WEB_ROOT / "index.html").write_text("<h1>Cổng thông tin điện tử tỉnh</h1>\n")
    collector_yaml, agent_yaml = write_configs(conn, workdir)

    say("starting the collector, the API and an agent")
    start("collector", [PY, "-m", "collector.cli", "run", "--config", str(collector_yaml)], workdir)
    token = create_token(conn, workdir)
    start(
        "api",
        [PY, "-m", "collector.cli", "api", "--port", str(API_PORT)]
        + ["--kafka-bootstrap", conn["kafka_bootstrap"], "--rules", str(REPO / "rules" / "sigma")],
        workdir,
        api_environment(conn, workdir),
    )
    start("agent", [PY, "-m", "agent.cli", "run", "--config", str(agent_yaml)], workdir)
    headers = {"Authorization": f"Bearer {token}"}
    client = httpx.Client(base_url=API, headers=headers, timeout=10)
    wait("the API", lambda: client.get("/health/ready").status_code == 200, 60)
    agents = wait("the agent's first heartbeat", lambda: client.get("/agents").json().get("items"), 90)
    print(f"    agent {agents[0]['agent']['id']} on {agents[0]['host']['name']} reports in")
    time.sleep(3)  # let the file sensor finish its first baseline of the web root

    run_started = datetime.now(UTC) - timedelta(seconds=1)
    act_like_an_intruder()
    say("waiting for the alerts to come through Kafka, the Sigma engine and Elasticsearch")

    def alerts_seen() -> list[dict[str, Any]] | None:
        items = client.get("/alerts", params={"limit": 100}).json()["items"]
        this_run = [item for item in items if _when(item["timestamp"]) >= run_started]
        names = {item["rule_name"] for item in this_run}
        return this_run if names >= EXPECTED_RULES else None

    alerts = wait("the expected alerts", alerts_seen, 120)
    for alert in sorted(alerts, key=lambda a: a["timestamp"]):
        print(f"    {alert['timestamp'][:19]}  {alert['level']:<8} {alert['message'][:100]}")

    say("the incident they opened, acknowledged through the API")
    reverse_shell = next(a for a in alerts if a["rule_name"] == "Reverse shell command line")
    incident_id = reverse_shell["incident_id"]
    incident = wait(
        "its incident", lambda: client.get(f"/incidents/{incident_id}").json().get("incident"), 60
    )
    print(f"    incident {incident['id']}: {incident['title']} — priority {incident['priority']}")
    print(f"    why grouped: {incident['grouping']['reason']}")
    print(f"    why this priority: {incident['priority_reason']}")
    if incident["status"] != "new":
        # A re-run within the hour: its alerts joined the incident an earlier run acknowledged.
        print(f"    already {incident['status']} by an earlier run; {incident['alert_count']} alerts now")
        return finish(conn, workdir, token)
    response = client.post(
        f"/incidents/{incident['id']}/status",
        json={"status": "acknowledged", "reason": "demo: the SOC analyst has seen it"},
    )
    response.raise_for_status()
    acknowledged = response.json()
    seconds = acknowledged["time_to_acknowledge_s"]
    print(f"    status now {acknowledged['status']}, {seconds:.0f} s after it opened")

    return finish(conn, workdir, token)


def finish(conn: dict[str, Any], workdir: Path, token: str) -> int:
    say("done — everything keeps running")
    print(f"    API:            {API}  (token: {token})")
    print(f"    Elasticsearch:  {conn['es_url']}   Kafka: {conn['kafka_bootstrap']}")
    print(f"    ES CA, users:   {conn['ca_file']}; read-only {conn['es_users']['analyst']['username']},")
    print(f"                    passwords in {conn['state_dir']}/connection.json (root only)")
    print(f"    logs:           {workdir}/*.log")
    print("    stop it all:    make stack-down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
