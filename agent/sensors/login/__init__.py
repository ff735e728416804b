"""Logins, sessions, sudo/su and account changes, from the auth logs (auth.log, secure)."""

from agent.sensors.login.config import AuthLogSource, LoginConfig
from agent.sensors.login.sensor import LoginSensor

__all__ = ["AuthLogSource", "LoginConfig", "LoginSensor"]
