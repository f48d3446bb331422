"""Which WhatsApp numbers a sync reads, as x-phone values, each once.

The config may name a number by its digits or by its phone id, or ask for every connected phone; the state is
kept per number, so every number is read under one stable name: its digits, when /phones/all knows them.
"""

from __future__ import annotations

import logging
from typing import Any, List, Mapping, Tuple

from source_periskope.api import Patience, get, organisation_phones, phone_digits, sync_patience
from source_periskope.config import PHONES_KEY

logger = logging.getLogger("airbyte")


def needs_lookup(config: Mapping[str, Any]) -> bool:
    return bool(config.get("sync_all_phones")) or any(value.startswith("phone-") for value in config[PHONES_KEY])


def resolve(values: List[str], phones: List[Mapping[str, Any]], all_phones: bool) -> Tuple[List[str], List[str]]:
    """(the x-phone values to read, each once, digits preferred, the configured ones first; warnings about
    disconnected numbers and about discovered phones without a number, which are skipped)."""
    digits_by_id = {phone.get("phone_id"): phone_digits(phone) for phone in phones}
    resolved: List[str] = []
    for value in values:
        name = digits_by_id.get(value) or value
        if name not in resolved:
            resolved.append(name)
    warnings = []
    if all_phones:
        for phone in phones:
            if not phone_digits(phone):
                warnings.append(
                    f"Phone {phone.get('phone_id')} is listed by /phones/all without a number (not paired yet?): "
                    "skipped until it has one."
                )
            elif phone_digits(phone) not in resolved:
                resolved.append(phone_digits(phone))
    disconnected = {
        phone_digits(phone) or str(phone.get("phone_id")) for phone in phones if phone.get("wa_state") == "DISCONNECTED"
    }
    warnings += [
        f"Phone {name} is DISCONNECTED in Periskope: its history is read, but nothing new arrives until it is reconnected."
        for name in resolved
        if name in disconnected
    ]
    return resolved, warnings


def configured(config: Mapping[str, Any], phones: List[Mapping[str, Any]]) -> List[str]:
    """The configured numbers among the resolved ones (the others were discovered by sync_all_phones)."""
    return resolve(config[PHONES_KEY], phones, all_phones=False)[0]


# 401: a phone of another account; 403: refused; 422: a number the API will not take as x-phone.
UNREADABLE_STATUSES = (401, 403, 422)


def readable(config: Mapping[str, Any], numbers: List[str], discovered: List[str], patience: Patience) -> Tuple[List[str], List[str]]:
    """(the numbers without the discovered ones that the key cannot read, a warning for each of those). One
    `limit=1` request per discovered number: a phone listed by /phones/all that the key may not read must not fail
    every phone-scoped stream; a configured one stays an error (the check and the streams report it)."""
    kept, warnings = [], []
    for number in numbers:
        if number in discovered:
            response = get(config, "/chats", phone=number, patience=patience, offset=0, limit=1)
            if response.status_code in UNREADABLE_STATUSES:
                warnings.append(
                    f"Phone {number} is listed by /phones/all but this API key cannot read it (HTTP "
                    f"{response.status_code} for x-phone {number}): skipped. Add it to the configured numbers to make "
                    "this an error instead."
                )
                continue
        kept.append(number)
    return kept, warnings


def phones_to_read(config: Mapping[str, Any]) -> List[str]:
    """The numbers this sync reads; asks /phones/all only when the config needs it."""
    if not needs_lookup(config):
        return list(config[PHONES_KEY])
    # No fallback to the phone ids as given when the list fails: the state is kept per number, so reading a number
    # under its phone id would save its state under another name and the next sync would read its history again.
    phones = organisation_phones(config, sync_patience(config))
    resolved, warnings = resolve(config[PHONES_KEY], phones, bool(config.get("sync_all_phones")))
    given = configured(config, phones)
    discovered = [number for number in resolved if number not in given]
    resolved, skipped = readable(config, resolved, discovered, sync_patience(config))
    for warning in warnings + skipped:
        logger.warning(warning)
    logger.info(f"Reading {len(resolved)} WhatsApp number(s): {', '.join(resolved)}")
    return resolved
