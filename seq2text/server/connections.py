"""What the server does below HTTP: how many connections it holds and how long it waits for
a request's headers, so that idle or slow clients cannot take every file descriptor.

- :class:`GuardedH11` is uvicorn's h11 protocol with three guards: a connection over the cap
  is closed at once; one that has not sent a whole request head within ``header_timeout``
  seconds (at its start, or after its previous answer) is closed; and one sending a request
  body is closed when, in any ``body_timeout`` seconds, its body neither ends nor brings
  :data:`MIN_BODY_RATE` bytes a second (a body trickled a byte at a time, or idle, would
  otherwise hold its connection for ever).
- :func:`connection_cap` raises the process's descriptor limit to its hard limit and keeps a
  reserve for the models' files and the log.
- :class:`OncePerMinute` keeps asyncio's "accept() out of system resource" message, which comes
  with a traceback on every retry, to one line a minute.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

RESERVE = 64  # descriptors kept for model files, the log and the listening socket
MIN_BODY_RATE = 1024  # bytes a second a request body must arrive at, over each body_timeout


def connection_cap(wanted: int) -> int:
    """At most ``wanted`` connections, and fewer if the descriptor limit (raised to its hard
    limit first) leaves less than :data:`RESERVE` besides."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return max(1, min(wanted, soft - RESERVE))


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a connection cap and a request-head timeout (set on the
    class by :func:`guarded_protocol`)."""

    max_connections = 1000
    header_timeout = 10.0
    body_timeout = 10.0
    heads = 0  # request heads this connection has sent
    received = 0  # bytes this connection has sent

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.abort()  # over the cap: the descriptor is freed at once
            return
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request's head, on a kept-alive connection, gets the same time

    def _arm(self) -> None:
        self.loop.call_later(self.header_timeout, self._expire, self.heads)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a whole request head arrived
            self.heads += 1
            self._arm_body()

    def _arm_body(self) -> None:
        self.loop.call_later(self.body_timeout, self._check_body, self.heads, self.received)

    def _check_body(self, heads_before: int, received_before: int) -> None:
        """Close a connection whose body, still coming, came slower than the minimum rate."""
        reading = self.heads == heads_before and self.cycle is not None and self.cycle.more_body
        if not reading or self.transport.is_closing():
            return
        if self.received - received_before < MIN_BODY_RATE * self.body_timeout:
            self.transport.close()
        else:
            self._arm_body()

    def _expire(self, heads_before: int) -> None:
        waiting = self.heads == heads_before and (self.cycle is None or self.cycle.response_complete)
        if waiting and not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(max_connections: int, header_timeout: float, body_timeout: float) -> type[GuardedH11]:
    """A :class:`GuardedH11` class with these limits (uvicorn builds one protocol object per
    connection from the class it is given)."""
    return type("Guarded", (GuardedH11,), {"max_connections": max_connections, "header_timeout": header_timeout,
                                           "body_timeout": body_timeout})


class OncePerMinute(logging.Filter):
    """Lets a record whose message holds ``needle`` through once a minute, saying how many were
    held back; other records pass."""

    def __init__(self, needle: str, every: float = 60.0):
        super().__init__()
        self.needle, self.every, self.last, self.held = needle, every, float("-inf"), 0

    def filter(self, record: logging.LogRecord) -> bool:
        if self.needle not in record.getMessage():
            return True
        now = time.monotonic()
        if now - self.last < self.every:
            self.held += 1
            return False
        record.msg = (f"socket.accept() out of system resource: the descriptor limit is reached "
                      f"({self.held} more of these held back since the last)")
        record.args, record.exc_info, record.exc_text = (), None, None
        self.last, self.held = now, 0
        return True


def quiet_accept_errors() -> Any:
    """Install :class:`OncePerMinute` on asyncio's logger; returns the filter."""
    flood = OncePerMinute("out of system resource")
    logging.getLogger("asyncio").addFilter(flood)
    return flood
