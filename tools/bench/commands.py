"""The command lines the benchmark times: the connector's read (full refresh, incremental, resync) and the baseline,
with their config, catalog and state files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from integration_tests.support.connector import configured_catalog, connector_command
from integration_tests.support.paths import PROJECT_ROOT
from tools.common import FAKE_API_KEY


def write_json(directory: Path, name: str, content: Any) -> str:
    path = directory / name
    path.write_text(json.dumps(content))
    return str(path)


def discover_catalog(config_path: str) -> Dict[str, Any]:
    completed = subprocess.run(
        [connector_command(), "discover", "--config", config_path], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    for line in completed.stdout.splitlines():
        if line.startswith('{"type":"CATALOG"') or line.startswith('{"type": "CATALOG"'):
            return json.loads(line)["catalog"]
    raise SystemExit(f"discover failed (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")


def incremental_catalog(catalog: Dict[str, Any], streams: List[str]) -> Dict[str, Any]:
    configured = configured_catalog(catalog, "incremental", streams)
    for entry in configured["streams"]:  # a stream without incremental support is read in full
        if "incremental" not in entry["stream"].get("supported_sync_modes", []):
            entry.update(sync_mode="full_refresh", destination_sync_mode="overwrite")
    return configured


def read_command(config_path: str, catalog_path: str, state_path: Optional[str] = None) -> List[str]:
    command = [connector_command(), "read", "--config", config_path, "--catalog", catalog_path]
    return command + (["--state", state_path] if state_path else [])


def baseline_command(base_url: str, api_key: str, phone: str, streams: List[str], page_size: int) -> List[str]:
    """tools/bench/baseline.py: plain requests + json, the yardstick."""
    return [
        sys.executable, "-m", "tools.bench.baseline", "--base-url", base_url, "--api-key", api_key, "--phone", phone,
        "--streams", ",".join(streams), "--page-size", str(page_size),
    ]


# --details names -> the connector's options for the by-id fields (source_periskope/details.py)
DETAIL_OPTIONS = {"closed_by": "fetch_ticket_closed_by", "reactions": "fetch_message_reactions",
                  "chat_ids": "fetch_contact_chat_ids"}


def bench_config(base_url: str, numbers: List[str], args: Any) -> Dict[str, Any]:
    """The connector config of a benchmark run: the fake's key, its numbers, the page size, workers and details asked for."""
    config: Dict[str, Any] = {"api_key": FAKE_API_KEY, "phone_number": numbers[0], "base_url": base_url, "page_size": args.page_size}
    if getattr(args, "detail_list", None) is not None:
        config.update({option: name in args.detail_list for name, option in DETAIL_OPTIONS.items()})
    if numbers[1:]:
        config["additional_phone_numbers"] = numbers[1:]
    if args.concurrency is not None:
        config["num_workers"] = args.concurrency
    return config


def full_refresh_files(directory: Path, config: Dict[str, Any], streams: List[str]) -> Tuple[str, Dict[str, Any], str]:
    """(config file, discovered catalog, full refresh catalog file) in `directory`."""
    config_path = write_json(directory, "config.json", config)
    catalog = discover_catalog(config_path)
    return config_path, catalog, write_json(directory, "full.json", configured_catalog(catalog, "full_refresh", streams))
