"""Who is acting, and which agencies they may see."""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM_ACTOR_NAME = "canhgac-collector"


@dataclass(frozen=True, slots=True)
class Actor:
    """A responder, analyst, admin or the collector itself. ``agencies`` is ``None`` for every agency."""

    name: str
    role: str
    agencies: frozenset[str] | None

    def sees(self, agency: object) -> bool:
        return self.agencies is None or agency in self.agencies


SYSTEM = Actor(SYSTEM_ACTOR_NAME, "system", None)
