"""The agent id is created once and kept; the detected host identity is usable on the wire."""

from __future__ import annotations

from pathlib import Path

from agent.config import validate_config
from agent.identity import AGENT_ID_FILE, detect_identity, host_addresses, load_agent_id
from tests.unit.agent.runtime_fixtures import minimal_document


def test_agent_id_is_created_once_and_kept(tmp_path: Path) -> None:
    first = load_agent_id(tmp_path / "state")

    assert load_agent_id(tmp_path / "state") == first
    assert (tmp_path / "state" / AGENT_ID_FILE).read_text().strip() == first


def test_host_overrides_win_over_detection(tmp_path: Path) -> None:
    config = validate_config(minimal_document(tmp_path, host={"id": "fixed-id", "name": "web-01"}))

    identity = detect_identity(config)

    assert identity.host.id == "fixed-id"
    assert identity.host.name == "web-01"
    assert identity.agent.id == load_agent_id(tmp_path)
    assert identity.system.security_level == 4
    assert "127.0.0.1" not in identity.host.ip


def test_addresses_handed_over_are_used_as_given(tmp_path: Path) -> None:
    config = validate_config(minimal_document(tmp_path))

    assert detect_identity(config, ["192.0.2.7", "2001:db8::7"]).host.ip == ["192.0.2.7", "2001:db8::7"]
    assert detect_identity(config).host.ip == host_addresses()
