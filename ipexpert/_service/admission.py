"""Who gets in: at most `--concurrency` requests at once, /healthz always.

Requests are counted, not connections: a connection still sending its headers (a slow or
idle client) holds no place, so slow sockets cannot make every real request wait for 503.
Each refusal is counted and logged once per interval, not once each.
"""

from __future__ import annotations

from ipexpert._service.tally import Tally

ALWAYS = ("/healthz",)  # answered whatever the load: it does no work
_BUSY_BODY = b"Service Unavailable"


class RequestLimit:
    """ASGI middleware: 503 (plain text, Retry-After) once *limit* requests are being answered."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        self.in_hand = 0
        self.tally = Tally("requests refused")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") in ALWAYS:
            await self.app(scope, receive, send)
            return
        if self.in_hand >= self.limit:
            self.tally.add(f"{self.limit:,} requests already in hand (--concurrency)")
            await _busy(send)
            return
        self.in_hand += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_hand -= 1


async def _busy(send) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(_BUSY_BODY)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _BUSY_BODY})
