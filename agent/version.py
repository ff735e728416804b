"""The agent's version: the project's version in ``pyproject.toml``, kept equal to it by
``tests/unit/agent/test_agent_version.py``.

A constant rather than ``importlib.metadata.version``: that module imports ``email``, ``zipfile``,
``csv``, ``shutil`` and more (~1.4 MiB of the idle agent's RSS) to read one line of the installed
metadata, and nothing else in the running agent needs them.
"""

from __future__ import annotations

AGENT_VERSION = "0.1.0"
