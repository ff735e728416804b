"""Sinks: where the pipeline's results become durable (Elasticsearch; in memory for unit tests)."""

from collector.sinks.base import Document, DocumentSink, SinkUnavailable, WriteReport

__all__ = ["Document", "DocumentSink", "SinkUnavailable", "WriteReport"]
