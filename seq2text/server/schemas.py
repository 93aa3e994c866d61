"""The JSON bodies of the HTTP API, with the limits every input must keep.

The bodies of poems, couplets and free text are built from the library's requests
(:func:`body_of`): their fields, defaults, meanings and the HTTP API's bounds are declared once,
in :mod:`seq2text.generation.requests`.  Requests reject unknown fields, so a misspelt option is
a 422, not silently ignored.  The limits bound the work one request can ask for; the server
also caps the body size (413).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Optional, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from seq2text.generation import requests
from seq2text.generation.requests import MAX_GUIDANCE, SERVED_BEAM, SERVED_COUNT, SERVED_REVISIONS
from seq2text.verse.subjects import GUIDANCE

MAX_TEXTS = 32  # inputs per request
MAX_CHARS = 1000  # characters per input
MAX_FIRST_LINE = 50  # characters of a 上联, as the couplet models allow
MAX_BEAM, MAX_COUNT = SERVED_BEAM, SERVED_COUNT  # the library's table of limits
MAX_POEM = 400  # characters of a poem or ci to revise (the longest tunes have about 240)
MAX_LENGTH = 1000  # tokens of free text


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty (only spaces)")
    return text


Text = Annotated[str, StringConstraints(max_length=MAX_CHARS)]
FilledText = Annotated[str, StringConstraints(max_length=MAX_CHARS), AfterValidator(_not_blank)]
ModelName = Annotated[Optional[str], Field(None, max_length=100, description="a served model (GET /v1/models); "
                                                                          "default: the first that does this")]
Seed = Annotated[Optional[int], Field(None, ge=0, lt=2**63, description="same seed, same output")]


class Request(BaseModel):
    # strict: "5" is not a beam size and true not a number; JSON numbers still fill float fields
    model_config = ConfigDict(extra="forbid", strict=True)


class TranslateRequest(Request):
    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS, description="sentences, one translation each")
    model: ModelName = None
    beam_size: Optional[int] = Field(None, ge=1, le=MAX_BEAM, description="1 = greedy [default: the model's]")
    nbest: int = Field(1, ge=1, le=MAX_BEAM, description="alternatives per sentence (at most beam_size)")
    attention: bool = Field(False, description="return each best translation's attention weights")


def body_of(request: type, name: str, doc: str, **own: Any) -> type[Request]:
    """The JSON body of the library's ``request`` (a dataclass of
    :mod:`seq2text.generation.requests`): each field it offers, under its API name, with its
    default, its meaning and the HTTP API's bounds; ``own``: the body's fields of its own (the
    inputs, the model).  Its ``request()`` gives the library's request back."""
    hints = get_type_hints(request)
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}  # API name -> the request's field
    for spec in dataclasses.fields(request):
        about = spec.metadata
        if not about.get("offered", True):
            continue
        kind, default = hints[spec.name], spec.default
        if about.get("item_length"):  # a tuple of words: a JSON list of strings
            kind = list[Annotated[str, StringConstraints(min_length=1, max_length=about["item_length"])]]
            default = list(default)
        bounds = {"ge" if not about.get("open_low") else "gt": about.get("low"),
                  "le": about.get("served") or about.get("high"), "max_length": about.get("length")}
        if kind is float:
            bounds["allow_inf_nan"] = False
        names[about.get("api") or spec.name] = spec.name
        fields[about.get("api") or spec.name] = (kind, Field(default, description=about.get("meaning"),
                                                             **{k: v for k, v in bounds.items() if v is not None}))

    def to_request(body: BaseModel) -> Any:
        values = {names[key]: value for key, value in body.model_dump().items() if key in names}
        return request(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})

    model = create_model(name, __base__=Request, __doc__=doc, **fields, **own)
    model.request = to_request
    return model


PoemRequest = body_of(requests.PoemRequest, "PoemRequest", "The body of /v1/poem.", model=(ModelName, None))
CoupletRequest = body_of(requests.CoupletRequest, "CoupletRequest", "The body of /v1/couplet.", model=(ModelName, None),
                         first=(list[Annotated[str, StringConstraints(max_length=MAX_FIRST_LINE),
                                               AfterValidator(_not_blank)]],
                                Field(min_length=1, max_length=MAX_TEXTS, description="上联, one list of 下联 each")))
TextRequest = body_of(requests.TextRequest, "TextRequest", "The body of /v1/text.", model=(ModelName, None))
Sampling = body_of(requests.Sampling, "Sampling", "How tokens are drawn.")


class ReviseRequest(Sampling):
    """The body of /v1/poem/revise: new candidates for one line of a poem, every other line kept."""

    poem: str = Field(min_length=1, max_length=MAX_POEM, description="the poem as /v1/poem wrote it")
    form: str = Field(max_length=20, description="its form or tune, as /v1/poem gave it")
    line: int = Field(ge=1, le=MAX_POEM, description="the line (clause) to rewrite, from 1")
    title: Optional[str] = Field(None, max_length=MAX_FIRST_LINE, description="the poem's subject, as /v1/poem "
                                 "gave it")
    n: int = Field(5, ge=1, le=SERVED_REVISIONS, description="candidates, best first")
    guidance: Optional[float] = Field(None, ge=0.0, le=MAX_GUIDANCE, allow_inf_nan=False,
                                      description="how strongly the subject steers [default: 3]")
    model: ModelName = None

    def request(self) -> dict:
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p, "seed": self.seed,
                "guidance": GUIDANCE if self.guidance is None else self.guidance}


class ClassifyRequest(Request):
    texts: list[FilledText] = Field(min_length=1, max_length=MAX_TEXTS, description="texts, one label each")
    model: ModelName = None
    attention: bool = Field(False, description="attention pooling: the tokens and the weight each got")


class TagRequest(Request):
    texts: list[FilledText] = Field(min_length=1, max_length=MAX_TEXTS, description="sentences, a tag for each word")
    pretokenized: bool = Field(False, description="the words are what spaces separate [default: split as the "
                               "model's treebank is]")
    top: int = Field(0, ge=0, le=100, description="also the top most probable tags of each word, with their "
                     "probabilities")
    model: ModelName = None


