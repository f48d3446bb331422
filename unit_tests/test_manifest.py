"""What the CDK cannot check in the manifest (it cannot look into a CustomErrorHandler), and that it is current."""

from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

from source_periskope.source import load_manifest
from unit_tests.mock_server.config import ConfigBuilder


def resolved_streams():
    manifest = ManifestReferenceResolver().preprocess_manifest(load_manifest())
    return {stream["name"]: stream for stream in manifest["streams"]}


def test_every_stream_that_reduces_its_page_size_has_the_filter_that_asks_for_it():
    """cdk_hooks/speedups.py hides the CDK's start-up warning about page_size_reduction; this is what makes that safe."""
    streams = resolved_streams()
    reducing = {name for name, stream in streams.items() if stream["retriever"].get("page_size_reduction")}
    assert reducing == set(streams) - {"phones"}  # /phones/all is a single unpaged response
    for name in reducing:
        filters = streams[name]["retriever"]["requester"]["error_handler"]["response_filters"]
        assert [f for f in filters if f.get("action") == "REDUCE_PAGE_SIZE"], name


def test_the_manifest_uses_no_deprecated_field():
    import logging

    from source_periskope import SourcePeriskope

    config = ConfigBuilder().build()
    source = SourcePeriskope(config=config)
    source.discover(logging.getLogger("test"), config)  # builds every stream, which records the deprecations
    assert source.deprecation_warnings() == []
