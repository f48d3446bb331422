"""FakePeriskope: the HTTP server's lifecycle and its Python API for tests.

The server answers each request with handler.RequestHandler (which documents
the order of the steps for one /v1 request and renders faults); the staging
helpers (deliver_late, disconnect, ...) come from situations.py.
"""

import ipaddress
import threading
import time
from collections import Counter
from http.server import ThreadingHTTPServer

from .faults import FaultSettings
from .handler import RequestHandler, api_path
from .labelshape import check_shape
from .quota import Quota
from .schedule import RequestSchedule
from .situations import Situations
from .store import Organisation, PHONE_STREAMS, STREAMS

DEFAULT_API_KEY = "test-api-key"
OTHER_ORG_KEY = "other-org-key"
OTHER_ORG_PHONE = "14155550123"
OTHER_ORG_SIZES = {"chats": 5, "messages": 40, "notifications": 5, "notes": 5, "reactions": 5, "tickets": 5, "contacts": 10}
RATE_LIMIT_WINDOW_SECONDS = 60


def check_loopback(host):
    """Refuse to listen anywhere but this machine: the fake has no real auth."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"refusing to listen on non-loopback host {host!r}")


class FakePeriskope(Situations):
    """An in-process fake of the Periskope REST API (see the package docstring)."""

    def __init__(
        self,
        seed=42,
        sizes=None,
        latency_ms=0,
        *,
        host="127.0.0.1",
        port=0,
        api_key=DEFAULT_API_KEY,
        now=None,
        connected_phones=2,
        disconnected_phones=0,
        notifications_key="messages",
        count_is_total=False,
        omit_count=False,
        strict_limit=False,
        json_strings=True,
        faults=None,
        rate_limit_per_minute=6000,
        odd_text=True,
        labels_shape="mixed",
        quiet_phones=0,
        history_age_seconds=0,
        quota_per_minute=None,
        quota_reset_format="seconds",
        quota_retry_after=False,
        unstable_ties=False,
        hide_soft_deleted=False,
        unpaired_phones=0,
        unreadable_phones=0,
        clock_behind_seconds=0,
        quota_model="fixed_window",
    ):
        check_loopback(host)
        self.host = host
        self.port = port
        self.api_key = api_key
        self.latency_ms = latency_ms
        # Switches for contract ambiguities; they may be changed while serving.
        self.notifications_key = notifications_key
        self.count_is_total = count_is_total
        self.omit_count = omit_count
        self.strict_limit = strict_limit
        self.rate_limit_per_minute = rate_limit_per_minute
        # The order among records of the same second is not documented: with unstable_ties it changes per request.
        self.unstable_ties = unstable_ties
        # Whether the lists leave soft-deleted rows out (the row then leaves the list, as with a hard delete).
        self.hide_soft_deleted = hide_soft_deleted
        # Phones /phones/all lists but no x-phone can read (401): not paired yet, or not the key's to read.
        self.unpaired_phones = unpaired_phones
        self.unreadable_phones = unreadable_phones
        self.quota = Quota(quota_per_minute, quota_reset_format, quota_retry_after, model=quota_model)
        self.faults = faults or FaultSettings()
        self.on_request = None
        self.schedule = RequestSchedule()
        self.request_log = []
        self.request_times = []  # epoch seconds each request_log entry was answered, in the same order
        self.request_faults = []  # the fault injected into each request_log entry (None: none), in the same order
        self.outside_api_requests = Counter()  # path -> requests not under /v1 (answered 404)
        self._clock_behind_seconds = self._checked_clock_behind(clock_behind_seconds)
        self._org_options = dict(seed=seed, sizes=sizes, now=now, connected_phones=connected_phones,
                                 disconnected_phones=disconnected_phones, json_strings=json_strings,
                                 odd_text=bool(odd_text), labels_shape=check_shape(labels_shape),
                                 quiet_phones=quiet_phones, history_age_seconds=history_age_seconds)
        self._build_organisations()
        self._log_lock = threading.Lock()
        self._request_number = 0
        self._window = (0, 0)  # (window start second, requests in it) for X-RateLimit-*
        self._httpd = None
        self._thread = None

    # -- lifecycle ------------------------------------------------------------------
    def start(self):
        self._httpd = ThreadingHTTPServer((self.host, self.port), RequestHandler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        # A short poll interval makes stop() quick (tests start and stop many servers).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-periskope", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self):
        return self if self._httpd else self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}/v1"

    @property
    def phones(self):
        """The organisation's phones: number, phone_id, org_phone and wa_state; connected ones first."""
        return [phone.public_info() for phone in self.org.phones]

    @property
    def now_us(self):
        return self.org.now_us

    def organisation_for_key(self, key):
        return self._keys.get(key)

    def _build_organisations(self):
        options = self._org_options
        self.org = Organisation(**options)
        # A second organisation, so tests can show that a phone of another org is refused.
        self.other_org = Organisation(
            options["seed"] + 1, OTHER_ORG_SIZES, now=options["now"] or self.org.now_us / 1e6, connected_phones=1,
            phone_numbers=[OTHER_ORG_PHONE], json_strings=options["json_strings"], odd_text=options["odd_text"],
            labels_shape=options["labels_shape"],
        )
        self._keys = {self.api_key: self.org, OTHER_ORG_KEY: self.other_org}
        for org in self._keys.values():
            org.set_clock_behind(self._clock_behind_seconds)

    # -- data switches (changing one rebuilds the data from the seed: earlier changes are lost) --
    @property
    def odd_text(self):
        """Whether bodies and names sometimes hold odd text (oddtext.py)."""
        return self._org_options["odd_text"]

    @odd_text.setter
    def odd_text(self, value):
        self._rebuild_with(odd_text=bool(value))

    @property
    def labels_shape(self):
        """"array", "string" or "mixed": the shape of `labels` (labelshape.py)."""
        return self._org_options["labels_shape"]

    @labels_shape.setter
    def labels_shape(self, value):
        self._rebuild_with(labels_shape=check_shape(value))

    def _rebuild_with(self, **changes):
        if any(self._org_options[name] != value for name, value in changes.items()):
            self._org_options.update(changes)
            self._build_organisations()

    # -- the server's clock --------------------------------------------------------------
    @property
    def clock_behind_seconds(self):
        """How far the server's clock runs behind real time (or behind `now`): it dates changed records and the
        Date header of every response. 0: on time."""
        return self._clock_behind_seconds

    @clock_behind_seconds.setter
    def clock_behind_seconds(self, value):
        self._clock_behind_seconds = self._checked_clock_behind(value)
        for org in self._keys.values():
            org.set_clock_behind(self._clock_behind_seconds)

    @staticmethod
    def _checked_clock_behind(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"clock_behind_seconds must be a number of seconds >= 0, not {value!r}")
        return float(value)

    def clock_seconds(self):
        """The server's clock, in epoch seconds (what its Date header says)."""
        return self.org.clock_us() / 1e6

    # -- the request quota (quota.py) ---------------------------------------------------
    @property
    def rate_limit_per_minute(self):
        """The limit the X-RateLimit-* headers announce while no quota is set (informational: nothing enforced)."""
        return self._rate_limit_per_minute

    @rate_limit_per_minute.setter
    def rate_limit_per_minute(self, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"rate_limit_per_minute must be a positive integer, not {value!r}")
        self._rate_limit_per_minute = value

    @property
    def quota_per_minute(self):
        """Requests per key per 60-second window, or None for no quota."""
        return self.quota.per_minute

    @quota_per_minute.setter
    def quota_per_minute(self, value):
        self.quota.per_minute = value

    @property
    def quota_reset_format(self):
        """How X-RateLimit-Reset is written under a quota: "seconds", "epoch" or "epoch_ms"."""
        return self.quota.reset_format

    @quota_reset_format.setter
    def quota_reset_format(self, value):
        self.quota.reset_format = value

    @property
    def quota_retry_after(self):
        """Whether a quota 429 carries Retry-After."""
        return self.quota.retry_after

    @quota_retry_after.setter
    def quota_retry_after(self, value):
        self.quota.retry_after = bool(value)

    @property
    def quota_model(self):
        """How the quota counts: "fixed_window" or "token_bucket" (quota.py)."""
        return self.quota.model

    @quota_model.setter
    def quota_model(self, value):
        self.quota.model = value

    def record_counts(self):
        """{stream: count} for the org-level streams, {stream: {number: count}} for the phone-scoped ones."""
        with self.org.lock:
            counts = {}
            for stream in STREAMS:
                if stream in PHONE_STREAMS:
                    counts[stream] = {p.number: len(self.org.stream(stream, p)) for p in self.org.phones}
                else:
                    counts[stream] = len(self.org.stream(stream))
            return counts

    def quota_429_count(self):
        """How many 429s the quota has served (injected 429 faults are in faults.served)."""
        return self.quota.rejected

    def _limit_headers(self, key):
        """(allowed, X-RateLimit-* headers) for one /v1 request: the quota's, or the informational ones."""
        if self.quota.enabled:
            return self.quota.admit(key)
        return True, self.rate_limit_headers()

    # -- records --------------------------------------------------------------------
    def records(self, stream, phone=None):
        return self.org.records(stream, phone)

    def add_record(self, stream, phone=None, **overrides):
        return self.org.add_record(stream, phone, **overrides)

    def update_record(self, stream, key, phone=None, **changes):
        return self.org.update_record(stream, key, phone, **changes)

    # -- request accounting ----------------------------------------------------------
    def request_count(self, path=None, phone=None):
        """API requests served, optionally for one path (e.g. "/chats/messages") and/or x-phone."""
        path = api_path(path) if path else None
        wanted_phone = self.org.resolve_phone(phone) if phone is not None else None
        with self._log_lock:
            entries = list(self.request_log)
        count = 0
        for _method, logged_path, _query, x_phone, _status in entries:
            if path is not None and logged_path != path:
                continue
            if phone is not None and x_phone != phone and self.org.resolve_phone(x_phone) != wanted_phone:
                continue
            count += 1
        return count

    def reset_counts(self):
        with self._log_lock:
            self.request_log.clear()
            self.request_times.clear()
            self.request_faults.clear()
            self.outside_api_requests.clear()
            self._request_number = 0
        self.faults.served.clear()
        self.quota.reset()

    def stats(self):
        with self._log_lock:
            entries = list(self.request_log)
        return {
            "requests": len(entries),
            "by_path": dict(Counter(entry[1] for entry in entries)),
            "by_status": {str(k): v for k, v in Counter(entry[4] for entry in entries).items()},
            "by_phone": {str(k): v for k, v in Counter(entry[3] for entry in entries).items()},
            "outside_api_requests": dict(self.outside_api_requests),
            "faults_served": dict(self.faults.served),
            "faults_pending": self.faults.pending,
            "quota": {"per_minute": self.quota_per_minute, "reset_format": self.quota_reset_format,
                      "retry_after": self.quota_retry_after, "model": self.quota_model},
            "quota_429s": self.quota_429_count(),
            "base_url": self.base_url,
            "api_key": self.api_key,
            "phones": self.phones,
        }

    def _next_request_number(self):
        with self._log_lock:
            self._request_number += 1
            return self._request_number

    def _log(self, entry, fault=None):
        with self._log_lock:
            self.request_log.append(entry)
            self.request_times.append(time.time())
            self.request_faults.append(fault)

    def rate_limit_headers(self, remaining=None, reset=None, count=True):
        """X-RateLimit-* for this moment, counting this request unless count=False.

        Used when no quota is set (quota.py enforces one): then the limit is
        informational (never enforced); Reset is the seconds until
        the current one-minute window ends (INFERRED units: the contract has none).
        """
        now = time.time()
        window_start = int(now) - int(now) % RATE_LIMIT_WINDOW_SECONDS
        with self._log_lock:
            start, used = self._window
            used = (used + (1 if count else 0)) if start == window_start else int(count)
            self._window = (window_start, used)
        limit = self.rate_limit_per_minute
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used) if remaining is None else remaining),
            "X-RateLimit-Reset": str(window_start + RATE_LIMIT_WINDOW_SECONDS - int(now) if reset is None else reset),
        }
