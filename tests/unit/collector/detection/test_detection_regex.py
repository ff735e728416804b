"""The RE2 wrapper: same answers as google-re2's public API, linear time on hostile input."""

from __future__ import annotations

import time

import pytest
import re2

from collector.detection.errors import RuleCompileError
from collector.detection.regex import compile_re2

PATTERNS = [r"(?i)evil\s+payload", r"^/tmp/[^/]+$", r"a.c", r"(?s)x.y", r"é+ñ", r"\d{3,}", r"(?m)^b$", r""]
TEXTS = [
    "EVIL   Payload here",
    "/tmp/x",
    "/tmp/x/y",
    "abc",
    "a\nc",
    "x\ny",
    "ééñ",
    "a123",
    "a\nb\nc",
    "",
    "\udcff",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_search_and_fullmatch_agree_with_public_api(pattern: str) -> None:
    ours = compile_re2(pattern)
    public = re2.compile(pattern)
    for text in TEXTS:
        if "\udcff" in text:  # lone surrogates: ours must not raise; the public API cannot encode them
            ours.search(text)
            continue
        assert ours.search(text) is (public.search(text) is not None), (pattern, text)
        assert ours.fullmatch(text) is (public.fullmatch(text) is not None), (pattern, text)


def test_rejected_pattern_names_itself() -> None:
    with pytest.raises(RuleCompileError, match=r"\(\?<=x\)y"):
        compile_re2("(?<=x)y")


def test_catastrophic_backtracking_pattern_is_linear() -> None:
    regex = compile_re2(r"^(a+)+$")
    hostile = "a" * 50_000 + "!"
    started = time.perf_counter()
    assert not regex.search(hostile)
    assert time.perf_counter() - started < 1.0  # a backtracking engine would not finish
