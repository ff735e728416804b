"""The login sensor: logins, sessions, sudo/su and account changes from the auth logs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from agent.config_types import AuthLogSource, LoginConfig
from agent.sensors.base import Observation
from agent.sensors.login.follower import LogFollower
from agent.sensors.login.parsers import LogRecord, parse_record
from agent.sensors.login.positions import PositionStore
from agent.sensors.login.syslog_line import parse_syslog_line
from event_contract.wire_types import SensorHealthWire as SensorHealth

log = logging.getLogger(__name__)


def to_record(line: str, source: AuthLogSource, now: datetime) -> LogRecord | None:
    """A log line as a record: its syslog header, or for a header-less source its configured program."""
    parsed = parse_syslog_line(line, now)
    if parsed is not None:
        return LogRecord(parsed.timestamp, parsed.program, parsed.pid, parsed.message, line)
    if source.program is not None:
        return LogRecord(now, source.program, None, line, line)
    return None


class LoginSensor:
    """Follows the configured auth logs (rotation-safe) and reports what :func:`parse_record` makes of
    each line. Positions (inode, offset) are saved in ``state_dir`` after each batch has been yielded, so
    after a restart reading resumes where it stopped: a line may be reported twice after a crash, never
    skipped. File reads run in a worker thread. Health is ``degraded`` while no configured log exists.
    """

    name = "login"

    def __init__(self, config: LoginConfig, state_dir: Path) -> None:
        self.config = config
        self._positions = PositionStore(state_dir / "login_positions.json")
        self._health = SensorHealth(status="ok" if config.enabled else "disabled")
        self._ignored = frozenset(config.ignored_pam_services)
        self.started = asyncio.Event()
        """Set once the logs are opened at their starting positions: later lines are reported."""
        self.counters: dict[str, int] = {"lines": 0, "lines_without_header": 0, "parse_errors": 0}
        """Lines read, lines skipped for want of a syslog header, lines a parser failed on."""

    def health(self) -> SensorHealth:
        return self._health

    async def observe(self) -> AsyncIterator[Observation]:
        if not self.config.enabled:
            return
        loop = asyncio.get_running_loop()
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="login")
        saved = await loop.run_in_executor(worker, self._positions.load)
        followers = [
            (source, LogFollower(source.path, saved.get(str(source.path)), self.config.start_at_end))
            for source in self.config.sources
        ]
        try:
            # A first read of nothing opens the files, fixing the start position of a first run now.
            await loop.run_in_executor(worker, self._read_all, followers, 0)
            self.started.set()
            while True:
                batches = await loop.run_in_executor(
                    worker, self._read_all, followers, self.config.max_read_bytes
                )
                for source, lines in batches:
                    now = datetime.now(UTC)
                    for line in lines:
                        observation = self._observe_line(line, source, now)
                        if observation is not None:
                            yield observation
                if any(lines for _, lines in batches):
                    positions = {
                        str(follower.path): position
                        for _, follower in followers
                        if (position := follower.position) is not None
                    }
                    await loop.run_in_executor(worker, self._positions.save, positions)
                else:
                    await asyncio.sleep(self.config.poll_interval_s)
        finally:
            for _, follower in followers:
                follower.close()
            worker.shutdown(wait=False)

    def _observe_line(self, line: str, source: AuthLogSource, now: datetime) -> Observation | None:
        self.counters["lines"] += 1
        record = to_record(line, source, now)
        if record is None:
            self.counters["lines_without_header"] += 1
            return None
        try:
            return parse_record(
                record, ignored_pam_services=self._ignored, report_unparsed=self.config.report_unparsed
            )
        except Exception:  # a parser bug must cost one line, not the sensor
            self.counters["parse_errors"] += 1
            log.exception("cannot parse auth log line %r", line)
            return None

    def _read_all(
        self, followers: list[tuple[AuthLogSource, LogFollower]], max_bytes: int
    ) -> list[tuple[AuthLogSource, list[str]]]:
        batches = []
        present = 0
        for source, follower in followers:
            try:
                lines = follower.read_lines(max_bytes) if max_bytes else []
                if not max_bytes:
                    follower.open()
            except OSError as error:
                log.warning("cannot read %s: %s", source.path, error)
                continue
            if follower.position is not None and source.path.exists():
                present += 1
            batches.append((source, lines))
        if present:
            self._health = SensorHealth(status="ok")
        else:
            absent = ", ".join(str(source.path) for source in self.config.sources)
            self._health = SensorHealth(status="degraded", detail=f"no auth log to follow (absent: {absent})")
        return batches
