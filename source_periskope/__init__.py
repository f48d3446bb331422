from source_periskope.source import SourcePeriskope

__all__ = ["SourcePeriskope"]
