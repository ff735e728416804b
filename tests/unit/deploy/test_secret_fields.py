"""No configuration model holds a secret as plain text: a secret is a file path (``*_file``) or a
:class:`pydantic.SecretStr` (a :class:`event_contract.secret.Secret` in the agent's generated Structs), so a
repr, a log line or ``check-config`` never shows it."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pydantic import BaseModel, SecretStr

from agent import config_types
from agent.config_models import AgentConfig
from collector.config import CollectorSettings
from event_contract.secret import Secret

SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "passphrase", "private_key")


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _models(argument)]


def secret_fields(model: type[BaseModel], path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        where = f"{path}.{name}" if path else name
        if any(word in name.lower() for word in SECRET_WORDS):
            found.append((where, info.annotation))
        for nested in _models(info.annotation):
            found += secret_fields(nested, where)
    return found


def _allowed(name: str, annotation: Any) -> bool:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    kinds = set(typing.get_args(annotation)) if union else {annotation}
    kinds.discard(type(None))
    if name.endswith("_file"):
        return kinds <= {Path}
    return kinds <= {SecretStr}


@pytest.mark.parametrize("model", [AgentConfig, CollectorSettings])
def test_every_secret_is_a_file_or_a_secret_string(model: type[BaseModel]) -> None:
    fields = secret_fields(model)
    assert fields, "the walk found no secret at all: it is broken"
    wrong = [f"{name}: {annotation}" for name, annotation in fields if not _allowed(name, annotation)]
    assert wrong == []


def test_the_walk_catches_a_plain_string_password() -> None:
    class Leaky(BaseModel):
        password: str | None = None

    class Outer(BaseModel):
        inner: Leaky

    (name, annotation), *_ = secret_fields(Outer)
    assert name == "inner.password"
    assert not _allowed(name, annotation)


def test_the_agent_structs_hold_secrets_as_secrets_too() -> None:
    structs = [
        kind
        for kind in vars(config_types).values()
        if isinstance(kind, type) and hasattr(kind, "__struct_fields__")
    ]
    found = [
        (field.name, field.type)
        for struct in structs
        for field in msgspec.structs.fields(struct)
        if any(word in field.name.lower() for word in SECRET_WORDS)
    ]
    assert ("password", Secret | None) in found
    wrong = [
        f"{name}: {annotation}"
        for name, annotation in found
        if not (name.endswith("_file") and annotation == Path | None) and annotation != Secret | None
    ]
    assert wrong == []
