"""The ``seq2text`` command line.

Errors in the user's input (:class:`~seq2text.errors.Seq2TextError`) are printed as one line
on stderr with exit code 2; ``--help`` on every command says what it does and what it reads.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Callable

import click

from seq2text import __version__
from seq2text.errors import Seq2TextError, Stopped, message_line, printable, shown
from seq2text.decoding.sampling import MAX_TEMPERATURE, MAX_TOP_K, MIN_TEMPERATURE
from seq2text.generation.requests import MAX_BEAM, MAX_CANDIDATES, MAX_COUNT, Sampling
from seq2text.verse.subjects import CANDIDATES, GUIDANCE, SUBJECT_WEIGHT

# Upper bounds of options whose size is memory, besides the requests' (seq2text.generation.requests).
MAX_BATCH, MAX_OUTPUT, MAX_BOOTSTRAP = 4096, 100_000, 100_000
INTERRUPTED = 130  # the shell's code for a process ended by Ctrl-C (128 + SIGINT)


class Seq2TextGroup(click.Group):
    """A click group whose every error is one line on stderr: ``error: ...`` with exit code 2
    for bad input (:class:`Seq2TextError`, usage errors, unreadable or unwritable files), and
    ``interrupted`` with exit code 130 for Ctrl-C."""

    def main(self, args: Any = None, **kwargs: Any) -> Any:
        args = sys.argv[1:] if args is None else list(args)
        try:
            _check_arguments(args)
            return super().main(args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.exceptions.NoArgsIsHelpError as err:  # a bare `seq2text`: the help, as --help gives it
            click.echo(err.ctx.get_help())
            sys.exit(0)
        except click.ClickException as err:  # usage errors: one line, not click's three
            _error(err.format_message())
            sys.exit(2 if isinstance(err, click.UsageError) else err.exit_code)
        except Seq2TextError as err:
            _error(err.for_cli())
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt, _Interrupted) as err:
            if not isinstance(getattr(err, "interrupt", None), Stopped):  # Stopped: the command said what it saved
                click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED)
        except (MemoryError, RuntimeError) as err:
            if not _out_of_memory(err):
                raise  # a bug: its traceback
            _error(f"out of memory: {str(err).strip().splitlines()[0] if str(err).strip() else 'MemoryError'} "
                   f"(a smaller model, training.batch_size or --batch-size needs less)")
            sys.exit(2)
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            sys.stderr.close()
            sys.exit(1)
        except OSError as err:
            _error(_os_error(err))
            sys.exit(2)


    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as err:  # past click, which would print a blank line and lose its kind
            raise _Interrupted(err) from None


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM on its way out of a command (``interrupt``: the KeyboardInterrupt)."""

    def __init__(self, interrupt: KeyboardInterrupt):
        super().__init__("interrupted")
        self.interrupt = interrupt


