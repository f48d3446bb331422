"""Plain requests for the few calls made outside the declarative streams (check, phone discovery).

No retries and short timeouts: these run before a sync and must answer within seconds even when the host does not.
"""

from __future__ import annotations

import time
from typing import Any, List, Mapping, Optional, Sequence

import requests

from source_periskope.normalize import loads_json
from source_periskope.rate_limits import wait_from_headers

TIMEOUT_SECONDS = (5, 10)  # connect, read
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
ATTEMPTS = 3
MAX_WAIT_SECONDS = 5.0


class ApiProblem(Exception):
    """A failure a person can act on; the message never contains the API key."""


def get(config: Mapping[str, Any], path: str, phone: Optional[str] = None, **params: Any) -> requests.Response:
    """One GET, tried up to ATTEMPTS times on a rate limit, a server error or a connection problem, waiting at
    most a few seconds: check must answer within seconds even when the host does not (3 x 5 s connect timeout).
    """
    headers = {"Authorization": f"Bearer {config['api_key']}", "Accept": "application/json"}
    if phone:
        headers["x-phone"] = phone
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = requests.get(f"{config['base_url']}{path}", headers=headers, params=params, timeout=TIMEOUT_SECONDS)
        except requests.exceptions.RequestException as error:
            # A refused connection fails again at once; a reset or a timeout may not: both are tried again.
            if attempt == ATTEMPTS:
                raise ApiProblem(
                    f"Could not reach Periskope at {config['base_url']} ({type(error).__name__}). "
                    "Check base_url and that this machine can reach the API."
                ) from None
            time.sleep(0.2 * attempt)
            continue
        if response.status_code not in TRANSIENT_STATUSES or attempt == ATTEMPTS:
            return response
        time.sleep(_wait_seconds(response, attempt))
    return response


def _wait_seconds(response: requests.Response, attempt: int) -> float:
    said = wait_from_headers(response.status_code, response.headers, time.time())
    return min(max(said if said is not None else 0.5 * 2**attempt, 0.1), MAX_WAIT_SECONDS)


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


def organisation_phones(config: Mapping[str, Any]) -> List[Mapping[str, Any]]:
    """GET /phones/all: every phone of the key's organisation (an org-level call that needs only the key)."""
    response = get(config, "/phones/all")
    if response.status_code == 401:
        raise ApiProblem(
            "Periskope rejected the API key (401 Unauthorized). Copy a valid key from Settings > API in the "
            "Periskope console."
        )
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
