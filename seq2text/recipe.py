"""Recipes: one YAML file describing data, tokenizer, model, training and decoding.

A recipe is plain data.  Loading it validates every setting against the schema below, so a typo
or a wrong type is reported as one line naming the file and the setting, e.g.::

    recipes/x.yaml: model.hiden_size: unknown setting (did you mean hidden_size?)

Command-line overrides (``--set model.hidden_size=512``) are applied to the raw YAML before
validation, so they are checked exactly like settings written in the file.

Data paths are relative to a *data root*: ``--data-root``, else ``$SEQ2TEXT_DATA``, else the
first existing ``../shared/data`` next to the working directory or next to this source tree.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from seq2text.textfile import read_regular
from seq2text.errors import Seq2TextError
from seq2text.tasks import TASKS, check_recipe

# Bounds that keep a recipe (also the recipe.yaml of a model folder someone sent) from asking
# for more memory than any machine has: far above every sensible model, far below terabytes.
MAX_SIZE, MAX_LAYERS, MAX_VOCAB, MAX_TOKENS, MAX_BEAM = 8192, 16, 1_000_000, 100_000, 256
MAX_RECIPE_BYTES = 1 << 20
SHOWN_VALUE = 60  # characters of a wrong value quoted in an error


def _number(value: Any) -> Any:
    """YAML reads ``5e-4`` (no dot) as a string: take it as the number it means; never a bool."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


Float = Annotated[float, BeforeValidator(_number)]


def _label_map(value: Any) -> Any:
    """YAML reads ``{0: negative}`` with an integer key: the data's labels are strings."""
    if isinstance(value, dict):
        if any(isinstance(key, bool) for key in value):
            raise ValueError("expected label values such as 0 or pos, not true/false")
        return {str(key) if isinstance(key, int) else key: name for key, name in value.items()}
    return value


LabelNames = Annotated[dict[str, str], BeforeValidator(_label_map)]


