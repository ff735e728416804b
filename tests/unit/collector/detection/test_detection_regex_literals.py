"""Literals proven necessary for a regex: what the pre-filter may require of ``|re`` rules. Every answer
is checked against RE2 itself on texts that match, so a wrong literal fails here, not in production."""

from __future__ import annotations

import random

import pytest

from collector.detection.regex import compile_re2
from collector.detection.regex_literals import minimum_length, required_literal, required_runs


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"\\cmd\.exe$", ("\\cmd.exe",)),
        # under (?i) "s" also matches U+017F (long s), which lower() keeps: two alternatives
        (r"(?i)PowerShell.+-enc", ("powershell", "power\u017fhell")),
        (r"Invoke-Expression", ("invoke-expression",)),  # case-sensitive: still compared lower-cased
        (r"nc\s+-e\s+/bin/bash", ("/bin/bash",)),
        (r"a(bc)?def", ("def",)),  # an optional group is not mandatory
        (r"curl|wget", ("curl", "wget")),  # top-level alternation: one of its branches
        (r"-(W|R)\s?(\s|'|\")[0-9a-f]{2}", ("-r", "-w")),  # a group of single characters: a class
        (r"\\(cmd|power)\.exe", ("\\cmd.exe", "\\power.exe")),  # a run goes on through the group
        (r"(?:ab|c\d)xyz", ("xyz",)),  # a branch with a category is not literal
        (r"[xy]ab", ("xab", "yab")),
        (r"[a-c]abcd", ("abcd",)),  # ranges are not expanded
        (r"[^x]abcd", ("abcd",)),
        (r"(?i:G)oo", ("oo",)),  # a group that changes flags is not followed
        (r"(?i)[ks]ab", ("kab", "sab", "\u017fab")),  # "s" under (?i), in a class too
        (r"[abcdefghijklmnopq]zz", ("zz",)),  # more than 16 alternatives cut the run
        (r"x{,3}yz", ("yz",)),  # RE2 reads "x{,3}" literally, Python as a repeat: the shorter answer is safe
        (r"[[:alpha:]]abc", ()),  # POSIX classes: Python would misread the closing bracket
        (r"\pLabc", ()),  # RE2-only syntax Python cannot parse: no literal
        (r"(?x) a b", ()),
        (r"caf\xe9latte", ("latte",)),  # non-ASCII characters cut runs
        (r"(a|)bc", ("abc", "bc")),
        (r"\.[ \"']{1}", (". ", '."', ".'")),  # a fixed count: the body that often
        (r"x[ab]{2}y", ("xaay", "xaby", "xbay", "xbby")),
        (r"(?:ab){2}c", ("ababc",)),
        (r"xyzb{1,2}c", ("xyz",)),  # a range of counts ends the run
        (".*", ()),
    ],
)
def test_required_literal(pattern: str, literals: tuple[str, ...]) -> None:
    assert required_literal(pattern) == literals


def test_every_mandatory_run_is_required() -> None:
    pattern = r"(?i)(?:set).*&&\s?set.*(?:environment|invoke|\$\{?input).*&&.*\""
    assert required_runs(pattern) == [("set", "\u017fet"), ("&&",), ("set", "\u017fet"), ("&&",), ('"',)]
    assert required_runs(r"\\[a-z0-9]{1,32}\.[a-z]{1,6}\.") == [("\\",), (".",), (".",)]
    assert required_runs(r"a?b*") == []


def test_alternatives_are_bounded() -> None:
    # 16 four-letter alternatives; the fifth group would double them past the bound, so the run stops
    literals = required_literal("(a|b)(c|d)(e|f)(g|h)(i|j)")
    assert len(literals) == 16
    assert {len(literal) for literal in literals} == {4}


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
    ("(?:ab|cd)", ["ab", "cd"]),
    ("[WR]", ["W", "R"]),
    ("(x|yz)", ["x", "yz"]),
    ("(k|)", ["k", ""]),
    ("[sk]", ["s", "k"]),
    ("(?i:g)", ["g", "G"]),
    ("\\\\", ["\\"]),
    ("-", ["-"]),
    ("[xk]{2}", ["xx", "xk", "kx", "kk"]),
    ("(?:a|S){1}", ["a", "S"]),
    ("b{1,2}", ["b", "bb"]),
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
        runs = required_runs(pattern)
        regex = compile_re2(pattern)
        for _ in range(5):
            body = "".join(rnd.choice(texts) for _, texts in chosen)
            if folded:
                body = "".join(rnd.choice(FOLDED.get(char, char)) for char in body)
            text = rnd.choice(["", "Zz ", "é"]) + body + rnd.choice(["", " zZ"])
            if regex.search(text):
                checked += 1
                lowered = text.lower()
                for run in runs:  # each run holds: the pre-filter may require all of them
                    assert any(literal in lowered for literal in run), (pattern, runs, text)
    assert checked > 1500  # the built texts do match: the assertion above ran


@pytest.mark.parametrize(
    ("pattern", "shortest"),
    [
        (r"\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}", 82),
        (r"(?i)ab{2,}c|xy", 2),  # an alternation: its shortest branch
        (r"a(bc)?d", 2),
        (r"^\bx$", 1),  # anchors and boundaries span nothing
        (r"a{,3}", 0),  # RE2 reads "{,3}" as literal text: Python's bound (0) stays below RE2's (4)
        (r"[[:alpha:]]{5}", 0),  # POSIX classes are refused, as for literals
        (r"\pL{5}", 0),  # RE2-only syntax: Python's parser fails, no bound
        (r"(?x) a b c", 0),  # verbose patterns are refused
        (r"x*", 0),
    ],
)
def test_minimum_length(pattern: str, shortest: int) -> None:
    assert minimum_length(pattern) == shortest


@pytest.mark.parametrize("seed", range(5))
def test_minimum_length_never_exceeds_a_match(seed: int) -> None:
    """RE2 finds no match shorter than the bound, on texts of every length around it."""
    rnd = random.Random(seed)
    patterns = [r"[0-9a-f]{4}\s\d{2}", r"(ab|c)+d?e", r"x.{3,}y|zz", r"(?i)[a-c]{2}[^x]", r"a{,3}b"]
    for pattern in patterns:
        bound = minimum_length(pattern)
        regex = compile_re2(f"^(?:{pattern})$")
        for _ in range(400):
            text = "".join(rnd.choice("abcdexyz0129 ") for _ in range(rnd.randint(0, bound + 3)))
            if regex.search(text):
                assert len(text) >= bound, (pattern, text)
