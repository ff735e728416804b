"""How fast a baseline scan runs on this host, next to the in-memory SHA-256 rate.

``python -m agent.sensors.file_integrity.benchmark TREE [--generate FILES BYTES] [--workers 1,2,0]``

With ``--generate`` a tree of FILES files totalling about BYTES is written first (once: a marker file
remembers it). The tree is read once to warm the page cache, then for each ``--workers`` value the
in-memory SHA-256 rate of one core is measured and a first scan (everything hashed) and an unchanged
rescan (nothing hashed) are timed against a fresh baseline. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from agent.sensors.file_integrity.baseline import BaselineStore
from agent.sensors.file_integrity.content import ContentPolicy
from agent.sensors.file_integrity.reconciler import Reconciler
from agent.sensors.file_integrity.scanner import Scanner
from agent.sensors.file_integrity.selection import PathSelection

_MARKER = ".canhgac-benchmark-tree"
_SAMPLE = 4 * 1024 * 1024


def generate(tree: Path, files: int, total_bytes: int) -> None:
    """Files of varied sizes (0.25x to 1.75x the mean), 500 to a directory."""
    if (tree / _MARKER).exists():
        return
    sample = os.urandom(_SAMPLE)
    mean = max(1, total_bytes // files)
    for index in range(files):
        directory = tree / f"d{index // 500:04d}"
        directory.mkdir(parents=True, exist_ok=True)
        size = max(1, int(mean * (0.25 + 1.5 * ((index * 7919) % 1000) / 1000)))
        data = (sample * (size // _SAMPLE + 2))[index % 4096 : index % 4096 + size]
        (directory / f"f{index:06d}.bin").write_bytes(data)
    (tree / _MARKER).touch()


def memory_rate() -> float:
    """Bytes per second SHA-256 hashes in memory on one core, now."""
    data = os.urandom(256 * 1024 * 1024)
    started = time.perf_counter()
    hashlib.sha256(data).digest()
    return len(data) / (time.perf_counter() - started)


def measure(tree: Path, workers: int) -> tuple[float, float]:
    """Seconds for a first scan and for an unchanged rescan."""
    selection = PathSelection([tree], ["*"], [], recursive=True)
    policy = ContentPolicy(
        1 << 40, marking_enabled=True, marking_extensions=(".txt",), marking_scan_bytes=4096
    )
    with tempfile.TemporaryDirectory() as state:
        baseline = BaselineStore(Path(state) / "baseline.sqlite3")
        scanner = Scanner(selection, policy, workers)
        try:
            started = time.perf_counter()
            Reconciler(baseline, scanner, selection).full_scan()
            first = time.perf_counter() - started
            started = time.perf_counter()
            Reconciler(baseline, scanner, selection).full_scan()
            return first, time.perf_counter() - started
        finally:
            scanner.close()
            baseline.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.sensors.file_integrity.benchmark")
    parser.add_argument("tree", type=Path)
    parser.add_argument("--generate", nargs=2, type=int, metavar=("FILES", "BYTES"))
    parser.add_argument("--workers", default="1,0", help="comma-separated hash_workers values (0: per CPU)")
    options = parser.parse_args(argv)
    if options.generate:
        generate(options.tree, *options.generate)
    files = [path for path in options.tree.rglob("*") if path.is_file()]
    size = sum(path.stat().st_size for path in files)
    for path in files:
        path.read_bytes()  # warm the page cache
    print(f"tree {options.tree}: {len(files)} files, {size / 1e6:.0f} MB (page cache warm)")
    for workers in (int(value) for value in options.workers.split(",")):
        rate = memory_rate()
        first, again = measure(options.tree, workers)
        print(
            f"hash_workers={workers}: in-memory sha256 {rate / 1e6:.0f} MB/s/core; first scan {first:.2f}s = "
            f"{len(files) / first:.0f} files/s, {size / first / 1e6:.0f} MB/s ({size / first / rate:.0%} of "
            f"one core in memory); unchanged rescan {again:.2f}s; load {os.getloadavg()[0]:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
