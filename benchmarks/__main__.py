"""Run the benchmarks and write ``benchmarks/results/latest.json``: flat named figures plus the machine.

    python -m benchmarks [--only engine,agent,e2e] [--output PATH]

Each benchmark module exposes ``run(results: dict[str, float]) -> None``; it measures its subject and the
baseline it is compared with in the same run, prints figures as it goes, and fills ``results``. A module
that cannot run here (no ../shared, not root) prints why and leaves its keys out.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MODULES = ("engine", "agent", "e2e")
OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        mem_kib = int(info.readline().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "root": os.geteuid() == 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", default=",".join(MODULES), help="comma-separated: " + ", ".join(MODULES))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    results: dict[str, float] = {}
    failures: dict[str, str] = {}
    started = time.monotonic()
    for name in args.only.split(","):
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            module.run(results)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failures[name] = f"{type(error).__name__}: {error}"
    report = {
        "measured_at": datetime.now(UTC).isoformat(),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine(),
        "figures": results,
        "failures": failures,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))
    print(f"written to {args.output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
