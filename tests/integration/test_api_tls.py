"""``canhgac-collector api`` over TLS with secrets configured: HTTPS only, 401 without a valid token, and
no password or token in its logs."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from collector.config import load_settings
from tests.integration.test_api_support import drop_prefix, issue_tokens, prepare_prefix, unique_prefix
from tests.support.es import EsAccess
from tests.support.net import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
KAFKA_PASSWORD = "Kafka-Pa55word-that-must-never-be-logged"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with the system's openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = directory / "api.pem", directory / "api.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=canhgac-api-test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def _seed(es: EsAccess, prefix: str) -> dict[str, str]:
    async with es.client() as client:
        return await issue_tokens(await prepare_prefix(client, prefix))


async def _cleanup(es: EsAccess, prefix: str) -> None:
    async with es.client() as client:
        await drop_prefix(client, prefix)


@pytest.fixture(scope="module")
def tls_api(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("api-tls")
    cert, key = make_certificate(workdir)
    es_password, kafka_password = workdir / "es.password", workdir / "kafka.password"
    api_user = stack.es_as("api")
    es_password.write_text(f"{api_user.password}\n")
    kafka_password.write_text(KAFKA_PASSWORD + "\n")
    prefix = unique_prefix()
    tokens = asyncio.run(_seed(stack.es, prefix))
    port = free_port()
    config = {
        "kafka": {"bootstrap": stack.kafka_bootstrap, "username": "collector",
                  "password_file": str(kafka_password)},
        # The stack's least-privilege API user: the API reads its password and never writes it out.
        "elasticsearch": {"url": stack.es_url, "index_prefix": prefix, "username": api_user.username,
                          "password_file": str(es_password), "ca_certs": stack.ca_file},
        "detection": {"rules": [str(workdir / "no-rules")]},
        "api": {"host": "127.0.0.1", "port": port, "tls_certfile": str(cert), "tls_keyfile": str(key)},
    }  # fmt: skip
    path = workdir / "collector.yaml"
    path.write_text(yaml.safe_dump(config))
    log = workdir / "api.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "collector.cli", "api", "--config", str(path)],
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"https://127.0.0.1:{port}"
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(cert)), timeout=10)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get(f"{base}/api/v1/health/live").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"API did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {"base": base, "port": port, "client": client, "tokens": tokens, "log": log, "config": path,
               "es_password": api_user.password}  # fmt: skip
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)
        asyncio.run(_cleanup(stack.es, prefix))


def test_the_api_answers_https_with_its_certificate_and_not_plain_http(tls_api: dict[str, Any]) -> None:
    client: httpx.Client = tls_api["client"]
    assert client.get(f"{tls_api['base']}/api/v1/health/live").json() == {"status": "ok"}
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{tls_api['port']}/api/v1/health/live", timeout=5)
    # A client that does not trust the certificate is not fooled into talking to it.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_api['base']}/api/v1/health/live", timeout=5)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer cg_0123456789abcdef_" + "A" * 43, "Basic YWRtaW46YWRtaW4=", "wrong"],
)
def test_missing_or_wrong_tokens_are_refused_with_401(
    tls_api: dict[str, Any], authorization: str | None
) -> None:
    # Few failures in all: after auth_failure_burst (10) from one address the API answers 429 instead.
    client: httpx.Client = tls_api["client"]
    headers = {"Authorization": authorization} if authorization is not None else {}
    path = "/metrics" if authorization is None else "/api/v1/alerts"
    response = client.get(f"{tls_api['base']}{path}", headers=headers)
    assert response.status_code == 401, (path, response.text)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_real_token_is_accepted_and_a_tampered_or_revoked_one_is_not(tls_api: dict[str, Any]) -> None:
    client: httpx.Client = tls_api["client"]
    tokens: dict[str, str] = tls_api["tokens"]
    url = f"{tls_api['base']}/api/v1/alerts"
    assert client.get(url, headers={"Authorization": f"Bearer {tokens['admin']}"}).status_code == 200
    tampered = tokens["admin"][:-1] + ("A" if tokens["admin"][-1] != "A" else "B")
    assert client.get(url, headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {tokens['revoked']}"}).status_code == 401


def test_no_secret_reaches_the_logs_or_the_configuration_repr(tls_api: dict[str, Any]) -> None:
    client: httpx.Client = tls_api["client"]
    tokens: dict[str, str] = tls_api["tokens"]
    client.get(f"{tls_api['base']}/api/v1/alerts", headers={"Authorization": f"Bearer {tokens['admin']}"})
    client.get(f"{tls_api['base']}/api/v1/alerts?q={tokens['viewer'][:3]}", headers={"Authorization": "x"})
    time.sleep(0.5)  # the access log line of the last request
    logged = tls_api["log"].read_text(errors="replace")
    assert "GET /api/v1/alerts" in logged  # the log is really there and being written
    for secret in (tls_api["es_password"], KAFKA_PASSWORD, *tokens.values()):
        assert secret not in logged
    settings = load_settings(tls_api["config"], environ={})
    for rendered in (repr(settings), str(settings), settings.model_dump_json()):
        assert tls_api["es_password"] not in rendered
        assert KAFKA_PASSWORD not in rendered
