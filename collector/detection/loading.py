"""Rule files to pySigma objects, one file at a time, so one bad file never costs the others."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from collector.detection.bounded_yaml import BoundedYamlError, load_documents, read_rule_text
from collector.detection.errors import RuleLoadError

RULE_SUFFIXES = (".yml", ".yaml")

# Sigma 2.1 names that pySigma 1.5.1 does not know yet, rewritten to its equivalent before parsing.
_MODIFIER_ALIASES = {"utf16le": "wide"}


@dataclass(frozen=True, slots=True)
class ParsedRule:
    """A rule parsed by pySigma, with where it came from. ``ordinal`` counts rules within the file."""

    rule: SigmaRule | SigmaCorrelationRule
    path: Path
    relative_path: str
    ordinal: int


def rule_files(roots: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Every rule file under ``roots`` (recursive, sorted), with its path relative to its root."""
    for root in roots:
        if root.is_file():
            yield root, root.name
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"rule path {root} does not exist")
        for path in sorted(p for p in root.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file()):
            yield path, path.relative_to(root).as_posix()


def error_from_sigma(path: Path, error: SigmaError, rule_id: str | None = None) -> RuleLoadError:
    line = error.source.line if error.source is not None else None
    reason = str(error.args[0]) if error.args else type(error).__name__
    return RuleLoadError(path, line, f"{type(error).__name__}: {reason}", rule_id)


@dataclass
class ParsedFile:
    rules: list[ParsedRule]
    errors: list[RuleLoadError]
    filters: list[SigmaFilter]


def parse_file(path: Path, relative_path: str) -> ParsedFile:
    """Parse one file into rules and Sigma filters; every problem becomes a :class:`RuleLoadError`
    naming the file. Filters are returned, not applied: they apply to the rules of every file."""
    try:
        documents = load_documents(read_rule_text(path))
    except (BoundedYamlError, OSError) as error:
        line = error.line if isinstance(error, BoundedYamlError) else None
        return ParsedFile([], [RuleLoadError(path, line, str(error))], [])
    if not documents:
        return ParsedFile([], [RuleLoadError(path, None, "file contains no YAML document")], [])
    bad = [i for i, doc in enumerate(documents, 1) if doc is not None and not isinstance(doc, dict)]
    if bad:
        return ParsedFile([], [RuleLoadError(path, None, f"YAML document {bad[0]} is not a mapping")], [])
    for document in documents:
        _rewrite_modifier_aliases(document)
    try:
        collection = SigmaCollection.from_dicts(
            documents,
            collect_errors=True,
            source=SigmaRuleLocation(path),
            collect_filters=True,
            resolve_references=False,
        )
    except SigmaError as error:
        return ParsedFile([], [error_from_sigma(path, error)], [])
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as error:
        # pySigma assumes a well-formed rule shape; anything else surfaces as one of these.
        reason = f"malformed rule: {type(error).__name__}: {error}"
        return ParsedFile([], [RuleLoadError(path, None, reason)], [])
    parsed: list[ParsedRule] = []
    errors: list[RuleLoadError] = []
    for ordinal, rule in enumerate(collection.rules):
        rule_id = str(rule.id) if rule.id is not None else None
        if rule.errors:
            first = error_from_sigma(path, rule.errors[0], rule_id)
            more = f" (and {len(rule.errors) - 1} more)" if len(rule.errors) > 1 else ""
            errors.append(RuleLoadError(first.path, first.line, first.reason + more, rule_id))
        else:
            parsed.append(ParsedRule(rule, path, relative_path, ordinal))
    filters: list[SigmaFilter] = []
    for sigma_filter in collection.filters:
        if sigma_filter.errors:
            errors.append(error_from_sigma(path, sigma_filter.errors[0]))
        else:
            filters.append(sigma_filter)
    rule_errors = {id(e) for r in [*collection.rules, *collection.filters] for e in r.errors}
    errors.extend(error_from_sigma(path, e) for e in collection.errors if id(e) not in rule_errors)
    return ParsedFile(parsed, errors, filters)


def _rewrite_modifier_aliases(document: Any) -> None:
    detection = document.get("detection") if isinstance(document, dict) else None
    if not isinstance(detection, dict):
        return
    for name, definition in detection.items():
        if name == "condition":
            continue
        for mapping in definition if isinstance(definition, list) else [definition]:
            if not isinstance(mapping, dict):
                continue
            for key in [k for k in mapping if isinstance(k, str) and "|" in k]:
                field, *modifiers = key.split("|")
                renamed = "|".join([field, *(_MODIFIER_ALIASES.get(m, m) for m in modifiers)])
                if renamed != key:
                    mapping[renamed] = mapping.pop(key)
