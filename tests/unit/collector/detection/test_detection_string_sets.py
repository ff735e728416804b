"""The specialised any-of tests agree with the general StringSet.matches_any on every input."""

from __future__ import annotations

import random

from sigma.types import SigmaString

from collector.detection.string_patterns import StringSet, texts_test, to_pattern

VALUES = ["curl", "*curl", "curl*", "*curl*", "*/tmp/*", "wget", "*.sh", "/bin/*", "*", "a*b", "*x?y*"]
PIECES = ["curl", "/tmp/", "wget", ".sh", "/bin/", "a", "b", "x", "zy", " "]


def random_text(rnd: random.Random) -> str:
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 4)))


def test_specialised_tests_agree_with_the_general_one() -> None:
    rnd = random.Random(5)
    specialised = 0
    for _ in range(400):
        values = rnd.sample(VALUES, rnd.randint(1, 3))
        strings = StringSet(to_pattern(SigmaString(value)) for value in values)
        test = texts_test(strings)
        specialised += test is not strings.matches_any
        for _ in range(20):
            texts = tuple(random_text(rnd) for _ in range(rnd.randint(0, 3)))
            assert test(texts) == strings.matches_any(texts), (values, texts)
    assert specialised > 50  # the single-shape fast paths were exercised


def test_single_shape_sets_get_a_specialised_test() -> None:
    for values in (["curl", "wget"], ["*.sh", "*.py"], ["/bin/*"], ["*curl*"]):
        strings = StringSet(to_pattern(SigmaString(value)) for value in values)
        assert texts_test(strings) is not strings.matches_any, values
    mixed = StringSet(to_pattern(SigmaString(value)) for value in ["curl", "*.sh"])
    assert texts_test(mixed) == mixed.matches_any
