"""The stack's server processes: started in their own session, watched by pid file and port, stopped as a
process group. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from deploy.stack.artifacts import log


def pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(
    what: str, process: subprocess.Popen[bytes], healthy: Callable[[], bool], timeout_s: float, log_file: Path
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if healthy():
            return
        time.sleep(0.5)
    tail = log_file.read_text(errors="replace").splitlines()[-30:] if log_file.exists() else []
    verdict = f"exited with {process.returncode}" if process.poll() is not None else "is not healthy"
    sys.exit(f"stack: {what} {verdict} after {timeout_s:.0f}s at most; last log lines:\n" + "\n".join(tail))


def stop_group(pid_file: Path, port: int, what: str) -> None:
    """SIGTERM to the process group in ``pid_file``, SIGKILL after 60 s; returns once ``port`` is free."""
    pid = pid_alive(pid_file)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and pid_alive(pid_file):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)
        if pid_alive(pid_file):
            log(f"{what} did not stop in 60s: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        log(f"{what} stopped")
    pid_file.unlink(missing_ok=True)
    deadline = time.monotonic() + 30
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.2)
