"""Arguments and engine construction shared by the ``rules`` and ``evaluate`` subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from collector.detection.engine import DetectionEngine, PipelineLoadError


def add_rule_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules", type=Path, nargs="+", required=True, metavar="PATH", help="rule files or directories"
    )
    parser.add_argument(
        "--pipeline", type=Path, default=None, metavar="FILE", help="pySigma processing pipeline YAML"
    )


def build_engine(args: argparse.Namespace, stderr: TextIO | None = None) -> DetectionEngine | None:
    """The engine, or None after printing why it cannot be built (missing path, broken pipeline)."""
    try:
        return DetectionEngine.from_paths(args.rules, args.pipeline)
    except (PipelineLoadError, FileNotFoundError) as error:
        print(f"error: {error}", file=stderr or sys.stderr)
        return None
