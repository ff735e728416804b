"""Giving memory back to the host after a burst of work (a FIM scan), so that an idle agent stays small.

A scan builds tens of thousands of short-lived objects. Once they are gone, CPython's small-object
allocator returns its emptied arenas to the OS by itself, but glibc keeps the memory freed by larger
objects (dict and list storage, SQLite pages) in its heap for reuse: the process's RSS stays at its
peak until ``malloc_trim`` hands the free pages back. That costs a few milliseconds, so it is done after
the bursts, never per event.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import sys
from collections.abc import Callable, Mapping

# glibc's mallopt parameter for the number of malloc arenas (<malloc.h>).
_M_ARENA_MAX = -8
# The C library this interpreter already loaded; glibc's functions are absent from e.g. musl.
_libc = ctypes.CDLL(None)
_malloc_trim = getattr(_libc, "malloc_trim", None)
_mallopt = getattr(_libc, "mallopt", None)


def use_one_malloc_arena() -> bool:
    """Make every thread allocate from glibc's main arena; call before starting threads.

    glibc gives each thread that allocates its own arena (up to 8 per core) so that threads need not
    wait for each other's malloc; each arena keeps its own free memory, ~0.3-0.8 MiB per agent thread
    measured idle. The agent's threads hold the GIL whenever they run Python code, so they hardly ever
    allocate at the same moment: the arenas cost memory and buy nothing. False where not glibc."""
    return _mallopt is not None and _mallopt(_M_ARENA_MAX, 1) == 1


def release_free_memory() -> bool:
    """Collect reference cycles, then return the C heap's free pages to the OS; False where the C
    library cannot (only the collection was done)."""
    gc.collect()
    return trim_free_memory()


def trim_free_memory() -> bool:
    """Return the C heap's free pages to the OS, without a collection; False where the C library
    cannot. ~1 ms in the idle agent (a full ``gc.collect`` there takes ~80 ms on the loaded VM)."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True


TRIM_INTERVAL_S = 10.0


async def trim_periodically(
    interval_s: float = TRIM_INTERVAL_S, trim: Callable[[], object] = trim_free_memory
) -> None:
    """Trim every ``interval_s`` until cancelled. Between scans the heap gathers free chunks that glibc
    keeps for reuse (it returns only the heap's top by itself): 2.6 MiB in the idle agent half a minute
    after its scan, given back by one trim of ~1 ms."""
    while True:
        await asyncio.sleep(interval_s)
        trim()


def restart_with_system_malloc(environment: Callable[[], Mapping[str, str]] = dict) -> None:
    """Replace this process (same pid, arguments and environment) with one whose Python objects come
    from the C library's malloc instead of CPython's own small-object allocator (``PYTHONMALLOC=malloc``,
    which takes effect only at interpreter start). Returns without doing so when ``PYTHONMALLOC`` is
    already set (the operator's choice, or this restart done), when the interpreter ignores the
    environment (``-E``, ``-I``) or when there is no ``malloc_trim`` to give memory back.

    CPython's allocator keeps its objects in 1 MiB arenas and returns an arena to the OS only once all
    of it is free. A FIM scan over 10,000 files needs ~10 arenas more than the idle agent; afterwards a
    few long-lived objects created meanwhile (log records, Kafka buffers) keep each of them, ~10 MiB of
    the idle agent's RSS, and :func:`release_free_memory` cannot touch them. Under glibc's malloc the
    freed objects are ordinary free chunks, which ``malloc_trim`` hands back. The cost is CPU per
    allocation: docs/agent.md, "Memory", has both figures.

    ``environment`` is called once the restart is decided, for variables to add for the restarted
    process (:mod:`agent.config_handoff`); they are removed again if the ``exec`` fails."""
    if "PYTHONMALLOC" in os.environ or sys.flags.ignore_environment or _malloc_trim is None:
        return
    if not sys.executable or not sys.orig_argv:
        return
    added = {"PYTHONMALLOC": "malloc", **environment()}
    os.environ.update(added)
    try:
        os.execv(sys.executable, sys.orig_argv)  # noqa: S606 (the interpreter's own command line)
    except OSError:  # carry on as started rather than fail over an optimisation
        for name in added:
            del os.environ[name]
