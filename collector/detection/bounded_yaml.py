"""YAML loading that a hostile rule file cannot turn into a memory or CPU bomb.

Aliases make YAML a DAG: a few lines of nested anchors expand to billions of nodes once pySigma walks (and
copies) the structure; deep nesting overflows the C stack of libyaml's composer. Each document is measured
from the parser's event stream (aliases expanded, depth counted) before any node is built, and files above
a size cap are refused unread. Duplicate mapping keys are errors, as in
pySigma's own rule loader, because the second value silently replacing the first hides rule mistakes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_RULE_FILE_BYTES = 1_000_000
"""SigmaHQ's largest rule is about 60 kB; a megabyte leaves room for generated IOC lists."""

MAX_EXPANDED_NODES = 200_000
"""Node count of one document with every alias expanded; SigmaHQ's largest document has a few thousand."""

MAX_DEPTH = 64
"""Collection nesting; Sigma rules need about six levels."""


class BoundedYamlError(ValueError):
    """The file is not acceptable YAML; ``line`` is 1-based when the parser knows it."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class _StrictLoader(yaml.CSafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _line(event: yaml.Event) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _check_shape(text: str, max_nodes: int, max_depth: int) -> None:
    """Measure each document from libyaml's event stream, which has no recursion, before anything is
    built: nesting depth (the C composer recurses and would overflow the stack) and node count with
    every alias expanded (an alias counts the whole subtree of its anchor)."""
    anchored: dict[str, int] = {}
    stack: list[tuple[int, str | None]] = []  # per open collection: nodes so far, its anchor
    total = 0

    def add(count: int) -> None:
        nonlocal total
        if stack:
            size, anchor = stack[-1]
            stack[-1] = (size + count, anchor)
        else:
            total += count

    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            anchored.clear()
            total = 0
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= max_depth:
                reason = f"YAML nested deeper than {max_depth} levels"
                raise BoundedYamlError(reason, _line(event))
            stack.append((1, event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor = stack.pop()
            if anchor is not None:
                anchored[anchor] = size
            add(size)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchored[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.AliasEvent):
            add(anchored.get(event.anchor or "", 1))
        else:
            continue
        if total + sum(size for size, _ in stack) > max_nodes:
            reason = f"document expands to more than {max_nodes} YAML nodes (alias bomb?)"
            raise BoundedYamlError(reason, _line(event))


def load_documents(
    text: str, *, max_nodes: int = MAX_EXPANDED_NODES, max_depth: int = MAX_DEPTH
) -> list[Any]:
    """All YAML documents in ``text``; raises :class:`BoundedYamlError` with the line of the problem."""
    loader: _StrictLoader | None = None
    documents: list[Any] = []
    try:
        _check_shape(text, max_nodes, max_depth)
        loader = _StrictLoader(text)
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                documents.append(loader.construct_document(node))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = " ".join(part for part in (error.context, error.problem) if part) or str(error)
        raise BoundedYamlError(f"YAML error: {reason}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise BoundedYamlError(f"YAML error: {error}") from None
    except RecursionError:
        raise BoundedYamlError("YAML nesting too deep") from None
    finally:
        if loader is not None:
            loader.dispose()
    return documents


def read_rule_text(path: Path, *, max_bytes: int = MAX_RULE_FILE_BYTES) -> str:
    """The file's text, refusing oversized or non-UTF-8 files before any parsing."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BoundedYamlError(f"file is {size} bytes; the limit is {max_bytes}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise BoundedYamlError(f"not UTF-8: {error.reason} at byte {error.start}") from None
