"""The file integrity baseline: our scan vs the in-memory SHA-256 rate and vs AIDE, on one cached tree.

Trees are generated once into ``CACHE`` (outside the checkout) by the FIM benchmark's generator, which
leaves a marker only when a tree is complete, and reused by later runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent.sensors.file_integrity.baseline import BaselineStore
from agent.sensors.file_integrity.benchmark import generate
from agent.sensors.file_integrity.content import ContentPolicy
from agent.sensors.file_integrity.reconciler import Reconciler
from agent.sensors.file_integrity.scanner import Scanner
from agent.sensors.file_integrity.selection import PathSelection

CACHE = Path(os.environ.get("CANHGAC_BENCH_CACHE", "/var/tmp/canhgac-bench"))
_SHA_BUFFER_BYTES = 256 * 1024 * 1024

_AIDE_CONFIG = """\
database_in=file:{db}
database_out=file:{db_new}
gzip_dbout=no
report_url=stdout
Baseline = p+i+n+u+g+s+m+c+sha256
{tree} Baseline
"""


@dataclass(frozen=True)
class Tree:
    path: Path
    files: int
    bytes: int


def cached_tree(files: int, total_bytes: int) -> Tree:
    """A generated tree of about ``files`` files / ``total_bytes``, read once so the page cache is warm."""
    path = CACHE / f"tree-{files}-{total_bytes}"
    if not path.exists() or not any(path.glob(".canhgac-benchmark-tree")):
        print(f"  generating {files} files / {total_bytes / 2**20:.0f} MiB in {path}", flush=True)
        shutil.rmtree(path, ignore_errors=True)
    generate(path, files, total_bytes)
    count = size = 0
    for directory, _, names in os.walk(path):
        for name in names:
            with open(os.path.join(directory, name), "rb") as stream:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
            count += 1
    return Tree(path, count, size)


def sha256_in_memory_mb_per_s() -> float:
    """MB/s hashlib's SHA-256 reaches over a buffer already in memory, in this process, now."""
    data = os.urandom(_SHA_BUFFER_BYTES)
    best = 0.0
    for _ in range(2):  # the better of two: the machine is shared
        started = time.perf_counter()
        hashlib.sha256(data).digest()
        best = max(best, len(data) / (time.perf_counter() - started) / 1e6)
    return best


def our_baseline_seconds(tree: Tree, workers: int = 0) -> float:
    """A first scan of ``tree`` into a fresh baseline, as the FIM sensor does at its first start, but
    with the throttle off (hashing threads not niced), as AIDE runs."""
    selection = PathSelection([tree.path], ["*"], [], recursive=True)
    policy = ContentPolicy(
        1 << 40, marking_enabled=True, marking_extensions=(".txt",), marking_scan_bytes=4096
    )
    with tempfile.TemporaryDirectory() as state:
        baseline = BaselineStore(Path(state) / "baseline.sqlite3")
        scanner = Scanner(selection, policy, workers, niceness=0)
        try:
            started = time.perf_counter()
            _, first_run = Reconciler(baseline, scanner, selection).full_scan()
            elapsed = time.perf_counter() - started
        finally:
            scanner.close()
            baseline.close()
    if not first_run:
        raise RuntimeError("the scan into a fresh baseline was not a first run")
    return elapsed


def ensure_aide() -> str | None:
    """The aide binary, installed from the distribution when missing (root only); None if unavailable."""
    found = shutil.which("aide")
    if found:
        return found
    if os.geteuid() != 0:
        print("  aide is not installed and installing it needs root: AIDE comparison skipped")
        return None
    print("  aide is not installed: apt-get install -y aide", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "aide"],
        check=True,
        env=environment,
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("aide")


def aide_baseline_seconds(aide: str, tree: Tree) -> float:
    """``aide --init`` over ``tree`` with sha256 + stat attributes only: the facts our baseline keeps
    (AIDE's ``n``, the link count, comes from the same ``lstat``), one hash, no compression. AIDE runs
    with its own default of one worker thread (``num_workers``, AIDE 0.18), as a distribution's
    ``aide --init`` does; our scan uses its production default of one hashing thread per CPU."""
    with tempfile.TemporaryDirectory() as work:
        config = Path(work) / "aide.conf"
        config.write_text(
            _AIDE_CONFIG.format(db=Path(work) / "aide.db", db_new=Path(work) / "aide.db.new", tree=tree.path)
        )
        started = time.perf_counter()
        completed = subprocess.run(
            [aide, "--init", f"--config={config}"], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        if completed.returncode != 0 or not (Path(work) / "aide.db.new").exists():
            raise RuntimeError(f"aide --init failed ({completed.returncode}): {completed.stderr[-500:]}")
        return elapsed
