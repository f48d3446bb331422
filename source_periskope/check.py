"""The connection check: two cheap requests that tell apart the causes a user can fix.

The API answers 401 both to a rejected key and to a phone outside the key's organisation, so the key is tried
first on an org-level endpoint, then each phone on a phone-scoped one. No retries and short timeouts: check
must answer within seconds even when the host does not.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

import requests

from source_periskope.config import PHONES_KEY

TIMEOUT_SECONDS = (5, 10)  # connect, read


class CheckFailed(Exception):
    pass


def _get(config: Mapping[str, Any], path: str, phone: Optional[str] = None, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {config['api_key']}", "Accept": "application/json"}
    if phone:
        headers["x-phone"] = phone
    url = f"{config['base_url']}{path}"
    try:
        return requests.get(url, headers=headers, params=params, timeout=TIMEOUT_SECONDS)
    except requests.exceptions.RequestException as error:
        raise CheckFailed(
            f"Could not reach Periskope at {config['base_url']} ({type(error).__name__}). "
            "Check base_url and that this machine can reach the API."
        ) from None


def _server_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict):
        return " ".join(str(part) for part in (body.get("message"), body.get("fields")) if part)
    return ""


def _connected_phones(config: Mapping[str, Any]) -> List[Mapping[str, Any]]:
    response = _get(config, "/phones/all")
    if response.status_code == 401:
        raise CheckFailed(
            "Periskope rejected the API key (401 Unauthorized). Copy a valid key from Settings > API in the "
            "Periskope console."
        )
    if response.status_code != 200:
        raise CheckFailed(
            f"Periskope answered {response.status_code} to GET /phones/all: {_server_message(response)}".strip()
        )
    try:
        phones = response.json()
    except ValueError:
        raise CheckFailed(f"GET /phones/all at {config['base_url']} did not answer JSON: is base_url right?") from None
    return phones if isinstance(phones, list) else []


def _describe(phones: List[Mapping[str, Any]]) -> str:
    numbers = [str(p.get("org_phone") or "").split("@")[0] or str(p.get("phone_id")) for p in phones]
    return ", ".join(numbers) if numbers else "none"


def _check_phone(config: Mapping[str, Any], phone: str, connected: List[Mapping[str, Any]]) -> None:
    response = _get(config, "/chats", phone=phone, offset=0, limit=1)
    if response.status_code == 401:
        raise CheckFailed(
            f"Phone {phone} is not connected to this API key's organisation (401 for x-phone {phone}). "
            f"Numbers this key sees: {_describe(connected)}."
        )
    if response.status_code == 422:
        raise CheckFailed(f"Periskope rejected phone {phone} (422): {_server_message(response)}")
    if response.status_code != 200:
        raise CheckFailed(
            f"Periskope answered {response.status_code} to GET /chats for phone {phone}: "
            f"{_server_message(response)}".strip()
        )


def disconnected_phones(config: Mapping[str, Any], connected: List[Mapping[str, Any]]) -> List[str]:
    wanted = set(config[PHONES_KEY])
    return [
        str(phone.get("org_phone") or phone.get("phone_id"))
        for phone in connected
        if phone.get("wa_state") == "DISCONNECTED"
        and ({str(phone.get("org_phone") or "").split("@")[0], phone.get("phone_id")} & wanted)
    ]


def check_connection(config: Mapping[str, Any]) -> Tuple[bool, Optional[str], List[str]]:
    """(succeeded, the failure a person can act on, warnings)."""
    try:
        connected = _connected_phones(config)
        for phone in config[PHONES_KEY]:
            _check_phone(config, phone, connected)
    except CheckFailed as failure:
        return False, str(failure), []
    warnings = [
        f"Phone {phone} is DISCONNECTED in Periskope: its history is read, but nothing new arrives until it is "
        "reconnected."
        for phone in disconnected_phones(config, connected)
    ]
    return True, None, warnings
