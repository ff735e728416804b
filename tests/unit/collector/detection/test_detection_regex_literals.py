"""Literals proven necessary for a regex: what the pre-filter may require of ``|re`` rules. Every answer
is checked against RE2 itself on texts that match, so a wrong literal fails here, not in production."""

from __future__ import annotations

import random

import pytest

from collector.detection.regex import compile_re2
from collector.detection.regex_literals import required_literal


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"\\cmd\.exe$", "\\cmd.exe"),
        (r"(?i)PowerShell.+-enc", "power"),  # under (?i) runs stop at "s" (U+017F folds with it)
        (r"Invoke-Expression", "invoke-expression"),  # case-sensitive: still compared lower-cased
        (r"nc\s+-e\s+/bin/bash", "/bin/bash"),
        (r"a(bc)?def", "def"),  # an optional group is not mandatory
        (r"curl|wget", ""),  # top-level alternation: no single necessary literal
        (r"x{,3}yz", "yz"),  # RE2 reads "x{,3}" literally, Python as a repeat: the shorter answer is safe
        (r"[[:alpha:]]abc", ""),  # POSIX classes: Python would misread the closing bracket
        (r"\pLabc", ""),  # RE2-only syntax Python cannot parse: no literal
        (r"(?x) a b", ""),
        (r"caf\xe9latte", "latte"),  # non-ASCII characters cut runs
        (".*", ""),
    ],
)
def test_required_literal(pattern: str, literal: str) -> None:
    assert required_literal(pattern) == literal


# (regex atom, texts it matches); under (?i) the texts of letters also take other cases, including
# U+212A (Kelvin sign, folds with k) and U+017F (long s, folds with s).
ATOMS: list[tuple[str, list[str]]] = [
    ("a", ["a"]),
    ("S", ["S"]),
    ("s", ["s"]),
    ("k", ["k"]),
    ("\\.", ["."]),
    ("b+", ["b", "bbb"]),
    ("(cd)?", ["", "cd"]),
    ("[xy]", ["x", "y"]),
    (".", ["q", "é", "-"]),
    ("\\d", ["7"]),
    ("e|f", ["e", "f"]),
    ("(?i:g)", ["g", "G"]),
    ("\\\\", ["\\"]),
    ("-", ["-"]),
]
FOLDED = {"a": "aA", "s": "sSſ", "S": "sSſ", "k": "kK\u212a", "b": "bB", "c": "cC", "d": "dD", "e": "eE"}


def test_literals_hold_for_every_generated_match() -> None:
    """Random patterns and texts built to match them: whenever RE2 agrees that the text matches, the
    lower-cased text contains the literal (the pre-filter's only promise)."""
    rnd = random.Random(11)
    checked = 0
    for _ in range(500):
        folded = rnd.random() < 0.5
        chosen = [rnd.choice(ATOMS) for _ in range(rnd.randint(1, 7))]
        pattern = ("(?i)" if folded else "") + "".join(atom for atom, _ in chosen)
        literal = required_literal(pattern)
        regex = compile_re2(pattern)
        for _ in range(5):
            body = "".join(rnd.choice(texts) for _, texts in chosen)
            if folded:
                body = "".join(rnd.choice(FOLDED.get(char, char)) for char in body)
            text = rnd.choice(["", "Zz ", "é"]) + body + rnd.choice(["", " zZ"])
            if regex.search(text):
                checked += 1
                assert literal in text.lower(), (pattern, literal, text)
    assert checked > 1500  # the built texts do match: the assertion above ran
