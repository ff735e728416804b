"""YAML loading that a hostile rule file cannot turn into a memory or CPU bomb.

Aliases make YAML a DAG: a few lines of nested anchors expand to billions of nodes once pySigma walks (and
copies) the structure. Each document's node graph is measured with aliases expanded before it is
constructed, and files above a size cap are refused unread. Duplicate mapping keys are errors, as in
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


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes in the tree with aliases expanded, memoised per node so measuring stays linear."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        sizes[id(node)] = total = min(total, limit + 1)
        return total

    return size(root)


def load_documents(text: str, *, max_nodes: int = MAX_EXPANDED_NODES) -> list[Any]:
    """All YAML documents in ``text``; raises :class:`BoundedYamlError` with the line of the problem."""
    loader = _StrictLoader(text)
    documents: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if _expanded_size(node, max_nodes) > max_nodes:
                raise BoundedYamlError(
                    f"document expands to more than {max_nodes} YAML nodes (alias bomb?)",
                    node.start_mark.line + 1,
                )
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
