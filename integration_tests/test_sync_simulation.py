"""A few steps of the sync simulation (integration_tests/sync_simulation.py): randomised changes, faults, kills.

The long run is `make simulate` (tools/simulate.py), by hand; a failure prints the seed that replays it.
"""

import pytest

from integration_tests.sync_simulation import Simulation

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [20261128, 7])
def test_every_record_and_every_promised_change_reaches_the_destination(seed, tmp_path):
    report = Simulation(seed=seed, workdir=tmp_path, kill_probability=0.3).run(syncs=5)

    print(report.line())
    assert report.completed >= 3 and report.checked_versions > 0