def _out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` says an allocation failed (Python's, PyTorch's CPU or GPU allocator)."""
    text = str(err)
    return isinstance(err, MemoryError) or "DefaultCPUAllocator: can't allocate memory" in text \
        or "out of memory" in text.lower()


def _error(message: str) -> None:
    """``error: MESSAGE`` as one line, whatever the message quotes (line ends, escape sequences
    and other control characters written as ``\\n``, ``\\x1b``...)."""
    click.echo("error: " + message_line(message), err=True)


def _warn(message: str) -> None:
    """``warning: MESSAGE`` as one harmless line on stderr."""
    click.echo("warning: " + message_line(message), err=True)


def _check_arguments(args: list[str]) -> None:
    """Refuse command-line arguments that are not UTF-8 (Python hands them over as lone
    surrogates, which no tokenizer can read)."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as err:
            byte = ord(arg[err.start]) - 0xDC00 if 0xDC80 <= ord(arg[err.start]) <= 0xDCFF else None
            what = f"byte 0x{byte:02x}" if byte is not None else f"character U+{ord(arg[err.start]):04X}"
            readable = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise Seq2TextError(f"argument {shown(readable)}: not valid UTF-8 ({what} at position "
                                f"{err.start + 1})") from None


def _os_error(err: OSError) -> str:
    """``path: reason`` for an operating-system error (a write to a full disk, a read-only folder...)."""
    where = err.filename if err.filename is not None else "output"
    return f"{where}: {err.strerror or err}"


class FiniteFloat(click.ParamType):
    """A finite number in ``(minimum, maximum]`` (NaN and infinities refused)."""

    name = "number"

    def __init__(self, minimum: float, maximum: float = float("inf"), min_open: bool = True):
        self.minimum, self.maximum, self.min_open = minimum, maximum, min_open

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        low_ok = number > self.minimum if self.min_open else number >= self.minimum
        if not (math.isfinite(number) and low_ok and number <= self.maximum):
            bound = ">" if self.min_open else ">="
            limit = f" and <= {self.maximum:g}" if math.isfinite(self.maximum) else ""
            self.fail(f"{value} is not a finite number {bound} {self.minimum:g}{limit}", param, ctx)
        return number


SEED = click.IntRange(0, 2**63 - 1)  # poem i of a batch has seed + i: still a 64-bit seed


class Device(click.ParamType):
    """A device this machine has: cpu, cuda, cuda:N or mps (checked before any work starts)."""

    name = "device"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from seq2text.device import resolve_device

        try:
            return str(resolve_device(value))
        except Seq2TextError as err:
            self.fail(str(err).removeprefix("device "), param, ctx)


def device_option(command: Callable) -> Callable:
    return click.option("--device", type=Device(), default="cpu", show_default=True,
                        help="cpu, cuda, cuda:N or mps.")(command)


def recipe_options(command: Callable) -> Callable:
    """RECIPE argument plus ``--set`` and ``--data-root``, shared by recipe-driven commands."""
    command = click.option("--data-root", type=click.Path(file_okay=False), envvar="SEQ2TEXT_DATA",
                           help="Folder recipe data paths are relative to "
                                "[env SEQ2TEXT_DATA; default: ../shared/data].")(command)
    command = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                           help="Override a recipe setting, e.g. --set model.hidden_size=512 "
                                "(repeatable).")(command)
    return click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))(command)


def line_options(default_model: str, what: str, output_help: str, ensembles: bool = False) -> Callable:
    """TEXT arguments, ``-m``, ``-i`` and ``-o``: the options of commands that read ``what``
    one per line and answer each line (translate, classify); with ``ensembles``, ``-m`` may be
    repeated."""
    def decorate(command: Callable) -> Callable:
        command = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                               help=output_help)(command)
        command = click.option("-i", "--input", "input_file", type=click.Path(dir_okay=False, path_type=Path),
                               help=f"Read {what} from FILE, one per line (default: TEXT arguments, else "
                                    f"stdin).")(command)
        model_help = "Bundled model name (see `seq2text models`) or a trained model folder."
        if ensembles:
            model_help += (" Repeat it to decode with an ensemble of models that share their tokenizers "
                           "(the mean of their probabilities).")
        command = click.option("-m", "--model", default=(default_model,), multiple=True, show_default=True,
                               help=model_help, callback=None if ensembles else _one_model)(command)
        return click.argument("text", nargs=-1)(command)
    return decorate


def _one_model(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> str:
    """The one ``-m`` of a command that does not ensemble: a repeated one is refused, not dropped."""
    if len(value) > 1:
        raise click.BadParameter(f"given {len(value)} times; {ctx.info_name} uses one model "
                                 f"({', '.join(value)})", ctx, param)
    return value[0]


@click.group(cls=Seq2TextGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seq2text")
def main() -> None:
    """Recurrent sequence models: translation, poems, couplets, free text, classification and tagging.

    The bundled models work at once: `seq2text translate "Ein Hund."`, `seq2text generate
    --form 七言绝句`, `seq2text generate --form couplet --first-line 海阔凭鱼跃`, `seq2text tag
    "I can't swim."`.  Your own: `seq2text train RECIPE`, then `-m runs/NAME` with translate,
    generate, classify, tag or evaluate.
    Errors are one line on stderr with exit code 2; Ctrl-C exits with 130.
    """


@main.command()
@recipe_options
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The run folder; the tokenizers go to OUTPUT_DIR/tokenizer, where `seq2text train` "
                   "finds them [default: runs/<recipe name>].")
def prepare(recipe: Path, overrides: tuple[str, ...], data_root: str | None, output_dir: Path | None) -> None:
    """Read the recipe's corpus, train its tokenizers and cache the token ids.

    Prints what was read, dropped (empty lines, lines over data.max_length tokens), the
    vocabulary size, the tokenizer training time and the padding overhead of the batches.
    Running it first is optional: `seq2text train` prepares what is missing.
    """
    from seq2text.model_folder import TOKENIZER_DIR
    from seq2text.prepare import prepare as run_prepare
    from seq2text.recipe import load_recipe
    from seq2text.training.trainer import run_folder

    loaded = load_recipe(recipe, overrides, data_root)
    for line in run_prepare(loaded, run_folder(loaded.name, output_dir) / TOKENIZER_DIR).report:
        click.echo(line, err=True)


@main.command()
@recipe_options
@click.option("--resume", is_flag=True,
              help="Continue from the last checkpoint in the output folder, with the recipe saved in it "
                   "(--set may then change only training.epochs, the learning rate and the like).")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Checkpoints, logs and plots [default: runs/<recipe name>].")
@device_option
def train(recipe: Path, overrides: tuple[str, ...], data_root: str | None, resume: bool,
          output_dir: Path | None, device: str) -> None:
    """Train the model a recipe describes (task: translation, couplet, lm, classification or tagging).

    Validates and checkpoints every training.validate_every steps (default: each epoch) into
    OUTPUT_DIR/checkpoints, and every training.checkpoint_every steps without validating;
    --resume continues from the latest checkpoint exactly.  Ctrl-C saves a checkpoint first
    (exit code 130).  OUTPUT_DIR/train.log keeps the whole story, with sample outputs.
    """
    from seq2text.recipe import load_recipe
    from seq2text.training.trainer import resume_recipe, run_folder, train as run_training

    if resume:
        name = load_recipe(recipe, (), data_root, check_files=False).name
        loaded, notes = resume_recipe(run_folder(name, output_dir), list(overrides), data_root)
        loaded.path = recipe
    else:
        loaded, notes = load_recipe(recipe, overrides, data_root), []
    run_training(loaded, output_dir, resume, device, notes)


@main.command()
@line_options("multi30k-de-en", "sentences", "Write translations to FILE, line for line (default: stdout).",
              ensembles=True)
@click.option("--beam-size", type=click.IntRange(1, MAX_BEAM), help="Beam width [default: the model's, 5].")
@click.option("--greedy", is_flag=True, help="Greedy search (same as --beam-size 1).")
@click.option("--nbest", type=click.IntRange(1, MAX_BEAM), default=1, show_default=True,
              help="Print the N best hypotheses per sentence, one per line as TEXT<tab>SCORE.")
@click.option("--length-penalty", type=FiniteFloat(0.0, 100.0, min_open=False),
              help="GNMT length penalty alpha [default: the model's, 1.0]; 0 ranks by raw log-probability.")
@click.option("--coverage-penalty", type=FiniteFloat(0.0, 100.0, min_open=False), default=0.0, show_default=True,
              help="GNMT coverage penalty beta (0 = off).")
@click.option("--no-repeat-ngram", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Never repeat an n-gram of this size in an output (0 = off).")
@click.option("--max-length", type=click.IntRange(1, MAX_OUTPUT),
              help="Longest output in pieces; never more than 2 x source + 10 [default: the model's "
                   "decoding.max_length, 100].")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=64, show_default=True,
              help="Sentences decoded together.")
@device_option
@click.option("--precision", type=click.Choice(["fp32", "bf16", "int8"]), default="fp32", show_default=True,
              help="bf16: faster matrix products on CPUs with bf16 support and on GPUs; int8: the linear layers "
                   "quantized to int8 (CPU).")
@click.option("--shortlist", is_flag=True,
              help="Score only the target pieces of the model's training data (its tokenizer folder's "
                   "shortlist.json): beam search about 1.2x faster, a few outputs change.")
@click.option("--attention-plot", type=click.Path(file_okay=False, path_type=Path),
              help="Write an attention heat-map per sentence to DIR/<line>.png.")
def translate(text: tuple[str, ...], model: tuple[str, ...], input_file: Path | None, output: Path | None,
              beam_size: int | None, greedy: bool, nbest: int, length_penalty: float | None,
              coverage_penalty: float, no_repeat_ngram: int, max_length: int | None, batch_size: int,
              device: str, precision: str, shortlist: bool, attention_plot: Path | None) -> None:
    """Translate TEXT arguments, or the lines of -i FILE, or stdin, with a trained or bundled model.

    One output line per input line (an empty line gives an empty line); with --nbest N, N lines
    per input.  Sources over 250 pieces are cut there, with a warning on stderr.

    \b
    Examples:
      seq2text translate "Ein Hund läuft durch den Schnee."
      seq2text translate -i test.de -o test.en --beam-size 10 --length-penalty 1.5
      cat test.de | seq2text translate -m runs/multi30k_de_en/averaged --greedy
      seq2text translate -i test.de -m runs/seed1/averaged -m runs/seed2/averaged   # ensemble
    """
    from seq2text.plots import plot_attention
    from seq2text.textio import Output, input_chunks
    from seq2text.translator import Translator

    if text and input_file is not None:
        raise Seq2TextError(f"-i {input_file}: give TEXT arguments or -i FILE, not both")
    translator = Translator.load(model, device, precision, shortlist)
    beam_size = 1 if greedy else (beam_size or translator.beam_size)
    if nbest > beam_size:
        raise Seq2TextError(f"--nbest {nbest} needs --beam-size of at least {nbest}")
    out = Output(output)
    for chunk in input_chunks(text, input_file, batch_size):
        results = translator.search([line.text for line in chunk], beam_size=beam_size, nbest=nbest,
                                    length_penalty=length_penalty, coverage_penalty=coverage_penalty,
                                    no_repeat_ngram=no_repeat_ngram, max_length=max_length,
                                    batch_size=batch_size)
        for line, result in zip(chunk, results):
            if result.truncated:
                _warn(translator.truncation_note(line.label, result))
            if attention_plot is not None and line.text.strip():
                weights = translator.attention(line.text, result.hypotheses[0])
                plot_attention(weights.source, weights.target, weights.weights,
                               attention_plot / f"{line.number:04d}.png", _title(line.label, line.text))
        out.write([(h.text, f"{h.score:.4f}") if nbest > 1 else h.text
                   for result in results for h in result.hypotheses])
    out.close()


@main.command()
@click.option("-m", "--model", help="Bundled model name (see `seq2text models`), or a trained model or run "
                                    "folder [default: poems; ci for a tune; couplet for couplets].")
@click.option("--title", help="What the poem is about: a title or a few characters (秋夜, 送别, 边塞, 黄鹤楼).")
@click.option("--keywords", help="Words the poem must use, separated by commas: 明月,故乡.  Each is written "
                                 "at the start (or near it) of a line of its own whose tones it fits, and the "
                                 "model reads them with the title.")
@click.option("--guidance", type=FiniteFloat(0.0, 20.0, min_open=False), default=GUIDANCE, show_default=True,
              help="How strongly --title and --keywords steer the poem: each character's score under the "
                   "subject is pushed away from its score without it by this factor (0: the model as trained).")
@click.option("--form", help="wuyan-jueju, qiyan-jueju, wuyan-lushi, qiyan-lushi, free (or 五言绝句, 七言绝句, "
                           "五言律诗, 七言律诗), a ci tune (浣溪沙, 水调歌头; see --list-forms), or couplet "
                           "[default: qiyan-jueju; couplet with --first-line].")
@click.option("--list-forms", is_flag=True, help="List the forms and the ci tunes (with each tune's lines), "
                                                 "then exit.")
@click.option("--acrostic", help="藏头诗: the first character of each line (4 or 8 characters; a ci: one per "
                                 "clause).")
@click.option("--prompt", help="The first characters (poems) or text (other language models), continued by "
                               "the model.")
@click.option("--length", type=click.IntRange(1, MAX_OUTPUT), default=200, show_default=True,
              help="Language models other than poetry: tokens (characters, words or pieces) written after "
                   "the prompt.")
@click.option("--first-line", help="Couplet: the 上联 to answer [default: one 上联 per line of -i FILE, else of "
                                   "stdin].")
@click.option("-i", "--input", "input_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Couplet: read the 上联 from FILE, one per line.")
@click.option("--rhyme/--no-rhyme", default=True, show_default=True,
              help="Even lines end in one level-tone rhyme group (regulated forms).")
@click.option("--tones/--no-tones", default=True, show_default=True,
              help="The 平仄 rules of regulated verse; for couplets 平仄相对 at the rhythm points.")
@click.option("--rhyme-table", type=click.Path(dir_okay=False, path_type=Path),
              help="A 平水韵 table to rhyme regulated verse by [default: the model's own (bundled models "
                   "carry it), else rhyme/pingshuiyun.txt under the data root if there, else modern readings].")
@click.option("--temperature", type=FiniteFloat(0.0, MAX_TEMPERATURE, min_open=False), default=Sampling.temperature,
              show_default=True, help=f"Sampling temperature, 0 or {MIN_TEMPERATURE} to {MAX_TEMPERATURE:g}: lower "
                                      f"is safer, higher more varied; 0 takes the most probable character.")
@click.option("--top-k", type=click.IntRange(0, MAX_TOP_K), default=Sampling.top_k, show_default=True,
              help="0 = no limit.")
@click.option("--top-p", type=FiniteFloat(0.0, 1.0), default=Sampling.top_p, show_default=True,
              help="Nucleus sampling: draw from the most probable tokens that make up this share.")
@click.option("--seed", type=SEED, help="Same seed, same output [default: random, printed with --format jsonl]. "
                                      "Poems mix it with their subject: one seed, different poems per subject.")
@click.option("--candidates", type=click.IntRange(1, MAX_CANDIDATES), default=CANDIDATES, show_default=True,
              help="Regulated poems and ci: lines sampled for each line, the one the model scores best kept "
                   "(1: plain sampling, a character at a time).")
@click.option("--subject-weight", type=FiniteFloat(0.0, 20.0, min_open=False), default=SUBJECT_WEIGHT,
              show_default=True, help="How much the choice among --candidates favours lines the subject "
                                      "makes likelier (0: the model's score alone).")
@click.option("--beam-size", type=click.IntRange(1, MAX_BEAM),
              help="Beam search under the same rules; 1 samples [default: poems 1, couplets 5].")
@click.option("-n", "--nbest", "count", type=click.IntRange(1, MAX_COUNT), default=1, show_default=True,
              help="Number of poems or texts, or of 下联 per 上联 (one per line as TEXT<tab>LOG-PROB).")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True, help="text: the poems, a blank line between (couplets: one 下联 per "
                                      "line); jsonl: one JSON object per poem or 下联 with its rule checks.")
@device_option
def generate(model: str | None, title: str | None, keywords: str | None, guidance: float, form: str | None,
             list_forms: bool, acrostic: str | None, prompt: str | None, length: int,
             first_line: str | None, input_file: Path | None, rhyme: bool, tones: bool, rhyme_table: Path | None, temperature: float,
             top_k: int, top_p: float, seed: int | None, candidates: int, subject_weight: float,
             beam_size: int | None, count: int, output_format: str, device: str) -> None:
    """Write classical poems, 下联 for 上联 (--form couplet), or free text from any language model.

    Poems and ci are sampled line by line (or found by --beam-size N) under the rules of the
    form or tune, on the subject that --title (and --keywords) give.  A 下联 has the
    上联's length and punctuation, mirrors its repeated characters, never repeats its character
    at the same position and ends on a level tone.  A 上联 the model cannot answer (empty, only
    punctuation, over 50 characters, Latin letters) gets a message on stderr
    and an empty output line; the others are answered, and the exit code is then 1.
    Other language models (shakespeare-char, ptb-word-lm, your own) continue --prompt for
    --length tokens.

    \b
    Examples:
      seq2text generate --form 七言绝句
      seq2text generate --title 秋夜 --form 七言律诗
      seq2text generate --form 浣溪沙 --title 春日 --seed 1
      seq2text generate --list-forms
      seq2text generate --title 送别 --keywords 明月,故乡 --form 五言绝句 --acrostic 春夏秋冬 --seed 7
      seq2text generate --form qiyan-lushi --prompt 明月 -n 3 --format jsonl
      seq2text generate --form couplet --first-line 海阔凭鱼跃 -n 3
      seq2text generate --form couplet < first_lines.txt > second_lines.txt
      seq2text generate --form couplet -i first_lines.txt
      seq2text generate -m shakespeare-char --prompt "ROMEO:" --length 300 --seed 1
    """
    from seq2text.generator import DEFAULT_CI, DEFAULT_POEMS, CoupletRequest, Generator, PoemRequest, TextRequest
    from seq2text.verse.forms import is_poem_form

    couplets = form == "couplet" or first_line is not None
    if input_file is not None and (not couplets or first_line is not None):
        raise Seq2TextError(f"-i {input_file}: reads 上联 for --form couplet, in place of --first-line")
    poem_form = form is None or is_poem_form(form)
    default = "couplet" if couplets else DEFAULT_POEMS if poem_form and not list_forms else DEFAULT_CI
    generator = Generator.load(model or default, device, rhyme_table)
    if list_forms:
        _list_forms(generator, output_format)
        return
    subject_options = title is not None or keywords is not None
    if couplets or generator.writes_couplets:
        if form not in (None, "couplet"):
            raise Seq2TextError(f"--form {form}: a couplet (--first-line, or the couplet model {generator.name}) "
                                f"takes --form couplet")
        if acrostic or prompt or subject_options:
            raise Seq2TextError("--acrostic, --prompt, --title and --keywords are for poems, not couplets")
        sys.exit(_couplets(generator, first_line, input_file, CoupletRequest(temperature, top_k, top_p, seed, count,
                                                                 beam_size or 5, tones), output_format))
    if not generator.is_poetry_model:
        if form or acrostic or subject_options:
            raise Seq2TextError(f"{generator.name}: --form, --acrostic, --title and --keywords need a poetry "
                                f"model; this one writes free text (--prompt, --length)")
        for passage in generator.text(TextRequest(temperature, top_k, top_p, seed, prompt or "", length, count)):
            click.echo(json.dumps(passage.to_dict(), ensure_ascii=False) if output_format == "jsonl"
                       else passage.text + "\n")
        return
    words = [word for word in re.split(r"[,，、\s]+", keywords) if word] if keywords is not None else []
    if keywords is not None and not words:
        raise Seq2TextError("--keywords: no keyword given (separate them with commas: 明月,故乡)")
    poems = generator.poems(PoemRequest(temperature, top_k, top_p, seed, form or "qiyan-jueju", count, title,
                                        tuple(words), acrostic, prompt, rhyme, tones, guidance, candidates,
                                        subject_weight, beam_size or 1))
    for number, poem in enumerate(poems):
        if output_format == "jsonl":
            click.echo(json.dumps(poem.to_dict(), ensure_ascii=False))
        else:
            click.echo(("\n" if number else "") + "\n".join(poem.lines()))


def _list_forms(generator, output_format: str) -> None:
    """The forms and tunes ``generator`` writes, a line each (or JSON lines)."""
    for form in generator.forms():
        if output_format == "jsonl":
            click.echo(json.dumps(form, ensure_ascii=False))
        elif "pattern" in form:
            click.echo(f"{form['name']}\t{form['corpus_ci']} ci in the corpus\t{form['pattern']}")
        else:
            click.echo(f"{form['name']}\t{form['form']}")


def _title(where: str, text: str, width: int = 60) -> str:
    """A plot title naming an input line: ``argument 1: Ein Hund ...``."""
    return f"{where}: {text if len(text) <= width else text[:width - 1] + '…'}"


def _couplets(generator, first_line: str | None, input_file: Path | None, request, output_format: str) -> int:
    """Answer ``--first-line``, or every line of ``input_file`` or stdin; the exit code (1 if
    some lines had to be skipped)."""
    from seq2text.textio import Output, input_chunks

    out, skipped = Output(None), 0
    for chunk in input_chunks([first_line] if first_line is not None else [], input_file, 64):
        problems = [generator.first_line_problem(line.text) for line in chunk]
        if first_line is not None and problems[0]:
            raise Seq2TextError(f"--first-line {shown(first_line)}: {problems[0]}")
        good = [line for line, problem in zip(chunk, problems) if not problem]
        answers = dict(zip((line.number for line in good),
                           generator.couplets([line.text for line in good], request=request)))
        for line, problem in zip(chunk, problems):
            if problem:
                skipped += 1
                click.echo(printable(f"{line.label}: {problem}"), err=True)
                out.write([json.dumps({"first": line.text, "error": problem}, ensure_ascii=False)
                           if output_format == "jsonl" else ""])
            elif output_format == "jsonl":
                out.write([json.dumps(c.to_dict(), ensure_ascii=False) for c in answers[line.number]])
            else:
                out.write([(c.second, f"{c.log_prob:.3f}") if request.count > 1 else c.second
                           for c in answers[line.number]])
    return 1 if skipped else 0


@main.command()
@line_options("sentiment-zh", "texts", "Write the labels to FILE, line for line (default: stdout).")
@click.option("--top-k", type=click.IntRange(1, MAX_COUNT), default=1, show_default=True,
              help="Labels per text, most probable first (text: LABEL<TAB>PROBABILITY pairs on one line).")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
              help="text: LABEL<TAB>PROBABILITY per line; jsonl: every label's probability.")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=64, show_default=True,
              help="Texts per batch.")
@device_option
def classify(text: tuple[str, ...], model: str, input_file: Path | None, output: Path | None, top_k: int,
             output_format: str, batch_size: int, device: str) -> None:
    """Label TEXT arguments, or the lines of -i FILE, or stdin, with a classification model.

    One output line per input line: LABEL<TAB>PROBABILITY (the most probable label).  An empty
    line gets an empty output line and a message on stderr, and the exit code is then 1.
    Texts longer than the model's data.max_length tokens are judged by their start, with a
    warning on stderr.

    \b
    Examples:
      seq2text classify "质量很好，非常满意" "太差了，再也不买了"
      seq2text classify -i reviews.txt --format jsonl
      seq2text classify -m runs/sentiment_zh --top-k 2 < reviews.txt
    """
    from seq2text.classifier import Classifier
    from seq2text.textio import Output, input_chunks

    if text and input_file is not None:
        raise Seq2TextError(f"-i {input_file}: give TEXT arguments or -i FILE, not both")
    classifier = Classifier.load(model, device)
    out, unanswered = Output(output), False
    for chunk in input_chunks(text, input_file, batch_size):
        lines = [line for line in chunk if line.text.strip()]
        predictions = dict(zip((line.number for line in lines),
                               classifier.classify([line.text for line in lines], batch_size) if lines else []))
        rows = []
        for line in chunk:
            found = predictions.get(line.number)
            if found is None:
                _error(f"{line.label}: empty, nothing to classify")
                unanswered = True
                rows.append("")
                continue
            if found.truncated:
                _warn(f"{line.label}: {found.truncated} tokens, classified by the first {classifier.max_length}")
            if output_format == "jsonl":
                rows.append(json.dumps(found.to_dict(), ensure_ascii=False))
            else:
                rows.append(tuple(field for label, probability in found.top(top_k) for field in (label, f"{probability:.4f}")))
        out.write(rows)
    out.close()
    sys.exit(1 if unanswered else 0)


@main.command()
@line_options("pos-en", "sentences", "Write the tagged sentences to FILE (default: stdout).")
@click.option("--format", "output_format", type=click.Choice(["pairs", "tsv", "conllu", "jsonl"]), default="pairs",
              show_default=True,
              help="pairs: word/TAG pairs, a line per sentence; tsv: word<TAB>TAG, a line per word, a blank line "
                   "after each sentence; conllu: read CoNLL-U (-i FILE or stdin) and fill its tag column, every "
                   "other column kept; jsonl: each word with every tag's probability.")
@click.option("--pretokenized", is_flag=True,
              help="The words of each line are what spaces separate (default: split as the model's treebank is).")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=64, show_default=True,
              help="Sentences per batch.")
@device_option
def tag(text: tuple[str, ...], model: str, input_file: Path | None, output: Path | None, output_format: str,
        pretokenized: bool, batch_size: int, device: str) -> None:
    """Tag every word of TEXT arguments, or of the lines of -i FILE, or of stdin (a sentence a line).

    English is split as the UD English Web Treebank is (contractions and punctuation apart:
    "can't" is ca + n't); Classical Chinese a character a word, with the longer words the model
    learned kept whole.  Each sentence is tagged whole, however long.  An empty line gets an
    empty output line.  The bundled models tag universal parts of speech (UPOS): pos-en for
    English, pos-lzh for Classical Chinese.

    \b
    Examples:
      seq2text tag "I can't believe it's not butter."
      seq2text tag -m pos-lzh 學而時習之
      seq2text tag --pretokenized --format tsv < sentences.txt
      seq2text tag --format conllu -i test.conllu -o tagged.conllu
    """
    from seq2text.tagger import Tagger
    from seq2text.textio import Output, input_chunks

    if text and input_file is not None:
        raise Seq2TextError(f"-i {input_file}: give TEXT arguments or -i FILE, not both")
    tagger = Tagger.load(model, device)
    out = Output(output)
    if output_format == "conllu":
        if text:
            raise Seq2TextError("--format conllu: reads CoNLL-U from -i FILE or stdin, not TEXT arguments")
        _tag_treebank(tagger, input_file, out, batch_size)
        out.close()
        return
    for chunk in input_chunks(text, input_file, batch_size):
        lines = [line for line in chunk if line.text.strip()]
        found = dict(zip((line.number for line in lines),
                         tagger.tag([line.text for line in lines], pretokenized, batch_size) if lines else []))
        rows = []
        for line in chunk:
            sentence = found.get(line.number)
            if output_format == "jsonl":
                rows.append(json.dumps(sentence.to_dict(top=len(tagger.tags)) if sentence else {"words": []},
                                       ensure_ascii=False))
            elif output_format == "tsv":
                rows += [(word, tag) for word, tag in sentence.pairs()] if sentence else []
                rows.append("")
            else:
                rows.append(str(sentence) if sentence else "")
        out.write(rows)
    out.close()


def _tag_treebank(tagger, input_file: Path | None, out, batch_size: int) -> None:
    """Fill the tag column of CoNLL-U input with ``tagger``'s tags, the rest kept as it was."""
    from seq2text.data.conllu import read_treebank, treebank_text
    from seq2text.data.textfile import iter_lines, read_lines

    where = Path(str(input_file) if input_file is not None else "<stdin>")
    lines = read_lines(input_file) if input_file is not None else list(iter_lines(sys.stdin.buffer, "<stdin>"))
    sentences = read_treebank(where, tagger.reading, text="\n".join(lines))
    wordless = [sentence.line for sentence in sentences if not sentence.words]
    if wordless:
        raise Seq2TextError(f"{where}:{wordless[0]}: a sentence with no word to tag")
    found = tagger.tag_words([sentence.words for sentence in sentences], batch_size)
    text = treebank_text(sentences, [sentence.tags for sentence in found], tagger.reading.tag_column)
    out.write([tuple(line.split("\t")) for line in text.split("\n")[:-1]])  # the columns stay columns


@main.command()
@click.option("-m", "--model", required=True, help="Bundled model name or trained model folder.")
@click.option("--src", type=click.Path(dir_okay=False, path_type=Path),
              help="Source lines (translation, couplets) [default: the recipe's held-out split].")
@click.option("--ref", type=click.Path(dir_okay=False, path_type=Path), help="Reference lines, one per --src line.")
@click.option("--text", type=click.Path(dir_okay=False, path_type=Path),
              help="Text for a language model's perplexity, for a classifier a labelled TSV/CSV with "
                   "the recipe's columns, for a tagger a CoNLL-U file [default: the recipe's held-out split].")
@click.option("--beam-size", type=click.IntRange(1, MAX_BEAM), default=5, show_default=True,
              help="Beam scored beside greedy search (1: greedy only).")
@click.option("--bootstrap", type=click.IntRange(0, MAX_BOOTSTRAP), default=0, show_default=True,
              help="Resamples for 95% confidence intervals, as sacrebleu --confidence-n (0 = off).")
@click.option("--poems", type=click.IntRange(0, MAX_COUNT), default=200, show_default=True,
              help="Poetry models: poems generated per form for the verse rule rates, and in each "
                   "setting of the on-subject rates, spread over their 20 subjects (0 = skip).")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path),
              help="Write report.md, report.html (self-contained), metrics.json and the plots to DIR.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), envvar="SEQ2TEXT_DATA",
              help="Folder the recipe's data paths are relative to, for its held-out split "
                   "[env SEQ2TEXT_DATA; default: ../shared/data].")
@device_option
def evaluate(model: str, src: Path | None, ref: Path | None, text: Path | None, beam_size: int, bootstrap: int,
             poems: int, report: Path | None, data_root: Path | None, device: str) -> None:
    """Score a model: BLEU/chrF/TER, perplexity, verse rule rates.

    Translation and couplet models: greedy and beam outputs against references (couplets with
    characters as tokens), through sacrebleu, whose signatures are printed.  Language models:
    perplexity and, for characters, bits per character.  Poetry models: the rule rates of
    generated poems, held-out perplexity with and without titles, and how often poems written on
    20 subjects stay on them, with their diversity.  Classifiers: accuracy, macro-F1, per-label
    precision and recall, the confusion matrix.  Taggers: token accuracy, also on words unseen
    in training, on the held-out test split and the dev split; per-tag precision, recall and
    F1, the confusion matrix, the worst-tagged sentences.  A human-readable summary goes to
    stderr, one JSON line to stdout.

    \b
    Examples:
      seq2text evaluate -m multi30k-de-en --bootstrap 1000
      seq2text evaluate -m runs/multi30k_de_en/averaged --src test.de --ref test.en
      seq2text evaluate -m poems --report reports/poems
      seq2text evaluate -m sentiment-zh --report reports/sentiment-zh
      seq2text evaluate -m pos-en --text my-treebank.conllu
    """
    from seq2text.evaluation import evaluate as run_evaluation
    from seq2text.evaluation.report import write_report

    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
    evaluation = run_evaluation(model, src, ref, text, beam_size, bootstrap, poems, report, device, data_root)
    click.echo(f"{evaluation.title}", err=True)
    for section in evaluation.sections:
        if section.title in ("Scores", "Perplexity", "Couplet rules", "Generated poems: rule rates", "Per label",
                             "Per tag"):
            for row in [section.header, *section.rows]:
                click.echo("  " + "\t".join(str(v) for v in row), err=True)
    for metric, signature in evaluation.summary.get("signatures", {}).items():
        click.echo(f"  {metric} signature: {signature}", err=True)
    if report is not None:
        write_report(report, evaluation)
        click.echo(f"report: {report / 'report.html'}", err=True)
    click.echo(json.dumps(evaluation.summary, ensure_ascii=False))


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
@click.argument("checkpoints", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The model folder to write (created, or replaced if it holds only a model folder's files).")
@click.option("--force", is_flag=True, help="Replace OUTPUT even if it holds other files (they are deleted).")
def average(checkpoints: tuple[str, ...], output: Path, force: bool) -> None:
    """Average the weights of two or more CHECKPOINTS of one model into a new model folder.

    CHECKPOINTS are model folders (runs/NAME/checkpoints/step-N, an averaged folder, a bundled
    name) with the same recipe model section and tokenizers; the output keeps the first one's
    recipe and tokenizers and works with -m like any model folder.  Averaging the last or best
    checkpoints of one run usually gains a little BLEU or perplexity over the best alone.

    \b
    Example:
      seq2text average runs/multi30k_de_en/checkpoints/step-00* -o runs/multi30k_de_en/avg3
      seq2text evaluate -m runs/multi30k_de_en/avg3
    """
    from seq2text.training.averaging import average_models

    target = average_models(list(checkpoints), output, force)
    click.echo(f"averaged {len(checkpoints)} models -> {target}", err=True)


@main.command()
@click.option("-m", "--model", default="multi30k-de-en", show_default=True,
              help="Bundled name or trained model folder (a translation model with attention).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The folder to write (a new one, or one export wrote before).")
@click.option("--int8", is_flag=True, help="Quantize the weights of the matrix products to int8.")
@click.option("--force", is_flag=True, help="Replace OUTPUT even if it holds other files (they are deleted).")
def export(model: str, output: Path, int8: bool, force: bool) -> None:
    """Export a translation model to ONNX (encoder and one decoder step) for ONNX Runtime.

    The folder holds encoder.onnx, step.onnx, recipe.yaml and tokenizer/; `translate -m
    FOLDER` and `Translator.load(FOLDER)` run it on the CPU (the search stays in Python).
    With --int8 the weights of the matrix products are int8 (ONNX Runtime's dynamic
    quantization): faster on CPUs, BLEU within a few tenths.  Needs `pip install
    'seq2text[onnx]'`.

    \b
    Example:
      seq2text export -m multi30k-de-en -o exported/de-en-int8 --int8
      seq2text translate -m exported/de-en-int8 "Ein Hund läuft durch den Schnee."
    """
    from seq2text.export import export_onnx
    from seq2text.pretrained import load_pretrained

    target = export_onnx(load_pretrained(model), output, int8, force)
    click.echo(f"exported {model}{' (int8)' if int8 else ''} -> {target}", err=True)


@main.command()
def models() -> None:
    """List the models bundled with the package: name, task, size and description."""
    from seq2text.model_folder import bundled_models

    for card in bundled_models():
        click.echo(f"{card['name']}\t{card['task']}\t{card['size_mb']:.1f} MB\t{card['description']}")


if __name__ == "__main__":
    main()
