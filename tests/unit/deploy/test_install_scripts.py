"""deploy/install-agent.sh and install-collector.sh: shellcheck clean, and what their dry runs would do on
Debian/Ubuntu and on RHEL-family hosts (with dnf, or yum on older releases)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*.sh"))
OS_RELEASES = {
    "debian": 'ID=debian\nVERSION_ID="12"\n',
    "ubuntu": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n',
    "rocky9": 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
    "rhel7": 'ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="7.9"\n',
    "alpine": "ID=alpine\n",
}
APT = "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q"
# What the scripts need from the system; python3.11 is left out on purpose, so they must install it.
TOOLS = ("bash", "dirname", "basename", "cat", "tr", "sed", "id", "env", "printf")


def test_every_install_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run(
        [shellcheck, "-x", *(str(script) for script in SCRIPTS)],
        cwd=DEPLOY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def dry_run(tmp_path: Path, script: str, release: str, *arguments: str, dnf: bool = False):
    """Run ``script --dry-run`` as on a host with ``release`` and no Python 3.11."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    if dnf:
        (bin_dir / "dnf").write_text("#!/bin/sh\nexit 1\n")
        (bin_dir / "dnf").chmod(0o755)
    os_release = tmp_path / "os-release"
    os_release.write_text(OS_RELEASES[release])
    return subprocess.run(
        [str(bin_dir / "bash"), str(DEPLOY / script), "--source", str(REPO), "--dry-run", *arguments],
        env={"PATH": str(bin_dir), "OS_RELEASE": str(os_release), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("release", "dnf", "expected"),
    [
        (
            "debian",
            False,
            "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3.11 python3.11-venv",
        ),
        (
            "ubuntu",
            False,
            "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3.11 python3.11-venv",
        ),
        ("rocky9", True, "dnf install -y python3.11"),
        ("rhel7", False, "yum install -y python3.11"),
    ],
)
@pytest.mark.parametrize("script", ["install-agent.sh", "install-collector.sh"])
def test_python_comes_from_the_distribution_package_tool(
    tmp_path: Path, script: str, release: str, dnf: bool, expected: str
) -> None:
    result = dry_run(tmp_path, script, release, dnf=dnf)
    assert result.returncode == 0, result.stderr
    assert f"[dry-run] {expected}" in result.stdout, result.stdout
    assert "python3.11 -m venv /opt/canhgac-" in result.stdout


def test_an_unknown_distribution_is_told_to_install_python_itself(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "install-agent.sh", "alpine")
    assert result.returncode == 1
    assert "no Python 3.11 found; install it and pass --python" in result.stderr


def test_the_agent_is_installed_enabled_and_not_started_on_the_example(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "install-agent.sh", "debian")
    assert "canhgac_agent" not in result.stdout
    lines = result.stdout.splitlines()
    unit = "systemd/canhgac-agent.service"
    assert (
        f"[dry-run] install -m 0644 {DEPLOY}/{unit} /etc/systemd/{unit.replace('systemd', 'system')}" in lines
    )
    assert "[dry-run] systemctl enable canhgac-agent.service" in lines
    assert not any("systemctl restart" in line for line in lines)


def test_the_collector_gets_its_user_rules_config_and_one_unit_per_instance(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "install-collector.sh", "rocky9", "--instances", "3", dnf=True)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[dry-run] useradd --system --user-group" in out
    assert f"[dry-run] cp -R --no-preserve=ownership {REPO}/rules/. /usr/share/canhgac/rules/" in out
    assert "-o root -g canhgac" in out
    assert (
        "[dry-run] systemctl enable canhgac-collector@1.service canhgac-collector@2.service "
        "canhgac-collector@3.service canhgac-api.service"
    ) in out
    single = dry_run(tmp_path / "single", "install-collector.sh", "debian", "--no-api")
    assert "[dry-run] systemctl enable canhgac-collector.service\n" in single.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--instances", "many"), "--instances needs a number"),
        (("--instances", "100"), "more than 64 processes"),
        (("--wheel", "/nonexistent.whl"), "give exactly one of --wheel or --source"),
        (("--bogus",), "unknown argument: --bogus"),
    ],
)
def test_bad_arguments_get_a_clear_error(tmp_path: Path, arguments: tuple[str, ...], message: str) -> None:
    result = dry_run(tmp_path, "install-collector.sh", "debian", *arguments)
    assert result.returncode == 1
    assert message in result.stderr


def test_without_dry_run_a_non_root_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: the refusal is for other users")
    result = subprocess.run(
        ["bash", str(DEPLOY / "install-agent.sh"), "--source", str(REPO)], capture_output=True, text=True
    )
    assert "run as root" in result.stderr
