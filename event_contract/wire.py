"""Fast wire types: msgspec Structs generated from the pydantic contract models.

The pydantic models in :mod:`event_contract.events` stay the one definition of the schema. Every model is
translated (:mod:`event_contract.structgen`) into a :class:`msgspec.Struct` with the same fields, types,
constraints, defaults and wire names; msgspec validates (``msgspec.convert``) and encodes in C, several
times faster than pydantic. The agent builds and encodes its events with them, the collector validates
what it receives with them. They are checked in as :mod:`event_contract.wire_types` (so that the agent
loads no pydantic); ``python -m event_contract.wire`` writes that module again, and a unit test fails
when it differs from what the models give.

The Structs encode as :func:`event_contract.encode_event` does: every field, defaults included, except
those that are ``None``. They are ``omit_defaults`` Structs whose only plain default is ``None``: any other
default is given as a factory, which msgspec never compares against, so ``event.kind: "event"`` or an
empty ``host.ip`` is written out as pydantic writes it.

Whatever the generated types accept, the contract accepts (they are never looser; the unit tests check
it); pydantic's lax mode accepts a few spellings they refuse, so a refusal should be checked with the
contract before it is final.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from event_contract.events import MODEL_BY_DATASET, AgentHealth
from event_contract.structgen import Translator
from event_contract.structsource import render_module
from event_contract.wire_types import STRUCT_BY_DATASET, encode_struct

__all__ = ["STRUCT_BY_DATASET", "encode_struct", "render", "struct_for"]

GENERATED = Path(__file__).with_name("wire_types.py")


def translator() -> Translator:
    return Translator(
        suffix="Wire",
        module=__name__,
        known_validators={"_dataset_matches_type"},  # holds by construction: the dataset picks the type
        forbid_unknown_fields=False,  # as the contract's extra="ignore"
        omit_defaults=True,
    )


_TRANSLATOR = translator()


def struct_for(model: type[BaseModel]) -> type[Any]:
    """The msgspec Struct that validates what ``model`` validates; built once per model."""
    return _TRANSLATOR.struct_for(model)


def translate_contract() -> tuple[Translator, dict[str, type[Any]]]:
    """A fresh translation of every model the agent and the collector use (a fresh one, so that the
    order of the Structs does not depend on what was translated before), and the type of each dataset."""
    fresh = translator()
    by_dataset = {dataset: fresh.struct_for(model) for dataset, model in MODEL_BY_DATASET.items()}
    fresh.struct_for(AgentHealth)  # the agent builds its health report with it before the heartbeat event
    return fresh, by_dataset


_DOC = """Wire types of the event contract: msgspec Structs, one per pydantic model of :mod:`event_contract`.

Written by ``python -m event_contract.wire`` from the models (see :mod:`event_contract.wire`); the unit
test ``tests/unit/event_contract/test_generated.py`` fails when this file differs from what they give."""


def render() -> str:
    """The source of :mod:`event_contract.wire_types` as the contract's models give it today."""
    fresh, by_dataset = translate_contract()
    table = "".join(f"    {dataset!r}: {struct.__name__},\n" for dataset, struct in by_dataset.items())
    footer = (
        f'STRUCT_BY_DATASET: dict[str, type[Any]] = {{\n{table}}}\n"""The wire type of each '
        '``event.dataset``."""\n\nencode_struct: Callable[[Any], bytes] = msgspec.json.Encoder().encode\n'
        '"""The JSON form of a wire Struct: byte for byte what :func:`event_contract.encode_event` gives '
        'for the\nsame event, up to the spelling of floats and escapes (equal once parsed)."""'
    )
    return render_module(_DOC, fresh.translated(), footer=footer)


if __name__ == "__main__":
    GENERATED.write_text(render(), encoding="utf-8")
    sys.exit(0)
