"""A real HTTP server (uvicorn, in a thread) for the interview tests."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time

import uvicorn


def forget_service_modules() -> None:
    """Drop the imported service modules, so later tests that hide Starlette see it missing."""
    for name in list(sys.modules):
        if (
            name.split(".")[0] in ("starlette", "uvicorn")
            or name.startswith("ipexpert._service.")
            or name == "ipexpert._interview.web"
        ):
            del sys.modules[name]
    import ipexpert

    for attribute in ("_serve", "_interview_web"):
        if hasattr(ipexpert, attribute):
            delattr(ipexpert, attribute)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(app):
    """Serve *app* on a free local port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http="h11", lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the interview server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
