"""File integrity monitoring: inotify, a persisted SHA-256 baseline and scheduled rescans.

Reports, for the configured paths (recursive, include/exclude globs), ``creation``, ``modification``,
``attributes_modification`` (mode, owner, group), ``deletion`` and ``rename`` (old path in
``canhgac.file.previous.path``), each with the previous values of what changed in
``canhgac.file.previous`` and their names in ``canhgac.file.changed_fields``. Text-like files stamped
"MẬT" / "TỐI MẬT" / "TUYỆT MẬT" in their first bytes carry ``canhgac.file.classification_marking``.

State: ``<state_dir>/fim_baseline.sqlite3``. The first run records the baseline silently; every later
start compares the disk with it, so changes made while the agent was stopped are reported.

Modules: ``config`` (settings), ``selection`` (which paths), ``state`` (one file's facts), ``content``
(hash and marking), ``scanner`` (walk and hash, worker threads), ``baseline`` (SQLite store), ``diff``
(what changed), ``reconciler`` (disk vs baseline), ``debounce`` (bursts), ``watcher`` (inotify),
``observation`` (ECS fields), ``sensor`` (the loop).
"""

from agent.config_types import FileIntegrityConfig
from agent.sensors.file_integrity.sensor import FileIntegritySensor

__all__ = ["FileIntegrityConfig", "FileIntegritySensor"]
