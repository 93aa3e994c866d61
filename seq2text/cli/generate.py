"""``seq2text generate``: poems, ci, couplets and free text."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from seq2text.cli.app import main
from seq2text.cli.options import answered, bounded, device_option
from seq2text.decoding.sampling import MAX_TEMPERATURE, MIN_TEMPERATURE
from seq2text.errors import Seq2TextError, printable, shown
from seq2text.generation.requests import CoupletRequest, PoemRequest, Sampling, TextRequest


@main.command()
@click.option("-m", "--model", help="Bundled model name (see `seq2text models`), or a trained model or run "
                                    "folder [default: poems; ci for a tune; couplet for couplets].")
@click.option("--title", help="What the poem is about: a title or a few characters (秋夜, 送别, 边塞, 黄鹤楼).")
@click.option("--keywords", help="Words the poem must use, separated by commas: 明月,故乡.  Each is written "
                                 "at the start (or near it) of a line of its own whose tones it fits, and the "
                                 "model reads them with the title.")
@click.option("--guidance", type=bounded(PoemRequest, "guidance"), default=PoemRequest.guidance, show_default=True,
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
@click.option("--length", type=bounded(TextRequest, "length"), default=TextRequest.length, show_default=True,
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
@click.option("--temperature", type=bounded(Sampling, "temperature"), default=Sampling.temperature,
              show_default=True, help=f"Sampling temperature, 0 or {MIN_TEMPERATURE} to {MAX_TEMPERATURE:g}: lower "
                                      f"is safer, higher more varied; 0 takes the most probable character.")
@click.option("--top-k", type=bounded(Sampling, "top_k"), default=Sampling.top_k, show_default=True,
              help="0 = no limit.")
@click.option("--top-p", type=bounded(Sampling, "top_p"), default=Sampling.top_p, show_default=True,
              help="Nucleus sampling: draw from the most probable tokens that make up this share.")
@click.option("--seed", type=bounded(Sampling, "seed"),
              help="Same seed, same output [default: random, printed with --format jsonl]. Poems mix it with their "
                   "subject: one seed, different poems per subject.")
@click.option("--candidates", type=bounded(PoemRequest, "candidates"), default=PoemRequest.candidates,
              show_default=True,
              help="Regulated poems and ci: lines sampled for each line, the one the model scores best kept "
                   "(1: plain sampling, a character at a time).")
@click.option("--subject-weight", type=bounded(PoemRequest, "subject_weight"), default=PoemRequest.subject_weight,
              show_default=True, help="How much the choice among --candidates favours lines the subject "
                                      "makes likelier (0: the model's score alone).")
@click.option("--beam-size", type=bounded(PoemRequest, "beam_size"),
              help="Beam search under the same rules; 1 samples [default: poems 1, couplets 5].")
@click.option("-n", "--nbest", "count", type=bounded(PoemRequest, "count"), default=PoemRequest.count,
              show_default=True,
              help="Number of poems or texts, or of 下联 per 上联 (one per line as TEXT<tab>LOG-PROB).")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True, help="text: the poems, a blank line between (couplets: one 下联 per "
                                      "line); jsonl: one JSON object per poem or 下联 with its rule checks.")
@device_option
def generate(model: str | None, title: str | None, keywords: str | None, guidance: float, form: str | None,
             list_forms: bool, acrostic: str | None, prompt: str | None, length: int,
             first_line: str | None, input_file: Path | None, rhyme: bool, tones: bool, rhyme_table: Path | None,
             temperature: float,
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
    from seq2text.generator import DEFAULT_CI, DEFAULT_POEMS, Generator
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
        request = CoupletRequest(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, count=count,
                                 beam_size=beam_size or CoupletRequest.beam_size, tones=tones)
        sys.exit(_couplets(generator, first_line, input_file, request, output_format))
    if not generator.is_poetry_model:
        if form or acrostic or subject_options:
            raise Seq2TextError(f"{generator.name}: --form, --acrostic, --title and --keywords need a poetry "
                                f"model; this one writes free text (--prompt, --length)")
        request = TextRequest(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, prompt=prompt or "",
                              length=length, count=count)
        for passage in generator.text(request):
            click.echo(json.dumps(passage.to_dict(), ensure_ascii=False) if output_format == "jsonl"
                       else passage.text + "\n")
        return
    words = [word for word in re.split(r"[,，、\s]+", keywords) if word] if keywords is not None else []
    if keywords is not None and not words:
        raise Seq2TextError("--keywords: no keyword given (separate them with commas: 明月,故乡)")
    poems = generator.poems(PoemRequest(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
                                        form=form or PoemRequest.form, count=count, title=title, keywords=tuple(words),
                                        acrostic=acrostic, prompt=prompt, rhyme=rhyme, tones=tones, guidance=guidance,
                                        candidates=candidates, subject_weight=subject_weight,
                                        beam_size=beam_size or PoemRequest.beam_size))
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


def _couplets(generator, first_line: str | None, input_file: Path | None, request, output_format: str) -> int:
    """Answer ``--first-line``, or every line of ``input_file`` or stdin; the exit code (1 if
    some lines had to be skipped)."""
    from seq2text.textio import Output, input_chunks

    out, skipped = Output(None), 0
    for chunk in input_chunks([first_line] if first_line is not None else [], input_file, 64):
        problems = [generator.first_line_problem(line.text) for line in chunk]
        if first_line is not None and problems[0]:
            raise Seq2TextError(f"--first-line {shown(first_line)}: {problems[0]}")
        problem_of = dict(zip((line.number for line in chunk), problems))
        answers = answered(chunk, lambda texts: generator.couplets(texts, request=request),
                           asked=lambda line: not problem_of[line.number])
        for line, problem, couplets in zip(chunk, problems, answers):
            if problem:
                skipped += 1
                click.echo(printable(f"{line.label}: {problem}"), err=True)
                out.write([json.dumps({"first": line.text, "error": problem}, ensure_ascii=False)
                           if output_format == "jsonl" else ""])
            elif output_format == "jsonl":
                out.write([json.dumps(c.to_dict(), ensure_ascii=False) for c in couplets])
            else:
                out.write([(c.second, f"{c.log_prob:.3f}") if request.count > 1 else c.second for c in couplets])
    return 1 if skipped else 0
