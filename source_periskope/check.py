"""The connection check: cheap requests that tell apart the causes a user can fix.

The API answers 401 both to a rejected key and to a phone outside the key's organisation, so the key is tried
first on an org-level endpoint (/phones/all), then each configured number on a phone-scoped one (/chats, one record).
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

from source_periskope.api import CHECK, ApiProblem, get, organisation_phones, phone_digits, server_message
from source_periskope.config import PHONES_KEY
from source_periskope.phone_numbers import configured, readable, resolve


def _describe(phones: List[Mapping[str, Any]]) -> str:
    return ", ".join(phone_digits(phone) or str(phone.get("phone_id")) for phone in phones) or "none"


def _check_phone(config: Mapping[str, Any], phone: str, organisation: List[Mapping[str, Any]]) -> None:
    response = get(config, "/chats", phone=phone, offset=0, limit=1)
    if response.status_code == 401:
        raise ApiProblem(
            f"Phone {phone} is not connected to this API key's organisation (401 for x-phone {phone}). "
            f"Numbers this key sees: {_describe(organisation)}."
        )
    if response.status_code == 422:
        raise ApiProblem(f"Periskope rejected phone {phone} (422): {server_message(response)}")
    if response.status_code != 200:
        raise ApiProblem(
            f"Periskope answered {response.status_code} to GET /chats for phone {phone}: {server_message(response)}".strip()
        )


def check_connection(config: Mapping[str, Any]) -> Tuple[bool, Optional[str], List[str]]:
    """(succeeded, the failure a person can act on, warnings). Every configured number is checked."""
    try:
        organisation = organisation_phones(config)
        numbers, warnings = resolve(config[PHONES_KEY], organisation, bool(config.get("sync_all_phones")))
        given = configured(config, organisation)
        discovered = [number for number in numbers if number not in given]
        numbers, skipped = readable(config, numbers, discovered, CHECK)
        warnings += skipped
        for phone in numbers:
            _check_phone(config, phone, organisation)
    except ApiProblem as failure:
        return False, str(failure), []
    return True, None, warnings
