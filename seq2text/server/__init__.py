"""``seq2text serve``: the served models behind an HTTP API and a web page.

- :mod:`~seq2text.server.served`: which models, loaded once, answering which endpoint;
- :mod:`~seq2text.server.batching`: concurrent requests grouped into decoder batches;
- :mod:`~seq2text.server.schemas`: the request bodies and their limits;
- :mod:`~seq2text.server.app`: the routes, the errors, the body limit and the Host check;
- :mod:`~seq2text.server.settings`: how it listens and what it lets in (the command's options);
- :mod:`~seq2text.server.connections`: the connection cap and the request-head timeout;
- ``page.html``: the web page at ``/``, self-contained (no CDN: the machine may be offline).
"""

from __future__ import annotations

import signal
import socket
import sys

import uvicorn

from seq2text.errors import Seq2TextError, shown
from seq2text.server.app import create_app
from seq2text.server.connections import connection_cap, guarded_protocol, quiet_accept_errors
from seq2text.server.served import serve_models
from seq2text.server.settings import LOOPBACK_NAMES, Settings, is_loopback

__all__ = ["LOOPBACK_NAMES", "Settings", "run_server"]

def run_server(settings: Settings) -> int:
    """Serve until SIGTERM (exit code 0, after the requests in flight are answered, and those
    still queued after ``settings.drain`` seconds with 503) or Ctrl-C (130).  Port 0 takes a
    free port; the address is printed on stderr once listening."""


    if not settings.host.strip():
        raise Seq2TextError("--host '': an empty host listens on every interface; name one (127.0.0.1, or "
                            "0.0.0.0 for every interface on a trusted network)")
    listener = _listen(settings.host, settings.port)
    served = serve_models(settings.models, settings.device)
    app = create_app(served, settings.max_body, settings.allowed_hosts, settings.drain)
    cap = connection_cap(settings.max_connections)
    # uvicorn's own drain outlasts ours, so that what is still queued gets our 503, not its cancel
    config = uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=int(settings.drain) + 10,
                            http=guarded_protocol(cap, settings.header_timeout, settings.body_timeout))
    server = _draining_server(config, app)
    quiet_accept_errors()
    caught: list[int] = []
    # uvicorn re-raises the signal that stopped it once it has drained; these handlers take it
    # instead of the default ones, so that the process ends with an exit code, not a signal.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda sig, _: caught.append(sig))
    bound_host, bound_port = listener.getsockname()[:2]
    if not is_loopback(bound_host):
        print(f"seq2text: warning: listening on {bound_host}, beyond this machine: anyone who can reach it can "
              f"use the models; requests must name one of these hosts: {', '.join(settings.allowed_hosts)} "
              f"(--allow-host adds names)", file=sys.stderr, flush=True)
    print(f"seq2text: serving {', '.join(served)} on http://{_url_host(bound_host)}:{bound_port}",
          file=sys.stderr, flush=True)
    server.run(sockets=[listener])
    return 130 if signal.SIGINT in caught else 0


def _draining_server(config, app):
    """A uvicorn server that tells the app when SIGTERM or Ctrl-C begins the shutdown, so that
    the app can answer queued work with 503 once its drain time is over."""
    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame) -> None:
            app.state.begin_drain()
            super().handle_exit(sig, frame)

    return Server(config)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound here so that a taken port is a one-line error."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except (OSError, UnicodeError) as err:
        raise Seq2TextError(f"--host {shown(host)} --port {port}: cannot listen "
                            f"({getattr(err, 'strerror', None) or err})") from None
    return listener


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
