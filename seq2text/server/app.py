"""The HTTP API and the web page over served models (FastAPI on uvicorn; ``seq2text serve``).

Every answer is JSON, errors too: ``{"error": "one line"}`` with 400 (a ``Host`` header that
is not allowed), 404 (no such route, or no served model for it), 413 (body over the limit),
422 (bad input: a wrong field or type, a limit, a model that is not served, a line the model
cannot answer) and 503 (the server is shutting down).  Nothing a client sends reaches a 500 or
a traceback.  Work for a client that hangs up before its turn is dropped.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any, Awaitable, Optional, Sequence

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from seq2text import __version__
from seq2text.errors import Seq2TextError, message_line, shown
from seq2text.generation.requests import TranslationRequest
from seq2text.server.schemas import (ClassifyRequest, CoupletRequest, PoemRequest, ReviseRequest, TagRequest,
                                     TextRequest, TranslateRequest)
from seq2text.server.served import Served, defaults
from seq2text.server.settings import LOOPBACK_NAMES
from seq2text.verse.forms import is_poem_form

MAX_BODY = 64 * 1024  # bytes of a request body


class ShuttingDown(Exception):
    """The answer to work still waiting when the drain time after SIGTERM is over."""


def create_app(served: dict[str, Served], max_body: int = MAX_BODY, allowed_hosts: Sequence[str] = LOOPBACK_NAMES,
               drain: float = 30.0) -> FastAPI:
    """The application over ``served`` (see :func:`seq2text.server.served.serve_models`).

    ``allowed_hosts``: the names a ``Host`` header may give (``*``: any); ``drain``: seconds
    after :meth:`app.state.begin_drain` (SIGTERM) before waiting work is answered with 503."""
    chosen = defaults(served)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        for model in served.values():
            model.batcher.start()
        yield
        for model in served.values():
            await model.batcher.stop()

    # FastAPIOffline: the OpenAPI pages (/docs, /redoc) with their scripts served from the package, no CDN
    app = FastAPIOffline(title="seq2text", version=__version__, lifespan=lifespan,
                  description="Translation, poems, couplets, free text and classification with the models "
                              "this server holds (GET /v1/models).  Errors are JSON: {\"error\": \"...\"}.")
    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(HostCheck, allowed=allowed_hosts)
    _error_handlers(app)
    app.state.begin_drain = lambda: _begin_drain(served, drain)

    def pick(endpoint: str, name: Optional[str]) -> Served:
        if name is None:
            if endpoint not in chosen:
                raise HTTPException(404, f"no served model answers /v1/{endpoint}")
            return served[chosen[endpoint]]
        model = served.get(name)
        if model is None:
            raise HTTPException(422, f"model {name!r}: not served here (served: {', '.join(served)})")
        if model.endpoint != endpoint:
            raise HTTPException(422, f"model {name}: answers /v1/{model.endpoint}, not /v1/{endpoint}")
        return model

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return files("seq2text.server").joinpath("page.html").read_text(encoding="utf-8")

    @app.get("/health", summary="Is the server up, and what does it hold")
    async def health() -> dict:
        return {"status": "ok", "models": list(served), "batches": {n: m.batcher.batches for n, m in served.items()},
                "dropped": {n: m.batcher.dropped for n, m in served.items()}}

    @app.get("/v1/models", summary="The served models: name, endpoint, what each does, default or not")
    async def models() -> dict:
        return {"models": [model.card(chosen.get(model.endpoint) == name) for name, model in served.items()]}

    @app.post("/v1/translate", summary="Translate sentences (batched beam search, n-best, attention)")
    async def translate(body: TranslateRequest, request: Request) -> dict:
        model = pick("translate", body.model)
        # checked here, not in the batch: a bad request must not fail the requests batched with it
        search = TranslationRequest(beam_size=body.beam_size or model.engine.beam_size, nbest=body.nbest)
        options = (search.beam_size, search.nbest, body.attention)
        found = await while_connected(request, model.batcher.submit(options, body.texts))
        return {"model": model.name, "translations": found}

    def poet(name: Optional[str], form: str) -> Served:
        """The served poem model ``name``, else the one that writes ``form``: the default for
        poems, the served ci model for a tune."""
        if name is None and not is_poem_form(form):
            for model in served.values():
                if model.endpoint == "poem" and model.engine.tunes and model.engine.tunes.find(form):
                    return model
        return pick("poem", name)

    def marked(generator, poems) -> list[dict]:
        return [{**p.to_dict(), "lines": generator.line_marks(p)} for p in poems]

    @app.post("/v1/poem", summary="Classical poems and ci under the rules of their form or tune")
    async def poem(body: PoemRequest, request: Request) -> dict:
        model, asked = poet(body.model, body.form), body.request()
        generator = model.engine
        poems = await while_connected(request, model.batcher.alone(lambda: generator.poems(asked)))
        return {"model": model.name, "poems": marked(generator, poems)}

    @app.get("/v1/poem/forms", summary="The forms and ci tunes the served poem models write")
    async def poem_forms() -> dict:
        return {"forms": [{**form, "model": name} for name, model in served.items() if model.endpoint == "poem"
                          for form in model.engine.forms()]}

    @app.post("/v1/poem/revise", summary="New candidates for one line of a poem, every other line kept")
    async def revise(body: ReviseRequest, request: Request) -> dict:
        model = poet(body.model, body.form)
        generator = model.engine
        work = model.batcher.alone(lambda: generator.revise(body.poem, body.line, body.n, form=body.form,
                                                            title=body.title or "", **body.request()))
        poems = await while_connected(request, work)
        return {"model": model.name, "line": body.line, "poems": marked(generator, poems)}

    @app.post("/v1/couplet", summary="下联 for 上联")
    async def couplet(body: CoupletRequest, request: Request) -> dict:
        model = pick("couplet", body.model)
        generator = model.engine
        for number, line in enumerate(body.first):
            problem = generator.first_line_problem(line)
            if problem:
                raise HTTPException(422, f"first[{number}] {line!r}: {problem}")
        asked = body.request()
        if asked.beam_size > 1:  # beam search: the same answers alone or in a batch
            work = model.batcher.submit(asked, body.first)
        else:
            work = model.batcher.alone(lambda: generator.couplets(body.first, request=asked))
        found = await while_connected(request, work)
        return {"model": model.name, "couplets": [[c.to_dict() for c in answers] for answers in found]}

    @app.post("/v1/classify", summary="A label for each text, with every label's probability")
    async def classify(body: ClassifyRequest, request: Request) -> dict:
        model = pick("classify", body.model)
        found = await while_connected(request, model.batcher.submit((), body.texts))
        return {"model": model.name, "predictions": [p.to_dict(body.attention) for p in found]}

    @app.post("/v1/tag", summary="A tag for every word of each sentence, with its probability")
    async def tag(body: TagRequest, request: Request) -> dict:
        model = pick("tag", body.model)
        found = await while_connected(request, model.batcher.submit(body.pretokenized, body.texts))
        return {"model": model.name, "sentences": [sentence.to_dict(body.top) for sentence in found]}

    @app.post("/v1/text", summary="Free text: a prompt continued by a language model")
    async def text(body: TextRequest, request: Request) -> dict:
        model = pick("text", body.model)
        asked = body.request()
        passages = await while_connected(request, model.batcher.alone(lambda: model.engine.text(asked)))
        return {"model": model.name, "texts": [p.to_dict() for p in passages]}

    return app


class ClientGone(Exception):
    """The client hung up before its answer was ready."""


async def while_connected(request: Request, work: Awaitable) -> Any:
    """The result of ``work``, unless the client hangs up first: then ``work`` is cancelled
    (queued work is dropped before it reaches the model) and :class:`ClientGone` raised."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # answered, gone, or the server cancelling this request: nothing is left running
        watcher.cancel()
        if not task.done():
            task.cancel()
    if task in done:
        return task.result()
    raise ClientGone()


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _begin_drain(served: dict[str, Served], drain: float) -> None:
    """Called when SIGTERM or Ctrl-C begins the shutdown (from the signal handler, on the
    event loop's thread): after ``drain`` seconds, answer what still waits with 503."""
    loop = asyncio.get_event_loop()

    def give_up() -> None:
        answered = sum(model.batcher.fail_all(ShuttingDown()) for model in served.values())
        if answered:
            print(f"seq2text: shutting down: {answered} requests still waiting after {drain:g} s answered 503",
                  file=sys.stderr, flush=True)

    loop.call_soon_threadsafe(loop.call_later, drain, give_up)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"] if part != "body") or "body"
        if first.get("type") == "json_invalid":
            reason = first.get("ctx", {}).get("error", "parse error")
            where, first = "body", {**first, "msg": f"not valid JSON ({reason})"}
        detail = [{"loc": list(p["loc"]), "msg": p["msg"]} for p in problems]
        return JSONResponse({"error": f"{where}: {first['msg']}", "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Seq2TextError)
    @app.exception_handler(ValueError)
    async def bad_input(_: Request, error: Exception) -> JSONResponse:
        # the library's messages name options as placeholders: here they read as the JSON fields
        message = error.for_api() if isinstance(error, Seq2TextError) else str(error)
        return JSONResponse({"error": message_line(message)}, status_code=422)

    @app.exception_handler(ShuttingDown)
    async def shutting_down(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": "the server is shutting down; try again later"}, status_code=503)

    @app.exception_handler(ClientGone)
    async def gone(_: Request, error: Exception) -> Response:
        return Response(status_code=499)  # nobody reads it: nginx's code for a client that closed

    @app.exception_handler(Exception)
    async def crashed(_: Request, error: Exception) -> JSONResponse:  # a bug of ours: logged, never shown
        return JSONResponse({"error": f"internal error ({type(error).__name__}); see the server's log"},
                            status_code=500)


class HostCheck:
    """ASGI middleware: a request whose ``Host`` header names none of ``allowed`` gets 400, so
    that a page elsewhere cannot reach the models by pointing its own name at 127.0.0.1 (DNS
    rebinding)."""

    def __init__(self, app, allowed: Sequence[str]):
        self.app, self.allowed = app, {name.lower() for name in allowed}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "*" in self.allowed:
            return await self.app(scope, receive, send)
        header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if _host_name(header) in self.allowed:
            return await self.app(scope, receive, send)
        await _json_error(send, 400, f"Host {shown(header)}: not served here (seq2text serve --allow-host adds "
                                     f"a name)")


HOST_HEADER = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<name>[^\[\]:@/\s]+))(?::(?P<port>[0-9]{1,5}))?")


def _host_name(header: str) -> str:
    """The name a ``Host`` header gives, without its port (``[::1]:8000`` -> ``::1``); "" for
    a header that is not ``name[:port]`` (``localhost:evil.com``, ``127.0.0.1:8765@evil.com``)."""
    found = HOST_HEADER.fullmatch(header)
    if found is None or (found["port"] is not None and int(found["port"]) > 65535):
        return ""
    return (found["ip6"] or found["name"]).lower()


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before the app reads it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _json_error(send, 413, f"request body over {self.limit} bytes")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                return await _json_error(send, 413, f"request body over {self.limit} bytes")
        body, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect, as the server sends it
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


async def _json_error(send, status: int, message: str) -> None:
    """An ASGI answer ``{"error": message}`` with ``status``, sent before the app runs."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
