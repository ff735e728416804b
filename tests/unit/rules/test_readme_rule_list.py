"""The rule list in README.md's ``## Rules`` section names every rule file, and only those."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_readme_lists_every_rule_file() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([\w/]+\.yml)` \|", section, re.MULTILINE))
    on_disk = {
        str(path.relative_to(REPO / "rules" / "sigma")) for path in (REPO / "rules" / "sigma").rglob("*.yml")
    }
    assert listed == on_disk
