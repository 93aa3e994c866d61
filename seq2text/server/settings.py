"""How ``seq2text serve`` listens and what it lets in: the :class:`Settings` its options fill."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Sequence

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass
class Settings:
    """How the server listens and what it lets in (``seq2text serve`` options).

    ``allowed_hosts``: the names a request's ``Host`` header may give (DNS rebinding: a page
    on another site that resolves its name to 127.0.0.1 must not reach the models), ``*``
    for any; ``drain``: seconds after SIGTERM to answer what is queued (the rest gets 503);
    ``header_timeout``: seconds a connection may take to send a request head;
    ``body_timeout``: seconds in which a request body must end or arrive at 1 KB/s;
    ``max_connections``: connections held at once (more are closed at once)."""

    host: str = "127.0.0.1"
    port: int = 8000
    models: Sequence[str] = ()
    device: str = "cpu"
    max_body: int = 64 * 1024
    allowed_hosts: Sequence[str] = field(default_factory=lambda: list(LOOPBACK_NAMES))
    drain: float = 30.0
    header_timeout: float = 10.0
    max_connections: int = 1000
    body_timeout: float = 10.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
