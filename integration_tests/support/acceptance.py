"""acceptance-test-config.yml and the files it names, against the bundled fake server its configs point at.

The configs (integration_tests/valid_config.json, invalid_config.json) name 127.0.0.1:18765, where the standard tests
start a small fake organisation whose clock is fixed, so that what it serves, and so expected_records.jsonl, is the
same on every run. `python -m tools.acceptance_files` rewrites the catalog and the expected records from it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List, Mapping

import yaml

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.support.connector import configured_catalog, run
from integration_tests.support.paths import PROJECT_ROOT

PORT = 18765  # the port valid_config.json and invalid_config.json name
SIZES = {"chats": 6, "messages": 30, "notifications": 6, "notes": 5, "reactions": 8, "tickets": 8, "contacts": 10}
FAKE_NOW = "2026-01-01T00:00:00Z"  # the fake organisation's clock: every record it serves is older
EMITTED_AT = 1767225600000  # FAKE_NOW in epoch milliseconds: CAT's record lines carry one

CONFIG_FILE = PROJECT_ROOT / "acceptance-test-config.yml"
CATALOG_FILE = PROJECT_ROOT / "integration_tests" / "configured_catalog.json"
EXPECTED_RECORDS_FILE = PROJECT_ROOT / "integration_tests" / "expected_records.jsonl"
FUTURE_STATE_FILE = PROJECT_ROOT / "integration_tests" / "abnormal_state.json"
VALID_CONFIG_FILE = PROJECT_ROOT / "integration_tests" / "valid_config.json"

# Keys of the file that Airbyte's Connector Acceptance Tests read and the CDK's standard tests reject (they do not
# run the check): integration_tests/test_acceptance_files.py runs it instead, and the standard tests get the file
# without them.
CHECKED_BY_OUR_TESTS = {"basic_read": {"expect_records"}}


def acceptance_server() -> FakePeriskope:
    return FakePeriskope(seed=42, sizes=SIZES, now=FAKE_NOW, port=PORT)


def acceptance_config() -> Dict[str, Any]:
    return yaml.safe_load(CONFIG_FILE.read_text())


def for_the_standard_tests(config: Mapping[str, Any]) -> Dict[str, Any]:
    """The file as the CDK's standard tests accept it: without the keys our own tests check."""
    trimmed = copy.deepcopy(dict(config))
    for section, keys in CHECKED_BY_OUR_TESTS.items():
        for entry in trimmed["acceptance_tests"].get(section, {}).get("tests", []):
            for key in keys:
                entry.pop(key, None)
    return trimmed


def project_file(relative: str) -> Path:
    return PROJECT_ROOT / relative


def load_config(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text())


def catalog_from_discover(config: Mapping[str, Any]) -> Dict[str, Any]:
    """Every discovered stream, incremental and deduplicated on its primary key, its schema left to discover."""
    discovered = run("discover", config)
    assert discovered.returncode == 0, discovered.output[-3000:]
    catalog = configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], "incremental")
    for configured in catalog["streams"]:
        configured["stream"]["json_schema"] = {}
    return catalog


def record_lines(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """CAT's expected-record lines, in a stable order (stream, then the record's JSON)."""
    lines = [{"stream": record["stream"], "data": record["data"], "emitted_at": EMITTED_AT} for record in records]
    return sorted(lines, key=lambda line: (line["stream"], json.dumps(line["data"], sort_keys=True)))


def read_records(config: Mapping[str, Any], catalog: Mapping[str, Any], sync_mode: str = "full_refresh",
                 state: Any = None) -> Any:
    chosen = copy.deepcopy(dict(catalog))
    for configured in chosen["streams"]:
        configured["sync_mode"] = sync_mode
        if sync_mode == "full_refresh":
            configured["destination_sync_mode"] = "overwrite"
    return run("read", config, catalog=chosen, state=state)


def expected_record_lines() -> List[Dict[str, Any]]:
    return [json.loads(line) for line in EXPECTED_RECORDS_FILE.read_text().splitlines() if line.strip()]
