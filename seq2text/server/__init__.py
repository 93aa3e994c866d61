"""``seq2text serve``: the served models behind an HTTP API and a web page.

- :mod:`~seq2text.server.served`: which models, loaded once, answering which endpoint;
- :mod:`~seq2text.server.batching`: concurrent requests grouped into decoder batches;
- :mod:`~seq2text.server.schemas`: the request bodies and their limits;
- :mod:`~seq2text.server.app`: the routes, the errors and the body limit;
- ``page.html``: the web page at ``/``, self-contained (no CDN: the machine may be offline).
"""

from __future__ import annotations

import signal
import socket
import sys
from typing import Sequence

from seq2text.errors import Seq2TextError

DRAIN_SECONDS = 30  # after SIGTERM, in-flight requests get this long to finish


def run_server(host: str, port: int, models: Sequence[str], device: str, max_body: int) -> int:
    """Serve until SIGTERM (exit code 0, after the requests in flight are answered) or Ctrl-C
    (130).  ``port`` 0 takes a free port; the address is printed on stderr once listening."""
    import uvicorn

    from seq2text.server.app import create_app
    from seq2text.server.served import serve_models

    listener = _listen(host, port)
    served = serve_models(models, device)
    config = uvicorn.Config(create_app(served, max_body), log_level="info",
                            timeout_graceful_shutdown=DRAIN_SECONDS)
    server = uvicorn.Server(config)
    caught: list[int] = []
    # uvicorn re-raises the signal that stopped it once it has drained; these handlers take it
    # instead of the default ones, so that the process ends with an exit code, not a signal.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda sig, _: caught.append(sig))
    bound_host, bound_port = listener.getsockname()[:2]
    print(f"seq2text: serving {', '.join(served)} on http://{_url_host(bound_host)}:{bound_port}",
          file=sys.stderr, flush=True)
    server.run(sockets=[listener])
    return 130 if signal.SIGINT in caught else 0


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound here so that a taken port is a one-line error."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as err:
        raise Seq2TextError(f"--host {host} --port {port}: cannot listen ({err.strerror or err})") from None
    return listener


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
