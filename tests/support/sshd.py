"""A real sshd on a spare loopback port, test accounts, and password logins made with ``sshpass``.

sshd runs with its own configuration and ``-E LOGFILE``: it then writes its log lines there itself,
without syslog headers, and the login sensor reads that file as a source with ``program: sshd``. That
spares the tests a syslog daemon; the lines are the ones sshd sends to syslog.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.net import free_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSHPASS = shutil.which("sshpass")
SSH = shutil.which("ssh")
TOOLS_PRESENT = bool(os.path.exists(SSHD) and SSHPASS and SSH)
MISSING_TOOLS = "needs sshd, ssh and sshpass: apt-get update && apt-get install -y openssh-server sshpass"
needs_sshd = pytest.mark.skipif(not TOOLS_PRESENT, reason=MISSING_TOOLS)


@contextmanager
def running_sshd(directory: Path, extra_config: str = "") -> Iterator[tuple[int, Path]]:
    """sshd listening on 127.0.0.1, its host key, configuration and log in ``directory``; yields the
    port and the log once sshd says it listens. Password logins through PAM; root may not log in."""
    port, log = free_port(), directory / "sshd.log"
    log.touch()
    key = directory / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    config = directory / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile {directory / 'sshd.pid'}\n"
        "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM yes\nPermitRootLogin no\n"
        f"LogLevel INFO\n{extra_config}"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    server = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)])
    try:
        deadline = time.monotonic() + 10
        while "Server listening" not in log.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sshd did not start: {log.read_text()}")
            time.sleep(0.05)
        yield port, log
    finally:
        server.terminate()
        server.wait(timeout=10)


def account_name(prefix: str) -> tuple[str, str]:
    """A fresh user name starting with ``prefix``, and a password for it."""
    return f"{prefix}{secrets.token_hex(3)}", secrets.token_urlsafe(12)


def create_account(name: str, password: str) -> None:
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", name], check=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)


@contextmanager
def removed_afterwards(name: str) -> Iterator[None]:
    """Deletes the account ``name`` on the way out, whether or not it was created."""
    try:
        yield
    finally:
        subprocess.run(["userdel", name], check=False, stderr=subprocess.DEVNULL)


@contextmanager
def local_account(prefix: str) -> Iterator[tuple[str, str]]:
    """A local account (name, password) that exists for the ``with`` block."""
    name, password = account_name(prefix)
    with removed_afterwards(name):
        create_account(name, password)
        yield name, password


async def ssh_login(port: int, user: str, password: str) -> int:
    """ssh's exit status for a password login to 127.0.0.1:``port`` that runs ``true``."""
    assert SSHPASS is not None
    assert SSH is not None
    client = await asyncio.create_subprocess_exec(
        SSHPASS, "-p", password, SSH, "-p", str(port),
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
        "-o", "NumberOfPasswordPrompts=1", f"{user}@127.0.0.1", "true",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(client.wait(), timeout=30)
