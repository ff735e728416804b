from __future__ import annotations

from pathlib import Path

from collector.api.rules import engine_provider
from collector.detection.engine import DetectionEngine

GOOD = """
title: Shadow file read by an unusual process
id: 5f3c1a7e-0b4d-4c59-9a51-3e7f2a0c9d11
status: experimental
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        CommandLine|contains: /etc/shadow
    condition: selection
level: high
"""

BROKEN = """
title: Refers to a selection that does not exist
id: 0c0a0f55-3a55-4d6a-9a53-2f0b7d3c8e22
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: /nc
    condition: selektion
level: low
"""


def test_loaded_and_failed_rules_are_reported_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text(GOOD)
    (tmp_path / "broken.yml").write_text(BROKEN)
    (tmp_path / "not-yaml.yml").write_text("title: [unclosed\n")
    engine = DetectionEngine.from_paths([tmp_path])
    snapshot = engine_provider(lambda: engine)()
    assert [(rule.title, rule.level) for rule in snapshot.loaded] == [
        ("Shadow file read by an unusual process", "high")
    ]
    assert snapshot.loaded[0].id == "5f3c1a7e-0b4d-4c59-9a51-3e7f2a0c9d11"
    failed = {Path(item.source.split(":")[0]).name: item.reason for item in snapshot.failed}
    assert set(failed) == {"broken.yml", "not-yaml.yml"}
    assert all(reason for reason in failed.values())
