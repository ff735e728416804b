"""Versions carried on every event.

``CONTRACT_VERSION`` changes only when a field changes meaning or a required field is added; adding an
optional field does not change it, because readers ignore fields they do not know.
"""

CONTRACT_VERSION = 1
ECS_VERSION = "9.1.0"
