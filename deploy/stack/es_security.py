"""Security of the local stack's Elasticsearch: TLS material, the ``elastic`` password, roles and users.

Stdlib only, like stack.py. ``state`` is a stack's state directory: the CA and certificates live in
``state/pki`` (deploy/stack/pki.py), the generated passwords in ``state/secrets`` (root only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

try:  # imported as a module (type checking, tests)
    from deploy.stack import pki
except ImportError:  # run as a script: this directory is on sys.path
    import pki  # type: ignore[no-redef,import-not-found]

HERE = Path(__file__).resolve().parent
ROLES = HERE.parent / "elasticsearch" / "roles.json"
# Least-privilege users of the stack: key in ``es_users`` -> (user name, role). See docs/security.md.
USERS = {
    "collector": ("canhgac-collector", "canhgac_collector"),
    "api": ("canhgac-api", "canhgac_api"),
    "analyst": ("canhgac-analyst", "canhgac_analyst"),
}


def ca(state: Path) -> Path:
    """The stack CA's certificate (Kafka's listeners use the same CA)."""
    return pki.ensure_ca(state / "pki")


def password(state: Path, user: str) -> str:
    """The password of ``user`` (``elastic`` or a key of USERS), generated once in the state dir."""
    return pki.ensure_secret(state / "secrets", f"es-{user}")


def settings(state: Path) -> dict[str, Any]:
    """What a client needs besides ``es_url``: the CA, the superuser and the least-privilege users."""
    users = {
        key: {"username": username, "password": password(state, key)} for key, (username, _) in USERS.items()
    }
    return {
        "ca_file": str(ca(state)),
        "es_auth": {"username": "elastic", "password": password(state, "elastic")},
        "es_users": users,
    }


def request(state: Path, url: str, method: str, path: str, body: object = None, timeout: float = 10) -> Any:
    """One call to the stack's Elasticsearch as ``elastic``, over TLS verified against the stack CA."""
    context = ssl.create_default_context(cafile=str(state / "pki" / "ca.crt"))
    credentials = base64.b64encode(f"elastic:{password(state, 'elastic')}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - an https URL on loopback
        url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
        return json.load(response)


def authenticates(state: Path, url: str) -> bool:
    """The node answers over TLS (trusting the stack CA) and accepts the stack's ``elastic`` password,
    whatever its cluster health: a secure node of this stack, perhaps still recovering its shards."""
    if not (state / "pki" / "ca.crt").exists():
        return False
    try:
        return bool(request(state, url, "GET", "/_security/_authenticate").get("username") == "elastic")
    except (OSError, urllib.error.URLError, ValueError, AttributeError):
        return False


def healthy(state: Path, url: str, wait_s: int = 0) -> bool:
    if not (state / "pki" / "ca.crt").exists():
        return False
    try:
        query = f"/_cluster/health?wait_for_status=yellow&timeout={wait_s}s"
        health = request(state, url, "GET", query, None, wait_s + 5)
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return isinstance(health, dict) and health.get("status") in ("yellow", "green")


def install_certificates(state: Path, config: Path) -> None:
    """The node's certificate, key and the CA, copied into its config dir (it reads nothing outside it;
    the key stays 0600 and is handed to the Elasticsearch user by the caller's chown)."""
    server = pki.ensure_server_cert(state / "pki", "elasticsearch")
    certs = config / "certs"
    certs.mkdir(exist_ok=True)
    for source, target in ((server.cert, "node.crt"), (server.key, "node.key"), (server.ca, "ca.crt")):
        shutil.copyfile(source, certs / target)
        (certs / target).chmod(0o600 if target.endswith(".key") else 0o644)


def bootstrap_password(state: Path, home: Path, config: Path, env: dict[str, str]) -> None:
    """Put the ``elastic`` password into the keystore as ``bootstrap.password``: the node uses it until a
    password is stored in its security index, which this stack never does. Done again only when the
    secret changed (a digest of it sits beside the keystore)."""
    elastic = password(state, "elastic")
    digest = hashlib.sha256(elastic.encode()).hexdigest()
    keystore, marker = config / "elasticsearch.keystore", config / ".bootstrap-password.sha256"
    if keystore.exists() and marker.exists() and marker.read_text() == digest:
        return
    tool = str(home / "bin" / "elasticsearch-keystore")
    # A keystore the node created itself (a stack that ran without security) belongs to the Elasticsearch
    # user, and the tool will not rewrite a file it would change the owner of: start from a fresh one.
    keystore.unlink(missing_ok=True)
    subprocess.run([tool, "create"], env=env, check=True, capture_output=True)
    subprocess.run(
        [tool, "add", "--force", "--stdin", "bootstrap.password"],
        env=env,
        input=elastic.encode(),
        check=True,
        capture_output=True,
    )
    marker.write_text(digest)


def roles() -> dict[str, Any]:
    """The least-privilege roles of deploy/elasticsearch/roles.json, each index pattern also given for the
    test suites' per-test prefixes (``t<hex>-``), so tests prove these very privileges."""
    roles: dict[str, Any] = json.loads(ROLES.read_text())
    for role in roles.values():
        for entry in role["indices"]:
            production = [name for name in entry["names"] if name.startswith("canhgac-")]
            entry["names"] += ["t*-" + name.removeprefix("canhgac-") for name in production]
    return roles


def write_roles(config: Path) -> None:
    """``roles.yml``, one role a line (the node splits the file at lines that start a role, so each role's
    body is a one-line JSON flow mapping). A running node reloads it within seconds."""
    text = "".join(f"{name}: {json.dumps(body)}\n" for name, body in roles().items())
    path = config / "roles.yml"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def file_users(state: Path, home: Path, config: Path, env: dict[str, str]) -> None:
    """Roles in ``roles.yml`` and users in the file realm: the integration-test distribution cannot create
    its security index (it lacks the analysis module the index's mapping needs), so the native realm and API
    keys are unavailable here; a full distribution takes the same roles through the security API."""
    write_roles(config)
    passwords = {username: password(state, key) for key, (username, _) in USERS.items()}
    digest = hashlib.sha256(json.dumps([USERS, passwords], sort_keys=True).encode()).hexdigest()
    marker = config / ".users.sha256"
    if marker.exists() and marker.read_text() == digest and (config / "users").exists():
        return
    for name in ("users", "users_roles"):
        (config / name).write_text("")
    tool = str(home / "bin" / "elasticsearch-users")
    for username, role in USERS.values():
        # The password goes through stdin (the tool asks twice), never on a command line.
        subprocess.run(
            [tool, "useradd", username, "-r", role],
            env=env,
            input=f"{passwords[username]}\n{passwords[username]}\n".encode(),
            check=True,
            capture_output=True,
        )
    for name in ("users", "users_roles"):
        (config / name).chmod(0o600)  # password hashes: for the Elasticsearch user only (chown follows)
    marker.write_text(digest)
