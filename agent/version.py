"""The agent's version, as installed (falls back to the source tree's when not installed)."""

from __future__ import annotations

from importlib import metadata

try:
    AGENT_VERSION = metadata.version("canhgac")
except metadata.PackageNotFoundError:  # running from a source tree without installing it
    AGENT_VERSION = "0.0.0+source"
