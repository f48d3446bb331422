from source_periskope.fast_startup import defer_serializer_schemas

defer_serializer_schemas()  # before the CDK's imports below create their serializers

from source_periskope.source import SourcePeriskope  # noqa: E402

__all__ = ["SourcePeriskope"]
