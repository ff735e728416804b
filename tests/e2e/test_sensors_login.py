"""Real sshd logins on loopback, seen by the login sensor in the log sshd writes.

sshd runs on a spare loopback port with its own configuration and ``-E LOGFILE``: it then writes its log
lines there itself, without syslog headers, which the sensor reads as a source with ``program: sshd``.
That spares the test a syslog daemon; the lines are the ones sshd sends to syslog. (pam_unix's lines
still go to syslog, so session open/close is covered by the parser tests, not here.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.sensors.base import Observation
from agent.sensors.login import AuthLogSource, LoginConfig, LoginSensor
from event_contract import AuthenticationEvent
from tests.support.sshd import local_account, needs_sshd, running_sshd, ssh_login
from tests.unit.agent.sensors.contract_helpers import as_event
from tests.unit.agent.sensors.harness import running

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="starting sshd and adding a test account need root"),
    needs_sshd,
]


@pytest.fixture
def account() -> Iterator[tuple[str, str]]:
    with local_account("cgtest") as created:
        yield created


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with running_sshd(tmp_path) as listening:
        yield listening


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
