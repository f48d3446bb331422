"""The sync simulation, run long by hand: `make simulate` (options in SIMULATE_ARGS).

    python -m tools.simulate --syncs 200               # seeds 1, 2, ... until 200 syncs have run
    python -m tools.simulate --seed 1234 --syncs 40    # replay one seed
    python -m tools.simulate --clock-behind 600        # every seed's server clock ten minutes behind

Each seed is a fresh fake organisation and a randomly drawn connector config (integration_tests/sync_simulation.py
says what is changed and what is checked). Prints one line per seed and the totals; exits 1 on the first miss,
printing the seed that replays it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from integration_tests.sync_simulation import Simulation, SimulationFailure


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--syncs", type=int, default=200, help="syncs in all (default 200)")
    parser.add_argument("--per-seed", type=int, default=25, help="syncs per seed (default 25)")
    parser.add_argument("--seed", type=int, help="run only this seed, for --syncs syncs")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--clock-behind", type=float, metavar="SECONDS",
                        help="run every seed's server clock this far behind (default: drawn per seed, 0 to 10 minutes)")
    args = parser.parse_args(argv)

    plan = [(args.seed, args.syncs)] if args.seed is not None else []
    seed = args.first_seed
    while args.seed is None and sum(count for _, count in plan) < args.syncs:
        plan.append((seed, min(args.per_seed, args.syncs - sum(count for _, count in plan))))
        seed += 1
    totals = {"syncs": 0, "completed": 0, "killed": 0, "records": 0, "duplicates": 0, "faults": 0, "versions": 0}
    started = time.time()
    with tempfile.TemporaryDirectory() as workdir:
        for seed, syncs in plan:
            try:
                report = Simulation(seed=seed, workdir=Path(workdir), clock_behind_seconds=args.clock_behind).run(syncs)
            except SimulationFailure as failure:
                print(failure, flush=True)
                print(f"FAILED: replay with `python -m tools.simulate --seed {seed} --syncs {syncs}`")
                return 1
            print(report.line(), flush=True)
            for name, value in (("syncs", report.syncs), ("completed", report.completed), ("killed", report.killed),
                                ("records", report.records_emitted), ("duplicates", report.duplicates),
                                ("faults", report.faults_served), ("versions", report.checked_versions)):
                totals[name] += value
    print(f"total: {totals} in {time.time() - started:.0f} s, seeds {plan[0][0]}..{plan[-1][0]}, no misses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
