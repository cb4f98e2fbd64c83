"""Child processes that end with their parent.

A process forked into a pool (per-ad workers, the template helper, screening
processes) blocks on its pipe while it waits for work. When its parent is killed
(SIGTERM, SIGKILL, the kernel's OOM killer) without stopping the pool, nothing ever
writes to that pipe or closes it, so the child would wait for ever, holding its
memory and any open database.
"""

from __future__ import annotations

import os
import signal
import threading
import time

#: Seconds between two checks of the parent.
CHECK_EVERY = 1.0


def end_with_parent(parent: int, *, ignore_sigint: bool = False) -> None:
    """Call first in a child just forked from ``parent`` (a pid): a daemon thread
    ends this process (``os._exit(0)``) within :data:`CHECK_EVERY` seconds of the
    parent's end (it then has a new parent, init or a subreaper). With
    ``ignore_sigint``, Ctrl-C, which the terminal sends to the whole process group, is
    left to the parent: a child that only computes for it stops when the parent
    stops its pool, without a traceback of its own."""
    if ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_EVERY)
    os._exit(0)
