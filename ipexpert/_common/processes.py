"""Worker processes that end when their parent does, even when the parent is killed with SIGKILL.

A process pool's workers otherwise keep running, with no parent, after `kill -9` of the
program that started them. Each worker calls `die_with_parent` first thing: on Linux the
kernel sends it SIGKILL when its parent goes (PR_SET_PDEATHSIG); everywhere, a thread
checks every quarter second that the parent is still there.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.25


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit as soon as *parent_pid* is no longer its parent."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watching thread below still does the job
    if os.getppid() != parent_pid:  # the parent went before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="ipexpert-parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os._exit(1)
