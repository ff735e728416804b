"""The agent id is created once and kept; the detected host identity is usable on the wire."""

from __future__ import annotations

from pathlib import Path

from agent.config import validate_config
from agent.identity import AGENT_ID_FILE, detect_identity, load_agent_id
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


def test_interface_addresses_are_those_psutil_lists_in_its_order() -> None:
    # psutil (still the process sensor's fallback) calls the same getifaddrs; the agent no longer loads it.
    import socket

    import psutil

    from agent.host_addresses import interface_addresses

    expected = [
        address.address.split("%", 1)[0]
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family in (socket.AF_INET, socket.AF_INET6)
    ]
    found = interface_addresses()
    assert found == expected
    assert "127.0.0.1" in found
