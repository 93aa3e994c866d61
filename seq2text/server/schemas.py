"""The JSON bodies of the HTTP API, with the limits every input must keep.

Requests reject unknown fields, so a misspelt option is a 422, not silently ignored.  The
limits bound the work one request can ask for; the server also caps the body size (413).
"""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from seq2text.decoding.sampling import MAX_TEMPERATURE, MAX_TOP_K, MIN_TEMPERATURE
from seq2text.generation import requests
from seq2text.generation.requests import MAX_CANDIDATES, MAX_GUIDANCE, SERVED_BEAM, SERVED_COUNT, SERVED_REVISIONS
from seq2text.verse.subjects import CANDIDATES, GUIDANCE, SUBJECT_WEIGHT

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


class Sampling(Request):
    temperature: float = Field(requests.Sampling.temperature, ge=0.0, le=MAX_TEMPERATURE, allow_inf_nan=False,
                               description=f"0 (the most probable) or {MIN_TEMPERATURE} to {MAX_TEMPERATURE:g}")
    top_k: int = Field(requests.Sampling.top_k, ge=0, le=MAX_TOP_K, description="0 = no limit")
    top_p: float = Field(requests.Sampling.top_p, gt=0.0, le=1.0, allow_inf_nan=False)
    seed: Seed = None


class TranslateRequest(Request):
    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS, description="sentences, one translation each")
    model: ModelName = None
    beam_size: Optional[int] = Field(None, ge=1, le=MAX_BEAM, description="1 = greedy [default: the model's]")
    nbest: int = Field(1, ge=1, le=MAX_BEAM, description="alternatives per sentence (at most beam_size)")
    attention: bool = Field(False, description="return each best translation's attention weights")


class PoemRequest(Sampling):
    """The body of /v1/poem: the fields of :class:`seq2text.generation.requests.PoemRequest`."""

    form: str = Field("qiyan-jueju", max_length=20, description="wuyan-jueju, qiyan-jueju, wuyan-lushi, "
                      "qiyan-lushi, free, or 五言绝句, 七言绝句, 五言律诗, 七言律诗, or a ci tune (浣溪沙; "
                      "GET /v1/poem/forms), written by the served model that has it")
    title: Optional[str] = Field(None, max_length=MAX_FIRST_LINE, description="what the poem is about: 秋夜")
    keywords: list[Annotated[str, StringConstraints(min_length=1, max_length=10)]] = Field(
        [], max_length=8, description="words the poem should use")
    acrostic: Optional[str] = Field(None, max_length=8, description="藏头诗: the first character of each line")
    prompt: Optional[str] = Field(None, max_length=MAX_FIRST_LINE, description="the poem's first characters")
    rhyme: bool = True
    tones: bool = True
    guidance: Optional[float] = Field(None, ge=0.0, le=MAX_GUIDANCE, allow_inf_nan=False,
                                      description="how strongly title and keywords steer [default: 3]")
    candidates: int = Field(CANDIDATES, ge=1, le=MAX_CANDIDATES, description="lines sampled for each line, "
                            "the best kept (1: plain sampling)")
    subject_weight: float = Field(SUBJECT_WEIGHT, ge=0.0, le=MAX_GUIDANCE, allow_inf_nan=False,
                                  description="how much the choice among candidates favours the subject")
    beam_size: int = Field(1, ge=1, le=MAX_BEAM, description="1 samples; more: beam search")
    n: int = Field(1, ge=1, le=MAX_COUNT, description="number of poems")
    model: ModelName = None

    def request(self) -> requests.PoemRequest:
        fields = self.model_dump(exclude={"model", "n", "keywords", "guidance"})
        return requests.PoemRequest(**fields, count=self.n, keywords=tuple(self.keywords),
                                    guidance=GUIDANCE if self.guidance is None else self.guidance)


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


class CoupletRequest(Sampling):
    first: list[Annotated[str, StringConstraints(max_length=MAX_FIRST_LINE), AfterValidator(_not_blank)]] = Field(
        min_length=1, max_length=MAX_TEXTS, description="上联, one list of 下联 each")
    n: int = Field(1, ge=1, le=MAX_COUNT, description="下联 per 上联")
    beam_size: int = Field(5, ge=1, le=MAX_BEAM, description="beam search; 1 samples")
    tones: bool = Field(True, description="平仄相对 at the rhythm points")
    model: ModelName = None

    def request(self) -> requests.CoupletRequest:
        return requests.CoupletRequest(**self.model_dump(exclude={"model", "n", "first"}), count=self.n)


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


class TextRequest(Sampling):
    prompt: str = Field("", max_length=MAX_CHARS, description="continued by the model")
    length: int = Field(200, ge=1, le=MAX_LENGTH, description="tokens written after the prompt")
    n: int = Field(1, ge=1, le=MAX_COUNT)
    model: ModelName = None

    def request(self) -> requests.TextRequest:
        return requests.TextRequest(**self.model_dump(exclude={"model", "n"}), count=self.n)
