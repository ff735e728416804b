"""The Elasticsearch part of the collector configuration and the client options built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import ConfigError, ElasticsearchSettings, load_settings
from collector.es_client import client_options, elasticsearch_client

SECRET = "s3cret-Value-42"


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ElasticsearchSettings:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_settings(path, environ=environ or {}).elasticsearch


def test_verification_is_on_by_default_and_no_credentials_are_sent(tmp_path: Path) -> None:
    options = client_options(_load(tmp_path, "elasticsearch: {url: 'https://es:9200'}"))
    assert options["verify_certs"] is True
    assert "basic_auth" not in options
    assert "api_key" not in options


def test_user_with_password_file_and_ca(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(SECRET + "\n")
    (tmp_path / "ca.pem").write_text("not parsed here")
    settings = _load(
        tmp_path,
        f"elasticsearch: {{username: canhgac-collector, password_file: {tmp_path / 'pw'},"
        f" ca_certs: {tmp_path / 'ca.pem'}}}",
    )
    options = client_options(settings)
    assert options["basic_auth"] == ("canhgac-collector", SECRET)
    assert options["ca_certs"] == str(tmp_path / "ca.pem")


def test_api_key_inline_and_from_file(tmp_path: Path) -> None:
    assert client_options(_load(tmp_path, f"elasticsearch: {{api_key: {SECRET}}}"))["api_key"] == SECRET
    (tmp_path / "key").write_text(f"  {SECRET}\n")
    settings = _load(tmp_path, f"elasticsearch: {{api_key_file: {tmp_path / 'key'}}}")
    assert client_options(settings)["api_key"] == SECRET


def test_a_password_from_the_environment_stays_a_string(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        "elasticsearch: {username: u}",
        {"CANHGAC_COLLECTOR__ELASTICSEARCH__PASSWORD": "0123"},
    )
    assert client_options(settings)["basic_auth"] == ("u", "0123")


def test_secrets_never_appear_in_reprs(tmp_path: Path) -> None:
    settings = _load(tmp_path, f"elasticsearch: {{username: u, password: {SECRET}}}")
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in settings.model_dump_json()
    client = elasticsearch_client(settings)
    assert SECRET not in repr(client)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{username: u}", "elasticsearch.password or password_file: required with username"),
        (f"{{password: {SECRET}}}", "elasticsearch.username: required with password"),
        (f"{{api_key: {SECRET}, api_key_file: /etc/hostname}}", "elasticsearch.api_key and api_key_file"),
        (f"{{api_key: {SECRET}, username: u, password: x}}", "elasticsearch.api_key and username"),
        ("{url: 'es:9200'}", "elasticsearch.url: expected http:// or https://"),
        ("{verify_certs: maybe}", "elasticsearch.verify_certs: Input should be a valid boolean"),
    ],
)
def test_errors_name_the_key_and_never_the_secret(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, f"elasticsearch: {text}")
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)


def test_an_unreadable_password_file_is_named(tmp_path: Path) -> None:
    settings = _load(tmp_path, f"elasticsearch: {{username: u, password_file: {tmp_path / 'absent'}}}")
    with pytest.raises(ConfigError, match=r"elasticsearch\.password_file: cannot read"):
        client_options(settings)
