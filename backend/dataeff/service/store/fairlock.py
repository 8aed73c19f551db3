"""A first-come-first-served lock: a job writing in many short transactions must not
re-take the SQLite write lock ahead of the webhook threads already waiting for it
(``threading.Lock`` gives no such order; measured in bench/webhook.py)."""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class FairLock:
    """FIFO mutual exclusion (not re-entrant)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def __enter__(self) -> FairLock:
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return self
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()               # ownership is handed over by __exit__
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()      # _held stays True: handed over
            else:
                self._held = False
