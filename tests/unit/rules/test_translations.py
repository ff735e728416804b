"""Vietnamese texts for every project rule, served by ``collector.i18n.describe``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from collector.i18n import RuleCatalogue, TranslationFileError, describe, load_english, load_translations

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "rules"
BRUTE_FORCE = "ee3711c9-6b11-4906-873e-3c8c8ff66a67"


def test_every_project_rule_has_a_vietnamese_title_and_description() -> None:
    english = load_english(RULES / "sigma")
    vietnamese = load_translations(RULES / "translations" / "vi.yml")
    assert len(english) >= 25
    assert sorted(set(english) - set(vietnamese)) == [], "rules without a Vietnamese entry"
    assert sorted(set(vietnamese) - set(english)) == [], "Vietnamese entries for no rule"
    for rule_id, text in vietnamese.items():
        assert text.title != english[rule_id].title, f"{rule_id}: the Vietnamese title is the English one"
        assert len(text.description) >= 80, rule_id


def test_describe_answers_in_the_language_asked() -> None:
    title_vi, description_vi = describe(BRUTE_FORCE, "vi")
    title_en, description_en = describe(BRUTE_FORCE, "en")
    assert title_vi == "Dò mật khẩu SSH từ một địa chỉ"
    assert title_en == "SSH brute force from one source"
    assert "tường lửa" in description_vi
    assert "firewall" in description_en


def test_unknown_rule_and_language_are_clear_errors() -> None:
    with pytest.raises(KeyError):
        describe("00000000-0000-4000-8000-000000000000", "vi")
    with pytest.raises(ValueError, match="language"):
        describe(BRUTE_FORCE, "fr")


def test_a_rule_without_a_translation_falls_back_to_english(tmp_path: Path) -> None:
    (tmp_path / "sigma").mkdir()
    (tmp_path / "translations").mkdir()
    (tmp_path / "sigma" / "local.yml").write_text(
        yaml.safe_dump({"title": "Local rule", "id": "r-1", "description": "Written by the operator."})
    )
    (tmp_path / "translations" / "vi.yml").write_text("{}\n")
    catalogue = RuleCatalogue.from_directory(tmp_path)
    assert catalogue.describe("r-1", "vi") == ("Local rule", "Written by the operator.")


def test_a_malformed_translation_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vi.yml"
    path.write_text("r-1: {title: Chỉ có tiêu đề}\n")
    with pytest.raises(TranslationFileError, match="r-1"):
        load_translations(path)
