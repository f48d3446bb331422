"""Run the fake Periskope API from the command line.

    python -m integration_tests.fake_periskope --port 8765 --messages 100000 \
        --fault-rate 0.05 --fault 429_retry_after:2:/chats/messages
    python -m integration_tests.fake_periskope --organisation --quiet-phones 1 \
        --quota-per-minute 300 --quota-reset-format epoch --quota-retry-after

Prints `FAKE_PERISKOPE_URL=http://127.0.0.1:PORT/v1` once listening, then
serves until SIGTERM or SIGINT.
"""

import argparse
import signal
import sys
import threading

from .faults import ALL_KINDS, FaultSettings
from .server import FakePeriskope, check_loopback
from .labelshape import SHAPES
from .quota import MODELS, RESET_FORMATS
from .store import DEFAULT_SIZES, ORGANISATION_SIZES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m integration_tests.fake_periskope", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--messages", type=int, help=f"messages per phone (default {DEFAULT_SIZES['messages']})")
    parser.add_argument("--size", action="append", default=[], metavar="STREAM=N",
                        help=f"records per phone/org for a stream, repeatable; streams: {', '.join(DEFAULT_SIZES)}, "
                             "and phones (= connected phones)")
    parser.add_argument("--organisation", action="store_true",
                        help="start from ORGANISATION_SIZES (tickets and contacts several pages long); "
                             "--size and --messages apply on top")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--api-key", default="test-api-key")
    parser.add_argument("--now", help="pin 'now' (ISO-8601 or epoch seconds); default: the current time")
    parser.add_argument("--disconnected-phones", type=int, default=0)
    parser.add_argument("--notifications-key", default="messages", choices=("messages", "notifictions", "notifications"))
    parser.add_argument("--count-is-total", action="store_true")
    parser.add_argument("--omit-count", action="store_true")
    parser.add_argument("--strict-limit", action="store_true", help="reject limit=2000 too")
    parser.add_argument("--no-json-strings", action="store_true", help="never JSON-encode JSON columns as strings")
    parser.add_argument("--no-odd-text", action="store_true",
                        help="no odd text (lone surrogates, emoji, RTL, long bodies...) in bodies and names")
    parser.add_argument("--labels-shape", default="mixed", choices=SHAPES,
                        help="labels as an array, a comma-separated string, or mixed per row (default)")
    parser.add_argument("--quiet-phones", type=int, default=0,
                        help="make the last N connected phones quiet (newest record 125 days old)")
    parser.add_argument("--quota-per-minute", type=int, help="requests per API key per 60-second window (429 past it)")
    parser.add_argument("--quota-reset-format", default="seconds", choices=RESET_FORMATS,
                        help="X-RateLimit-Reset under a quota: seconds to wait (default), epoch (rounded up), "
                             "epoch_down (rounded down) or epoch_ms")
    parser.add_argument("--quota-model", default="fixed_window", choices=MODELS,
                        help="a fixed 60 s window per key (default) or a token bucket refilled steadily")
    parser.add_argument("--quota-retry-after", action="store_true", help="send Retry-After on quota 429s")
    parser.add_argument("--unpaired-phones", type=int, default=0,
                        help="phones /phones/all lists without a number (not paired yet); their x-phone answers 401")
    parser.add_argument("--unreadable-phones", type=int, default=0,
                        help="phones /phones/all lists with a number the key may not read (x-phone answers 401)")
    parser.add_argument("--clock-behind-seconds", type=float, default=0,
                        help="run the server's clock (changed records, the Date header) this far behind")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND[:COUNT[:PATH_CONTAINS]]",
                        help=f"queue one-shot faults, repeatable; kinds: {', '.join(ALL_KINDS)}")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="probability of a random fault per request")
    parser.add_argument("--fault-kinds", help="comma-separated kinds for --fault-rate (default: transient ones)")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    return parser.parse_args(argv)


def sizes_from(args):
    sizes = dict(ORGANISATION_SIZES) if args.organisation else {}
    for item in args.size:
        name, _, value = item.partition("=")
        if not value.isdigit():
            raise SystemExit(f"--size wants STREAM=N, got {item!r}")
        sizes[name] = int(value)
    if args.messages is not None:
        sizes["messages"] = args.messages
    return sizes


def faults_from(args):
    faults = FaultSettings(rate=args.fault_rate, seed=args.fault_seed, slow_seconds=args.slow_seconds)
    if args.fault_kinds:
        faults.configure(kinds=args.fault_kinds)
    for item in args.fault:
        kind, count, path_contains = (item.split(":", 2) + [None, None])[:3]
        faults.queue(kind, int(count or 1), path_contains or None)
    return faults


def main(argv=None):
    args = parse_args(argv)
    try:
        check_loopback(args.host)
        now = float(args.now) if args.now and args.now.replace(".", "").isdigit() else args.now
        server = FakePeriskope(
            seed=args.seed, sizes=sizes_from(args), latency_ms=args.latency_ms, host=args.host, port=args.port,
            api_key=args.api_key, now=now, disconnected_phones=args.disconnected_phones,
            notifications_key=args.notifications_key, count_is_total=args.count_is_total,
            omit_count=args.omit_count, strict_limit=args.strict_limit, json_strings=not args.no_json_strings,
            faults=faults_from(args), odd_text=not args.no_odd_text, labels_shape=args.labels_shape,
            quiet_phones=args.quiet_phones, quota_per_minute=args.quota_per_minute,
            quota_reset_format=args.quota_reset_format, quota_retry_after=args.quota_retry_after,
            unpaired_phones=args.unpaired_phones, unreadable_phones=args.unreadable_phones,
            clock_behind_seconds=args.clock_behind_seconds,
            quota_model=args.quota_model,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    server.start()
    print(f"FAKE_PERISKOPE_URL={server.base_url}", flush=True)
    phones = ", ".join(f"{p['number']} ({p['phone_id']}, {p['wa_state']})" for p in server.phones)
    print(f"api key {server.api_key}; phones {phones}", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
