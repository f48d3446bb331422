import pytest


@pytest.fixture(autouse=True)
def isolated_request_cache(tmp_path, monkeypatch):
    # The CDK caches parent-stream responses in sqlite files under REQUEST_CACHE_PATH.
    monkeypatch.setenv("REQUEST_CACHE_PATH", str(tmp_path))


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    """Retries back off for real seconds; tests assert the retries, not the waiting."""
    monkeypatch.setattr("time.sleep", lambda seconds: None)


@pytest.fixture(autouse=True)
def fresh_pacing():
    """The pacing of requests is per process and API key: each test starts with no quota known."""
    from source_periskope.pacing import forget_pacers

    forget_pacers()
    yield
    forget_pacers()
