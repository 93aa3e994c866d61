"""``seq2text serve`` and ``models``: the web service and the bundled models."""

from __future__ import annotations

import sys

import click

from seq2text.cli.app import main
from seq2text.cli.options import FiniteFloat, device_option


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; loopback unless told otherwise (0.0.0.0: every interface, for "
                   "trusted networks only).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: a free one, printed on stderr).")
@click.option("-m", "--model", "models", multiple=True,
              help="A model to serve: a bundled name or a trained model folder (repeatable) [default: every "
                   "bundled model].")
@click.option("--max-body", type=click.IntRange(1024, 2**26), default=64 * 1024, show_default=True,
              help="Largest request body in bytes; larger ones get 413.")
@click.option("--allow-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A host name requests may give in their Host header, besides localhost, 127.0.0.1 and ::1 "
                   "(repeatable; '*': any). Needed when serving beyond loopback; the check keeps pages on other "
                   "sites out (DNS rebinding).")
@click.option("--drain", type=FiniteFloat(0.0, 3600.0, min_open=False), default=30.0, show_default=True,
              help="Seconds after SIGTERM to answer the requests already queued; those still waiting get 503.")
@click.option("--header-timeout", type=FiniteFloat(0.0, 3600.0), default=10.0, show_default=True,
              help="Seconds a connection may take to send a request head before it is closed.")
@click.option("--max-connections", type=click.IntRange(1, 1_000_000), default=1000, show_default=True,
              help="Connections held at once (fewer if the descriptor limit allows fewer); more are closed.")
@click.option("--body-timeout", type=FiniteFloat(0.0, 3600.0), default=10.0, show_default=True,
              help="Seconds in which a request body must end or bring 1 KB a second (checked over and over); "
                   "slower bodies are closed.")
@device_option
def serve(host: str, port: int, models: tuple[str, ...], max_body: int, allowed_hosts: tuple[str, ...],
          drain: float, header_timeout: float, max_connections: int, body_timeout: float, device: str) -> None:
    """Serve models over HTTP: a JSON API and a web page at http://HOST:PORT/.

    \b
    POST /v1/translate  {"texts": [...], "beam_size"?, "nbest"?, "attention"?}
    POST /v1/poem       {"form"?, "title"?, "keywords"?, "acrostic"?, "prompt"?, "seed"?, "n"?}
    POST /v1/couplet    {"first": [...], "n"?}
    POST /v1/classify   {"texts": [...]}
    POST /v1/tag        {"texts": [...], "pretokenized"?}
    POST /v1/text       {"prompt", "length"?, "seed"?}  (language models other than poetry)
    GET  /v1/models, GET /health; every request may name its "model".
    The OpenAPI page, with every field and its limits, is at /docs.

    Concurrent requests to a model are decoded in one batch; work for a client that hangs up is
    dropped.  SIGTERM answers the requests in flight (for --drain seconds; what still waits then
    gets 503), then exits 0; Ctrl-C exits 130.  Requests must name an allowed host (--allow-host).

    \b
    Example:
      seq2text serve --port 8000 &
      curl -s localhost:8000/v1/translate -H 'content-type: application/json' \\
           -d '{"texts": ["Ein Hund rennt."]}'
    """
    from seq2text.server import LOOPBACK_NAMES, Settings, run_server

    sys.exit(run_server(Settings(host, port, models, device, max_body, [*LOOPBACK_NAMES, *allowed_hosts], drain,
                                 header_timeout, max_connections, body_timeout)))


@main.command()
def models() -> None:
    """List the models bundled with the package: name, task, size and description."""
    from seq2text.model_folder import bundled_models

    for card in bundled_models():
        click.echo(f"{card['name']}\t{card['task']}\t{card['size_mb']:.1f} MB\t{card['description']}")
