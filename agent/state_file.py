"""Values the agent creates once and keeps in its state directory (its id, its signing key)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def load_or_create(path: Path, create: Callable[[], str], mode: int = 0o644) -> str:
    """The text stored at ``path``; on first call ``create()``'s, written atomically (fsync, rename) with
    ``mode``, so a crash leaves either no file or the whole value, never half of one."""
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    value = create()
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), mode)  # O_CREAT's mode is masked by the umask; this is not
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    return value
