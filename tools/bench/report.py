"""The results: the table printed at the end, the note on a busy machine, and the JSON file (by default
output/bench/<timestamp>.json, a name reserved when the benchmark starts)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

from tools.bench.measure import RunResult, status

COLUMNS = (
    ("run", "{}", lambda r: r.name),
    ("records", "{:,}", lambda r: r.records),
    ("requests", "{:,}", lambda r: r.requests),
    ("wall s", "{:.2f}", lambda r: r.wall_s),
    ("1st rec s", "{:.2f}", lambda r: r.first_record_s),
    ("records/s", "{:,.0f}", lambda r: r.records_per_s),
    ("x baseline", "{:.2f}", lambda r: r.ratio_to_baseline),
    ("peak RSS MB", "{:.0f}", lambda r: r.peak_rss_mb),
    ("cpu s", "{:.2f}", lambda r: r.cpu_s),
    ("server cpu s", "{:.2f}", lambda r: r.server_cpu_s),
    ("other cpu s", "{:.1f}", lambda r: r.other_cpu_s),
    ("status", "{}", lambda r: status(r)),
)


def table(results: List[RunResult]) -> str:
    cells = [[title for title, _, _ in COLUMNS]]
    for result in results:
        row = []
        for _, form, get in COLUMNS:
            value = get(result)
            row.append("-" if value is None else form.format(value))
        cells.append(row)
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def busy_note(results: List[RunResult]) -> Optional[str]:
    """A warning when other processes used over 10% of a core during a run: its figures are noisy."""
    busy = [r.name for r in results if r.other_cpu_s and r.other_cpu_s > 0.1 * r.wall_s]
    if not busy:
        return None
    return (
        f"Note: other processes used the CPUs during {', '.join(busy)} ('other cpu s', over 10% of a core): "
        "those figures are noisy; rerun on a quiet machine to compare commits."
    )


def write_document(output: Path, results: List[RunResult], profile: Optional[Dict[str, Any]], **facts: Any) -> None:
    """The JSON file: `facts` (git, machine, versions, options, ...) in the order given, then results and profile."""
    document = {
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        **facts,
        "results": [asdict(r) for r in results],
        "profile": profile,
    }
    output.write_text(json.dumps(document, indent=2))


def reserve_output_path(directory: Path) -> Path:
    """output/bench/<timestamp>.json, created empty now so that a benchmark started in the same second gets another."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in [stamp] + [f"{stamp}-{n}" for n in range(1, 100)]:
        try:
            with open(directory / f"{name}.json", "x"):
                return directory / f"{name}.json"
        except FileExistsError:
            continue
    raise SystemExit(f"no free output name for {stamp} in {directory}")
