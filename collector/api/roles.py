"""Roles and what each may do.

| role      | read                         | act (ack, status, assign, comment) | tokens |
|-----------|------------------------------|------------------------------------|--------|
| viewer    | its agency, or all if none   | no                                 | no     |
| responder | its own agency only          | its own agency only                | no     |
| analyst   | all agencies                 | all agencies                       | no     |
| admin     | all agencies                 | all agencies                       | yes    |
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    ANALYST = "analyst"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    ACT = "act"
    ADMINISTER = "administer"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.RESPONDER: frozenset({Permission.READ, Permission.ACT}),
    Role.ANALYST: frozenset({Permission.READ, Permission.ACT}),
    Role.ADMIN: frozenset({Permission.READ, Permission.ACT, Permission.ADMINISTER}),
}

AGENCY_BOUND: frozenset[Role] = frozenset({Role.RESPONDER})
"""Roles whose token must name an agency. A viewer may be bound to one or see all."""


def scope(role: Role, agency: str | None) -> frozenset[str] | None:
    """The agencies a token's holder may see: ``None`` for all."""
    if role in (Role.ANALYST, Role.ADMIN):
        return None
    if agency is None:
        if role in AGENCY_BOUND:
            return frozenset()  # a malformed responder token sees nothing rather than everything
        return None
    return frozenset({agency})
