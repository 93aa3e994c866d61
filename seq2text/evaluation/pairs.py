"""Translation and couplet models: greedy and beam outputs scored against references.

The data is the recipe's test split (else its validation split; for couplets the strictly
parallel held-out pairs), or the ``--src``/``--ref`` files.  Couplets are scored with
characters as tokens and checked against the couplet rules.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sacrebleu.metrics import BLEU

from seq2text.data.corpora import load_corpus
from seq2text.textfile import read_lines
from seq2text.errors import Seq2TextError
from seq2text.evaluation.sections import Evaluation, Scoring, Section, count_of, learning_curves, percent
from seq2text.generator import Generator
from seq2text.plots import plot_attention, plot_bars
from seq2text.pretrained import Pretrained
from seq2text.progress import progress
from seq2text.scoring.metrics import sentence_bleu, text_scores
from seq2text.tasks import task_of
from seq2text.translator import Translator
from seq2text.verse.couplet import RULES, tone_agreement
from seq2text.verse.forms import is_han

LENGTH_GROUPS = 5
SHOWN = 5  # best and worst outputs in the report
ATTENTION_PLOTS = 3
CHUNK = 64  # sentences decoded between updates of the progress bar


def held_out_pairs(loaded: Pretrained) -> tuple[list[str], list[str], str]:
    """Sources, references and a name for the held-out pairs of the model's recipe.  Couplets:
    the strictly parallel pairs, in the script the model writes (the Tang poems are traditional)."""
    recipe = loaded.recipe
    corpus = load_corpus(recipe, held_out_only=True)
    split = corpus.held_out
    rows = corpus[split]
    if not task_of(recipe).characters:
        return rows["src"], rows["tgt"], f"{split} split"
    tokenizer = loaded.tgt
    if "parallel" in rows.column_names:
        rows = rows.filter(lambda row: row["parallel"])
    return ([tokenizer.normalize(s) for s in rows["src"]], [tokenizer.normalize(t) for t in rows["tgt"]],
            f"{split} split, strictly parallel pairs")


def read_pairs(src: Path, ref: Path) -> tuple[list[str], list[str], str]:
    sources, references = read_lines(src), read_lines(ref)
    if len(sources) != len(references):
        raise Seq2TextError(f"{src} has {len(sources)} lines but {ref} has {len(references)}")
    if not sources:
        raise Seq2TextError(f"{src}: no lines to score")
    return sources, references, f"{src} / {ref}"


def evaluate_pairs(loaded: Pretrained, scoring: Scoring) -> Evaluation:
    recipe, model = loaded.recipe, loaded.name
    src, ref, beam_size, bootstrap, figures = scoring.src, scoring.ref, scoring.beam_size, scoring.bootstrap, \
        scoring.figures
    sources, references, where = read_pairs(src, ref) if src is not None else held_out_pairs(loaded)
    couplet = task_of(recipe).characters  # couplets: characters as tokens, and the couplet rules
    tokenize = "char" if couplet else "13a"
    decoder = _Couplets(loaded) if couplet else _Translations(loaded)
    searches = {"greedy": 1} if beam_size == 1 else {"greedy": 1, f"beam {beam_size}": beam_size}
    outputs, scores = {}, {}
    for name, size in searches.items():
        outputs[name] = []
        for start in progress(range(0, len(sources), CHUNK), name):
            outputs[name] += decoder.decode(sources[start:start + CHUNK], size)
        scores[name] = text_scores(outputs[name], references, tokenize, bootstrap)
    best = list(searches)[-1]
    summary = {"model": model, "task": recipe.task, "data": where, "sentences": len(sources),
               **{name.replace(" ", ""): _numbers(score) for name, score in scores.items()},
               "signatures": scores[best]["signatures"]}
    evaluation = Evaluation(summary, [], f"{model}: {recipe.task} on the {where}",
                            {f"outputs.{name.replace(' ', '')}.txt": "".join(line + "\n" for line in lines)
                             for name, lines in outputs.items()}, "zh" if couplet else "en")
    evaluation.add(_score_table(scores, tokenize, len(sources)))
    for section in decoder.checks(summary):
        evaluation.add(section)
    evaluation.add(learning_curves(loaded.history, figures))
    if figures is not None:
        evaluation.add(_length_chart(sources, references, outputs[best], tokenize, couplet, figures))
        evaluation.add(_best_and_worst(sources, references, outputs[best], tokenize))
        for section in decoder.pictures(sources, searches[best], figures):
            evaluation.add(section)
    return evaluation


def _numbers(scores: dict) -> dict:
    return {key: round(float(value), 4) for key, value in scores.items() if key != "signatures"}


class _Translations:
    """Decodes with :class:`~seq2text.translator.Translator`; pictures: attention heat-maps.

    A decoder has ``decode(sources, beam_size)``, ``checks(summary)`` (sections after the
    scores) and ``pictures(sources, beam_size, figures)`` (sections at the end of a report)."""
    def __init__(self, loaded: Pretrained):
        self.translator = Translator.load(loaded)

    def decode(self, sources: list[str], beam_size: int) -> list[str]:
        return self.translator.translate(sources, beam_size=beam_size)

    def checks(self, summary: dict) -> list[Section]:
        return []

    def pictures(self, sources: list[str], beam_size: int, figures: Path) -> list[Section]:
        sources, paths = sources[:ATTENTION_PLOTS], []
        for number, (source, result) in enumerate(zip(sources, self.translator.search(sources, beam_size)), 1):
            weights = self.translator.attention(source, result.hypotheses[0])
            paths.append(figures / f"attention-{number}.png")
            plot_attention(weights.source, weights.target, weights.weights, paths[-1], f"sentence {number}: "
                           f"{source[:60]}")
        return [Section("Attention", f"Where the decoder looked in the first {len(sources)} sentences: target "
                        f"pieces down, source pieces across.", figures=paths)]


class _Couplets:
    """Decodes with :meth:`~seq2text.generator.Generator.couplets` (greedy or beam, under the
    rules); reports the rates of the couplet rules, the 平仄相对 rate over rhythm points, and
    how varied the answers are."""
    def __init__(self, loaded: Pretrained):
        self.generator = Generator(loaded)
        self.kept: dict[int, list] = {}  # beam size -> the Couplet of each output

    def decode(self, firsts: list[str], beam_size: int) -> list[str]:
        answers = [found[0] for found in self.generator.couplets(firsts, beam_size=beam_size, temperature=0.0)]
        self.kept.setdefault(beam_size, []).extend(answers)
        return [answer.second for answer in answers]

    def checks(self, summary: dict) -> list[Section]:
        """The rates of the widest search's outputs (also added to ``summary``)."""


        kept = self.kept[max(self.kept)]
        summary["rules"] = {rule: percent(sum(c.checks[rule] for c in kept), len(kept)) for rule in RULES}
        agreement = [tone_agreement(c.first, c.second, self.generator.loaded.tones) for c in kept]
        endings = Counter("".join(ch for ch in c.second if is_han(ch))[-4:] for c in kept)
        ending, times = endings.most_common(1)[0]
        summary["tone_points"] = percent(sum(a for a, _ in agreement), sum(n for _, n in agreement))
        summary["top_ending_share"] = percent(times, len(kept))
        summary["distinct"] = percent(len({c.second for c in kept}), len(kept))
        rows = [[rule, rate] for rule, rate in summary["rules"].items()]
        rows += [["平仄相对 at rhythm points (of the points with known tones)", summary["tone_points"]],
                 [f"most common 4-character ending ({ending})", summary["top_ending_share"]],
                 ["distinct 下联", summary["distinct"]]]
        return [Section("Couplet rules", "Share of the 下联 (of the search above with the largest beam) "
                        "that keep each rule; the decoder enforces them, this checks it.  Rhythm points: "
                        "a clause's 2nd, 4th, 6th and last characters.", ["measure", "%"], rows)]

    def pictures(self, sources: list[str], beam_size: int, figures: Path) -> list[Section]:
        return []


