from __future__ import annotations

from typing import Any, Dict, List

API_KEY = "test-api-key-0123456789"
PHONE = "919876543210"
OTHER_PHONE = "918527184400"
BASE_URL = "https://api.periskope.app/v1"


class ConfigBuilder:
    """A valid connector config; tests change only what they are about."""

    def __init__(self) -> None:
        self._config: Dict[str, Any] = {
            "api_key": API_KEY,
            "phone_number": PHONE,
            "start_date": "2026-10-01T00:00:00Z",
            "window_days": 30,
            "page_size": 100,
        }

    def with_phone_number(self, phone: str) -> "ConfigBuilder":
        self._config["phone_number"] = phone
        return self

    def with_additional_phone_numbers(self, phones: List[str]) -> "ConfigBuilder":
        self._config["additional_phone_numbers"] = phones
        return self

    def with_start_date(self, start_date: str) -> "ConfigBuilder":
        self._config["start_date"] = start_date
        return self

    def without_start_date(self) -> "ConfigBuilder":
        self._config.pop("start_date", None)
        return self

    def with_page_size(self, page_size: int) -> "ConfigBuilder":
        self._config["page_size"] = page_size
        return self

    def with_window_days(self, days: int) -> "ConfigBuilder":
        self._config["window_days"] = days
        return self

    def with_lookback_days(self, days: int) -> "ConfigBuilder":
        self._config["lookback_days"] = days
        return self

    def with_values(self, **values: Any) -> "ConfigBuilder":
        self._config.update(values)
        return self

    def build(self) -> Dict[str, Any]:
        return dict(self._config)
