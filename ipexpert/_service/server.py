"""The server: uvicorn with every limit set, and its h11 protocol with header and body deadlines."""

from __future__ import annotations

import contextlib
import os
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ipexpert._service.app import create_app
from ipexpert._service.options import ENVIRONMENT, Options, from_environment
from ipexpert._service.problems import dumps, problem_body
from ipexpert._service.tally import Tally

_TIMEOUT_BODY = dumps(problem_body(408, "the request was not received in time; the connection is closed"))
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\nconnection: close\r\n\r\n" + _TIMEOUT_BODY
)


class HTTPProtocol(H11Protocol):
    """uvicorn's h11 protocol with header and body deadlines, and answers for half-closed clients.

    A connection gets `header_timeout` seconds from its start (or from its previous answer's
    keep-alive period ending in new bytes) to send complete request headers, then
    `body_timeout` seconds for the body; past either it gets 408 and is closed. While a
    request is being evaluated no deadline runs. At shutdown the deadlines shrink to half the
    graceful timeout, so a stalled upload never holds the server past it.

    An answer the client does not read fills the connection's buffer; the request then waits
    (holding its place under `--concurrency`) until there is room. From the moment bytes
    wait so (the transport pauses writing, or an answer completes with bytes still unsent)
    the client has `send_timeout` seconds to take them, or the connection is dropped.
    """

    _closed_tally: Tally | None = None
    _refused_tally: Tally
    _unread_tally: Tally
    _per_address: dict = {}  # client address -> connections open from it (one event loop: no lock)

    def __init__(self, config, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        options = from_environment()
        self._timeouts = {"header": options.header_timeout, "body": options.body_timeout}
        self._send_timeout = options.send_timeout
        self._send_timer = None
        self._graceful = options.graceful_timeout
        self._phase = None
        self._timer = None
        self._shutting_down = False
        self._per_client = options.connections_per_client
        self._address = None
        if HTTPProtocol._closed_tally is None:
            HTTPProtocol._closed_tally = Tally("connections closed for sending too slowly")
            HTTPProtocol._refused_tally = Tally("connections refused")
            HTTPProtocol._unread_tally = Tally("connections dropped for not reading their answers")

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self._address = peer[0] if isinstance(peer, tuple) and peer else None
        held = HTTPProtocol._per_address.get(self._address, 0)
        if self._address is not None and held >= self._per_client:
            HTTPProtocol._refused_tally.add(f"more than {self._per_client:,} connections from one address")
            self._address = None  # not counted: it is closed now
            transport.close()
            return
        if self._address is not None:
            HTTPProtocol._per_address[self._address] = held + 1
        # asyncio sets TCP_NODELAY only when the listening socket says IPPROTO_TCP, which a
        # socket uvicorn binds itself may not: Nagle's algorithm then holds each answer for
        # a delayed ACK (about 40 ms per request).
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._follow()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        self._disarm()  # uvicorn's keep-alive timer takes over
        if self.transport.get_write_buffer_size():
            self._hold_send()  # closing would wait for these bytes as long as the client does not read
        super().on_response_complete()
        self._follow()  # a pipelined request may already be under way

    def pause_writing(self) -> None:
        super().pause_writing()
        self._hold_send()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._release_send()

    def _hold_send(self) -> None:
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self._send_timeout, self._send_expired)

    def _release_send(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_expired(self) -> None:
        self._send_timer = None
        if not self.transport.get_write_buffer_size():
            return  # taken in the meantime
        HTTPProtocol._unread_tally.add(f"answer not read within {self._send_timeout:g} s")
        # abort, not close: close would wait for the unsent bytes, as long as the client does not read.
        self.transport.abort()

    def connection_lost(self, exc) -> None:
        self._disarm()
        self._release_send()
        if self._address is not None:
            left = HTTPProtocol._per_address.pop(self._address, 1) - 1
            if left:
                HTTPProtocol._per_address[self._address] = left
            self._address = None
        super().connection_lost(exc)

    def eof_received(self):
        """A client that half-closes after a complete request still gets its answer."""
        if self.cycle is not None and not self.cycle.response_complete and self.conn.their_state is h11.DONE:
            self.cycle.keep_alive = False
            return True
        return None

    def shutdown(self) -> None:
        self._shutting_down = True
        super().shutdown()
        if self._phase is not None and not self.transport.is_closing():
            phase, self._phase = self._phase, None
            self._arm(phase)

    def _follow(self) -> None:
        state = self.conn.their_state
        if state is h11.IDLE and self.timeout_keep_alive_task is None:
            self._arm("header")
        elif state is h11.SEND_BODY:
            self._arm("body")
        elif state is not h11.IDLE:
            self._disarm()

    def _arm(self, phase: str) -> None:
        if self._phase == phase:
            return  # a deadline, not an idle timer: more bytes do not extend it
        self._disarm()
        delay = self._timeouts[phase]
        if self._shutting_down:
            delay = min(delay, self._graceful / 2)
        self._phase = phase
        self._timer = self.loop.call_later(delay, self._expire, phase)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._phase = None

    def _expire(self, phase: str) -> None:
        self._timer = self._phase = None
        if self.transport.is_closing():
            return
        tally = HTTPProtocol._closed_tally
        if tally is not None:
            tally.add(f"no complete request {phase} within {self._timeouts[phase]:g} s")
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def serve(options: Options) -> None:
    """Run the service until interrupted (Ctrl-C or SIGTERM), with *options.workers* evaluating processes.

    One server process speaks HTTP (about 1.5 ms of its time per evaluate request) and hands
    each request to the least busy evaluating process. uvicorn's own worker processes would
    each keep the connections they happened to accept: a client's keep-alive connections
    then all land on one of them while another idles.
    """
    import uvicorn

    os.environ[ENVIRONMENT] = options.to_json()  # read by the protocol uvicorn creates per connection
    uvicorn.run(
        create_app(options),
        host=options.host,
        port=options.port,
        http=HTTPProtocol,
        loop="asyncio",
        lifespan="on",
        server_header=False,
        access_log=options.access_log,
        limit_concurrency=None,  # requests are counted by admission.RequestLimit, not connections
        backlog=options.backlog,
        timeout_keep_alive=options.keep_alive,
        timeout_graceful_shutdown=options.graceful_timeout,
        log_level=options.log_level,
    )