def _score_table(scores: dict, tokenize: str, count: int) -> Section:
    ci = any("bleu_ci" in s for s in scores.values())
    header = ["search", "BLEU", "chrF", "TER"]
    rows = [[name] + [f"{s[m]:.2f}" + (f" ± {s[m + '_ci']:.2f}" if ci else "") for m in ("bleu", "chrf", "ter")]
            for name, s in scores.items()]
    signatures = next(iter(scores.values()))["signatures"]
    text = (f"{count_of(count, 'sentence')}, sacrebleu (BLEU tokenize={tokenize}); "
            + "; ".join(f"{name}: `{sig}`" for name, sig in signatures.items()))
    return Section("Scores", text, header, rows)


def _length_chart(sources: list[str], references: list[str], outputs: list[str], tokenize: str,
                  couplet: bool, figures: Path) -> Section:


    length = (lambda s: len(s)) if couplet else (lambda s: len(s.split()))
    order = sorted(range(len(sources)), key=lambda i: length(sources[i]))
    groups = [order[g * len(order) // LENGTH_GROUPS:(g + 1) * len(order) // LENGTH_GROUPS]
              for g in range(LENGTH_GROUPS)]
    groups = [g for g in groups if g]
    labels = [f"{length(sources[g[0]])}–{length(sources[g[-1]])}" for g in groups]
    values = [BLEU(tokenize=tokenize).corpus_score([outputs[i] for i in g], [[references[i] for i in g]]).score
              for g in groups]
    path = figures / "length_bleu.png"
    plot_bars(labels, values, f"source length ({'characters' if couplet else 'words'})", "BLEU", path)
    return Section("BLEU by source length", f"Corpus BLEU of {len(groups)} groups of equal size, by source "
                   "length.", figures=[path])


def _best_and_worst(sources: list[str], references: list[str], outputs: list[str], tokenize: str) -> Section:
    bleu = [sentence_bleu(output, reference, tokenize) for output, reference in zip(outputs, references)]
    ranked = sorted(range(len(sources)), key=lambda i: -bleu[i])
    groups = [("best", ranked[:SHOWN]), ("worst", ranked[-SHOWN:])] if len(ranked) > 2 * SHOWN else [("", ranked)]
    rows = [[label, sources[i], references[i], outputs[i], f"{bleu[i]:.1f}"] for label, group in groups for i in group]
    return Section("Best and worst outputs", "By smoothed sentence BLEU.",
                   ["", "source", "reference", "output", "BLEU"], rows)
