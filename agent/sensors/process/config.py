"""Configuration of the process sensor (a section of the agent's YAML config)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class ProcessConfig(BaseModel):
    """Where process events come from and how much is added to them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    source: Literal["auto", "netlink", "poll"] = "auto"
    """``auto``: the kernel's proc connector when permitted, otherwise polling (reported as degraded)."""
    report_exits: bool = True
    realtime_priority: Annotated[int, Field(ge=0, le=99)] = 10
    """SCHED_FIFO priority of the process that reads /proc on each exec (0: normal scheduling). Without
    it, under CPU load most processes living under a millisecond exit before they can be read. The
    kernel's real-time throttling still leaves others 5% of each CPU even if it were to spin."""
    socket_buffer_bytes: Annotated[int, Field(ge=65536)] = 16 * 1024 * 1024
    queue_size: Annotated[int, Field(ge=100)] = 50_000
    """Enriched execs waiting for the event loop; beyond this they are dropped and counted."""
    poll_interval_s: Annotated[float, Field(gt=0)] = 1.0
    hash_executables: bool = True
    max_hash_bytes: Annotated[int, Field(ge=0)] = 256 * 1024 * 1024
    hash_cache_size: Annotated[int, Field(ge=0)] = 4096
