"""Giving freed memory back to the host (agent.memory)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import subprocess
import sys

import pytest

from agent.cli import EXIT_CONFIG_ERROR
from agent.memory import release_free_memory, trim_free_memory, trim_periodically, use_one_malloc_arena

# Run apart, so that what the test runner itself allocates does not blur the figures.
_FRAGMENTED_HEAP = """
from agent.memory import release_free_memory

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

blocks = [bytes(2048) for _ in range(20_000)]  # ~40 MiB from the C heap (pymalloc stops at 512 bytes)
kept = blocks[::16]  # the survivors pin the heap: plain free() can return only its top to the OS
del blocks
before = rss_kib()
print(release_free_memory(), before - rss_kib(), len(kept))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_returns_the_free_pages_of_a_fragmented_heap_to_the_os() -> None:
    output = subprocess.run(
        [sys.executable, "-c", _FRAGMENTED_HEAP], capture_output=True, text=True, check=True
    ).stdout.split()
    trimmed, released_kib = output[0] == "True", int(output[1])
    assert trimmed
    assert released_kib > 20 * 1024  # of the ~37 MiB freed between the survivors


def test_release_collects_reference_cycles() -> None:
    class Node:
        partner: object = None

    def nodes() -> int:
        return sum(isinstance(obj, Node) for obj in gc.get_objects())

    gc.disable()  # only the release may collect the cycle
    try:
        first, second = Node(), Node()
        first.partner, second.partner = second, first
        del first, second
        assert nodes() == 2
        release_free_memory()
        assert nodes() == 0
    finally:
        gc.enable()


def test_one_malloc_arena_is_accepted_by_glibc() -> None:
    assert use_one_malloc_arena()


# What `canhgac-agent run` does first; reports, in each interpreter it runs in, the PYTHONMALLOC it was
# given and whether CPython's small-object allocator is in use (its statistics name its threshold).
_ENTRY = """
import os, sys, tempfile
with tempfile.TemporaryFile() as stats:  # the statistics go to file descriptor 2
    saved = os.dup(2)
    os.dup2(stats.fileno(), 2)
    sys._debugmallocstats()
    os.dup2(saved, 2)
    stats.seek(0)
    allocator = "pymalloc" if b"Small block threshold" in stats.read() else "malloc"
print(os.environ.get("PYTHONMALLOC"), allocator)
sys.stdout.flush()
from agent.cli import main
sys.exit(main())
"""


def _entry(*options: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, *options, "-c", _ENTRY, "run", "--config", "/nonexistent/agent.yaml"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    return done.returncode, done.stdout.splitlines()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_run_restarts_once_on_the_c_librarys_malloc_then_goes_on() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONMALLOC"}
    returncode, lines = _entry(env=environment)
    assert lines == ["None pymalloc", "malloc malloc"]
    assert returncode == EXIT_CONFIG_ERROR  # the same run, in the restarted process


def test_run_keeps_the_allocator_the_operator_chose() -> None:
    returncode, lines = _entry(env={**os.environ, "PYTHONMALLOC": "pymalloc"})
    assert lines == ["pymalloc pymalloc"]
    assert returncode == EXIT_CONFIG_ERROR


async def test_the_heap_is_trimmed_every_interval_until_cancelled() -> None:
    trims: list[float] = []
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(trim_periodically(0.05, lambda: trims.append(loop.time())))
    await asyncio.sleep(0.28)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    count = len(trims)
    await asyncio.sleep(0.1)
    assert count >= 2
    assert len(trims) == count  # nothing after the cancellation
    assert all(later - earlier >= 0.045 for earlier, later in itertools.pairwise(trims))


def test_a_trim_alone_is_accepted_by_glibc() -> None:
    assert trim_free_memory()
