"""The `source-periskope` command (and the image's entrypoint)."""

import gc
import sys

# Four reader threads and the writer share the GIL. At Python's default (5 ms) they traded it 25,000-50,000 times
# per 100k records and the sync spent 10-15% more CPU doing so; at 50 ms a reader that has its page still
# waits far less than a request takes (measured with and without 100 ms of latency: faster both ways).
GIL_SWITCH_INTERVAL_SECONDS = 0.05


def run() -> None:
    from source_periskope.cdk_hooks import prepare_process

    prepare_process()  # before anything imports the CDK's models
    # A sync allocates millions of short-lived dicts and few cycles: collecting less often is measurably faster.
    gc.set_threshold(100_000, 50, 1000)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    from source_periskope.entrypoint import launch_source

    launch_source(sys.argv[1:])
