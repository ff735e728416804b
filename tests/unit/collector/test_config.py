"""Collector configuration: file, environment overrides, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import ConfigError, load_settings


def test_the_example_configuration_is_valid() -> None:
    settings = load_settings(Path("deploy/collector.example.yaml"), environ={})
    assert settings.kafka.group_id == "canhgac-collector"
    assert settings.elasticsearch.retention_days["alerts"] == 730


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("kafka: {bootstrap: 'a:1'}\n")
    settings = load_settings(
        path,
        environ={"CANHGAC_COLLECTOR__KAFKA__BOOTSTRAP": "b:2", "CANHGAC_COLLECTOR__KAFKA__MAX_BATCH": "50"},
    )
    assert settings.kafka.bootstrap == "b:2"
    assert settings.kafka.max_batch == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kafka: {max_batch: 0}", "kafka.max_batch: Input should be greater than or equal to 1"),
        ("kafka: {bootstrp: x}", "kafka.bootstrp: Extra inputs are not permitted"),
        ("api: {port: http}", "api.port: Input should be a valid integer"),
        ("- a list", "expected a mapping"),
        ("kafka: [", "not valid YAML"),
        (
            "elasticsearch: {retention_days: {event: 30}}",
            "elasticsearch.retention_days.event.[key]: Input should be 'events', 'alerts' or 'audit'",
        ),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_settings(path, environ={})


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.yaml", environ={})
