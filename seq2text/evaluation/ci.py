"""Ci by tune: rule rates per tune, subject, diversity, copies and line endings.

For each of the most common tunes, ``per_tune`` ci are sampled with the defaults of ``seq2text
generate``, each on one of the 20 subjects of :mod:`seq2text.evaluation.subjects` in turn, and
checked against the tune's pattern (:func:`seq2text.verse.patterns.check_pattern`): the line
lengths and punctuation, the share of 平/仄 positions whose character has the wanted tone (where
the tone table knows it) and the share of rhyme positions that rhyme with their group (词林正韵).

Copies are lines of at least :data:`MIN_COPIED` characters found verbatim in the ci or the poems
of the corpus; shorter clauses (春去也, 人何处) are the stock phrases of the form.
"""

from __future__ import annotations

from collections import Counter

from seq2text.evaluation.endings import rhyme_log_probs, rhyme_positions, summary
from seq2text.evaluation.sections import Section, count_of, percent
from seq2text.evaluation.subjects import SUBJECTS, SubjectReader
from seq2text.generator import Generator, Poem
from seq2text.progress import progress
from seq2text.verse.forms import verse_lines
from seq2text.verse.patterns import check_pattern

TUNES = 20
MIN_COPIED = 4


def ci_rates(generator: Generator, reader: SubjectReader, corpus_lines: set[str], held_out: list[tuple[str, str]],
             per_tune: int, seed: int = 1) -> tuple[dict, list[Section]]:
    """Per-tune rates of ``per_tune`` ci on each of the :data:`TUNES` most common tunes, their
    totals, and the rhyme log-probability of the ``held_out`` ``(tune, text)`` human ci that have
    their tune's pattern; and the report's sections."""
    tunes, loaded = generator.tunes, generator.loaded
    rows, rates, endings, all_written, gallery = [], {}, [], [], []
    for number, choice in enumerate(progress(tunes.choices[:TUNES], "ci", "tune")):
        pattern = tunes.pattern(choice)
        written: list[tuple[str, Poem]] = []
        for index in range(per_tune):
            subject = SUBJECTS[(number + index) % len(SUBJECTS)]
            written += [(subject, poem) for poem in generator.ci(choice.tune, title=subject, seed=seed + index)]
        checks = [check_pattern(poem.text, pattern, loaded.tones, tunes.rhymes) for _, poem in written]
        lines = [line for _, poem in written for line in verse_lines(poem.text)]
        long_lines = [line for line in lines if len(line) >= MIN_COPIED]
        positions = rhyme_positions(pattern)
        ending = rhyme_log_probs(loaded, [("", choice.tune, poem.text, positions) for _, poem in written])
        endings += ending
        rates[choice.tune] = rate = {
            "ci": len(written),
            "form": percent(sum(c.checks["form"] for c in checks), len(checks)),
            "tone_positions": percent(sum(c.tones_held for c in checks), sum(c.tones_counted for c in checks)),
            "rhyme_positions": percent(sum(c.rhymes_held for c in checks), sum(c.rhymes_counted for c in checks)),
            "rules_kept": percent(sum(all(c.checks.values()) for c in checks), len(checks)),
            "on_subject": percent(sum(reader.guess(p.text) == s for s, p in written), len(written)),
            "distinct_lines": percent(len(set(lines)), len(lines)),
            "copied_lines": percent(sum(line in corpus_lines for line in long_lines), len(long_lines)),
            **summary(ending)}
        all_written += written
        rows.append([choice.tune, *rate.values()])
        gallery.append([choice.tune, written[0][0], "\n".join(written[0][1].lines())])
    checks_all = list(rates.values())
    human = _human_endings(generator, held_out)
    lines = [line for _, poem in all_written for line in verse_lines(poem.text)]
    long_lines = [line for line in lines if len(line) >= MIN_COPIED]
    total = {"ci": len(all_written),
             "form": _weighted(checks_all, "form"), "tone_positions": _weighted(checks_all, "tone_positions"),
             "rhyme_positions": _weighted(checks_all, "rhyme_positions"),
             "rules_kept": _weighted(checks_all, "rules_kept"), "on_subject": _weighted(checks_all, "on_subject"),
             "distinct_lines": percent(len(set(lines)), len(lines)),
             "copied_lines": percent(sum(line in corpus_lines for line in long_lines), len(long_lines)),
             **summary(endings)}
    rows.append(["all", *total.values()])
    rows.append([f"held-out human ci ({human['ci']})", "", "", "", "", "", "", "", "", human["rhyme_log_prob"],
                 human["forced_rhymes"]])
    figures = {"tunes": rates, "all": total, "human": human}
    columns = ["tune", "ci", "form %", "平仄 positions %", "rhyme positions %", "rules kept %", "on subject %",
               "distinct lines %", f"copied lines ≥{MIN_COPIED} %", "rhyme log-prob", "forced rhymes %"]
    table = Section(
        "Ci by tune", f"{count_of(per_tune, 'ci')} on each of the {len(rates)} most common tunes, sampled with the "
        f"defaults of `seq2text generate` (seed {seed} and on), each after one of the 20 subjects as its title. "
        "平仄 positions: of the 平 and 仄 positions (not 中) whose character the tone table knows, those with "
        f"the wanted tone; rhyme positions: those that rhyme with their group (词林正韵, {tunes.rhymes.source}); "
        "rules kept: form, tones, rhyme and repetition all kept; on subject: as for poems; copied: lines "
        f"of {MIN_COPIED}+ characters found verbatim in the ci or poems of the corpus; rhyme log-prob: the mean "
        "log-probability (nats) of the rhyme characters under the model alone, read after the tune's name "
        "(no subject, no rules), and forced rhymes: the percent of them under -8 nats; beside the same "
        "figures for the held-out human ci that have their tune's pattern.", columns, rows)
    return figures, [table, Section("Ci gallery", "The first ci of each tune above.", ["tune", "subject", "ci"],
                                    gallery)]


def _weighted(rates: list[dict], key: str) -> float:
    """The mean of per-tune percentages weighted by the ci of each tune."""
    values = [(r[key], r["ci"]) for r in rates if r[key] is not None]
    return round(sum(v * n for v, n in values) / sum(n for _, n in values), 1) if values else None


def _human_endings(generator: Generator, held_out: list[tuple[str, str]]) -> dict:
    tunes = generator.tunes
    chosen = []
    for tune, text in held_out:
        choice = tunes.find(tune)
        if choice is None:
            continue
        pattern = tunes.pattern(choice)
        if pattern.split(text) is not None:
            chosen.append(("", choice.tune, text, rhyme_positions(pattern)))
    counts = Counter(label for _, label, _, _ in chosen)
    return {"ci": len(chosen), "tunes": len(counts), **summary(rhyme_log_probs(generator.loaded, chosen))}
