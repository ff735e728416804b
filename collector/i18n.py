"""Incident and alert text in the responder's language: English from the Sigma rule, Vietnamese beside it.

Sigma has no place for translations (``sigma check`` rejects custom attributes), so the Vietnamese title and
description of each project rule live in ``rules/translations/vi.yml``, keyed by rule id::

    from collector.i18n import describe
    title, description = describe("ee3711c9-6b11-4906-873e-3c8c8ff66a67", "vi")

A rule without a Vietnamese entry (a rule an operator added) falls back to its English text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_ROOT = Path(__file__).resolve().parents[1] / "rules"
LANGUAGES = ("en", "vi")


class TranslationFileError(ValueError):
    """A translation file that is not a mapping of rule id to ``{title, description}``."""


@dataclass(frozen=True, slots=True)
class RuleText:
    title: str
    description: str


def _rule_text(document: Mapping[str, Any]) -> RuleText:
    return RuleText(str(document["title"]).strip(), str(document.get("description") or "").strip())


def load_english(rules_dir: Path) -> dict[str, RuleText]:
    """Titles and descriptions of every rule (one or more YAML documents per file) with an id."""
    texts: dict[str, RuleText] = {}
    for path in sorted(rules_dir.rglob("*.yml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, Mapping) and "id" in document and "title" in document:
                texts[str(document["id"])] = _rule_text(document)
    return texts


def load_translations(path: Path) -> dict[str, RuleText]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, Mapping):
        raise TranslationFileError(f"{path}: expected a mapping of rule id to title and description")
    texts: dict[str, RuleText] = {}
    for rule_id, entry in raw.items():
        if not isinstance(entry, Mapping) or not entry.get("title") or not entry.get("description"):
            raise TranslationFileError(f"{path}: {rule_id} needs a title and a description")
        texts[str(rule_id)] = _rule_text(entry)
    return texts


class RuleCatalogue:
    """Rule texts by language. Built once (reads the files), then read-only and shareable by threads."""

    def __init__(self, english: Mapping[str, RuleText], translations: Mapping[str, Mapping[str, RuleText]]):
        self._english = dict(english)
        self._translations = {language: dict(texts) for language, texts in translations.items()}

    @classmethod
    def from_directory(cls, rules_root: Path = RULES_ROOT) -> RuleCatalogue:
        """``rules_root`` holds ``sigma/`` (the rules) and ``translations/<language>.yml``."""
        translations = {
            language: load_translations(rules_root / "translations" / f"{language}.yml")
            for language in LANGUAGES
            if (rules_root / "translations" / f"{language}.yml").is_file()
        }
        return cls(load_english(rules_root / "sigma"), translations)

    def describe(self, rule_id: str, language: str) -> tuple[str, str]:
        """``(title, description)``; ``KeyError`` for an unknown rule, ``ValueError`` for a language
        other than ``en`` and ``vi``."""
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        text = self._translations.get(language, {}).get(rule_id) or self._english.get(rule_id)
        if text is None:
            raise KeyError(rule_id)
        return text.title, text.description

    def translated(self, language: str) -> set[str]:
        return set(self._translations.get(language, {}))


@cache
def default_catalogue() -> RuleCatalogue:
    return RuleCatalogue.from_directory()


def describe(rule_id: str, language: str = "vi") -> tuple[str, str]:
    """Title and description of a project rule in ``language`` (``en`` or ``vi``)."""
    return default_catalogue().describe(rule_id, language)
