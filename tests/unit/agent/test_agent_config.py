"""Configuration: validation messages name the key, environment overrides, check-config's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.cli import EXIT_CONFIG_ERROR, main
from agent.config import ConfigError, apply_env_overrides, load_config, validate_config
from agent.sensor_registry import REGISTRY, configured_sensors
from event_contract import EVENTS_TOPIC
from tests.unit.agent.runtime_fixtures import minimal_document


def write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def problems_of(document: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_config(document)
    return caught.value.problems


def test_missing_bootstrap_is_named(tmp_path: Path) -> None:
    document = minimal_document(tmp_path)
    document["kafka"] = {}

    assert problems_of(document) == ["kafka.bootstrap: Field required"]


def test_every_problem_is_reported_with_its_key(tmp_path: Path) -> None:
    document = minimal_document(tmp_path, spool={"policy": "keep_everything", "max_rows": 0})
    document["system"] = {"name": "Portal", "security_level": 9}

    problems = problems_of(document)

    assert any(
        p.startswith("system.security_level: Input should be less than or equal to 5") for p in problems
    )
    assert any(p.startswith("spool.policy: Input should be 'drop_oldest' or 'refuse_new'") for p in problems)
    assert any(p.startswith("spool.max_rows: Input should be greater than 0") for p in problems)


def test_unknown_key_is_an_error_not_silently_ignored(tmp_path: Path) -> None:
    document = minimal_document(tmp_path)
    document["kafka"] = {"bootstrap": "k:9092", "bootstrp": "typo"}

    assert problems_of(document) == ["kafka.bootstrp: Extra inputs are not permitted"]


def test_defaults(tmp_path: Path) -> None:
    config = validate_config(minimal_document(tmp_path))

    assert config.kafka.topic == "unit-test"
    assert (
        validate_config({**minimal_document(tmp_path), "kafka": {"bootstrap": "k:1"}}).kafka.topic
        == EVENTS_TOPIC
    )
    assert config.spool.policy == "drop_oldest"
    assert config.kafka.security_protocol == "PLAINTEXT"


def test_env_overrides_nest_with_double_underscore_and_parse_scalars(tmp_path: Path) -> None:
    path = write(tmp_path / "agent.yaml", minimal_document(tmp_path))
    environ = {
        "CANHGAC_AGENT__KAFKA__BOOTSTRAP": "broker-a:9093,broker-b:9093",
        "CANHGAC_AGENT__SYSTEM__SECURITY_LEVEL": "5",
        "canhgac_agent__heartbeat__interval_s": "2.5",
        "CANHGAC_AGENT__SENSORS__PROCESS__ENABLED": "false",
        "UNRELATED": "x",
    }

    config = load_config(path, environ)

    assert config.kafka.bootstrap == "broker-a:9093,broker-b:9093"
    assert config.system.security_level == 5
    assert config.heartbeat.interval_s == 2.5
    assert config.sensors == {"process": {"enabled": False}}


def test_env_override_can_supply_a_missing_required_key(tmp_path: Path) -> None:
    document = minimal_document(tmp_path)
    del document["kafka"]
    path = write(tmp_path / "agent.yaml", document)

    config = load_config(path, {"CANHGAC_AGENT__KAFKA__BOOTSTRAP": "k:9092"})

    assert config.kafka.bootstrap == "k:9092"


def test_env_override_replaces_a_scalar_with_a_section() -> None:
    document: dict[str, object] = {"kafka": "oops"}
    apply_env_overrides(document, {"CANHGAC_AGENT__KAFKA__BOOTSTRAP": "k:1"})
    assert document == {"kafka": {"bootstrap": "k:1"}}


def test_empty_env_segment_is_rejected() -> None:
    with pytest.raises(ConfigError, match="empty key segment"):
        apply_env_overrides({}, {"CANHGAC_AGENT__KAFKA____BOOTSTRAP": "k"})


def test_unreadable_and_malformed_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml", {})
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, {})
    listed = write(tmp_path / "list.yaml", [1, 2])
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(listed, {})


def test_check_config_prints_effective_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "agent.yaml", minimal_document(tmp_path))

    assert main(["check-config", "--config", str(path)]) == 0

    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["kafka"]["bootstrap"] == "127.0.0.1:1"
    assert printed["spool"]["policy"] == "drop_oldest"


def test_check_config_lists_errors_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = minimal_document(tmp_path)
    document["kafka"] = {}
    path = write(tmp_path / "agent.yaml", document)

    assert main(["check-config", "--config", str(path)]) == EXIT_CONFIG_ERROR

    assert "kafka.bootstrap: Field required" in capsys.readouterr().err


def test_unknown_sensor_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "agent.yaml", minimal_document(tmp_path, sensors={"keylogger": {}}))

    assert main(["check-config", "--config", str(path)]) == EXIT_CONFIG_ERROR

    assert "sensors.keylogger: unknown sensor" in capsys.readouterr().err


def test_disabled_sensor_is_not_loaded(tmp_path: Path) -> None:
    path = write(
        tmp_path / "agent.yaml", minimal_document(tmp_path, sensors={"keylogger": {"enabled": False}})
    )

    assert main(["check-config", "--config", str(path)]) == 0


def test_sensor_section_errors_are_prefixed_with_the_sensor(tmp_path: Path) -> None:
    config = validate_config(
        minimal_document(tmp_path, sensors={"file_integrity": {"rescan_interval_s": -1, "colour": "red"}})
    )

    _, problems = configured_sensors(config)

    assert "sensors.file_integrity.rescan_interval_s: Input should be greater than 0" in problems
    assert "sensors.file_integrity.colour: Extra inputs are not permitted" in problems


def test_every_registered_sensor_is_installed_and_accepts_an_empty_section(tmp_path: Path) -> None:
    config = validate_config(minimal_document(tmp_path, sensors={name: {} for name in REGISTRY}))

    found, problems = configured_sensors(config)

    assert problems == []
    assert [entry.name for entry in found] == list(REGISTRY)


def test_check_config_prints_sensor_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "agent.yaml", minimal_document(tmp_path, sensors={"login": {}}))

    assert main(["check-config", "--config", str(path)]) == 0

    printed = yaml.safe_load(capsys.readouterr().out)
    assert set(printed["sensors"]) == {"login"}
    assert len(printed["sensors"]["login"]) > 1  # the login sensor's own defaults, filled in
