"""ErrorHandlerThatTrustsSuccess: the default handler's answers, without evaluating filters on a 2xx response."""

import io

import pytest
import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler

from source_periskope.components import ErrorHandlerThatTrustsSuccess


@pytest.mark.parametrize("status", [200, 201, 204])
def test_trusting_success_resolves_2xx_as_the_default_handler_does(status):
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(b'{"code": "VALIDATION_ERROR", "fields": {"limit": {}}}')
    default = DefaultErrorHandler(config={}, parameters={}).interpret_response(response)
    assert ErrorHandlerThatTrustsSuccess(config={}, parameters={}).interpret_response(response) == default
