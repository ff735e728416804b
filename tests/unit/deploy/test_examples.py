"""The provincial deployment examples in deploy/examples load through the real configuration models, so
they cannot drift from the code, and keep every secret in a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import load_config
from agent.service import check_sensors
from collector.config import ConfigError, load_settings
from collector.es_client import elasticsearch_client

EXAMPLES = Path(__file__).resolve().parents[3] / "deploy" / "examples"
SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "passphrase")


def secret_keys(node: Any, path: str = "") -> list[str]:
    """Keys that look like an inline secret (anything but ``*_file``)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if any(word in str(key).lower() for word in SECRET_WORDS) and not str(key).endswith("_file"):
                found.append(where)
            found += secret_keys(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += secret_keys(value, f"{path}[{index}]")
    return found


@pytest.mark.parametrize("name", ["agent.yaml", "collector.yaml", "api.yaml"])
def test_no_example_holds_a_secret_inline(name: str) -> None:
    assert secret_keys(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))) == []


def test_the_agent_example_is_a_valid_agent_configuration() -> None:
    config = load_config(EXAMPLES / "agent.yaml", environ={})
    assert len(config.kafka.bootstrap.split(",")) == 3
    assert config.kafka.security_protocol == "SASL_SSL"
    assert config.kafka.sasl_mechanism == "SCRAM-SHA-512"
    assert config.kafka.password_file is not None
    assert config.kafka.cafile is not None
    assert config.metrics.enabled is False
    assert set(check_sensors(config)) == {"file_integrity", "process", "login"}


def test_the_collector_example_is_valid_and_reaches_three_elasticsearch_nodes() -> None:
    settings = load_settings(EXAMPLES / "collector.yaml", environ={})
    assert len(settings.kafka.bootstrap.split(",")) == 3
    assert settings.kafka.security_protocol == "SASL_SSL"
    assert settings.kafka.password_file is not None
    assert settings.elasticsearch.api_key_file is not None
    assert settings.metrics.port == 9464
    # The client is built from the same settings (without the files, which exist on the SOC hosts only).
    client = elasticsearch_client(
        settings.elasticsearch.model_copy(update={"api_key_file": None, "ca_certs": None})
    )
    hosts = sorted(node.base_url for node in client.transport.node_pool.all())
    assert hosts == [f"https://es{n}.soc.tinh.gov.vn:9200" for n in (1, 2, 3)]


def test_an_instance_env_file_overrides_only_the_metrics_port() -> None:
    overrides = dict(
        line.split("=", 1)
        for line in (EXAMPLES / "collector-2.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    settings = load_settings(EXAMPLES / "collector.yaml", environ=overrides)
    assert settings.metrics.port == 9472
    assert settings.kafka.group_id == load_settings(EXAMPLES / "collector.yaml", environ={}).kafka.group_id


def test_the_api_example_serves_https() -> None:
    settings = load_settings(EXAMPLES / "api.yaml", environ={})
    assert settings.api.tls_certfile is not None
    assert settings.api.tls_keyfile is not None
    assert settings.api.port == 8443


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text("api: {tls_certfile: /etc/canhgac/tls/api.pem}\n")
    with pytest.raises(ConfigError, match="tls_certfile and tls_keyfile go together"):
        load_settings(path, environ={})
