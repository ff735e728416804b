"""Kafka client security settings: consistent combinations only, errors that name the key, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, validate_config
from agent.publisher import security_options
from collector.config import ConfigError as CollectorConfigError
from collector.config import load_settings
from collector.kafka import security_options as collector_security_options
from tests.unit.agent.runtime_fixtures import minimal_document


def agent_kafka(tmp_path: Path, **security: object) -> dict[str, object]:
    document = minimal_document(tmp_path)
    document["kafka"] = {"bootstrap": "127.0.0.1:9093", **security}
    return document


def agent_problems(tmp_path: Path, **security: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_config(agent_kafka(tmp_path, **security))
    return caught.value.problems


def test_sasl_needs_a_username_and_a_password(tmp_path: Path) -> None:
    (problem,) = agent_problems(tmp_path, security_protocol="SASL_SSL")

    assert problem.startswith("kafka: ")
    assert "username: required with security_protocol SASL_SSL" in problem
    assert "password or password_file: required" in problem


def test_password_and_password_file_are_exclusive(tmp_path: Path) -> None:
    (problem,) = agent_problems(
        tmp_path, security_protocol="SASL_SSL", username="a", password="p", password_file="/x"
    )

    assert "password, password_file: give one of them" in problem


def test_tls_files_without_tls_and_half_a_client_certificate_are_refused(tmp_path: Path) -> None:
    (problem,) = agent_problems(tmp_path, ssl_cafile="/ca.pem", ssl_certfile="/c.pem")

    assert "ssl_cafile: only used with security_protocol SSL or SASL_SSL" in problem
    assert "ssl_certfile, ssl_keyfile: a client certificate needs both" in problem


def test_unknown_protocol_is_named(tmp_path: Path) -> None:
    (problem,) = agent_problems(tmp_path, security_protocol="TLS")

    assert problem.startswith("kafka.security_protocol: ")


def test_agent_options_carry_tls_and_scram(tmp_path: Path) -> None:
    secret = tmp_path / "kafka.password"
    secret.write_text("s3cret\n")
    config = validate_config(
        agent_kafka(
            tmp_path,
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            username="agent-web01",
            password_file=str(secret),
        )
    )

    options = security_options(config.kafka)

    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "agent-web01"
    assert options["sasl_plain_password"] == "s3cret"
    assert options["ssl_context"].check_hostname


def test_an_inline_password_is_not_shown(tmp_path: Path) -> None:
    config = validate_config(
        agent_kafka(tmp_path, security_protocol="SASL_PLAINTEXT", username="u", password="hunter22")
    )

    assert "hunter22" not in repr(config)
    assert security_options(config.kafka)["sasl_plain_password"] == "hunter22"
    assert "ssl_context" not in security_options(config.kafka)


def test_collector_settings_validate_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text("kafka: {security_protocol: SASL_SSL, username: collector}\n")

    with pytest.raises(CollectorConfigError, match="password or password_file: required"):
        load_settings(path, environ={})

    path.write_text("kafka: {security_protocol: SASL_SSL, username: collector, password: pw}\n")
    options = collector_security_options(load_settings(path, environ={}).kafka)

    assert options["sasl_plain_username"] == "collector"
    assert options["sasl_plain_password"] == "pw"
