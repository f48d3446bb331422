"""A phone that goes offline and delivers its backlog late.

`disconnect(org, phone)` marks the phone DISCONNECTED (wa_state, is_ready and a
bumped updated_at in /phones/all and /phones). While it is offline, records
added for it (add_record, deliver_late, outage_traffic) are held back: no list
or by-id endpoint shows them. It still answers list requests with the
history it had. `reconnect(org, phone)` marks it CONNECTED again and releases
the backlog at once, every record with its original (past) timestamp, so a
client that synced during the outage finds them behind its cursor.

An outage may be declared as having started earlier (`started_seconds_ago`),
so `outage_traffic` can spread its records over hours rather than over the
milliseconds a test takes.
"""

from dataclasses import dataclass, field

from .timefmt import format_ts

TRAFFIC_STREAMS = ("messages", "notifications", "notes", "reactions")


@dataclass
class Outage:
    started_us: int
    backlog: list = field(default_factory=list)  # (stream, record), in the order they were added


class Outages:
    """The phones that are offline now, by ordinal, with what each holds back."""

    def __init__(self):
        self.by_phone = {}

    def is_down(self, phone) -> bool:
        """Whether the phone is offline (taken down with disconnect)."""
        return phone.ordinal in self.by_phone

    def hold(self, phone, stream, record):
        """Keep a record back until the phone reconnects."""
        self.by_phone[phone.ordinal].backlog.append((stream, record))

    def holds_key(self, phone, stream, key_field, key) -> bool:
        """Whether the phone's backlog already has a `stream` record with this key."""
        outage = self.by_phone.get(phone.ordinal)
        return bool(outage) and any(name == stream and record.get(key_field) == key for name, record in outage.backlog)

    def held(self, phone):
        """The (stream, record) pairs a phone holds back (empty if it is online)."""
        outage = self.by_phone.get(phone.ordinal)
        return list(outage.backlog) if outage else []


def disconnect(org, phone, started_seconds_ago=0.0):
    """Take a phone offline; returns its phone record as /phones/all now shows it."""
    with org.lock:
        if org.outages.is_down(phone):
            raise ValueError(f"phone {phone.number} is already disconnected")
        started_us = org.clock_us() - round(started_seconds_ago * 1_000_000)
        org.outages.by_phone[phone.ordinal] = Outage(started_us)
        phone.connected = False
        return org.update_record("phones", phone.phone_id, wa_state="DISCONNECTED", is_ready=False)


def reconnect(org, phone):
    """Bring a phone back online and release its backlog; returns the released records."""
    with org.lock:
        outage = org.outages.by_phone.pop(phone.ordinal, None)
        phone.connected = True
        org.update_record("phones", phone.phone_id, wa_state="CONNECTED", is_ready=True, qr_code=None)
        for stream, record in (outage.backlog if outage else []):
            org.make_visible(stream, phone, record)
        return [record for _stream, record in (outage.backlog if outage else [])]


def outage_traffic(org, phone, count, stream="messages", **overrides):
    """Records that arrived while the phone was offline, spread evenly over the outage so far (oldest first)."""
    if stream not in TRAFFIC_STREAMS:
        raise ValueError(f"outage traffic is for {', '.join(TRAFFIC_STREAMS)}, not {stream!r}")
    with org.lock:
        outage = org.outages.by_phone.get(phone.ordinal)
        if outage is None:
            raise ValueError(f"phone {phone.number} is not disconnected")
        now_us = org.clock_us()
        step_us = max(1, (now_us - outage.started_us) // (count + 1))
        return [org.add_record(stream, phone, timestamp=format_ts(outage.started_us + (n + 1) * step_us),
                               **overrides) for n in range(count)]
