"""Which WhatsApp numbers a sync reads, as x-phone values, each once.

The config may name a number by its digits or by its phone id, or ask for every connected phone; the state is
kept per number, so every number is read under one stable name: its digits, when /phones/all knows them.
"""

from __future__ import annotations

import logging
from typing import Any, List, Mapping, Tuple

from source_periskope.api import organisation_phones, phone_digits, sync_patience
from source_periskope.config import PHONES_KEY

logger = logging.getLogger("airbyte")


def needs_lookup(config: Mapping[str, Any]) -> bool:
    return bool(config.get("sync_all_phones")) or any(value.startswith("phone-") for value in config[PHONES_KEY])


def resolve(values: List[str], phones: List[Mapping[str, Any]], all_phones: bool) -> Tuple[List[str], List[str]]:
    """(the x-phone values to read, each once, digits preferred; warnings about disconnected numbers)."""
    digits_by_id = {phone.get("phone_id"): phone_digits(phone) for phone in phones}
    wanted = list(values)
    if all_phones:
        wanted += [phone_digits(phone) or str(phone.get("phone_id")) for phone in phones]
    resolved: List[str] = []
    for value in wanted:
        name = digits_by_id.get(value) or value
        if name not in resolved:
            resolved.append(name)
    disconnected = {
        phone_digits(phone) or str(phone.get("phone_id")) for phone in phones if phone.get("wa_state") == "DISCONNECTED"
    }
    warnings = [
        f"Phone {name} is DISCONNECTED in Periskope: its history is read, but nothing new arrives until it is reconnected."
        for name in resolved
        if name in disconnected
    ]
    return resolved, warnings


def phones_to_read(config: Mapping[str, Any]) -> List[str]:
    """The numbers this sync reads; asks /phones/all only when the config needs it."""
    if not needs_lookup(config):
        return list(config[PHONES_KEY])
    # No fallback to the phone ids as given when the list fails: the state is kept per number, so reading a number
    # under its phone id would save its state under another name and the next sync would read its history again.
    phones = organisation_phones(config, sync_patience(config))
    resolved, warnings = resolve(config[PHONES_KEY], phones, bool(config.get("sync_all_phones")))
    for warning in warnings:
        logger.warning(warning)
    logger.info(f"Reading {len(resolved)} WhatsApp number(s): {', '.join(resolved)}")
    return resolved
