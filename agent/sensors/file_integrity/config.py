"""Configuration of the file integrity sensor (a section of the agent's YAML config)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PATHS = (Path("/etc"), Path("/usr/bin"), Path("/usr/sbin"), Path("/root/.ssh"), Path("/var/www"))
DEFAULT_EXCLUDE = ("*.swp", "*.swx", "*~", "*.tmp", "/etc/mtab", "/etc/ld.so.cache", "/etc/adjtime")
DEFAULT_MARKING_EXTENSIONS = (".txt", ".md", ".csv", ".tsv", ".html", ".htm", ".xml", ".json", ".rtf", ".log")


class FileIntegrityConfig(BaseModel):
    """What to watch and how hard to look.

    Glob patterns (``fnmatch``) are tested against a file's full path and against its name, so ``*.log``
    and ``/var/www/*/cache/*`` both work; a directory that matches ``exclude`` is not descended into.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    paths: list[Path] = Field(default_factory=lambda: list(DEFAULT_PATHS))
    recursive: bool = True
    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    realtime: bool = True
    """Watch with inotify between scans; when false (or when the watch limit is hit) only scans run."""
    rescan_interval_s: Annotated[float, Field(gt=0)] = 3600.0
    fallback_rescan_interval_s: Annotated[float, Field(gt=0)] = 300.0
    """Scan interval while real-time watching is unavailable."""
    debounce_s: Annotated[float, Field(ge=0)] = 0.3
    """A path is examined once it has been quiet this long, so a burst of writes gives one event."""
    max_hash_bytes: Annotated[int, Field(ge=0)] = 512 * 1024 * 1024
    hash_workers: Annotated[int, Field(ge=0)] = 0
    """Threads hashing during a scan; 0 means one per CPU, 1 hashes in the scanning thread. Hashing threads
    run at nice +10 (relative to the agent), so on a busy host they take only idle CPU."""
    marking_enabled: bool = True
    marking_extensions: list[str] = Field(default_factory=lambda: list(DEFAULT_MARKING_EXTENSIONS))
    marking_scan_bytes: Annotated[int, Field(gt=0, le=1024 * 1024)] = 4096
