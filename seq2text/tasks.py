"""What each task can do, in one table: the one place that reads a recipe's ``task``.

A :class:`Task` says which network a recipe builds, how training feeds and validates it, what
``seq2text evaluate`` scores it on, which Python API and HTTP endpoint serve it, and which
recipe settings fit it.  The layers ask :func:`task_of` (or :func:`task_named`) instead of
comparing task names, so adding a task is a new row here and the modules its row names.

The rows name their builders as ``"module:attribute"`` strings, imported when first used, so
that this table stays importable from everywhere (the recipe validates against it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from seq2text.errors import Seq2TextError

if TYPE_CHECKING:
    from seq2text.recipe import Recipe


@dataclass(frozen=True)
class Task:
    """One task (a recipe's ``task``) and what it takes and gives."""

    name: str
    network: str  # "module:class" of the network (seq2text.models.build_model sizes it)
    feed: str  # "module:class" of the training feed, built from (recipe, data, process)
    evaluator: str  # "module:function" of seq2text evaluate
    api: str  # the Python API class that serves it: Translator, Generator, Classifier or Tagger
    route: str  # the HTTP endpoint, /v1/<route> (a poetry language model: /v1/poem)
    served: str  # "module:function" giving a loaded model's API object and its batch runner (seq2text serve)
    metrics: tuple[str, ...]  # training.metric values it validates with
    scored_on: str  # what evaluate reads besides the held-out split: "pairs" (--src/--ref) or "text" (--text)
    data_kind: str = ""  # the one data.kind it reads (and no other task does); "": any kind not claimed so
    pairs: bool = False  # sentence pairs (a source and a target side)
    labels: bool = False  # a label set saved beside the tokenizer (labels.json)
    characters: bool = False  # outputs scored with characters as tokens (BLEU tokenize=char)
    shortlist: bool = False  # prepare saves the target tokens of the training data
    exportable: bool = False  # seq2text export writes it as ONNX graphs
    streams: bool = False  # may read text as one stream (training.bptt)
    warm_by_token: bool = False  # init_from may match embedding rows by token across vocabularies
    architectures: tuple[str, ...] = ("seq2seq",)  # model.architecture values it builds

    def endpoint(self, recipe: "Recipe") -> str:
        """The HTTP API route that answers this model (``/v1/<endpoint>``)."""
        return "poem" if writes_poems(recipe) else self.route

    def load(self, attribute: str) -> Any:
        """The object a row names (``network``, ``feed``, ``evaluator``, ``served``)."""
        return _resolve(getattr(self, attribute))


TASKS = {task.name: task for task in (
    # sentence pairs: an attention encoder-decoder (N vs M)
    Task("translation", network="seq2text.models.seq2seq:Seq2Seq", feed="seq2text.training.feeds:PairFeed",
         evaluator="seq2text.evaluation.pairs:evaluate_pairs", api="Translator", route="translate",
         served="seq2text.server.served:translating",
         metrics=("bleu", "ppl"), scored_on="pairs", pairs=True, shortlist=True, exportable=True),
    # 下联 for 上联: an encoder-decoder or the aligned tagger (N vs N)
    Task("couplet", network="seq2text.models.seq2seq:Seq2Seq", feed="seq2text.training.feeds:PairFeed",
         evaluator="seq2text.evaluation.pairs:evaluate_pairs", api="Generator", route="couplet",
         served="seq2text.server.served:answering_couplets",
         metrics=("bleu", "ppl"), scored_on="pairs", pairs=True, characters=True,
         architectures=("seq2seq", "aligned")),
    # a language model: poems on a subject (1 vs N) and free text
    Task("lm", network="seq2text.models.lm:RNNLM", feed="seq2text.training.feeds:SequenceFeed",
         evaluator="seq2text.evaluation.lm:evaluate_lm", api="Generator", route="text",
         served="seq2text.server.served:writing", metrics=("ppl",),
         scored_on="text", streams=True, warm_by_token=True),
    # a label for a text (N vs 1)
    Task("classification", network="seq2text.models.classifier:RNNClassifier",
         feed="seq2text.training.feeds:ClassificationFeed",
         evaluator="seq2text.evaluation.classification:evaluate_classification", api="Classifier", route="classify",
         served="seq2text.server.served:classifying",
         metrics=("accuracy", "f1"), scored_on="text", labels=True, data_kind="labelled"),
    # a tag for every word (N vs N): a BiRNN over word embeddings and spellings, softmax or CRF
    Task("tagging", network="seq2text.models.tagger:RNNTagger", feed="seq2text.training.feeds:TaggingFeed",
         evaluator="seq2text.evaluation.tagging:evaluate_tagging", api="Tagger", route="tag",
         served="seq2text.server.served:tagging",
         metrics=("accuracy", "f1"), scored_on="text", labels=True, data_kind="conllu"),
)}


def writes_poems(recipe: "Recipe") -> bool:
    """Whether a recipe's model writes classical poems: a language model of the Tang poems."""
    return task_of(recipe).name == "lm" and recipe.data.kind == "tang"


def task_named(name: str) -> Task:
    return TASKS[name]


def task_of(recipe: "Recipe") -> Task:
    """The :class:`Task` of a recipe (or of anything with a ``recipe``, such as a loaded model)."""
    return TASKS[getattr(recipe, "recipe", recipe).task]


def require(loaded: Any, api: str) -> Task:
    """``loaded``'s task if the Python API ``api`` serves it, else a one-line error."""
    task = task_of(loaded)
    if task.api != api:
        wanted = " or ".join(name for name, row in TASKS.items() if row.api == api)
        raise Seq2TextError(f"{loaded.name}: not a {wanted} model (task: {task.name})")
    return task


def check_recipe(recipe: "Recipe") -> None:
    """The rules a recipe's settings must keep for its task (raised as ValueError, which the
    recipe loader reports naming the setting)."""
    task = task_of(recipe)
    if task.data_kind and recipe.data.kind != task.data_kind:
        raise ValueError(f"data.kind: task: {task.name} reads data.kind: {task.data_kind}")
    claimed = {row.data_kind: row.name for row in TASKS.values() if row.data_kind}
    if not task.data_kind and recipe.data.kind in claimed:
        raise ValueError(f"data.kind: {recipe.data.kind} data is read by task: {claimed[recipe.data.kind]}")
    if recipe.tokenizer.split != "spaces" and recipe.tokenizer.type != "word":
        raise ValueError("tokenizer.split: only word tokenizers split raw text into words")
    tagging = task.name == "tagging"
    if tagging and recipe.tokenizer.type != "word":
        raise ValueError("tokenizer.type: a tagger reads words (type: word, with the split that fits its language)")
    if not tagging and (recipe.training.word_dropout or recipe.model.crf or recipe.model.char_size):
        raise ValueError("training.word_dropout, model.crf and model.char_size: settings of task: tagging")
    if (recipe.training.objective != "labels" or recipe.training.teachers) and task.name != "classification":
        raise ValueError("training.objective and training.teachers: settings of task: classification")
    if recipe.training.objective == "bilm":
        model = recipe.model
        if not model.bidirectional or model.encoder_output_size // 2 != model.embed_size:
            raise ValueError("training.objective: bilm predicts tokens through the embeddings from each "
                             "direction: it needs model.bidirectional and model.embed_size equal to the "
                             "encoder's size per direction")
        if recipe.training.metric != "ppl" or recipe.training.teachers:
            raise ValueError("training.objective: bilm is validated by perplexity (training.metric: ppl) and "
                             "learns no labels (no training.teachers)")
    elif recipe.training.metric not in task.metrics:
        raise ValueError(f"training.metric: {recipe.training.metric} does not fit task: {task.name} "
                         f"(use {' or '.join(task.metrics)})")
    if recipe.training.bptt and not task.streams:
        raise ValueError("training.bptt: only language models read text as a stream")
    if recipe.model.architecture not in task.architectures:
        raise ValueError(f"model.architecture: {recipe.model.architecture} does not fit task: {task.name} "
                         f"(aligned N-vs-N needs task: couplet, where both sides have the same length)")
    if recipe.training.subword_sampling and (recipe.tokenizer.type != "sentencepiece" or not task.pairs
                                             or recipe.model.architecture == "aligned"):
        raise ValueError("training.subword_sampling: needs a sentencepiece tokenizer and sentence pairs "
                         "(translation, or couplets with the seq2seq architecture)")


# The variants a recipe's settings choose within a task.
ALIGNED_NETWORK = "seq2text.models.aligned:AlignedTagger"  # model.architecture: aligned
ALIGNED_FEED = "seq2text.training.feeds:AlignedFeed"
STREAM_FEED = "seq2text.training.feeds:StreamFeed"  # training.bptt


def network_for(recipe: "Recipe") -> Callable:
    """The network class of a recipe: its task's, or the aligned tagger for couplets."""
    if recipe.model.architecture == "aligned":
        return _resolve(ALIGNED_NETWORK)
    return task_of(recipe).load("network")


def feed_for(recipe: "Recipe") -> Callable:
    """The training feed class of a recipe: its task's, or the stream and aligned variants."""
    if recipe.training.bptt:
        return _resolve(STREAM_FEED)
    if recipe.model.architecture == "aligned":
        return _resolve(ALIGNED_FEED)
    return task_of(recipe).load("feed")


def _resolve(path: str) -> Any:
    """The object ``module:attribute`` names, its module imported when first needed (the rows
    name the layers above this table, which import the recipe, and so this module)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
