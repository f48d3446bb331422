"""Fault injection: random faults at a rate, and deterministic one-shot faults.

Kinds (ALL_KINDS):
  429_retry_after       429 with Retry-After: <seconds>
  429_retry_after_date  429 with Retry-After: <HTTP-date>
  429_reset_epoch       429 with X-RateLimit-Reset as an epoch second (no Retry-After)
  429_reset_seconds     429 with X-RateLimit-Reset as seconds to wait (no Retry-After)
  429_bare              429 with no rate-limit headers at all
  429_quota_left        429 whose X-RateLimit-* still report quota left, no Retry-After (a burst or
                        per-endpoint limiter answering while the per-minute quota is far from spent)
  500, 502, 503, 504    server / gateway errors (502 and 504 as HTML, like a proxy)
  410                   410 Gone, JSON (a record an endpoint will never serve again)
  reset                 the connection is closed without a response (TCP RST)
  slow                  the response is delayed by slow_seconds
  truncated             Content-Length larger than the body, then the connection closes
  malformed_json        200 with a body that is not valid JSON
  html                  200 with an HTML error page (text/html)
  ignore_offset         list endpoints serve offset 0 whatever offset was asked
  missing_key           list envelope without its records key
  not_utf8              one Latin-1 byte (0xE9, "é") at the start of a text value: the body is not valid
                        UTF-8 (a body without any text value, e.g. an empty page, is sent as it is)

The last two only make sense on paginated list endpoints, so they are only
drawn or consumed there.
"""

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

ALL_KINDS = (
    "429_retry_after",
    "429_retry_after_date",
    "429_reset_epoch",
    "429_reset_seconds",
    "429_bare",
    "429_quota_left",
    "500",
    "502",
    "503",
    "504",
    "410",
    "reset",
    "slow",
    "truncated",
    "malformed_json",
    "html",
    "ignore_offset",
    "missing_key",
    "not_utf8",
)
LIST_ONLY_KINDS = ("ignore_offset", "missing_key")
# What `rate` draws from unless told otherwise: the transient faults a robust
# client should survive by retrying. Slow and data-corrupting ones are opt-in.
DATA_FAULTS = ("slow", "malformed_json", "html", "ignore_offset", "missing_key", "not_utf8", "410")
# Opt-in as well, so that the draws of a seed stay what they were before it existed.
DEFAULT_KINDS = tuple(kind for kind in ALL_KINDS if kind not in DATA_FAULTS + ("429_quota_left",))


@dataclass
class QueuedFault:
    kind: str
    count: int
    path_contains: str = None


@dataclass
class FaultSettings:
    rate: float = 0.0  # probability that an API request gets a random fault
    kinds: tuple = DEFAULT_KINDS  # what random faults are drawn from
    seed: int = 0  # seeds the random draws, so a faulty run is repeatable
    slow_seconds: float = 5.0  # delay of the `slow` fault
    retry_after_seconds: int = 1  # the wait the 429 kinds ask for
    served: Counter = field(default_factory=Counter)  # kind -> times served
    _queue: list = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(default=None, repr=False)

    def __post_init__(self):
        self.kinds = tuple(self.kinds)
        _check_kinds(self.kinds)
        self._rng = random.Random(self.seed)

    def queue(self, kind, count=1, path_contains=None):
        """Serve `kind` to the next `count` API requests whose path contains `path_contains`."""
        _check_kinds([kind])
        with self._lock:
            self._queue.append(QueuedFault(kind, count, path_contains))
        return self

    def clear(self):
        """Drop queued faults and stop random ones (counts are kept)."""
        with self._lock:
            self._queue.clear()
            self.rate = 0.0

    def configure(self, **settings):
        """Update from a dict (admin endpoint / CLI): rate, kinds, seed, slow_seconds, retry_after_seconds, queue, clear."""
        if settings.pop("clear", False):
            self.clear()
        queued = settings.pop("queue", [])
        for name, value in settings.items():
            if name not in ("rate", "kinds", "seed", "slow_seconds", "retry_after_seconds"):
                raise ValueError(f"unknown fault setting {name!r}")
            if name == "kinds":
                value = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
                _check_kinds(value)
            setattr(self, name, value)
            if name == "seed":
                self._rng = random.Random(value)
        for item in queued:
            self.queue(item["kind"], item.get("count", 1), item.get("path_contains"))
        return self

    @property
    def pending(self):
        with self._lock:
            return [(q.kind, q.count, q.path_contains) for q in self._queue]

    def draw(self, path: str, is_list: bool):
        """The fault for this request (or None); one-shots first, then the random rate."""
        with self._lock:
            kind = self._take_queued(path, is_list) or self._draw_random(is_list)
            if kind:
                self.served[kind] += 1
            return kind

    def _take_queued(self, path, is_list):
        for item in self._queue:
            if item.path_contains and item.path_contains not in path:
                continue
            if item.kind in LIST_ONLY_KINDS and not is_list:
                continue
            item.count -= 1
            if item.count <= 0:
                self._queue.remove(item)
            return item.kind
        return None

    def _draw_random(self, is_list):
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        kinds = [k for k in self.kinds if is_list or k not in LIST_ONLY_KINDS]
        return self._rng.choice(kinds) if kinds else None


def _check_kinds(kinds):
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kinds {unknown}; known: {', '.join(ALL_KINDS)}")
