"""A page size the API refuses: learned once per sync and endpoint, probes included (issue 19, item 5).

The docs say both "Maximum 2000" and "Limit should be less than 2000"; the fake's `strict_limit` takes the second
reading. A full refresh at page_size 2000 used to make the probes fail on the 422 and read every 30-day window since
2009, each window meeting the 422 again before halving: hundreds of requests, on every sync, for a stream with no
records at all.
"""

from collections import Counter

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.support.connector import configured_catalog, run
from integration_tests.support.servers import connector_config


def test_a_refused_page_size_costs_one_request_per_endpoint_and_every_record_is_read():
    with FakePeriskope(seed=7, strict_limit=True).start() as fake:
        config = connector_config(fake, page_size=2000, fetch_ticket_closed_by=False)
        discovered = run("discover", config)
        catalog = configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], "full_refresh")
        result = run("read", config, catalog=catalog)
        log = list(fake.request_log)
        expected = {stream: len(fake.records(stream)) for stream in ("tickets", "contacts", "messages", "notes")}

    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    refusals = Counter((path, phone) for _method, path, _query, phone, status in log if status == 422)
    assert refusals and max(refusals.values()) == 1, refusals  # once per endpoint and number, then 1,999
    assert all(query.get("limit") in (None, "1", "1999", "2000") for _m, _p, query, _ph, _s in log)
    assert len(log) < 150, len(log)
    emitted = Counter(record_stream for record_stream in (m["record"]["stream"] for m in result.of_type("RECORD")))
    for stream, count in expected.items():
        assert emitted[stream] >= count, (stream, emitted[stream], count)
