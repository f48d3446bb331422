"""A request quota per API key, for rate-limit work.

Two models (`model`):
- "fixed_window" (default): a fixed 60-second window per key. A key's window opens with its first request (after
  the previous window has ended) and lasts 60 seconds; the whole limit is available at once (burst = the limit,
  at the start of a window), and the count drops back to zero when the window ends.
- "token_bucket": a bucket of `per_minute` tokens per key, full at first, refilled steadily (per_minute tokens per
  60 seconds); a request takes one token. Reset says when the bucket will be full again.
Requests are counted per presented key, whether or not the key is valid (a gateway counts before auth). A request
refused with 429 does not count, nor does one answered by an injected 429 fault; every other answer (2xx, 4xx, 5xx,
faults) does.

Headers on every /v1 response while a quota is set:
  X-RateLimit-Limit      the limit per window (the bucket's size)
  X-RateLimit-Remaining  requests left after this one (whole tokens left)
  X-RateLimit-Reset      when the window ends (the bucket is full), per `reset_format`:
                         "seconds"    whole seconds until then, rounded up (default)
                         "epoch"      epoch seconds, rounded up
                         "epoch_down" epoch seconds, rounded down, as most servers write it: the window really
                                      ends up to a second after the time written
                         "epoch_ms"   epoch milliseconds
Over the quota the answer is 429 with the usual error body; `retry_after`
adds `Retry-After: <seconds until the window ends (the next token), rounded up>`.
"""

import math
import threading
import time

RESET_FORMATS = ("seconds", "epoch", "epoch_down", "epoch_ms")
MODELS = ("fixed_window", "token_bucket")
WINDOW_SECONDS = 60


class Quota:
    """Per-key request counting (see the module docstring)."""

    def __init__(self, per_minute=None, reset_format="seconds", retry_after=False, clock=time.time, model="fixed_window"):
        self.per_minute = per_minute  # None: no quota
        self.reset_format = reset_format
        self.retry_after = bool(retry_after)
        self.model = model
        self.clock = clock  # tests may replace it to move time on
        self.window_seconds = WINDOW_SECONDS  # for a token bucket: the time it takes to fill from empty
        self.rejected = 0  # 429s served because of the quota
        self._windows = {}  # key -> [window start (epoch seconds), requests counted] or [tokens, as of (epoch s)]
        self._lock = threading.Lock()

    @property
    def per_minute(self):
        """Requests per key per window, or None for no quota."""
        return self._per_minute

    @per_minute.setter
    def per_minute(self, value):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"quota_per_minute must be a positive integer or None, not {value!r}")
        self._per_minute = value

    @property
    def reset_format(self):
        """How X-RateLimit-Reset is written: one of RESET_FORMATS."""
        return self._reset_format

    @reset_format.setter
    def reset_format(self, value):
        if value not in RESET_FORMATS:
            raise ValueError(f"quota_reset_format must be one of {', '.join(RESET_FORMATS)}, not {value!r}")
        self._reset_format = value

    @property
    def model(self):
        """How requests are counted: one of MODELS."""
        return self._model

    @model.setter
    def model(self, value):
        if value not in MODELS:
            raise ValueError(f"quota_model must be one of {', '.join(MODELS)}, not {value!r}")
        self._model = value

    @property
    def enabled(self) -> bool:
        """Whether a quota is set."""
        return self._per_minute is not None

    def admit(self, key):
        """(allowed, headers) for one request with this key; an allowed request is counted."""
        with self._lock:
            now = self.clock()
            if self._model == "token_bucket":
                allowed, remaining, ends, retry_at = self._take_token(key, now)
            else:
                allowed, remaining, ends = self._count_in_window(key, now)
                retry_at = ends
            if not allowed:
                self.rejected += 1
            return allowed, self._headers(remaining, ends, now, allowed, retry_at)

    def _count_in_window(self, key, now):
        window = self._windows.get(key)
        if window is None or now >= window[0] + self.window_seconds:
            window = self._windows[key] = [now, 0]
        allowed = window[1] < self._per_minute
        if allowed:
            window[1] += 1
        return allowed, self._per_minute - window[1], window[0] + self.window_seconds

    def _take_token(self, key, now):
        tokens = self._tokens(key, now)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._windows[key] = [tokens, now]
        seconds_per_token = self.window_seconds / self._per_minute
        ends = now + (self._per_minute - tokens) * seconds_per_token
        return allowed, int(tokens), ends, now + max(0.0, 1 - tokens) * seconds_per_token

    def _tokens(self, key, now):
        bucket = self._windows.get(key)
        if bucket is None:
            return float(self._per_minute)
        tokens, as_of = bucket
        return min(float(self._per_minute), tokens + (now - as_of) * self._per_minute / self.window_seconds)

    def refund(self, key):
        """Uncount a request (it was answered with an injected 429)."""
        with self._lock:
            window = self._windows.get(key)
            if window and self._model == "token_bucket":
                window[0] = min(float(self._per_minute), window[0] + 1)
            elif window and window[1] > 0:
                window[1] -= 1

    def reset(self):
        """Forget every key's window and the 429 count."""
        with self._lock:
            self._windows.clear()
            self.rejected = 0

    def _headers(self, remaining, ends, now, allowed, retry_at):
        seconds = max(1, math.ceil(ends - now))
        reset = {"seconds": seconds, "epoch": math.ceil(ends), "epoch_down": math.floor(ends),
                 "epoch_ms": math.ceil(ends * 1000)}[self._reset_format]
        headers = {
            "X-RateLimit-Limit": str(self._per_minute),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
        if not allowed and self.retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(retry_at - now)))
        return headers
