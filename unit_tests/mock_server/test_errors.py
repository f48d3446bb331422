"""Rate limits, server faults and bad responses: retried when they can clear, clear errors when they cannot."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from freezegun import freeze_time

from unit_tests.key_leaks import assert_no_key
from unit_tests.mock_server.config import API_KEY, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import SECOND_OFFSET, error, example_records, offset_pages, page, records
from unit_tests.mock_server.utils import MockedApi, read_stream

NOW = "2026-11-15T12:00:00Z"
NOW_EPOCH = 1794744000  # NOW as epoch seconds


def tickets_request(offset=0):
    return PeriskopeRequestBuilder.for_stream("tickets").with_page(offset).build()


def stream_error(output, stream):
    """The error the failing stream reported (the sync's summary error follows it)."""
    return next(e.trace.error for e in output.errors if e.trace.error.stream_descriptor and e.trace.error.stream_descriptor.name == stream)


def everything_printed(output):
    return "\n".join(str(message) for message in [*output.logs, *output.trace_messages, *output.records_and_state_messages])


def read_tickets(expect_error=False):
    return read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build(), expect_error=expect_error)


@freeze_time(NOW)
def test_429_waits_as_retry_after_says_then_succeeds():
    with MockedApi() as http:
        http.get(tickets_request(), [error(429, headers={"Retry-After": "7"}), page("tickets", example_records("tickets"))])
        output = read_tickets()

    assert len(output.records) == 2
    assert output.is_in_logs(r"Stream tickets: HTTP 429 from /v1/tickets; retrying in 7.0 s")


@freeze_time(NOW)
def test_429_with_an_http_date_retry_after():
    with MockedApi() as http:
        http.get(tickets_request(), [error(429, headers={"Retry-After": "Sun, 15 Nov 2026 12:00:30 GMT"}),
                                     page("tickets", example_records("tickets"))])
        output = read_tickets()

    assert output.is_in_logs(r"retrying in 30.0 s")


@freeze_time(NOW)
def test_429_with_an_epoch_rate_limit_reset():
    with MockedApi() as http:
        http.get(tickets_request(), [error(429, headers={"X-RateLimit-Reset": str(NOW_EPOCH + 12)}),
                                     page("tickets", example_records("tickets"))])
        output = read_tickets()

    assert output.is_in_logs(r"retrying in 13.0 s")  # a whole epoch second: until its end


@freeze_time(NOW)
def test_429_with_seconds_to_reset():
    with MockedApi() as http:
        http.get(tickets_request(), [error(429, headers={"X-RateLimit-Reset": "4"}), page("tickets", example_records("tickets"))])
        output = read_tickets()

    assert output.is_in_logs(r"retrying in 5.0 s")  # whole seconds to wait: until the end of the fourth


@freeze_time(NOW)
def test_429_without_headers_backs_off_exponentially():
    with MockedApi() as http:
        http.get(tickets_request(), [error(429), error(429), page("tickets", example_records("tickets"))])
        output = read_tickets()

    assert len(output.records) == 2
    assert output.is_in_logs(r"attempt 2\)")


@freeze_time(NOW)
def test_server_errors_are_retried():
    with MockedApi() as http:
        http.get(tickets_request(), [error(500), error(502), error(503), error(504), page("tickets", example_records("tickets"))])
        output = read_tickets()

    assert len(output.records) == 2


@freeze_time(NOW)
def test_persistent_server_errors_fail_the_stream_with_a_clear_error():
    with MockedApi() as http:
        http.get(tickets_request(), [error(503)] * 9)
        output = read_tickets(expect_error=True)

    assert output.errors, "the sync must fail, not succeed with records missing"
    assert "tickets" in output.get_formatted_error_message()


@freeze_time(NOW)
def test_401_is_a_config_error_a_person_can_act_on():
    with MockedApi() as http:
        http.get(tickets_request(), error(401, {"message": "Invalid API key"}))
        output = read_tickets(expect_error=True)

    failure = stream_error(output, "tickets")
    assert failure.failure_type.value == "config_error"
    assert "the API key was rejected" in failure.message
    assert_no_key(everything_printed(output), API_KEY)


@freeze_time(NOW)
def test_422_shows_the_servers_message():
    body = {"code": "VALIDATION_ERROR", "fields": {"x-phone": {"message": "Please provide the number of the phone ..."}},
            "message": "Missing Header: {x-phone}", "name": "Validation Error", "status": 422}
    with MockedApi() as http:
        http.get(tickets_request(), error(422, body))
        output = read_tickets(expect_error=True)

    failure = stream_error(output, "tickets")
    assert failure.failure_type.value == "config_error"
    assert "Missing Header: {x-phone}" in failure.message and "/v1/tickets" in failure.message


