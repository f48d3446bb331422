"""Changes scheduled at the Nth API request, to change data while a client syncs.

    fake.at_request(3, lambda: fake.update_record("tickets", "BKT-002", status="closed"))

runs the action just before the server answers the 3rd /v1 request counted
from that call (only requests whose path contains `path_contains`, if given).
It runs on the server's request thread, under no lock of its own; an
exception in it is answered as a 500, like one in `on_request`. The returned
ScheduledChange tells whether (and at which request) it ran. This works
alongside the older `on_request(number, path, query)` hook, which runs first.
"""

import threading
from dataclasses import dataclass, field


@dataclass
class ScheduledChange:
    remaining: int  # matching requests still to come, this one included
    action: object
    path_contains: str = None
    fired_at: int = None  # the request number (as on_request sees it) it ran before
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def fired(self) -> bool:
        """Whether the action has run."""
        return self.done.is_set()


class RequestSchedule:
    """The pending scheduled changes of one server."""

    def __init__(self):
        self._pending = []
        self._lock = threading.Lock()

    def add(self, n, action, path_contains=None):
        """Schedule `action()` before the n-th matching request from now; returns its ScheduledChange."""
        if n < 1:
            raise ValueError("n counts requests from 1")
        change = ScheduledChange(n, action, path_contains)
        with self._lock:
            self._pending.append(change)
        return change

    def clear(self):
        """Drop the changes that have not run."""
        with self._lock:
            self._pending.clear()

    def fire(self, number, path):
        """Count one request and run the changes that are due (in the order they were scheduled)."""
        due = []
        with self._lock:
            for change in list(self._pending):
                if change.path_contains and change.path_contains not in path:
                    continue
                change.remaining -= 1
                if change.remaining == 0:
                    self._pending.remove(change)
                    due.append(change)
        for change in due:
            change.fired_at = number
            try:
                change.action()
            finally:
                change.done.set()
