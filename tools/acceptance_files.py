"""Rewrites integration_tests/configured_catalog.json and expected_records.jsonl from the acceptance fake server.

python -m tools.acceptance_files    (after a change to the fake's data, a schema or the normalisation; review the diff:
                                     integration_tests/test_acceptance_files.py fails until the files match again)
"""

from __future__ import annotations

import json

from integration_tests.support import acceptance


def main() -> None:
    config = acceptance.load_config(acceptance.VALID_CONFIG_FILE)
    with acceptance.acceptance_server().start():
        catalog = acceptance.catalog_from_discover(config)
        read = acceptance.read_records(config, catalog)
    if read.returncode != 0 or read.errors():
        raise SystemExit(f"the read failed:\n{read.output[-3000:]}")
    acceptance.CATALOG_FILE.write_text(json.dumps(catalog, indent=2) + "\n")
    lines = acceptance.record_lines([message["record"] for message in read.of_type("RECORD")])
    acceptance.EXPECTED_RECORDS_FILE.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    print(f"{acceptance.CATALOG_FILE.name}: {len(catalog['streams'])} streams; "
          f"{acceptance.EXPECTED_RECORDS_FILE.name}: {len(lines)} records")


if __name__ == "__main__":
    main()
