"""The configuration read before the malloc restart reaches the restarted agent, which then runs without
PyYAML and argparse; what is accepted or refused does not change."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from agent.config import read_document, validate_config
from agent.config_handoff import HANDOFF_ENV, hand_over, take_over
from agent.identity import host_addresses
from tests.unit.agent.runtime_fixtures import minimal_document

ROOT = Path(__file__).resolve().parents[3]


def _write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_document_handed_over_is_the_one_read_with_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "agent.yaml", minimal_document(tmp_path / "state"))
    monkeypatch.setenv("CANHGAC_AGENT__SYSTEM__SECURITY_LEVEL", "2")
    variables = hand_over(path)
    fd = int(variables[HANDOFF_ENV])
    monkeypatch.setenv(HANDOFF_ENV, variables[HANDOFF_ENV])

    handed = take_over()

    assert handed is not None
    assert handed == (path, read_document(path), host_addresses())
    assert validate_config(handed.document).system.security_level == 2
    assert HANDOFF_ENV not in os.environ
    with pytest.raises(OSError, match="Bad file descriptor"):  # closed: it reaches no child of the agent
        os.fstat(fd)


def test_nothing_is_handed_over_that_the_restarted_agent_should_read_and_judge_itself(tmp_path: Path) -> None:
    assert hand_over(tmp_path / "missing.yaml") == {}
    (tmp_path / "bad.yaml").write_text("organization: [", encoding="utf-8")
    assert hand_over(tmp_path / "bad.yaml") == {}
    # A YAML timestamp: marshal does not carry it, so the restarted agent reads the file as before.
    dated = yaml.safe_dump(minimal_document(tmp_path / "state")) + "when: 2026-01-02 03:04:05\n"
    (tmp_path / "dated.yaml").write_text(dated, encoding="utf-8")
    assert hand_over(tmp_path / "dated.yaml") == {}


def test_a_stray_variable_is_ignored_and_its_descriptor_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    try:
        monkeypatch.setenv(HANDOFF_ENV, str(read_end))
        assert take_over() is None
        os.fstat(read_end)  # still open
        monkeypatch.setenv(HANDOFF_ENV, "not-a-number")
        assert take_over() is None
    finally:
        os.close(read_end)
        os.close(write_end)


def _maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_the_restarted_agent_runs_without_yaml_argparse_and_psutil(tmp_path: Path) -> None:
    document = minimal_document(tmp_path / "state", pipeline={"drain_timeout_s": 0.5})
    path = _write(tmp_path / "agent.yaml", document)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC" and k != HANDOFF_ENV}
    agent = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "run", "--config", str(path)],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert agent.stderr is not None
        deadline = time.monotonic() + 30
        for line in agent.stderr:  # logged once the signal handlers are set
            if '"agent starting"' in line or time.monotonic() > deadline:
                break
        maps = _maps(agent.pid)
        environ = Path(f"/proc/{agent.pid}/environ").read_bytes()
        descriptors = [os.readlink(entry) for entry in Path(f"/proc/{agent.pid}/fd").iterdir()]
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
    assert b"PYTHONMALLOC=malloc" in environ  # the restart happened, in the same process
    assert "_yaml" not in maps  # PyYAML's C extension, loaded by the process before the restart
    assert "_psutil_linux" not in maps
    assert not [target for target in descriptors if "canhgac-agent-config" in target]
    assert agent.returncode == 0
