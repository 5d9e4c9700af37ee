"""What `ipexpert serve` may be asked and allows: its options, the limits of one request, the request choices.

The options travel to the protocol uvicorn creates per connection as JSON in the environment.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os

from ipexpert import LANGUAGES, _api

MEDIA_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
MB = 1024 * 1024
ENVIRONMENT = "IPEXPERT_SERVE"  # the options, as JSON, for the protocol uvicorn creates per connection
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REPORT_MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": DOCX_MEDIA_TYPE,
    "json": "application/json",
}
REPORT_OPTIONS = {"format": ("html", "pdf", "docx", "json"), "lang": LANGUAGES, "paper": ("A4", "Letter")}
MAX_QUERY_TEXT = 1000  # characters of one explain target or one diff change
MAX_ASSIGNMENTS = 50  # diff changes in one request


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may ask of the service; all are in the OpenAPI document."""

    body_bytes: int = dataclasses.field(default_factory=_api.max_profile_bytes)
    outline_items: int = 10_000  # recommendations + risks + timeline entries
    outline_bytes: int = 16 * MB
    pdf_items: int = 200  # a PDF takes about 0.13 s of CPU per item: 250 items took 34 s
    seconds: float = 60.0  # of work in the evaluating process; past it the process is stopped and replaced


@dataclasses.dataclass(frozen=True)
class Options:
    """`ipexpert serve`'s options; the defaults are safe for a service on a shared machine."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    concurrency: int = 256  # requests at once (not connections still sending theirs); more get 503, /healthz never
    connections_per_client: int = 64  # open connections from one address; more are closed at once
    backlog: int = 256
    keep_alive: float = 5.0  # idle seconds between requests on one connection
    header_timeout: float = 10.0  # from connection (or previous answer) to complete request headers
    body_timeout: float = 30.0  # from complete headers to complete body
    send_timeout: float = 30.0  # an answer held up by a client that does not read it; past it the connection is dropped
    graceful_timeout: float = 10.0  # on SIGTERM: how long requests in flight may still take
    rule_paths: tuple = ()
    defaults: bool = True
    book: tuple = ()  # folders and files of profiles: the client book of GET /v1/agenda
    limits: Limits = Limits()
    log_level: str = "info"
    access_log: bool = False  # a line per request answered, uvicorn's format

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Options:
        data = json.loads(text)
        data["rule_paths"] = tuple(data["rule_paths"])
        data["book"] = tuple(data["book"])
        data["limits"] = Limits(**data["limits"])
        return cls(**data)


def from_environment() -> Options:
    """The options `serve` put in the environment (the defaults when run without it)."""
    return _options_from(os.environ.get(ENVIRONMENT))


@functools.lru_cache(maxsize=4)
def _options_from(text: str | None) -> Options:
    return Options.from_json(text) if text else Options()
