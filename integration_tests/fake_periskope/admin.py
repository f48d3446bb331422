"""The admin API under /_admin/ (no auth, not under /v1, never faulted or logged).

  GET   /_admin/stats                     request counts, faults served and pending, phones
  GET   /_admin/faults                    current fault settings
  POST  /_admin/faults                    set them: {"rate", "kinds", "seed", "slow_seconds",
                                          "retry_after_seconds", "queue": [{"kind", "count",
                                          "path_contains"}], "clear": true}
  POST  /_admin/settings                  switches: {"notifications_key", "count_is_total",
                                          "omit_count", "strict_limit", "latency_ms",
                                          "quota_per_minute", "quota_reset_format",
                                          "quota_retry_after", "quota_model", "odd_text",
                                          "labels_shape", "rate_limit_per_minute", "unstable_ties",
                                          "hide_soft_deleted", "unpaired_phones",
                                          "unreadable_phones", "clock_behind_seconds"}
                                          (changing odd_text or labels_shape rebuilds the
                                          data from the seed: earlier changes are lost)
  GET   /_admin/requests                  the request log: method, path, query, x-phone, status, time and
                                          injected fault (or null) of each
  GET   /_admin/counts                    records per stream, per phone number for the phone-scoped ones
  POST  /_admin/reset_counts              forget the request log and fault counts
  GET   /_admin/records/{stream}?phone=   every current record of a stream
  POST  /_admin/records/{stream}          add one: {"phone": ..., <field overrides>}
  PATCH /_admin/records/{stream}/{key}    update one: {"phone": ..., <changed fields>}
"""

from urllib.parse import unquote

import orjson

SWITCHES = (
    "notifications_key", "count_is_total", "omit_count", "strict_limit", "latency_ms",
    "quota_per_minute", "quota_reset_format", "quota_retry_after", "quota_model", "odd_text", "labels_shape",
    "rate_limit_per_minute",  # the X-RateLimit-* headers' limit while no quota is set (nothing enforced)
    "unstable_ties",  # records of the same second come in another order on each request
    "hide_soft_deleted",  # lists leave out rows with is_deleted: true
    "unpaired_phones",  # phones /phones/all lists without a number (not paired yet); x-phone by their id: 401
    "unreadable_phones",  # phones /phones/all lists with a number the key may not read: x-phone 401
    "clock_behind_seconds",  # the server's clock (changed records, the Date header) runs this far behind
)


def handle(fake, method, path, query, body):
    """(status, JSON-able payload) for an admin request."""
    parts = [unquote(p) for p in path.strip("/").split("/")][1:]  # drop "_admin"
    try:
        payload = orjson.loads(body) if body else {}
        return _route(fake, method, parts, query, payload)
    except (ValueError, TypeError, orjson.JSONDecodeError) as error:
        return 400, {"error": str(error)}
    except KeyError as error:
        return 404, {"error": str(error.args[0]) if error.args else "not found"}


def _route(fake, method, parts, query, payload):
    if parts == ["stats"] and method == "GET":
        return 200, fake.stats()
    if parts == ["faults"] and method == "GET":
        return 200, _fault_settings(fake)
    if parts == ["faults"] and method == "POST":
        fake.faults.configure(**payload)
        return 200, _fault_settings(fake)
    if parts == ["settings"] and method == "POST":
        return 200, _apply_switches(fake, payload)
    if parts == ["requests"] and method == "GET":
        with fake._log_lock:
            entries = list(zip(fake.request_log, fake.request_times, fake.request_faults))
        return 200, [{"method": m, "path": path, "query": q, "phone": phone, "status": status, "time": at, "fault": fault}
                     for (m, path, q, phone, status), at, fault in entries]
    if parts == ["counts"] and method == "GET":
        return 200, fake.record_counts()
    if parts == ["reset_counts"] and method == "POST":
        fake.reset_counts()
        return 200, {"ok": True}
    if len(parts) == 2 and parts[0] == "records" and method == "GET":
        return 200, fake.records(parts[1], query.get("phone") or None)
    if len(parts) == 2 and parts[0] == "records" and method == "POST":
        phone = payload.pop("phone", None)
        return 201, fake.add_record(parts[1], phone, **payload)
    if len(parts) == 3 and parts[0] == "records" and method == "PATCH":
        phone = payload.pop("phone", None)
        return 200, fake.update_record(parts[1], parts[2], phone, **payload)
    raise KeyError(f"no admin route {method} /_admin/{'/'.join(parts)}")


def _fault_settings(fake):
    faults = fake.faults
    return {
        "rate": faults.rate,
        "kinds": list(faults.kinds),
        "seed": faults.seed,
        "slow_seconds": faults.slow_seconds,
        "retry_after_seconds": faults.retry_after_seconds,
        "served": dict(faults.served),
        "pending": faults.pending,
    }


def _apply_switches(fake, payload):
    for name, value in payload.items():
        if name not in SWITCHES:
            raise ValueError(f"unknown setting {name!r}; known: {', '.join(SWITCHES)}")
        setattr(fake, name, value)
    return {name: getattr(fake, name) for name in SWITCHES}
