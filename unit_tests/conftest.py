import pytest


@pytest.fixture(autouse=True)
def isolated_request_cache(tmp_path, monkeypatch):
    # The CDK caches parent-stream responses in sqlite files under REQUEST_CACHE_PATH.
    monkeypatch.setenv("REQUEST_CACHE_PATH", str(tmp_path))


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    """Retries back off for real seconds; tests assert the retries, not the waiting."""
    monkeypatch.setattr("time.sleep", lambda seconds: None)
