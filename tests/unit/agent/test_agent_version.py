"""The agent reports the project's version without reading the installed metadata at run time."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from agent.version import AGENT_VERSION

REPO = Path(__file__).resolve().parents[3]


def test_the_agent_version_is_the_projects() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == AGENT_VERSION
    assert metadata.version("canhgac") == AGENT_VERSION  # the installed one, when tests run


def test_the_run_path_does_not_load_importlib_metadata() -> None:
    script = (
        "import sys; import agent.service, agent.cli\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('email', 'zipfile', 'csv') or m.startswith('importlib.metadata'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.split()
    assert loaded == []
