"""``canhgac-collector dashboards import`` against a local HTTP server that records what Kibana would get."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from collector.cli import main
from collector.dashboards_cli import DEFAULT_DIRECTORY


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeKibana:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=lambda: {"success": True, "successCount": 24})
    status: int = 200


@pytest.fixture
def kibana() -> Iterator[FakeKibana]:
    fake = FakeKibana(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            fake.requests.append(
                Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            payload = json.dumps(fake.answer).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def file_part(recorded: Recorded) -> Message:
    envelope = f"Content-Type: {recorded.headers['content-type']}\r\n\r\n".encode() + recorded.body
    message = BytesParser(policy=HTTP).parsebytes(envelope)
    parts = [
        part
        for part in message.iter_parts()
        if part.get_param("name", header="content-disposition") == "file"
    ]
    assert len(parts) == 1
    return parts[0]


def test_import_posts_every_ndjson_file_as_one_multipart_upload(kibana: FakeKibana) -> None:
    assert main(["dashboards", "import", "--kibana", kibana.url]) == 0
    (request,) = kibana.requests
    assert request.path == "/api/saved_objects/_import?overwrite=true"
    assert request.headers["kbn-xsrf"] == "true"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "authorization" not in request.headers
    uploaded = file_part(request).get_payload(decode=True)
    assert isinstance(uploaded, bytes)
    expected = b"".join(path.read_bytes() for path in sorted(DEFAULT_DIRECTORY.glob("*.ndjson")))
    assert uploaded == expected
    ids = [json.loads(line)["id"] for line in uploaded.decode().splitlines()]
    assert "canhgac-dashboard-overview" in ids


def test_space_and_basic_auth(kibana: FakeKibana, tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret\n")
    status = main(
        ["dashboards", "import", "--kibana", kibana.url + "/", "--space", "soc"]
        + [
            "--user",
            "elastic",
            "--password-file",
            str(password),
            "--file",
            str(DEFAULT_DIRECTORY / "fim.ndjson"),
        ]
    )
    assert status == 0
    (request,) = kibana.requests
    assert request.path == "/s/soc/api/saved_objects/_import?overwrite=true"
    assert request.headers["authorization"] == "Basic ZWxhc3RpYzpzM2NyZXQ="  # elastic:s3cret
    assert file_part(request).get_payload(decode=True) == (DEFAULT_DIRECTORY / "fim.ndjson").read_bytes()


def test_objects_kibana_rejects_fail_the_command(
    kibana: FakeKibana, capsys: pytest.CaptureFixture[str]
) -> None:
    kibana.answer = {
        "success": False,
        "successCount": 3,
        "errors": [
            {"type": "visualization", "id": "canhgac-vis-top-rules", "error": {"type": "missing_references"}}
        ],
    }
    assert main(["dashboards", "import", "--kibana", kibana.url]) == 1
    assert "canhgac-vis-top-rules: missing_references" in capsys.readouterr().err


def test_an_http_error_fails_the_command_with_kibanas_message(
    kibana: FakeKibana, capsys: pytest.CaptureFixture[str]
) -> None:
    kibana.status, kibana.answer = 401, {"message": "unauthorized"}
    assert main(["dashboards", "import", "--kibana", kibana.url]) == 1
    assert "401" in capsys.readouterr().err


def test_bad_arguments_are_refused_before_any_request(
    kibana: FakeKibana, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboards", "import", "--kibana", kibana.url, "--user", "elastic"]) == 1
    assert main(["dashboards", "import", "--kibana", "file:///etc/passwd"]) == 1
    missing = tmp_path / "missing"
    assert (
        main(["dashboards", "import", "--kibana", kibana.url, "--user", "u", "--password-file", str(missing)])
        == 1
    )
    assert kibana.requests == []
    assert "--password-file" in capsys.readouterr().err


def test_an_unreachable_kibana_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "import", "--kibana", "http://127.0.0.1:9", "--timeout", "5"]) == 1
    assert "cannot reach Kibana" in capsys.readouterr().err


def test_nothing_to_import_is_a_clear_error(
    kibana: FakeKibana, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("collector.dashboards_cli.DEFAULT_DIRECTORY", tmp_path)
    assert main(["dashboards", "import", "--kibana", kibana.url]) == 1
    assert "no NDJSON files" in capsys.readouterr().err
    assert kibana.requests == []
