"""The systemd units in deploy/systemd: the hardening each must carry, ``systemd-analyze verify`` clean,
and an exposure score (``systemd-analyze security``) no worse than the one reviewed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[3] / "deploy" / "systemd"
SERVER_UNITS = ("canhgac-collector.service", "canhgac-collector@.service", "canhgac-api.service")
MAX_EXPOSURE = {  # systemd-analyze security's overall exposure (0 best, 10 worst) when last reviewed
    "canhgac-collector.service": 1.5,
    "canhgac-collector@.service": 1.5,
    "canhgac-api.service": 1.5,
    # Root with read-everything capabilities, the real /tmp, /home and every process: it must see them.
    "canhgac-agent.service": 4.0,
}


def settings(unit: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit, a list per key (systemd allows repeating most keys)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / unit).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize("unit", SERVER_UNITS)
def test_server_units_run_unprivileged_in_a_read_only_system(unit: str) -> None:
    found = settings(unit)
    assert found["User"] == ["canhgac"]
    assert found["NoNewPrivileges"] == ["yes"]
    assert found["CapabilityBoundingSet"] == [""]
    assert found["AmbientCapabilities"] == [""]
    assert found["ProtectSystem"] == ["strict"]
    assert found["ProtectHome"] == ["yes"]
    assert found["PrivateTmp"] == ["yes"]
    for directory in ("StateDirectory", "ConfigurationDirectory", "LogsDirectory"):
        assert found[directory], directory
    assert found["ConfigurationDirectory"] == ["canhgac"]
    assert found["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert "@system-service" in found["SystemCallFilter"]
    assert found["Restart"] == ["on-failure"]
    assert re.fullmatch(r"\d+[MG]", found["MemoryMax"][0])
    assert int(found["LimitNOFILE"][0]) >= 4096
    command = found["ExecStart"][0].split()
    assert command[0] == "/opt/canhgac-collector/bin/canhgac-collector"
    assert command[1] == ("api" if "api" in unit else "run")
    assert command[2:] == ["--config", "/etc/canhgac/collector.yaml"]


def test_the_collector_reloads_rules_on_sighup_and_instances_have_their_own_overrides() -> None:
    assert settings("canhgac-collector.service")["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    template = settings("canhgac-collector@.service")
    assert "-/etc/canhgac/collector-%i.env" in template["EnvironmentFile"]
    assert "%i" in template["Description"][0]


def test_the_agent_sees_tmp_home_and_every_process_and_writes_only_its_state() -> None:
    found = settings("canhgac-agent.service")
    assert found["PrivateTmp"] == ["no"]  # the real /tmp is monitored
    assert found["ProtectHome"] == ["read-only"]  # /home is monitored, never written
    assert found["ProtectProc"] == ["default"]  # every process visible in /proc
    assert found["ProcSubset"] == ["all"]
    assert "PrivateDevices" not in found  # /dev/shm must be the real one
    assert not {"InaccessiblePaths", "TemporaryFileSystem", "PrivatePIDs"} & found.keys()
    assert found["ProtectSystem"] == ["strict"]
    assert found["StateDirectory"] == ["canhgac-agent"]
    assert found["NoNewPrivileges"] == ["yes"]
    capabilities = set(found["CapabilityBoundingSet"][0].split())
    assert capabilities == {"CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE", "CAP_NET_ADMIN", "CAP_AUDIT_READ"}
    assert "AF_NETLINK" in found["RestrictAddressFamilies"][0]  # the proc connector


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (package systemd): cannot verify the units")
    return found


def _stubbed(unit: str, tmp_path: Path) -> Path:
    """The unit with its ExecStart programs pointed at stand-ins, since ``verify`` checks they exist."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for program in ("canhgac-agent", "canhgac-collector"):
        (bin_dir / program).write_text("#!/bin/sh\n")
        (bin_dir / program).chmod(0o755)
    text = re.sub(r"/opt/canhgac-(agent|collector)/bin/", f"{bin_dir}/", (UNITS / unit).read_text())
    # A template is verified as one of its instances.
    path = tmp_path / unit.replace("@.", "@1.")
    path.write_text(text)
    return path


@pytest.mark.parametrize("unit", sorted(MAX_EXPOSURE))
def test_systemd_analyze_verifies_the_unit_without_a_warning(unit: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [_analyze(), "verify", str(_stubbed(unit, tmp_path))], capture_output=True, text=True, check=False
    )
    # verify exits 0 on unknown keys and bad values too: any output is a finding.
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


@pytest.mark.parametrize(("unit", "limit"), sorted(MAX_EXPOSURE.items()))
def test_the_exposure_score_stays_at_most_what_was_reviewed(unit: str, limit: float, tmp_path: Path) -> None:
    path = _stubbed(unit, tmp_path)
    result = subprocess.run(
        [_analyze(), "security", "--offline=true", "--no-pager", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    if score is None:
        pytest.skip(f"this systemd-analyze cannot score a unit file offline: {result.stderr.strip()}")
    assert float(score.group(1)) <= limit, result.stdout
