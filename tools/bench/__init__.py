"""The throughput benchmark (`make bench`, `python -m tools.bench --help`). Kept empty of imports: the baseline and
the cProfile wrapper run as `python -m tools.bench.<module>`, and their start-up is part of what is timed."""
