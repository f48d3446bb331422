"""The API key goes only to Periskope, and only encrypted: a redirect off https or to another host is refused.

requests follows redirects on its own (it drops the Authorization header on a cross-host redirect, but would still
follow, and a redirect to http:// on the same host would carry the key in clear). Every request, the streams' and
the direct ones, gets this response hook: it runs before requests follows a redirect, and stops the request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.config import is_loopback


class UnsafeRedirect(AirbyteTracedException):
    """A redirect off https or to another host, refused."""


def refuse_unsafe_redirect(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    if not response.is_redirect:
        return response
    here = urlsplit(response.url)
    there = urlsplit(urljoin(response.url, response.headers.get("Location", "")))
    same_host = (there.hostname or "").lower() == (here.hostname or "").lower()
    encrypted = there.scheme == "https" or (there.scheme == "http" and is_loopback(there.hostname or "") and same_host)
    if same_host and encrypted:
        return response
    raise UnsafeRedirect(
        message=(
            f"Periskope answered {response.status_code} to {here.scheme}://{here.netloc}{here.path} with a redirect to "
            f"{there.scheme}://{there.netloc}{there.path}; refused: the API key goes only to the configured host, "
            "over https. Check base_url."
        ),
        failure_type=FailureType.config_error,
    )
