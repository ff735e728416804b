"""The rule set of a fault run: good rules whose matches are known in advance, and hostile rule files.

Every good rule comes with a predicate on the event document that says, independently of the collector's
Sigma engine, whether the rule must raise an alert for that event: the checker derives the expected alerts
from the events that were sent, never from what the collector wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.integrity_alerts import BUILTIN_RULES, ORIGIN_UNSIGNED

EventPredicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class KnownRule:
    """A Sigma rule plus the plain-Python statement of what it matches."""

    id: str
    file_name: str
    text: str
    matches: EventPredicate


def _dataset(event: Mapping[str, Any]) -> str:
    meta = event.get("event")
    return str(meta.get("dataset")) if isinstance(meta, Mapping) else ""


def _user_name(event: Mapping[str, Any]) -> str:
    user = event.get("user")
    return str(user.get("name", "")) if isinstance(user, Mapping) else ""


def _command_line(event: Mapping[str, Any]) -> str:
    process = event.get("process")
    return str(process.get("command_line", "")) if isinstance(process, Mapping) else ""


def _is_exec(event: Mapping[str, Any]) -> bool:
    meta = event.get("event")
    return _dataset(event) == "canhgac.process" and isinstance(meta, Mapping) and meta.get("action") == "exec"


MARKER_LOGIN = KnownRule(
    id="3b1f0c55-6a0e-4d8e-9a51-0f7d2c4e8a11",
    file_name="marker-login.yml",
    text="""
title: Fault suite marker login
id: 3b1f0c55-6a0e-4d8e-9a51-0f7d2c4e8a11
status: test
level: medium
logsource: {product: linux, service: auth}
detection:
  selection:
    user.name|endswith: '7'
  condition: selection
""",
    # The counting sensor logs in user0, user1, ...: one login in ten ends in 7.
    matches=lambda event: _dataset(event) == "canhgac.authentication" and _user_name(event).endswith("7"),
)

RUNAWAY_REGEX = KnownRule(
    id="9d4c2b7e-1f3a-4e6b-8c5d-2a7e9f1b3c44",
    file_name="runaway-regex.yml",
    text="""
title: Fault suite command line ending in a run of a
id: 9d4c2b7e-1f3a-4e6b-8c5d-2a7e9f1b3c44
status: test
level: low
logsource: {product: linux, category: process_creation}
detection:
  selection:
    CommandLine|re: '(a+)+$'
  condition: selection
""",
    # `(a+)+$` is exponential for a backtracking engine on "aaaa…b"; it means "ends with an a".
    matches=lambda event: _is_exec(event) and re.search(r"a$", _command_line(event)) is not None,
)

GOOD_RULES: tuple[KnownRule, ...] = (MARKER_LOGIN, RUNAWAY_REGEX)


def integrity_rules(enrolled_agents: set[str]) -> tuple[KnownRule, ...]:
    """The collector's built-in origin and sequence rules, as the checker expects them: the valid hostile
    messages are unsigned (one alert each); the enrolled agents' events, through every kill -9 and
    outage, raise none (no false gap, replay or origin alert)."""

    def unsigned(event: Mapping[str, Any]) -> bool:
        agent = event.get("agent")
        return not isinstance(agent, Mapping) or agent.get("id") not in enrolled_agents

    quiet = [rule for rule in BUILTIN_RULES if rule is not ORIGIN_UNSIGNED]
    return (
        KnownRule(ORIGIN_UNSIGNED.id, "", "", unsigned),
        *(KnownRule(rule.id, "", "", lambda event: False) for rule in quiet),
    )


def _anchor_bomb() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{n}: &a{n} [{', '.join(f'*a{n - 1}' for _ in range(9))}]" for n in range(1, 10)]
    return "\n".join(
        [
            "title: anchor bomb",
            "id: 6c0a3e1d-0000-4000-8000-00000000b0b1",
            "logsource: {product: linux, service: auth}",
            "detection:",
            *("  " + line for line in lines),
            "  selection: {user.name: *a9}",
            "  condition: selection",
        ]
    )


def _huge_rule() -> str:
    values = "\n".join(f"      - 'value-{n:07d}'" for n in range(120_000))
    return (
        "title: huge rule\nid: 6c0a3e1d-0000-4000-8000-00000000b0b2\nstatus: test\n"
        "logsource: {product: linux, service: auth}\n"
        f"detection:\n  selection:\n    user.name:\n{values}\n  condition: selection\n"
    )


HOSTILE_RULE_FILES: dict[str, str] = {
    "anchor-bomb.yml": _anchor_bomb(),
    "huge.yml": _huge_rule(),
    "deep.yml": "title: deep\ndetection: " + "[" * 5000 + "]" * 5000 + "\n",
    "not-yaml.yml": "title: [unclosed\n  : : :\n\t- nonsense",
}
"""Files the collector must refuse, each reported by name, while the good rules beside them load."""


def write_rule_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for rule in GOOD_RULES:
        (directory / rule.file_name).write_text(rule.text, encoding="utf-8")
    for name, text in HOSTILE_RULE_FILES.items():
        (directory / name).write_text(text, encoding="utf-8")
