"""Per-agent message signatures (event_contract.signing) and the agent's key file (agent.enrollment)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agent.enrollment import KEY_FILE, load_or_create_key, registration
from event_contract.signing import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    KeyFormatError,
    Signer,
    decode_key,
    encode_key,
    generate_key,
    header_value,
    key_id,
    sign,
    signature_headers,
    verify,
)


def test_a_signature_verifies_only_for_its_key_and_exact_value() -> None:
    key, other = generate_key(), generate_key()
    value = b'{"agent":{"id":"a1"},"event":{"sequence":7}}'
    signature = sign(key, value)

    assert verify(key, value, signature)
    assert not verify(other, value, signature)
    assert not verify(key, value.replace(b"7", b"8"), signature)
    assert not verify(key, value + b" ", signature)
    assert not verify(key, value, b"not base64 at all!")
    assert not verify(key, value, b"")


def test_key_ids_are_derived_and_distinct_and_keys_round_trip() -> None:
    key = generate_key()
    assert key_id(key) == key_id(bytes(key))
    assert key_id(key).startswith("k1-")
    assert len(key_id(key)) == 19
    assert key_id(key) != key_id(generate_key())
    assert decode_key(encode_key(key) + "\n") == key
    with pytest.raises(KeyFormatError):
        decode_key("abcd")
    with pytest.raises(KeyFormatError):
        decode_key("zz" * 32)


def test_headers_name_the_key_and_the_first_header_wins() -> None:
    key = generate_key()
    headers = signature_headers(key, key_id(key), b"value")
    assert header_value(headers, KEY_ID_HEADER) == key_id(key).encode()
    forged = [*headers, (SIGNATURE_HEADER, b"AAAA")]
    assert header_value(forged, SIGNATURE_HEADER) == sign(key, b"value")
    assert header_value([], SIGNATURE_HEADER) is None


@pytest.mark.parametrize("key", [generate_key(), b"", b"short", bytes(range(64)), bytes(range(65)) * 3])
@pytest.mark.parametrize("value", [b"", b"x", b'{"event":{"sequence":7}}' * 40, bytes(range(256)) * 9])
def test_the_signer_gives_the_headers_signature_headers_gives(key: bytes, value: bytes) -> None:
    signer = Signer(key, key_id(key))

    assert signer.headers(value) == signature_headers(key, key_id(key), value)
    assert signer.headers(value) == signer.headers(value), "the keyed states are copied, not consumed"
    assert verify(key, value, header_value(signer.headers(value), SIGNATURE_HEADER) or b"")


def test_the_agent_key_is_created_once_private_and_registered(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = load_or_create_key(state)
    second = load_or_create_key(state)

    assert first == second
    mode = stat.S_IMODE((state / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    entry = registration("agent-1", "web01", "host-1", first)
    assert entry["key_id"] == first.key_id == key_id(decode_key(str(entry["key"])))
    assert entry["host_names"] == ["web01"]
    assert str(first.key) not in repr(first), "the key never shows in a log line"
