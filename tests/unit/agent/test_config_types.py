"""The agent validates its configuration with generated msgspec Structs and never loads pydantic to run:
the Structs are what the pydantic models give (checked-in text, validation), and ``canhgac-agent run``'s
imports and start-up leave pydantic unloaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from pydantic import ValidationError

from agent import config_models, config_types
from agent.config import ConfigError, load_config, validate_config
from agent.sensor_registry import configured_sensors
from event_contract.secret import enc_hook
from event_contract.structsource import render_struct
from tests.unit.agent.runtime_fixtures import minimal_document

ROOT = Path(__file__).resolve().parents[3]


def test_the_checked_in_structs_are_generated_from_the_models() -> None:
    assert config_models.GENERATED.read_text(encoding="utf-8") == config_models.render()


def test_the_imported_structs_are_the_translated_ones() -> None:
    translated = config_models.translate_all().translated()
    assert len(translated) >= 14
    for struct in translated:
        assert render_struct(getattr(config_types, struct.__name__)) == render_struct(struct)


def _by_the_models(document: dict[str, Any]) -> dict[str, Any]:
    model = config_models.AgentConfig.model_validate(document)
    dumped: dict[str, Any] = model.model_dump(mode="json")
    return dumped


def _sensors_by_the_models(document: dict[str, Any]) -> dict[str, Any]:
    models = {model.__name__: model for model in config_models.SENSOR_MODELS}
    names = {"file_integrity": "FileIntegrityConfig", "process": "ProcessConfig", "login": "LoginConfig"}
    return {
        name: models[names[name]].model_validate(section).model_dump(mode="json")
        for name, section in document["sensors"].items()
    }


@pytest.mark.parametrize(
    "sections",
    [
        {},
        {"logging": {"level": "debug"}, "metrics": {"enabled": "true", "port": "9500"}},
        {"spool": {"max_rows": 5, "policy": "refuse_new"}, "pipeline": {"drain_timeout_s": 0}},
        {"metrics": {"enabled": "on"}},  # only pydantic's lax mode reads "on": the models' reading is taken
        {"kafka": {"bootstrap": "k:1", "security_protocol": "SASL_SSL", "username": "u", "password": "pw"}},
        {"kafka": {"bootstrap": "k:1", "security_protocol": "SSL", "ssl_cafile": "/ca.pem"}},
        {
            "sensors": {
                "login": {"sources": ["/var/log/auth.log", {"path": "/x.log", "program": "sshd"}]},
                "file_integrity": {"paths": ["/etc", "/srv"], "rescan_interval_s": "60"},
                "process": {"source": "poll", "realtime_priority": 0},
            }
        },
    ],
)
def test_the_structs_read_a_configuration_as_the_models_do(tmp_path: Path, sections: dict[str, Any]) -> None:
    document = minimal_document(tmp_path, **sections)

    config = validate_config(document)

    assert msgspec.to_builtins(config, enc_hook=enc_hook) == _by_the_models(document)
    if "sensors" in sections:
        found, problems = configured_sensors(config)
        assert problems == []
        dumped = {entry.name: msgspec.to_builtins(entry.config, enc_hook=enc_hook) for entry in found}
        assert dumped == _sensors_by_the_models(document)


@pytest.mark.parametrize(
    "sections",
    [
        {"system": {"name": "S", "security_level": "high"}},
        {"pipeline": {"queue_size": 0}},
        {"kafka": {"bootstrap": ""}},
        {"logging": {"level": "chatty"}},
        {"kafka": {"bootstrap": "k:1", "ssl_certfile": "/c.pem"}},
        {"metrics": {"port": 70000}},
        {"heartbeat": {"interval_s": 1, "jitter": 2}},
    ],
)
def test_what_the_models_refuse_the_agent_refuses_with_their_messages(
    tmp_path: Path, sections: dict[str, Any]
) -> None:
    document = minimal_document(tmp_path, **sections)
    with pytest.raises(ValidationError) as by_models:
        config_models.AgentConfig.model_validate(document)

    with pytest.raises(ConfigError) as caught:
        validate_config(document)

    assert caught.value.problems == config_models.describe_validation_error(by_models.value)


def test_a_password_is_hidden_in_repr_and_in_check_config_but_used(tmp_path: Path) -> None:
    document = minimal_document(tmp_path)
    document["kafka"] = {"bootstrap": "k:1", "security_protocol": "SASL_PLAINTEXT", "username": "u"}
    document["kafka"]["password"] = "hunter22"
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")

    config = load_config(path, {})

    assert "hunter22" not in repr(config)
    assert "hunter22" not in str(msgspec.to_builtins(config, enc_hook=enc_hook))
    assert config.kafka.sasl_password() == "hunter22"


_RUN_PATH = """
import sys
from pathlib import Path

import agent.cli
from agent.cli import _run, main  # the entry point and what `run` calls
from agent.config import load_config
from agent.identity import detect_identity
from agent.jsonlog import configure_logging
from agent.memory import use_one_malloc_arena
from agent.service import check_sensors, run_agent, run_event_loop
from agent.runtime import AgentRuntime
from agent.publisher import KafkaPublisher
from agent.sensors.heartbeat import HeartbeatSensor
from agent.sensor_registry import build_sensor, configured_sensors

config = load_config(Path(sys.argv[1]), {})
check_sensors(config)
sensors = [build_sensor(entry, config.state_dir) for entry in configured_sensors(config)[0]]
# The restarted agent is handed the host's addresses (agent.config_handoff); psutil is otherwise only the
# process sensor's fallback: ~0.9 MiB idle.
detect_identity(config, ["192.0.2.1"])
print(sorted(name for name in sys.modules if name.split(".")[0] in ("pydantic", "psutil")))
"""


def test_the_running_agent_never_imports_pydantic_nor_psutil(tmp_path: Path) -> None:
    document = minimal_document(
        tmp_path / "state",
        logging={"level": "info"},
        sensors={
            "file_integrity": {"paths": [str(tmp_path)]},
            "process": {},
            "login": {"sources": ["/x.log"]},
        },
    )
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_RUN_PATH), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