@freeze_time(NOW)
def test_a_422_about_the_limit_lowers_it_to_the_bound_it_names_and_goes_on():
    too_large = {"code": "VALIDATION_ERROR", "fields": {"limit": {"message": "Limit should be less than 2000", "value": "2000"}},
                 "message": "Limit should be less than 2000", "name": "Validation Error", "status": 422}
    config = ConfigBuilder().with_page_size(2000).build()
    request = lambda offset, limit: PeriskopeRequestBuilder.for_stream("tickets").with_page(offset, limit).build()
    with MockedApi() as http:
        listed = records("tickets", 1999) + records("tickets", 3, newest="2020-01-01T00:00:00+00:00", ticket_id="old")
        listed[-3:] = [dict(r, ticket_id=f"old-{n}") for n, r in enumerate(listed[-3:])]
        http.get(request(0, 2000), error(422, too_large))  # once: "less than 2000" means 1,999, not 1,000
        for offset, tickets in offset_pages(listed, limit=1999):
            http.get(request(offset, 1999), page("tickets", tickets, offset=offset))
        output = read_stream("tickets", SyncMode.full_refresh, config)

    assert len(output.records) == 2002
    assert len(http._mocker.request_history) == 3  # the refusal cost one request


@freeze_time(NOW)
def test_an_html_page_with_status_200_fails_naming_the_stream_and_path():
    with MockedApi() as http:
        http.get(tickets_request(), HttpResponse("<html><body>Bad gateway</body></html>", 200))
        output = read_tickets(expect_error=True)

    assert "Stream tickets: Periskope sent an unexpected response to /v1/tickets: an HTML page" in output.get_formatted_error_message()


@freeze_time(NOW)
def test_a_page_that_claims_records_but_has_none_fails_instead_of_ending_the_list():
    with MockedApi() as http:
        http.get(tickets_request(), page("tickets", records("tickets", 100)))
        http.get(tickets_request(SECOND_OFFSET), HttpResponse('{"from": 91, "to": 150, "count": 60}', 200))
        output = read_tickets(expect_error=True)

    assert "count is 60 but no 'tickets' key" in output.get_formatted_error_message()
    assert len(output.records) == 100


@freeze_time(NOW)
def test_a_server_that_ignores_offset_is_stopped_not_read_forever():
    same_page = page("tickets", records("tickets", 100))
    with MockedApi() as http:
        http.get(tickets_request(0), same_page)
        http.get(tickets_request(SECOND_OFFSET), same_page)
        output = read_tickets(expect_error=True)

    assert "returned the same page for offset 90 of /v1/tickets as for the offset before" in output.get_formatted_error_message()


@freeze_time(NOW)
def test_a_server_error_does_not_wait_for_the_rate_limit_window_every_response_carries():
    with MockedApi() as http:
        http.get(tickets_request(), [error(500, headers={"X-RateLimit-Reset": "59"}), page("tickets", example_records("tickets"))])
        output = read_tickets()

    assert len(output.records) == 2
    assert not output.is_in_logs(r"retrying in 59")


@freeze_time(NOW)
def test_an_object_that_is_no_list_envelope_fails_instead_of_passing_for_an_empty_page():
    with MockedApi() as http:
        http.get(tickets_request(), HttpResponse('{"status": "ok"}', 200))
        output = read_tickets(expect_error=True)

    assert "Stream tickets: Periskope sent an unexpected response to /v1/tickets: an object without 'tickets', count, from or to" in (
        output.get_formatted_error_message()
    )


@freeze_time(NOW)
def test_a_redirect_to_another_host_or_off_https_is_refused_and_the_key_is_not_sent():
    for location in ("https://evil.example.com/v1/tickets", "http://api.periskope.app/v1/tickets"):
        with MockedApi() as http:
            http.get(tickets_request(), HttpResponse("", 302, {"Location": location}))
            output = read_tickets(expect_error=True)

        message = output.get_formatted_error_message()
        assert f"with a redirect to {location.split('?')[0]}; refused: the API key goes only to the configured host, over https" in message


@freeze_time(NOW)
def test_a_redirect_on_the_same_host_over_https_is_followed():
    with MockedApi() as http:
        http.get(HttpRequest(url="https://api.periskope.app/v1/tickets", query_params={"offset": "0", "limit": "100"}),
                 [HttpResponse("", 301, {"Location": "https://api.periskope.app/v1/tickets/?offset=0&limit=100"})])
        http.get(HttpRequest(url="https://api.periskope.app/v1/tickets/", query_params={"offset": "0", "limit": "100"}),
                 page("tickets", example_records("tickets")))
        output = read_tickets()

    assert len(output.records) == 2
