"""Host boot facts and the stable process identity built on them."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class BootClock:
    """Converts /proc start times (clock ticks since boot) to wall time and entity ids."""

    boot_id: str
    boot_time: float
    ticks_per_second: int

    @classmethod
    def of_this_host(cls) -> BootClock:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as stream:
            boot_id = stream.read().strip()
        boot_time = 0.0
        with open("/proc/stat", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("btime "):
                    boot_time = float(line.split()[1])
                    break
        return cls(boot_id, boot_time, os.sysconf("SC_CLK_TCK"))

    def start_time(self, start_ticks: int) -> datetime:
        return datetime.fromtimestamp(self.boot_time + start_ticks / self.ticks_per_second, tz=UTC)

    def entity_id(self, pid: int, start_ticks: int) -> str:
        """Unique per process over the host's life: pids are reused, (boot, pid, start) is not."""
        digest = hashlib.sha256(f"{self.boot_id}:{pid}:{start_ticks}".encode()).hexdigest()
        return digest[:32]
