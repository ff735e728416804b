"""File integrity monitoring: inotify, a persisted SHA-256 baseline and scheduled rescans."""

from agent.sensors.file_integrity.config import FileIntegrityConfig
from agent.sensors.file_integrity.sensor import FileIntegritySensor

__all__ = ["FileIntegrityConfig", "FileIntegritySensor"]
