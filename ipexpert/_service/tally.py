"""Counting what the server refuses or drops, logged once per interval rather than once each."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("ipexpert.serve")


class Tally:
    """Counts events and logs them once per interval, not once each."""

    INTERVAL = 10.0

    every: list = []  # flushed at shutdown, so no count is lost

    def __init__(self, what: str):
        self.what = what
        self.counts: dict = {}
        self.last = 0.0
        Tally.every.append(self)

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if time.monotonic() - self.last >= self.INTERVAL:
            self.flush()

    def flush(self) -> None:
        if self.counts:
            reasons = ", ".join(f"{n:,} × {r}" for r, n in sorted(self.counts.items()))
            log.warning("%s: %s (logged at most every %.0f s)", self.what, reasons, self.INTERVAL)
            self.counts.clear()
        self.last = time.monotonic()


class AcceptErrors:
    """The event loop's handler for errors no task catches: accept() failing (out of file
    descriptors, under a connection flood) is counted and logged once per interval."""

    def __init__(self, loop):
        self.loop = loop
        self.tally = Tally("connections not accepted")

    @classmethod
    def install(cls, loop) -> None:
        loop.set_exception_handler(cls(loop).handle)

    def handle(self, loop, context) -> None:
        exc = context.get("exception")
        message = context.get("message", "")
        if isinstance(exc, OSError) and ("accept" in message or "transport" in message or "socket" in message):
            self.tally.add(exc.strerror or type(exc).__name__)
            return
        if "_start_serving" in repr(context.get("handle")):
            # asyncio retries accept() a second after EMFILE, once per failed accept; a retry
            # that runs after the listening socket is closed (at shutdown) fails on fd -1.
            self.tally.add("an accept retry after the listening socket closed")
            return
        loop.default_exception_handler(context)
