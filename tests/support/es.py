"""How tests, the fault suite and the benchmarks reach the local stack's Elasticsearch: over TLS, trusting
the stack CA, as one of its users (the superuser ``elastic`` unless a least-privilege user is asked for)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import AsyncElasticsearch


@dataclass(frozen=True)
class EsAccess:
    url: str
    ca_file: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_stack(cls, settings: Mapping[str, Any], user: str | None = None) -> EsAccess:
        """From ``stack.py up --json``; ``user`` is a key of its ``es_users`` (collector, api, analyst)."""
        credentials = settings.get("es_auth") if user is None else settings["es_users"][user]
        return cls(
            url=settings["es_url"],
            ca_file=settings.get("ca_file"),
            username=credentials["username"] if credentials else None,
            password=credentials["password"] if credentials else None,
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``AsyncElasticsearch``/``Elasticsearch`` (after the URL)."""
        options: dict[str, Any] = {"request_timeout": 60}
        if self.ca_file:
            options["ca_certs"] = self.ca_file
        if self.username and self.password is not None:
            options["basic_auth"] = (self.username, self.password)
        return options

    def client(self) -> AsyncElasticsearch:
        return AsyncElasticsearch(self.url, **self.client_kwargs())

    def collector_section(self, index_prefix: str) -> dict[str, Any]:
        """The ``elasticsearch`` section of a collector configuration file for this access."""
        section: dict[str, Any] = {"url": self.url, "index_prefix": index_prefix}
        if self.ca_file:
            section["ca_certs"] = self.ca_file
        if self.username and self.password is not None:
            section |= {"username": self.username, "password": self.password}
        return section

    def environment(self) -> dict[str, str]:
        """The same as ``CANHGAC_COLLECTOR__ELASTICSEARCH__*`` variables, for CLI subprocesses."""
        prefix = "CANHGAC_COLLECTOR__ELASTICSEARCH__"
        section = self.collector_section("")
        del section["index_prefix"]
        return {f"{prefix}{key.upper()}": str(value) for key, value in section.items()}
