"""``canhgac-collector dashboards import``: load the SOC's Kibana saved objects into a Kibana.

Sends every ``dashboards/*.ndjson`` (or ``--file`` ones) as one NDJSON upload to Kibana's saved-objects
import API with ``overwrite=true``: the objects have fixed ids, so importing again updates them in place.
Uses only the standard library, so it runs wherever the collector is installed.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[1] / "dashboards"
IMPORT_PATH = "/api/saved_objects/_import?overwrite=true"


class ImportFailed(RuntimeError):
    """Kibana could not be reached, refused the request, or rejected some objects."""


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str
    password: str

    def header(self) -> str:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


def bundle(paths: Sequence[Path]) -> bytes:
    """The NDJSON files as one upload; each object stays on its own line."""
    if not paths:
        raise ImportFailed(f"no NDJSON files to import: none in {DEFAULT_DIRECTORY}, and no --file given")
    parts = []
    for path in paths:
        text = path.read_bytes()
        parts.append(text if text.endswith(b"\n") else text + b"\n")
    return b"".join(parts)


def multipart(field: str, filename: str, content: bytes, boundary: str) -> bytes:
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode()


def import_request(
    kibana_url: str, ndjson: bytes, *, space: str | None = None, credentials: Credentials | None = None
) -> urllib.request.Request:
    """The POST Kibana expects: multipart field ``file``, header ``kbn-xsrf``, the space in the path."""
    if urllib.parse.urlsplit(kibana_url).scheme not in ("http", "https"):
        raise ImportFailed(f"--kibana must be an http:// or https:// URL, not {kibana_url!r}")
    base = kibana_url.rstrip("/")
    if space and space != "default":
        base += f"/s/{urllib.parse.quote(space, safe='')}"
    boundary = f"canhgac-{secrets.token_hex(12)}"
    headers = {"kbn-xsrf": "true", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    if credentials is not None:
        headers["Authorization"] = credentials.header()
    body = multipart("file", "canhgac-saved-objects.ndjson", ndjson, boundary)
    url = base + IMPORT_PATH
    return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only


def send(request: urllib.request.Request, timeout_s: float) -> dict[str, Any]:
    """Kibana's answer; :class:`ImportFailed` unless every object was imported."""
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - URL given by the operator
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode("utf-8", "replace")
        raise ImportFailed(f"Kibana answered {error.code}: {detail}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ImportFailed(f"cannot reach Kibana at {request.full_url}: {error}") from error
    except json.JSONDecodeError as error:
        raise ImportFailed(f"Kibana's answer is not JSON: {error}") from error
    if not isinstance(answer, dict) or not answer.get("success"):
        errors = answer.get("errors", []) if isinstance(answer, dict) else []
        described = "; ".join(
            f"{item.get('type')}/{item.get('id')}: {(item.get('error') or {}).get('type')}"
            for item in errors[:10]
        )
        raise ImportFailed(f"Kibana rejected objects: {described or answer}")
    return answer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="dashboards_action", required=True, metavar="ACTION")
    load = actions.add_parser("import", help="import the saved objects (data views, searches, dashboards)")
    load.add_argument("--kibana", required=True, help="Kibana's base URL, e.g. http://127.0.0.1:5601")
    load.add_argument("--space", help="Kibana space id (default: the default space)")
    load.add_argument("--user", help="basic-auth user (with --password-file)")
    load.add_argument("--password-file", type=Path, help="file holding the user's password")
    load.add_argument(
        "--file",
        dest="files",
        type=Path,
        action="append",
        help=f"NDJSON file (repeatable; default: {DEFAULT_DIRECTORY}/*.ndjson)",
    )
    load.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for Kibana")


def credentials_from(args: argparse.Namespace) -> Credentials | None:
    if (args.user is None) != (args.password_file is None):
        raise ImportFailed("--user and --password-file go together")
    if args.user is None:
        return None
    try:
        password = Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise ImportFailed(f"cannot read the password file: {error}") from error
    return Credentials(args.user, password)


def run(args: argparse.Namespace) -> int:
    try:
        files = list(args.files or sorted(DEFAULT_DIRECTORY.glob("*.ndjson")))
        request = import_request(
            args.kibana, bundle(files), space=args.space, credentials=credentials_from(args)
        )
        answer = send(request, args.timeout)
    except ImportFailed as error:
        print(f"dashboards import: {error}", file=sys.stderr)
        return 1
    print(
        f"imported {answer.get('successCount', 0)} saved objects from {len(files)} files into {args.kibana}"
    )
    return 0
