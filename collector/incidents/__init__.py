"""Incidents: alerts grouped by agency, host and rule, prioritised by the system's security level, moved
through a documented lifecycle, every change written to the append-only audit log."""
