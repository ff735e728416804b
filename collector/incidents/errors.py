"""What the incidents service refuses, in words a responder can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class UnknownObject(Exception):
    """No such incident or alert, or one the actor may not see (the two are deliberately the same)."""


class StateConflict(Exception):
    """The change does not fit the object's current state (already done, not allowed from here, or changed
    by someone else meanwhile). ``current`` is the state the caller should look at."""

    def __init__(self, message: str, current: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.current = current
