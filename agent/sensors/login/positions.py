"""Where each followed log was read up to, kept in the state directory across restarts."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Position:
    """The file (by inode, which survives renames) and the offset just after the last line consumed."""

    inode: int
    offset: int


class PositionStore:
    """A small JSON file: ``{path: {"inode": N, "offset": N}}``, replaced atomically on each save.

    A damaged file is logged and ignored (the logs are then read as on a first run), never fatal.
    """

    def __init__(self, file: Path) -> None:
        self._file = file

    def load(self) -> dict[str, Position]:
        try:
            raw = json.loads(self._file.read_text(encoding="utf-8"))
            return {path: Position(int(value["inode"]), int(value["offset"])) for path, value in raw.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("ignoring unreadable log positions in %s: %s", self._file, error)
            return {}

    def save(self, positions: dict[str, Position]) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._file.with_suffix(".tmp")
        payload = {path: {"inode": p.inode, "offset": p.offset} for path, p in positions.items()}
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self._file)
