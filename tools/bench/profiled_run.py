"""The connector under cProfile, every thread included (`--profile --profiler cprofile`):

    python -m tools.bench.profiled_run OUT.pstats read --config ... --catalog ...

runs source-periskope's entry point with the remaining arguments and writes the merged stats to OUT.pstats, even
when the connector exits with an error. cProfile only sees the thread that enabled it, and the connector reads in
worker threads: every thread gets its own profiler and they are merged at the end.
"""

import cProfile
import pstats
import sys
import threading


def main() -> None:
    out = sys.argv.pop(1)
    sys.argv[0] = "source-periskope"
    profilers = []
    thread_run = threading.Thread.run

    def profiled_run(self):
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.runcall(thread_run, self)

    threading.Thread.run = profiled_run
    from source_periskope.run import run  # noqa: PLC0415 - after the patch, as the connector's threads start later

    profiler = cProfile.Profile()
    try:
        profiler.runcall(run)
    finally:
        stats = pstats.Stats(profiler)
        for thread_profiler in profilers:
            try:
                stats.add(thread_profiler)
            except Exception:
                pass
        stats.dump_stats(out)


if __name__ == "__main__":
    main()
