"""Rule rates of generated poems, for `seq2text evaluate` and its reports.

For each regulated form, ``count`` poems are sampled with the defaults of ``seq2text generate``,
half of them acrostics, and checked: form, acrostic, rhyme in one level-tone group, 平仄,
no character three times, and lines copied verbatim from the training poems.
"""

from __future__ import annotations

import time

from seq2text.verse.forms import unlabelled, verse_lines
from seq2text.evaluation.sections import Section, count_of, percent
from seq2text.generator import Generator, Poem
from seq2text.progress import progress

FORMS = ["wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi"]
ACROSTICS = {4: ["春夏秋冬", "风花雪月", "山高水长", "明月清风"], 8: ["一年四季春夏秋冬", "江山如画风月无边"]}
RULES = ["form", "acrostic", "rhyme", "tones", "repetition"]
GALLERY = 3  # poems shown per form


def sample_poems(generator: Generator, form: str, count: int, seed: int) -> list[Poem]:
    """``count`` poems of ``form``: half free, half spread over the :data:`ACROSTICS`."""
    half = count // 2
    poems = generator.poems(form, half, seed=seed)
    acrostics = ACROSTICS[4 if "jueju" in form else 8]
    rest = count - half
    for index, acrostic in enumerate(acrostics):
        share = rest // len(acrostics) + (index < rest % len(acrostics))
        if share:
            poems += generator.poems(form, share, acrostic=acrostic, seed=seed + index + 1)
    return poems


def verse_rates(generator: Generator, training_texts: list[str], count: int, seed: int = 1
                ) -> tuple[dict, list[Section]]:
    """Per-form rule rates (percent) and poems per second, and the report's sections."""
    normalize = generator.tokenizer.normalize
    seen = {line for text in training_texts for line in verse_lines(normalize(unlabelled(text)))}
    rates, gallery = {}, []
    for form in progress(FORMS, "poems", "form"):
        started = time.perf_counter()
        poems = sample_poems(generator, form, count, seed)
        seconds = time.perf_counter() - started
        rates[form] = {rule: percent(sum(p.checks[rule] for p in poems if rule in p.checks),
                                     sum(rule in p.checks for p in poems)) for rule in RULES}
        written = [line for p in poems for line in verse_lines(p.text)]
        rates[form]["copied_lines"] = percent(sum(line in seen for line in written), len(written))
        rates[form]["poems_per_s"] = round(len(poems) / seconds, 1)
        gallery += [[form, "\n".join(p.lines()), " ".join(f"{r}:{'✓' if ok else '✗'}" for r, ok in p.checks.items())]
                    for p in (poems[:GALLERY - 1] + poems[-1:])]
    columns = RULES + ["copied_lines", "poems_per_s"]
    table = Section("Generated poems: rule rates", f"{count_of(count, 'poem')} per form, half of them acrostics, "
                    f"sampled with the defaults of `seq2text generate` (seed {seed}); rhymes from "
                    f"{generator.rhymes.source}. "
                    "Rates in percent; copied_lines: lines found verbatim in the training poems.",
                    ["form", *columns], [[form, *(rates[form][c] for c in columns)] for form in FORMS])
    return rates, [table, Section("Gallery", "A few of the poems above with their checks.",
                                  ["form", "poem", "checks"], gallery)]
