"""An in-memory sink with the same guarantees as the Elasticsearch one, for unit tests of the pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from collector.sinks.base import Document, SinkUnavailable, WriteReport


class MemorySink:
    """Keeps documents by (family, id); ``available = False`` makes writes fail as a down store would."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str], Mapping[str, Any]] = {}
        self.available = True
        self.write_calls = 0

    async def start(self) -> None:
        return None

    async def write(self, documents: Sequence[Document]) -> WriteReport:
        self.write_calls += 1
        if not self.available:
            raise SinkUnavailable("memory sink switched off")
        report = WriteReport()
        for document in documents:
            key = (document.family, document.id)
            if key in self.documents:
                report.already_present += 1
            else:
                self.documents[key] = document.body
                report.created += 1
        return report

    async def close(self) -> None:
        return None

    def family(self, family: str) -> dict[str, Mapping[str, Any]]:
        return {doc_id: body for (fam, doc_id), body in self.documents.items() if fam == family}
