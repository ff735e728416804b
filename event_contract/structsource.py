"""Python source of msgspec Structs built by :class:`event_contract.structgen.Translator`.

The agent imports the Structs from checked-in modules written by this renderer, so that it never loads
pydantic. Each such module has a unit test that renders it again from the pydantic models and asserts the
checked-in text is identical: a model changed without regenerating fails that test.
"""

from __future__ import annotations

import datetime
import enum
import re
import subprocess
import sys
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from event_contract.secret import Secret

_CONSTRAINTS = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "pattern")
_OPTIONS = ("frozen", "omit_defaults", "forbid_unknown_fields")
_NAMES: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    datetime.datetime: "datetime",
    Path: "Path",
    Secret: "Secret",
    Any: "Any",
    type(None): "None",
}
_STDLIB_NAMES = {
    "datetime": "from datetime import datetime",
    "Path": "from pathlib import Path",
    "Annotated": "from typing import Annotated",
    "Any": "from typing import Any",
    "Literal": "from typing import Literal",
    "Callable": "from collections.abc import Callable",
}


def render_module(
    docstring: str,
    structs: Iterable[type[Any]],
    local_imports: Iterable[str] = (),
    footer: str = "",
) -> str:
    """A module defining ``structs`` (in the order given: each after the Structs it uses), formatted as
    ``ruff format`` formats it, so the checked-in file passes the lint gate unchanged."""
    body = "".join("\n\n" + render_struct(struct) for struct in structs)
    if footer:
        body += "\n\n" + footer.strip() + "\n"
    stdlib: dict[str, set[str]] = {}
    for name, line in _STDLIB_NAMES.items():
        if re.search(rf"\b{name}\b", body):
            module = line.split()[1]
            stdlib.setdefault(module, set()).add(name)
    imports = [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(stdlib.items())]
    imports += ["", "import msgspec"]
    if local := sorted(local_imports):
        imports += ["", *local]
    text = f'"""{docstring.strip()}\n"""\n\n' + "\n".join(imports) + "\n" + body
    return ruff_format(text)


def ruff_format(text: str) -> str:
    """``text`` formatted by ``ruff format`` with the project's settings (ruff is a development tool:
    only generating and the drift tests need it)."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", "generated.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return done.stdout


def render_struct(struct: type[Any]) -> str:
    config = struct.__struct_config__
    bases = [base.__name__ for base in struct.__bases__ if base not in (object, msgspec.Struct)]
    # Every translated Struct is kw_only (which StructConfig does not record).
    options = ["kw_only=True", *(f"{name}=True" for name in _OPTIONS if getattr(config, name))]
    header = ", ".join([*bases, "msgspec.Struct", *options])
    lines = [f"class {struct.__name__}({header}):"]
    for field in msgspec.structs.fields(struct):
        lines.append(f"    {field.name}: {render_type(field.type)}{_default(field)}")
    return "\n".join(lines) + "\n"


def _default(field: msgspec.structs.FieldInfo) -> str:
    arguments = []
    if field.encode_name != field.name:
        arguments.append(f"name={field.encode_name!r}")
    if field.default_factory is not msgspec.NODEFAULT:
        arguments.append(f"default_factory=lambda: {render_value(field.default_factory())}")
    elif field.default is not msgspec.NODEFAULT:
        if not arguments:
            return f" = {render_value(field.default)}"
        arguments.append(f"default={render_value(field.default)}")
    return f" = msgspec.field({', '.join(arguments)})" if arguments else ""


def render_type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        meta = args[1]
        constraints = ", ".join(
            f"{key}={getattr(meta, key)!r}" for key in _CONSTRAINTS if getattr(meta, key) is not None
        )
        return f"Annotated[{render_type(args[0])}, msgspec.Meta({constraints})]"
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(render_type(arm) for arm in args)
    if origin is list:
        return f"list[{render_type(args[0])}]"
    if origin is dict:
        return f"dict[{render_type(args[0])}, {render_type(args[1])}]"
    if origin is Literal:
        return f"Literal[{', '.join(repr(value) for value in args)}]"
    if annotation in _NAMES:
        return _NAMES[annotation]
    if _is_struct(annotation):
        return str(annotation.__name__)
    raise TypeError(f"cannot render annotation {annotation!r}")


def render_value(value: Any) -> str:
    if _is_struct(type(value)):
        fields = ", ".join(
            f"{name}={render_value(getattr(value, name))}" for name in type(value).__struct_fields__
        )
        return f"{type(value).__name__}({fields})"
    if isinstance(value, list):
        return f"[{', '.join(render_value(item) for item in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render_value(k)}: {render_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Path):
        return f"Path({str(value)!r})"
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return repr(value)
    raise TypeError(f"cannot render default {value!r}")


def _is_struct(kind: Any) -> bool:
    # Not issubclass(kind, msgspec.Struct): a Struct made by msgspec.defstruct does not derive from it.
    return isinstance(kind, type) and hasattr(kind, "__struct_fields__")
