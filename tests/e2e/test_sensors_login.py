"""Real sshd logins on loopback, seen by the login sensor in the log sshd writes.

sshd runs on a spare loopback port with its own configuration and ``-E LOGFILE``: it then writes its log
lines there itself, without syslog headers, which the sensor reads as a source with ``program: sshd``.
That spares the test a syslog daemon; the lines are the ones sshd sends to syslog. (pam_unix's lines
still go to syslog, so session open/close is covered by the parser tests, not here.)
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.sensors.base import Observation
from agent.sensors.login import AuthLogSource, LoginConfig, LoginSensor
from event_contract import AuthenticationEvent
from tests.unit.agent.sensors.contract_helpers import as_event
from tests.unit.agent.sensors.harness import running

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSHPASS = shutil.which("sshpass")
SSH = shutil.which("ssh")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="starting sshd and adding a test account need root"),
    pytest.mark.skipif(
        not (os.path.exists(SSHD) and SSHPASS and SSH),
        reason="needs sshd, ssh and sshpass: apt-get update && apt-get install -y openssh-server sshpass",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def account() -> Iterator[tuple[str, str]]:
    name = f"cgtest{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", name], check=True)
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
        yield name, password
    finally:
        subprocess.run(["userdel", name], check=False)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    log = tmp_path / "sshd.log"
    log.touch()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "host_key")], check=True
    )
    config = tmp_path / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp_path / 'host_key'}\n"
        f"PidFile {tmp_path / 'sshd.pid'}\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n"
        "UsePAM yes\nPermitRootLogin no\nLogLevel INFO\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    server = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)])
    try:
        for _ in range(100):
            if "Server listening" in log.read_text():
                break
            if server.poll() is not None:
                pytest.fail(f"sshd exited: {log.read_text()}")
            subprocess.run(["sleep", "0.05"], check=True)
        yield port, log
    finally:
        server.terminate()
        server.wait(timeout=10)


async def ssh_login(port: int, user: str, password: str) -> int:
    assert SSHPASS is not None
    assert SSH is not None
    client = await asyncio.create_subprocess_exec(
        SSHPASS, "-p", password, SSH, "-p", str(port),
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
        "-o", "NumberOfPasswordPrompts=1", f"{user}@127.0.0.1", "true",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(client.wait(), timeout=30)


def login_of(user: str, outcome: str) -> Callable[[Observation], bool]:
    return lambda observation: (
        observation.action == "ssh_login"
        and observation.outcome == outcome
        and observation.fields.get("user", {}).get("name") == user
    )


async def test_failed_and_accepted_ssh_logins_are_observed(
    tmp_path: Path, sshd: tuple[int, Path], account: tuple[str, str]
) -> None:
    port, log = sshd
    user, password = account
    config = LoginConfig(sources=[AuthLogSource(path=log, program="sshd")], poll_interval_s=0.1)
    sensor = LoginSensor(config, tmp_path / "state")
    async with running(sensor) as seen:
        assert await ssh_login(port, user, "wrong-" + password) != 0
        assert await ssh_login(port, user, password) == 0
        failed = await seen.wait_for(login_of(user, "failure"), within_s=20)
        accepted = await seen.wait_for(login_of(user, "success"), within_s=20)
    for observation, outcome in ((failed, "failure"), (accepted, "success")):
        event = as_event(observation)
        assert isinstance(event, AuthenticationEvent)
        assert (event.event.category, event.event.type) == (["authentication"], ["start"])
        assert event.event.outcome == outcome
        assert event.user is not None
        assert event.user.name == user
        assert event.source is not None
        assert event.source.ip == "127.0.0.1"
        assert event.source.port is not None
        assert event.canhgac.auth is not None
        assert event.canhgac.auth.method == "password"
        assert event.message is not None
        assert user in event.message
    assert sensor.health().status == "ok"


async def test_lines_are_not_reported_twice_across_a_restart(
    tmp_path: Path, sshd: tuple[int, Path], account: tuple[str, str]
) -> None:
    port, log = sshd
    user, password = account
    config = LoginConfig(sources=[AuthLogSource(path=log, program="sshd")], poll_interval_s=0.1)
    async with running(LoginSensor(config, tmp_path / "state")) as seen:
        assert await ssh_login(port, user, "wrong-" + password) != 0
        await seen.wait_for(login_of(user, "failure"), within_s=20)
    assert await ssh_login(port, user, password) == 0  # while the sensor is stopped
    async with running(LoginSensor(config, tmp_path / "state")) as seen:
        await seen.wait_for(login_of(user, "success"), within_s=20)
        observations = await seen.settle(quiet_s=0.5)
    logins = [o for o in observations if o.action == "ssh_login"]
    assert [o.outcome for o in logins] == ["success"]
