"""Late arrivals: records that reach the API after a sync, with timestamps in the past.

Real phones deliver messages late (a phone that was offline, a slow
multi-device sync), and notes, notifications and reactions get written with
the time of the event rather than the time of writing. `deliver_late` adds
such records: the newest `newest_age_seconds` old, the others `spacing_seconds`
apart before it. They take their place in the newest-first order by their
(past) timestamp, and start_time/end_time windows find them by it; messages
and notes get a fresh `updated_at` (they were just written). A reaction
points at a message older than itself unless a message_id is given.
"""

from .timefmt import format_ts

LATE_STREAMS = ("messages", "notifications", "notes", "reactions")


def deliver_late(org, stream, phone=None, count=1, newest_age_seconds=3600.0, spacing_seconds=60.0, **overrides):
    """Add `count` past-dated records to a phone's stream; returns them newest first."""
    if stream not in LATE_STREAMS:
        raise ValueError(f"late arrivals are for {', '.join(LATE_STREAMS)}, not {stream!r}")
    with org.lock:
        target = org.phone_or_default(phone)
        newest_us = org.clock_us() - round(newest_age_seconds * 1_000_000)
        added = []
        for n in range(count):
            time_us = newest_us - round(n * spacing_seconds * 1_000_000)
            fields = dict(overrides, timestamp=format_ts(time_us))
            if stream == "reactions" and "message_id" not in overrides:
                older, _total = org.stream("messages", target).page(0, 1, end_us=time_us - 1)
                if older:
                    fields["message_id"] = older[0]["message_id"]
            added.append(org.add_record(stream, target, **fields))
        return added
