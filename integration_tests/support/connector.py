"""Runs the real `source-periskope` command as a process and reads its Airbyte messages.

The streams are not listed here: tests take them from unit_tests/stream_table.py, tools from
source_periskope.stream_facts.stream_names().
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional

from unit_tests.key_leaks import MIN_FRAGMENT, assert_no_key


def connector_command() -> str:
    """The console script installed beside this Python (the project's .venv), not one found elsewhere on PATH."""
    beside = Path(sys.executable).parent / "source-periskope"
    return str(beside) if beside.exists() else "source-periskope"


def configured_catalog(catalog: Mapping[str, Any], sync_mode: str = "incremental", streams: Optional[List[str]] = None) -> Dict[str, Any]:
    chosen = []
    for stream in catalog["streams"]:
        if streams and stream["name"] not in streams:
            continue
        chosen.append({
            "stream": stream,
            "sync_mode": sync_mode,
            "destination_sync_mode": "append_dedup" if sync_mode == "incremental" else "overwrite",
            "cursor_field": stream.get("default_cursor_field", []),
            "primary_key": stream.get("source_defined_primary_key", []),
        })
    return {"streams": chosen}


def _write(directory: Path, name: str, content: Any) -> str:
    path = directory / name
    path.write_text(json.dumps(content))
    return str(path)


def run(
    command: str,
    config: Mapping[str, Any],
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[List[Mapping[str, Any]]] = None,
    on_message: Optional[Callable[[Dict[str, Any]], None]] = None,
    extra_args: Optional[List[str]] = None,
    env: Optional[Mapping[str, str]] = None,
    key_scan: bool = True,
) -> "ConnectorRun":
    """Runs `source-periskope <command>` to the end; every stdout line is parsed as an Airbyte message.

    Its whole output (stdout and stderr) is scanned for the config's api_key in every form a library might write it
    (unit_tests/key_leaks.py); `key_scan=False` leaves that to a test that scans it itself."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        args = [connector_command(), command]
        if command != "spec":
            args += ["--config", _write(directory, "config.json", config)]
        if catalog is not None:
            args += ["--catalog", _write(directory, "catalog.json", catalog)]
        if state is not None:
            args += ["--state", _write(directory, "state.json", state)]
        args += extra_args or []
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
        )
        messages = []
        for line in _lines(process):
            message = json.loads(line)
            messages.append(message)
            if on_message:
                on_message(message)
        stderr = process.stderr.read()
        process.wait()
    result = ConnectorRun(process.returncode, messages, stderr)
    if key_scan and isinstance(config.get("api_key"), str) and len(config["api_key"].strip()) >= MIN_FRAGMENT:
        assert_no_key(result.output, config["api_key"])
    return result


def _lines(process: subprocess.Popen) -> Iterator[str]:
    for line in process.stdout:
        if line.strip():
            yield line


class ConnectorRun:
    def __init__(self, returncode: int, messages: List[Dict[str, Any]], stderr: str) -> None:
        self.returncode = returncode
        self.messages = messages
        self.stderr = stderr

    def of_type(self, kind: str) -> List[Dict[str, Any]]:
        return [message for message in self.messages if message["type"] == kind]

    def records(self, stream: Optional[str] = None) -> List[Dict[str, Any]]:
        return [m["record"]["data"] for m in self.of_type("RECORD") if stream is None or m["record"]["stream"] == stream]

    def final_states(self) -> List[Dict[str, Any]]:
        """The last STATE message of each stream, as a --state file wants them."""
        latest: Dict[str, Dict[str, Any]] = {}
        for message in self.of_type("STATE"):
            latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        return list(latest.values())

    def errors(self) -> List[Dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]

    @property
    def output(self) -> str:
        return "\n".join(json.dumps(message) for message in self.messages) + "\n" + self.stderr
