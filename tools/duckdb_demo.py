"""`make duckdb`: the demo's data, read with PyAirbyte into a DuckDB file, for a look at the tables.

Builds .venv-pyairbyte/ once (PyAirbyte has many pinned dependencies of its own, so it stays out of the connector's
venv; integration_tests/support/pyairbyte_venv.py, shared with integration_tests/test_pyairbyte.py), starts the
fake server, and runs tools/pyairbyte_read.py there against this project's `source-periskope`. The DuckDB file is
left in output/duckdb/ and its path and row counts are printed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from integration_tests.support import pyairbyte_venv
from integration_tests.support.paths import PROJECT_ROOT
from integration_tests.support.servers import fake_server_process
from tools.common import demo_config

OUTPUT = PROJECT_ROOT / "output" / "duckdb"


def main() -> int:
    try:
        venv_python = pyairbyte_venv.ensure(lambda line: print(f"PyAirbyte: {line}", flush=True))
    except pyairbyte_venv.VenvUnavailable as failure:
        print(f"Could not install PyAirbyte into {pyairbyte_venv.VENV.name}/: {failure}", file=sys.stderr)
        return 1
    # A fresh cache each time: the read appends one row per record, so a second run would double every table.
    shutil.rmtree(OUTPUT / "pyairbyte", ignore_errors=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with fake_server_process() as base_url:
        (OUTPUT / "config.json").write_text(json.dumps(demo_config(base_url)))
        subprocess.run(
            [str(venv_python), str(pyairbyte_venv.READ_SCRIPT),
             "--executable", str(Path(sys.executable).parent / "source-periskope"), "--config", str(OUTPUT / "config.json"),
             "--workdir", str(OUTPUT / "pyairbyte"), "--output", str(OUTPUT / "result.json")],
            check=True, stdout=subprocess.DEVNULL,
        )
    result = json.loads((OUTPUT / "result.json").read_text())
    print(f"DuckDB file: {result['cache']['db_path']}")
    for stream, figures in sorted(result.get("streams", {}).items()):
        print(f"  {stream:<15}{figures.get('rows'):>8} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
