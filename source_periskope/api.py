"""Plain requests for the calls made outside the declarative streams: the check, the phone list, the probes.

They go through the same pacing as the streams (pacing.py) and read the rate-limit headers the same way
(rate_limits.py); only their patience differs: the check must answer within seconds even when the host does not,
while a sync's probes may wait out a rate limit as the streams do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import requests

from source_periskope.normalize import loads_json
from source_periskope.pacing import SYNC_PATIENCE_SECONDS, pacer_for
from source_periskope.rate_limits import wait_from_headers
from source_periskope.redirects import UnsafeRedirect, refuse_unsafe_redirect
from source_periskope.server_clock import clock_for

TIMEOUT_SECONDS = (5, 10)  # connect, read
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
SYNC_RATE_LIMIT_RETRIES = 100  # each waits for the reset (or its Retry-After): far more than a quota ever needs


@dataclass(frozen=True)
class Patience:
    attempts: int
    max_wait_seconds: float  # per wait, for a turn in the pacing or before a retry
    timeout: Optional[Tuple[float, float]] = None  # connect, read; None: TIMEOUT_SECONDS
    rate_limit_retries: int = 0  # 429s retried without using up an attempt: a rate limit is a turn to wait, not a failure


CHECK = Patience(attempts=3, max_wait_seconds=5.0)  # check answers within seconds (3 x 5 s connect timeout)


def sync_patience(config: Mapping[str, Any]) -> Patience:
    """A sync's direct requests wait like its streams do: max_retries retries, minutes per wait, and the streams'
    timeouts (manifest: connect 10 s, read request_timeout_seconds). A probe that gave up sooner would make the sync
    read every window since the start."""
    return Patience(attempts=int(config.get("max_retries", 8)) + 1, max_wait_seconds=SYNC_PATIENCE_SECONDS,
                    timeout=(10, float(config.get("request_timeout_seconds", 60))),
                    rate_limit_retries=SYNC_RATE_LIMIT_RETRIES)


class ApiProblem(Exception):
    """A failure a person can act on; the message never contains the API key."""


class KeyProblem(ApiProblem):
    """A 401 or 403: the key (or a number) was refused. Only this is the user's config to change; anything else
    (a 5xx, a timeout) may clear by itself."""


def get(
    config: Mapping[str, Any], path: str, phone: Optional[str] = None, patience: Patience = CHECK, **params: Any
) -> requests.Response:
    """One GET, paced with every other request of the API key, tried again on a rate limit, a server error or a
    connection problem, as patiently as the caller asks."""
    headers = {"Authorization": f"Bearer {config['api_key']}", "Accept": "application/json"}
    if phone:
        headers["x-phone"] = phone
    pacer = pacer_for(config["base_url"], config["api_key"])
    attempt, tries, rate_limits_left = 0, 0, patience.rate_limit_retries
    while True:
        attempt, tries = attempt + 1, tries + 1
        number = pacer.wait_turn(patience.max_wait_seconds)
        try:
            response = requests.get(f"{config['base_url']}{path}", headers=headers, params=params, timeout=patience.timeout or TIMEOUT_SECONDS,
                                    hooks={"response": refuse_unsafe_redirect})
        except UnsafeRedirect as refused:
            pacer.release(number)
            raise ApiProblem(refused.message) from None
        except requests.exceptions.RequestException as error:
            pacer.release(number)  # no answer: it no longer counts in flight
            # A refused connection fails again at once; a reset or a timeout may not: both are tried again.
            if attempt == patience.attempts:
                raise ApiProblem(
                    f"Could not reach Periskope at {config['base_url']} ({type(error).__name__}). "
                    "Check base_url and that this machine can reach the API."
                ) from None
            time.sleep(min(0.2 * attempt, patience.max_wait_seconds))
            continue
        pacer.observe(number, response.status_code, response.headers)
        clock_for(config["base_url"]).observe(response.headers)
        if response.status_code == 429 and rate_limits_left > 0:
            attempt, rate_limits_left = attempt - 1, rate_limits_left - 1
        elif response.status_code not in TRANSIENT_STATUSES or attempt >= patience.attempts:
            return response
        time.sleep(_wait_seconds(response, tries, patience))


def _wait_seconds(response: requests.Response, attempt: int, patience: Patience) -> float:
    said = wait_from_headers(response.status_code, response.headers, time.time())
    return min(max(said if said is not None else 0.5 * 2 ** min(attempt, 8), 0.1), patience.max_wait_seconds)


def records_of(response: requests.Response, records_keys: Sequence[str]) -> List[Any]:
    """The records of a list response (an envelope with one of `records_keys`, or a bare array)."""
    try:
        body, _ = loads_json(response.content)
    except ValueError:
        raise ApiProblem(f"{response.request.path_url if response.request else 'a response'} did not answer JSON") from None
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in records_keys:
            if isinstance(body.get(key), list):
                return body[key]
        if isinstance(body.get("count"), int) and body["count"] > 0:
            raise ApiProblem(f"count is {body['count']} but no records")
        if {"count", "from", "to"} & body.keys():
            return []
    raise ApiProblem("an answer that is not a list envelope")


def server_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict):
        return " ".join(str(part) for part in (body.get("message"), body.get("fields")) if part)
    return ""


def organisation_phones(config: Mapping[str, Any], patience: Patience = CHECK) -> List[Mapping[str, Any]]:
    """GET /phones/all: every phone of the key's organisation (an org-level call that needs only the key)."""
    response = get(config, "/phones/all", patience=patience)
    if response.status_code == 401:
        raise KeyProblem(
            "Periskope rejected the API key (401 Unauthorized). Copy a valid key from Settings > API in the "
            "Periskope console."
        )
    if response.status_code == 403:
        raise KeyProblem(f"Periskope refused GET /phones/all (403 Forbidden): {server_message(response)}".strip())
    if response.status_code != 200:
        raise ApiProblem(f"Periskope answered {response.status_code} to GET /phones/all: {server_message(response)}".strip())
    try:
        phones = response.json()
    except ValueError:
        raise ApiProblem(f"GET /phones/all at {config['base_url']} did not answer JSON: is base_url right?") from None
    if not isinstance(phones, list):
        raise ApiProblem("GET /phones/all did not answer a list of phones.")
    return [phone for phone in phones if isinstance(phone, dict)]


def phone_digits(phone: Mapping[str, Any]) -> str:
    """'918527184400@c.us' -> '918527184400' (empty when the phone has no number yet)."""
    return str(phone.get("org_phone") or "").split("@")[0]