class Section(BaseModel):
    """A recipe section: unknown keys are errors, not silently ignored, and values keep their
    YAML types (``hidden_size: true`` is not 1, ``"5"`` is not 5; an integer is a float, and so
    is ``5e-4``, which YAML reads as a string)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), strict=True, allow_inf_nan=False)


class DataConfig(Section):
    """Where the corpus lives and how it is read.

    ``kind`` selects the loader (see :mod:`seq2text.data.corpora`):

    - ``parallel``: ``train``/``valid``/``test`` are file prefixes, ``src_lang``/``tgt_lang`` their
      suffixes (``multi30k/train`` + ``de`` -> ``multi30k/train.de``).
    - ``tang``: ``train`` is the folder of ``poet.tang.*.json``, and ``extra_poems`` a second
      folder in the same schema (``song``); ``valid_fraction`` of the poems (by a hash of their
      ``id``) is held out for validation.
    - ``couplet``: ``train`` (``valid``, ``test``) are JSONL files of ``{"first", "second"}``.
    - ``verse_pairs``: ``train`` is the Tang folder (and ``extra_poems`` the Song folder); the
      上句/下句 pairs of its poems, plus the ``extra_pairs`` JSONL of ``{"first", "second"}``
      pairs if given.  The strictly parallel pairs (middle couplets of regulated verse, extra
      pairs) are read ``parallel_repeat`` times per epoch, and with ``parallel_only`` they are
      the only ones; ``valid_fraction`` of the poems and of the extra pairs is held out.
    - ``text``: plain text files, one sentence per line; with ``valid_fraction`` and no ``valid``
      file, the last part of ``train`` is held out (tiny-shakespeare's usual 90/10 split).
    - ``labelled``: a TSV (``.tsv``) or CSV file per split with a header row, read by the
      ``datasets`` CSV loader; ``text_column`` and ``label_column`` name the columns.  TSV
      fields are never quoted (a review may start with ``"``), CSV fields may be.
    - ``conllu``: a CoNLL-U treebank file per split (Universal Dependencies), read with the
      ``conllu`` package: the words of each sentence and their ``tag_column``.  Without a
      ``test`` file, ``test_fraction`` of the training sentences (by a hash of their
      ``sent_id``) is held out as the test split.
    """

    kind: Literal["parallel", "tang", "couplet", "verse_pairs", "text", "labelled", "conllu"]
    train: str
    valid: Optional[str] = None
    test: Optional[str] = None
    src_lang: Optional[str] = None
    tgt_lang: Optional[str] = None
    max_length: int = Field(100, gt=0, le=MAX_TOKENS, description="longest example kept, in tokens")
    valid_fraction: Float = Field(0.0, ge=0.0, lt=1.0)
    extra_poems: Optional[str] = Field(None, description="tang, verse_pairs: a second folder of poems "
                                       "in the same schema (song: the Song poems), held out the same way")
    ci: Optional[str] = Field(None, description="tang, lm: a folder of ci.song.*.json (the Song lyrics), "
                              "each ci read after its tune's name (浣溪沙|...), held out the same way")
    poems_fraction: Float = Field(1.0, gt=0.0, le=1.0, description="tang: the share of the poems read (by a hash "
                                  "of their id), to train mostly on the ci while keeping some poems")
    extra_pairs: Optional[str] = Field(None, description="verse_pairs: a JSONL file of "
                                       "{\"first\", \"second\"} couplets added to the Tang line pairs")
    parallel_repeat: int = Field(1, ge=1, description="verse_pairs: times the strictly parallel "
                                 "pairs are read per epoch (the other line pairs: once)")
    parallel_only: bool = Field(False, description="verse_pairs: only the strictly parallel pairs "
                                "(middle couplets of regulated verse, extra pairs), not every 上句/下句")
    subjects: bool = Field(False, description="tang, lm: read each poem after its subject (its cleaned "
                           "title, keywords from the poem, or both; see seq2text.verse.subjects)")
    untitled_fraction: Float = Field(0.25, ge=0.0, le=1.0, description="subjects: poems read without "
                                     "a subject, so that the model also writes without one")
    keywords_fraction: Float = Field(0.2, ge=0.0, le=1.0, description="subjects: of the other poems, "
                                     "those read after two keywords (half of them with the title too)")

    distilled: Optional[str] = Field(None, description="parallel: a file of a teacher's translations of the "
                                     "train split's source, line for line (seq2text translate -m A -m B -i "
                                     "train.de -o FILE); relative to the working directory, as run folders are")
    distilled_mix: Literal["replace", "add"] = Field(
        "replace", description="distilled: train on the teacher's translations in place of the references, or "
        "on both (the pairs where the two differ read twice per epoch, once with each)")

    text_column: str = Field("sentence", description="labelled: the column holding the text")
    label_column: str = Field("label", description="labelled: the column holding the label")
    label_names: Optional[LabelNames] = Field(None, description="labelled: a name for each label of the data "
                                              "({0: negative, 1: positive}); the model answers with the "
                                              "names, in this order, and reads the data's values as aliases")

    tag_column: Literal["upos", "xpos"] = Field("upos", description="conllu: the tags learned (universal or "
                                                 "treebank-specific part of speech)")
    multiword_tokens: Literal["words", "surface"] = Field(
        "words", description="conllu: how a multiword token (a range line such as 3-4, \"don't\" = do + n't) is "
        "read: its syntactic words, each with its own tag, or the surface token as one word whose tag "
        "joins theirs with + (AUX+PART)")
    empty_nodes: bool = Field(False, description="conllu: read the empty nodes of enhanced dependencies (IDs "
                              "like 8.1) as words; they are not in the sentence's text, so the default skips them")
    test_fraction: Float = Field(0.0, ge=0.0, lt=1.0, description="conllu: with no test file, the fraction of the "
                                 "training sentences held out as the test split (by a hash of their sent_id)")

    @model_validator(mode="after")
    def _languages_for_parallel(self) -> "DataConfig":
        if self.kind == "parallel" and not (self.src_lang and self.tgt_lang):
            raise ValueError("parallel data needs src_lang and tgt_lang")
        if self.test_fraction and (self.kind != "conllu" or self.test is not None):
            raise ValueError("test_fraction: holds out training sentences of conllu data that has no test file")
        if self.distilled is not None and self.kind != "parallel":
            raise ValueError("distilled: a teacher's translations of parallel data (kind: parallel)")
        if self.label_names is not None:
            if self.kind != "labelled":
                raise ValueError("label_names: names the labels of labelled data (kind: labelled)")
            names = self.label_names
            if len(set(names.values())) != len(names):
                raise ValueError("label_names: two labels have the same name")
            clash = [name for value, name in names.items() if name in names and name != value]
            if clash:
                raise ValueError(f"label_names: {clash[0]} is both a name and another label's value")
        return self


class TokenizerConfig(Section):
    """How text becomes ids: SentencePiece subwords, characters, or whitespace words."""

    type: Literal["sentencepiece", "char", "word"] = "sentencepiece"
    model_type: Literal["bpe", "unigram"] = "bpe"
    vocab_size: int = Field(8000, gt=0, le=MAX_VOCAB, description="SentencePiece vocabulary size")
    joint: bool = Field(True, description="one vocabulary for source and target")
    character_coverage: Float = Field(1.0, gt=0.0, le=1.0)
    byte_fallback: bool = Field(True, description="spell unknown characters as UTF-8 bytes")
    min_freq: int = Field(1, ge=1, description="char/word: rarer tokens become <unk>")
    simplified: bool = Field(False, description="char: convert traditional to simplified (opencc)")
    split: Literal["spaces", "treebank", "characters"] = Field(
        "spaces", description="word: how raw text becomes words: at spaces (text tokenised already), as the Penn "
        "and UD English treebanks split it (contractions and punctuation apart; NLTK's Treebank rules), or "
        "one character a word with the longest multi-character words of the vocabulary kept whole (Chinese)")
    model_file: Optional[str] = Field(None, description="use this trained SentencePiece model "
                                      "(path relative to the recipe) instead of training one")
    training_pieces_only: bool = Field(False, description="sentencepiece: keep only the pieces that occur "
                                       "in the training text of each side (of both, when joint), as "
                                       "JoeyNMT builds its vocabularies: with joint: false a smaller "
                                       "output layer; pieces seen only elsewhere read as <unk>")

    @model_validator(mode="after")
    def _pieces_of_sentencepiece(self) -> "TokenizerConfig":
        if self.training_pieces_only and self.type != "sentencepiece":
            raise ValueError("tokenizer.training_pieces_only: only for sentencepiece tokenizers "
                             "(char and word vocabularies hold only training tokens already)")
        return self


class ModelConfig(Section):
    """Network shape (used by the training issue's models)."""

    architecture: Literal["seq2seq", "aligned"] = Field(
        "seq2seq", description="pairs: attention encoder-decoder, or (couplets) aligned N-vs-N: a "
        "bidirectional encoder labelling every source position with its target token")
    cell: Literal["rnn", "gru", "lstm"] = "gru"
    embed_size: int = Field(256, gt=0, le=MAX_SIZE)
    hidden_size: int = Field(512, gt=0, le=MAX_SIZE, description="decoder state size")
    encoder_size: Optional[int] = Field(None, gt=0, le=MAX_SIZE, description="encoder state size per "
                                        "direction [default: hidden_size, halved when bidirectional]")
    encoder_layers: int = Field(1, ge=1, le=MAX_LAYERS)
    decoder_layers: int = Field(1, ge=1, le=MAX_LAYERS)
    bidirectional: bool = True
    attention: Literal["none", "bahdanau", "dot", "general"] = "bahdanau"
    input_feeding: bool = True
    dropout: Float = Field(0.2, ge=0.0, lt=1.0)
    layer_norm: bool = False
    tied_embeddings: bool = Field(False, description="output projection = target embeddings")
    share_embeddings: bool = Field(False, description="one embedding table for source and target "
                                   "(needs a joint vocabulary)")
    char_size: int = Field(0, ge=0, le=MAX_SIZE, description="tagging: state size per direction of the "
                           "character BiLSTM that spells each word (Plank et al. 2016); 0: word embeddings only")
    char_embed_size: int = Field(32, gt=0, le=MAX_SIZE, description="tagging: character embedding size")
    crf: bool = Field(False, description="tagging: a linear-chain CRF output layer, decoded by Viterbi, instead "
                      "of an independent softmax per word")
    pooling: Literal["last", "max", "mean", "attention"] = Field(
        "attention", description="classification: how the encoder's outputs become one vector (the last "
        "states of both directions, max or mean over positions, or attention weights)")
    locked_dropout: bool = Field(False, description="language models: one dropout mask per sequence "
                                 "for the embeddings and the outputs, the same at every position "
                                 "(variational dropout, Gal & Ghahramani 2016)")
    embedding_dropout: Float = Field(0.0, ge=0.0, lt=1.0, description="language models: drop whole "
                                     "word types from the embedding lookup (Gal & Ghahramani 2016)")
    weight_drop: Float = Field(0.0, ge=0.0, lt=1.0, description="language models: DropConnect on the "
                               "recurrent hidden-to-hidden weights (Merity et al. 2018)")
    init_range: Optional[Float] = Field(None, gt=0.0, le=10.0, description="draw every weight uniformly from "
                                        "[-init_range, init_range] (Zaremba et al. 2014) "
                                        "[default: PyTorch's per-layer initialisation]")

    @property
    def encoder_output_size(self) -> int:
        """Size of the encoder outputs the attention reads (both directions)."""
        directions = 2 if self.bidirectional else 1
        return (self.encoder_size or self.hidden_size // directions) * directions

    @model_validator(mode="after")
    def _consistent_sizes(self) -> "ModelConfig":
        if self.attention == "dot" and self.encoder_output_size != self.hidden_size:
            raise ValueError(f"dot attention needs encoder outputs ({self.encoder_output_size}) "
                             f"of hidden_size ({self.hidden_size}); use general or bahdanau")
        if self.tied_embeddings and self.attention == "none" and self.hidden_size != self.embed_size:
            raise ValueError("tied_embeddings without attention needs hidden_size == embed_size")
        return self


class TrainingConfig(Section):
    """Batching and optimisation."""

    batch_size: Optional[int] = Field(None, gt=0, le=MAX_TOKENS, description="sentences per batch")
    batch_tokens: Optional[int] = Field(None, gt=0, le=MAX_TOKENS * 64, description="padded tokens per batch")
    bucket_pool: int = Field(100, ge=1, description="batches sorted by length together")
    bptt: Optional[int] = Field(None, gt=0, description="language models: read the text as one "
                                "stream in windows of this many tokens, carrying the state "
                                "(batch_size = parallel streams); default: one sequence per line")
    epochs: int = Field(10, ge=1, le=100_000)
    optimizer: Literal["adam", "sgd"] = "adam"
    # float32 holds the rate (1e300 would be inf in the optimizer's tensors); a huge rate still
    # trains, diverges and stops with its last good checkpoint
    learning_rate: Float = Field(1e-3, gt=0.0, le=1e38)
    clip_grad_norm: Float = Field(1.0, ge=0.0, le=1e6)
    label_smoothing: Float = Field(0.0, ge=0.0, lt=1.0)
    subword_sampling: Float = Field(0.0, ge=0.0, lt=1.0, description="SentencePiece subword "
                                    "regularisation: each training pair is split afresh per batch, a BPE "
                                    "merge dropped with this probability (unigram models: the smoothing "
                                    "alpha); 0 = the one best split")
    validate_every: Optional[int] = Field(None, gt=0, description="steps between validations "
                                          "and checkpoints [default: once per epoch]")
    checkpoint_every: Optional[int] = Field(None, gt=0, description="steps between checkpoints "
                                            "written without validating, so that a crash or Ctrl-C "
                                            "loses little [default: only at validations]")
    keep_checkpoints: int = Field(3, ge=1, description="best checkpoints kept")
    schedule: Literal["constant", "exponential", "plateau"] = Field(
        "constant", description="exponential: x lr_decay per epoch; plateau: x lr_decay when "
        "the validation metric has not improved for `patience` validations")
    lr_decay: Float = Field(0.5, gt=0.0, le=1.0)
    decay_start: int = Field(2, ge=1, description="exponential: the first epoch (from 1) whose rate is "
                             "multiplied by lr_decay; the epochs before run at the full rate")
    patience: int = Field(2, ge=1, description="validations without improvement (plateau)")
    warmup_steps: int = Field(0, ge=0, description="linear warm-up of the learning rate")
    min_learning_rate: Float = Field(1e-6, ge=0.0, le=1e38)
    metric: Literal["bleu", "ppl", "accuracy", "f1"] = Field(
        "bleu", description="validation score that picks the best checkpoints, drives plateau and early "
        "stopping (classification: accuracy or macro-F1)")
    word_dropout: Float = Field(0.0, ge=0.0, le=100.0, description="tagging: alpha of word dropout, each training "
                                "word read as <unk> with probability alpha / (alpha + its count), so that the "
                                "<unk> embedding learns from rare words (Kiperwasser & Goldberg 2016); 0: off")
    class_weights: bool = Field(False, description="classification: weigh each label's loss by the inverse "
                                "of its share of the training examples")
    objective: Literal["labels", "bilm"] = Field(
        "labels", description="classification: labels, or bilm: pretrain the encoder as a bidirectional "
        "language model of the training texts (forward states predict the next token, backward states the "
        "one before, through the embeddings; metric ppl), for a labels run to start from (init_from)")
    teachers: list[str] = Field([], description="classification: models (bundled names or folders) with the "
                                "same labels whose mean probabilities on each training text are learned too "
                                "(knowledge distillation, Hinton et al. 2015)")
    teacher_weight: Float = Field(0.5, ge=0.0, le=1.0, description="teachers: the share of the loss given "
                                  "to their probabilities (the rest: the data's labels)")
    early_stopping: Optional[int] = Field(None, ge=1, description="stop after this many "
                                          "validations without a better score")
    average_checkpoints: int = Field(0, ge=0, description="at the end, average the best N "
                                     "checkpoints into runs/<name>/averaged")
    init_from: Optional[str] = Field(None, description="start from the weights of this model (a "
                                     "bundled name or a model or run folder) of the same shape and "
                                     "tokenizers; language models with a character or word vocabulary: "
                                     "embedding and output rows matched by token, new tokens drawn fresh")
    precision: Literal["fp32", "bf16", "fp16"] = Field(
        "fp32", description="autocast dtype for matrix products (bf16 on CPUs with AVX512-BF16/AMX; "
                "elsewhere bf16 trains in fp32)")

    @model_validator(mode="after")
    def _consistent(self) -> "TrainingConfig":
        if self.batch_size is None and self.batch_tokens is None:
            self.batch_size = 64
        if self.average_checkpoints > self.keep_checkpoints:
            raise ValueError(f"average_checkpoints ({self.average_checkpoints}) needs as many kept "
                             f"checkpoints (keep_checkpoints is {self.keep_checkpoints})")
        return self


class DecodingConfig(Section):
    """Search settings used by translate/generate/evaluate."""

    beam_size: int = Field(5, ge=1, le=MAX_BEAM)
    length_penalty: Float = Field(1.0, ge=0.0, le=100.0)
    max_length: int = Field(100, gt=0, le=MAX_TOKENS)


def _plain_name(name: str) -> str:
    """A run's name is a folder name under ``runs/``, never a path."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("-") \
            or len(name) > 100 or not name.isprintable():
        raise ValueError("a plain folder name (letters, digits, _ - .; no / and not . or ..): runs go to "
                         "runs/<name>; choose another folder with --output-dir")
    return name


class Recipe(Section):
    """A whole recipe.  ``path`` and ``data_root`` are filled in by :func:`load_recipe`."""

    name: Annotated[str, AfterValidator(_plain_name)]
    task: Literal[tuple(TASKS)] = "translation"  # type: ignore[valid-type]  # the rows of seq2text.tasks
    seed: int = Field(42, ge=0, lt=2**63)
    data: DataConfig
    tokenizer: TokenizerConfig = TokenizerConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    decoding: DecodingConfig = DecodingConfig()

    path: Optional[Path] = Field(None, exclude=True)
    data_root: Optional[Path] = Field(None, exclude=True)

    @model_validator(mode="after")
    def _task_fits(self) -> "Recipe":
        check_recipe(self)  # what the task reads, validates with and builds (seq2text.tasks)
        if self.training.subword_sampling and self.tokenizer.training_pieces_only:
            raise ValueError("training.subword_sampling: sampled splits hold pieces that the one best split of "
                             "the training text never uses, which tokenizer.training_pieces_only leaves out; "
                             "set one of them")
        return self

    def data_places(self, relative: str) -> list[Path]:
        """Where a data path of this recipe may be: beside the recipe, then under the data root
        (one place for an absolute path)."""
        root = self.data_root if self.data_root is not None else Path.cwd()
        beside = [(self.path.parent / relative).resolve()] if self.path is not None else []
        return list(dict.fromkeys([*beside, (root / relative).resolve()]))

    def data_path(self, relative: str) -> Path:
        """A data path of this recipe, made absolute: the file or folder beside the recipe if
        there is one, else the one under the data root."""
        places = self.data_places(relative)
        return next((place for place in places if place.exists()), places[-1])

    def to_yaml(self) -> str:
        """The resolved recipe, as it would be written by hand."""
        return yaml.safe_dump(self.model_dump(), sort_keys=False, allow_unicode=True)


def default_data_root() -> Path:
    """``$SEQ2TEXT_DATA``, else the first existing ``../shared/data`` (cwd, then source tree)."""
    if os.environ.get("SEQ2TEXT_DATA"):
        return Path(os.environ["SEQ2TEXT_DATA"]).resolve()
    candidates = [Path.cwd() / ".." / "shared" / "data",
                  Path(__file__).resolve().parents[1] / ".." / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return candidates[0].resolve()


def load_recipe(path: str | Path, overrides: list[str] = (), data_root: str | Path | None = None,
                check_files: bool = True) -> Recipe:
    """Read, override and validate a recipe; raise :class:`Seq2TextError` on any problem.

    ``overrides`` are ``"section.key=value"`` strings; values are parsed as YAML scalars.
    With ``check_files``, every data file the recipe names must exist under the data root, and
    ``tokenizer.model_file`` beside the recipe.  A trained model's own recipe is read without:
    its tokenizer is saved in the model folder, and the files it was trained from may be on
    another machine.
    """
    path = Path(path)
    if not path.exists():
        raise Seq2TextError(f"{path}: no such recipe file")
    data = read_regular(path, MAX_RECIPE_BYTES, "recipe file")  # a FIFO would hang, /dev/zero never end
    try:
        raw = parse_yaml(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise Seq2TextError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise Seq2TextError(f"{path}{where}: {problem}") from None
    except RecursionError:
        raise Seq2TextError(f"{path}: nested too deeply to be a recipe") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise Seq2TextError(f"{path}: a recipe is a mapping of sections, not {type(raw).__name__}")
    raw.setdefault("name", path.stem)

    overridden = {_apply_override(raw, item) for item in overrides}
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        if not key:  # a rule across sections names its setting in the message
            raise Seq2TextError(f"{path}: {_describe(first)}") from None
        source = f"--set {key}" if _is_overridden(key, overridden) else f"{path}: {key}"
        raise Seq2TextError(f"{source}: {_describe(first)}") from None

    recipe.path = path
    if recipe.tokenizer.model_file is not None:
        model_file = (path.parent / recipe.tokenizer.model_file).resolve()
        if check_files and not model_file.is_file():
            raise Seq2TextError(f"{path}: tokenizer.model_file: no such file: {model_file}")
        recipe.tokenizer.model_file = str(model_file)
    recipe.data_root = Path(data_root).resolve() if data_root else default_data_root()
    if check_files:
        for key, file in data_files(recipe):
            if not file.exists():
                raise Seq2TextError(f"{path}: {key}: no such file or folder beside the recipe or under the data "
                                    f"root: {' or '.join(map(str, _tried(recipe, file)))}"
                                    f" (change the data root with --data-root or SEQ2TEXT_DATA)")
    return recipe


def _tried(recipe: Recipe, missing: Path) -> list[Path]:
    """The places a data path that was not found was looked for (it fell back to the data root)."""
    try:
        return recipe.data_places(str(missing.relative_to(recipe.data_root)))
    except ValueError:  # an absolute path elsewhere
        return [missing]


def data_files(recipe: Recipe) -> list[tuple[str, Path]]:
    """Every file or folder the data section names, with its setting (``data.train``)."""
    data = recipe.data
    files = []
    for split in ("train", "valid", "test"):
        value = getattr(data, split)
        if value is None:
            continue
        if data.kind == "parallel":
            files += [(f"data.{split}", recipe.data_path(f"{value}.{lang}"))
                      for lang in (data.src_lang, data.tgt_lang)]
        else:
            files.append((f"data.{split}", recipe.data_path(value)))
    if data.extra_poems:
        files.append(("data.extra_poems", recipe.data_path(data.extra_poems)))
    if data.ci:
        files.append(("data.ci", recipe.data_path(data.ci)))
    if data.extra_pairs:
        files.append(("data.extra_pairs", recipe.data_path(data.extra_pairs)))
    return files


class _RecipeLoader(yaml.SafeLoader):
    """Safe YAML without aliases: a recipe never needs them, and a few nested aliases can
    expand to gigabytes (the "billion laughs")."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in recipes", mark)
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> Any:
    """A YAML document (or ``--set`` value) as plain data, aliases refused."""
    return yaml.load(text, Loader=_RecipeLoader)


def shown(value: Any) -> str:
    """``repr(value)``, cut to :data:`SHOWN_VALUE` characters for error messages."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE] + f"... ({len(text)} characters)"


def _apply_override(raw: dict, item: str) -> str:
    """Set ``section.key=value`` in the raw recipe dict; return the dotted key."""
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise Seq2TextError(f"--set {item}: expected KEY=VALUE, e.g. model.hidden_size=512")
    try:
        parsed = parse_yaml(value) if value.strip() else None
    except (yaml.YAMLError, RecursionError):
        raise Seq2TextError(f"--set {key}: cannot read value {shown(value)}") from None
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise Seq2TextError(f"--set {key}: {part} is a setting, not a section")
        node = child
    node[leaf] = parsed
    return key


def _is_overridden(key: str, overridden: set[str]) -> bool:
    return any(key == item or key.startswith(item + ".") or item.startswith(key + ".")
               for item in overridden)


def _describe(error: dict[str, Any]) -> str:
    """One readable phrase for a pydantic error, with a spelling hint for unknown keys."""
    kind = error["type"]
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(str(error["loc"][-1]), _known_keys(error["loc"][:-1]), n=1)
        return "unknown setting" + (f" (did you mean {hint[0]}?)" if hint else "")
    if kind == "missing":
        return "missing setting"
    message = error["msg"].removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{message} (got {shown(error['input'])})"


def _known_keys(loc: tuple) -> list[str]:
    """The setting names allowed at a location of the recipe (for spelling hints)."""
    model: type[BaseModel] = Recipe
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [name for name in model.model_fields if name not in ("path", "data_root")]
