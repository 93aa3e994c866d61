"""The HTTP API and the web page over served models (FastAPI on uvicorn; ``seq2text serve``).

Every answer is JSON, errors too: ``{"error": "one line"}`` with 404 (no such route, or no
served model for it), 413 (body over the limit), 422 (bad input: a wrong field, a limit, a
model that is not served, a line the model cannot answer).  Nothing a client sends reaches
a 500 or a traceback.
"""

from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any, Optional

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from seq2text import __version__
from seq2text.errors import Seq2TextError
from seq2text.server.schemas import ClassifyRequest, CoupletRequest, PoemRequest, TextRequest, TranslateRequest
from seq2text.server.served import Served, defaults
from seq2text.verse.forms import get_form
from seq2text.verse.rules import line_marks
from seq2text.verse.subjects import GUIDANCE

MAX_BODY = 64 * 1024  # bytes of a request body


def create_app(served: dict[str, Served], max_body: int = MAX_BODY) -> FastAPI:
    """The application over ``served`` (see :func:`seq2text.server.served.serve_models`)."""
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
    _error_handlers(app)

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
        return {"status": "ok", "models": list(served), "batches": {n: m.batcher.batches for n, m in served.items()}}

    @app.get("/v1/models", summary="The served models: name, endpoint, what each does, default or not")
    async def models() -> dict:
        return {"models": [model.card(chosen.get(model.endpoint) == name) for name, model in served.items()]}

    @app.post("/v1/translate", summary="Translate sentences (batched beam search, n-best, attention)")
    async def translate(body: TranslateRequest) -> dict:
        model = pick("translate", body.model)
        beam_size = body.beam_size or model.engine.beam_size
        if body.nbest > beam_size:
            raise HTTPException(422, f"nbest ({body.nbest}) cannot exceed beam_size ({beam_size})")
        found = await model.batcher.submit((beam_size, body.nbest, body.attention), body.texts)
        return {"model": model.name, "translations": found}

    @app.post("/v1/poem", summary="Classical poems under the rules of their form")
    async def poem(body: PoemRequest) -> dict:
        model = pick("poem", body.model)
        generator = model.engine
        guidance = GUIDANCE if body.guidance is None else body.guidance

        def write() -> list:
            return generator.poems(body.form, body.n, body.acrostic, body.prompt, body.rhyme, body.tones,
                                   body.temperature, body.top_k, body.top_p, body.seed, body.beam_size,
                                   title=body.title, keywords=body.keywords, guidance=guidance)

        poems = await model.batcher.alone(write)
        return {"model": model.name, "poems": [
            {"text": p.text, "form": p.form, "subject": p.subject, "seed": p.seed, "log_prob": round(p.log_prob, 3),
             "checks": p.checks, "lines": line_marks(p.text, get_form(p.form), generator.loaded.tones,
                                                     generator.rhymes)} for p in poems]}

    @app.post("/v1/couplet", summary="下联 for 上联")
    async def couplet(body: CoupletRequest) -> dict:
        model = pick("couplet", body.model)
        generator = model.engine
        for number, line in enumerate(body.first):
            problem = generator.first_line_problem(line)
            if problem:
                raise HTTPException(422, f"first[{number}] {line!r}: {problem}")
        if body.beam_size > 1:
            found = await model.batcher.submit((body.n, body.beam_size, body.tones), body.first)
        else:
            found = await model.batcher.alone(lambda: generator.couplets(
                body.first, body.n, 1, body.temperature, body.top_k, body.top_p, body.seed, tones=body.tones))
        return {"model": model.name, "second": [
            [{"text": c.second, "log_prob": round(c.log_prob, 3), "checks": c.checks} for c in answers]
            for answers in found]}

    @app.post("/v1/classify", summary="A label for each text, with every label's probability")
    async def classify(body: ClassifyRequest) -> dict:
        model = pick("classify", body.model)
        found = await model.batcher.submit((), body.texts)
        answer: dict[str, Any] = {"model": model.name, "labels": [p.label for p in found],
                                  "probabilities": [{k: round(v, 4) for k, v in p.probabilities.items()}
                                                    for p in found]}
        if body.attention:
            answer["attention"] = [{"tokens": p.tokens, "weights": [round(w, 4) for w in p.attention or []]}
                                   for p in found]
        return answer

    @app.post("/v1/text", summary="Free text: a prompt continued by a language model")
    async def text(body: TextRequest) -> dict:
        model = pick("text", body.model)
        passages = await model.batcher.alone(lambda: model.engine.text(
            body.prompt, body.length, body.n, body.temperature, body.top_k, body.top_p, body.seed))
        return {"model": model.name, "texts": [{"text": p.text, "seed": p.seed, "log_prob": round(p.log_prob, 3)}
                                               for p in passages]}

    return app


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
        # the library names command-line options (--form x); here they are the JSON fields (form)
        return JSONResponse({"error": re.sub(r"^--", "", str(error))}, status_code=422)

    @app.exception_handler(Exception)
    async def crashed(_: Request, error: Exception) -> JSONResponse:  # a bug of ours: logged, never shown
        return JSONResponse({"error": f"internal error ({type(error).__name__}); see the server's log"},
                            status_code=500)


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before the app reads it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _too_large(send, self.limit)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                return await _too_large(send, self.limit)
        body, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect, as the server sends it
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": f"request body over {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
