"""``canhgac-agent``: ``run`` the agent, ``check-config`` to validate and print the configuration, or
``enroll`` to create the agent's signing key (once) and print the keyring entry the SOC registers."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from agent.config import DEFAULT_CONFIG_PATH, AgentConfig, ConfigError, load_config, validate_config
from agent.config_handoff import hand_over, take_over
from event_contract.secret import enc_hook

if TYPE_CHECKING:
    import argparse

EXIT_FAILURE = 1
EXIT_CONFIG_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    # The agent restarted by `run` finds the command line's outcome and the configuration read for it
    # (agent.config_handoff): it then imports neither argparse, PyYAML nor psutil.
    handed = take_over() if argv is None else None
    if handed is not None:
        command, config_path, document = "run", handed.config_path, handed.document
    else:
        arguments = _parser().parse_args(argv)
        command, config_path, document = arguments.command, arguments.config, None
        if argv is None and command == "run":  # the program itself, not a caller in-process
            from agent.memory import restart_with_system_malloc

            # Returns only if it is not done: see why there.
            restart_with_system_malloc(lambda: hand_over(config_path))
    try:
        config = load_config(config_path) if document is None else validate_config(document)
        from agent.service import check_sensors

        sensors = check_sensors(config)
    except ConfigError as error:
        print(f"configuration {config_path} is not valid:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if command == "check-config":
        print(render_config(config, sensors), end="")
        return 0
    if command == "enroll":
        print(render_enrollment(config), end="")
        return 0
    return _run(config, None if handed is None else handed.host_addresses)


def render_config(config: AgentConfig, sensors: dict[str, Any]) -> str:
    """The effective configuration as YAML, each enabled sensor's section with its defaults filled in
    (the Kafka password itself is never in it, only the path of its file)."""
    import yaml

    effective = msgspec.to_builtins(config, enc_hook=enc_hook)
    effective["sensors"] = sensors
    return yaml.safe_dump(effective, sort_keys=False, allow_unicode=True)


def render_enrollment(config: AgentConfig) -> str:
    """The collector keyring entry for this agent (creates the agent id and key on first use). It holds
    the key: hand it to the SOC over a trusted channel, never by e-mail or ticket."""
    import yaml

    from agent.enrollment import load_or_create_key, registration
    from agent.identity import detect_identity

    identity = detect_identity(config)
    signing_key = load_or_create_key(config.state_dir)
    entry = registration(identity.agent.id, identity.host.name, identity.host.id, signing_key)
    return yaml.safe_dump({"agents": [entry]}, sort_keys=False, allow_unicode=True)


def _run(config: AgentConfig, host_addresses: list[str] | None = None) -> int:
    from agent.jsonlog import configure_logging
    from agent.memory import use_one_malloc_arena
    from agent.service import run_agent, run_event_loop

    configure_logging(config.logging.level)
    use_one_malloc_arena()  # before any thread starts
    try:
        run_event_loop(lambda: run_agent(config, host_addresses=host_addresses))
    except Exception:  # e.g. an unwritable state directory: say why in the log format, exit non-zero
        logging.getLogger("agent").exception("agent failed")
        return EXIT_FAILURE
    return 0


def _parser() -> argparse.ArgumentParser:
    import argparse  # not in the restarted agent, which is handed the outcome (see main)

    parser = argparse.ArgumentParser(prog="canhgac-agent", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "run the agent until SIGTERM"),
        ("check-config", "validate the configuration and print it with defaults and overrides applied"),
        ("enroll", "create the signing key if needed and print the keyring entry for the SOC"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument(
            "--config",
            type=Path,
            default=DEFAULT_CONFIG_PATH,
            help=f"YAML file (default {DEFAULT_CONFIG_PATH})",
        )
    return parser


if __name__ == "__main__":
    sys.exit(main())
