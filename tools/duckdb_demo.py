"""`make duckdb`: the demo's data, read with PyAirbyte into a DuckDB file, for a look at the tables.

Builds .venv-pyairbyte/ once (PyAirbyte has many pinned dependencies of its own, so it stays out of the connector's
venv), starts the fake server, and runs integration_tests/pyairbyte_read.py there against this project's
`source-periskope`. The DuckDB file is left in output/duckdb/ and its path and row counts are printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from integration_tests.demo import DEMO_KEY, DEMO_PHONES
from integration_tests.servers import PROJECT_ROOT, fake_server_process
from integration_tests.test_pyairbyte import REQUIREMENTS, STAMP, VENV, VENV_PYTHON, _stamp

OUTPUT = PROJECT_ROOT / "output" / "duckdb"


def ensure_pyairbyte_venv() -> None:
    if STAMP.exists() and STAMP.read_text() == _stamp() and VENV_PYTHON.exists():
        return
    print(f"Installing PyAirbyte into {VENV.name}/ (once, about a minute)...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True)
    STAMP.write_text(_stamp())


def main() -> None:
    ensure_pyairbyte_venv()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with fake_server_process() as base_url:
        config = {"api_key": DEMO_KEY, "phone_number": DEMO_PHONES[0], "additional_phone_numbers": [DEMO_PHONES[1]], "base_url": base_url}
        (OUTPUT / "config.json").write_text(json.dumps(config))
        subprocess.run(
            [str(VENV_PYTHON), str(PROJECT_ROOT / "integration_tests" / "pyairbyte_read.py"),
             "--executable", str(Path(sys.executable).parent / "source-periskope"), "--config", str(OUTPUT / "config.json"),
             "--workdir", str(OUTPUT / "pyairbyte"), "--output", str(OUTPUT / "result.json")],
            check=True, stdout=subprocess.DEVNULL,
        )
    result = json.loads((OUTPUT / "result.json").read_text())
    print(f"DuckDB file: {result['cache']['db_path']}")
    for stream, figures in sorted(result.get("streams", {}).items()):
        print(f"  {stream:<15}{figures.get('rows'):>8} rows")


if __name__ == "__main__":
    main()
