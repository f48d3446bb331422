"""What the CDK cannot check in the manifest (it cannot look into a CustomErrorHandler), and that it is current."""

from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

from source_periskope.source import load_manifest
from unit_tests.mock_server.config import ConfigBuilder


def resolved_streams():
    manifest = ManifestReferenceResolver().preprocess_manifest(load_manifest())
    return {stream["name"]: stream for stream in manifest["streams"]}


def test_paged_streams_ask_for_the_endpoints_page_size_and_learn_it_from_a_422_not_by_halving():
    """page_sizes.py lowers a refused page size once per sync and endpoint; the CDK's halving per window is off."""
    streams = resolved_streams()
    for name, stream in streams.items():
        assert not stream["retriever"].get("page_size_reduction"), name
        filters = stream["retriever"]["requester"]["error_handler"]["response_filters"]
        assert not [f for f in filters if f.get("action") == "REDUCE_PAGE_SIZE"], name


def test_the_manifest_uses_no_deprecated_field():
    import logging

    from source_periskope import SourcePeriskope

    config = ConfigBuilder().build()
    source = SourcePeriskope(config=config)
    source.discover(logging.getLogger("test"), config)  # builds every stream, which records the deprecations
    assert source.deprecation_warnings() == []
