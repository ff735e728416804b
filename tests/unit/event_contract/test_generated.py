"""The checked-in msgspec modules are what their generators give today: a model changed without
regenerating (``python -m event_contract.wire``) fails here."""

from __future__ import annotations

from event_contract import wire, wire_types
from event_contract.structsource import render_struct


def test_the_checked_in_wire_types_are_generated_from_the_contract() -> None:
    assert wire.GENERATED.read_text(encoding="utf-8") == wire.render()


def test_the_imported_wire_types_are_the_translated_ones() -> None:
    # What msgspec made of the checked-in source reads back as what it made of the models.
    fresh, by_dataset = wire.translate_contract()
    translated = {struct.__name__: struct for struct in fresh.translated()}
    assert len(translated) >= 25
    for name, struct in translated.items():
        assert render_struct(getattr(wire_types, name)) == render_struct(struct)
    assert {dataset: struct.__name__ for dataset, struct in wire_types.STRUCT_BY_DATASET.items()} == {
        dataset: struct.__name__ for dataset, struct in by_dataset.items()
    }
