"""Poems on a subject: perplexity with and without the title, how often poems stay on their
subject, and how varied they are.

**On-subject measure.**  A reader that knows only the corpus, not the model, guesses which of the
20 :data:`SUBJECTS` a poem is about; a poem is on its subject when the guess is the subject it
was written for (chance: 5%).  The reader is a naive Bayes classifier over characters: for each
subject, the character counts of the corpus poems whose cleaned title contains the subject (or,
where fewer than :data:`MIN_POEMS` do, one of its two-character words, or else one of its
characters), add-one smoothed; a poem's guess is the subject under which its characters are most
probable.  Its accuracy on the held-out corpus poems whose titles name a subject shows how far
it can be trusted.

**Diversity.**  Over all the poems of one setting: the share of distinct lines and the share of
the most common line, and the lines found verbatim in the corpus (Tang and Song, every split).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Callable, Optional

from seq2text.data.corpora import load_corpus
from seq2text.evaluation.endings import rhyme_log_probs, rhyme_positions, summary
from seq2text.evaluation.sections import Section, count_of, percent
from seq2text.generator import Generator, Poem
from seq2text.progress import progress
from seq2text.scoring.perplexity import score_sequences
from seq2text.verse.forms import FORM_LABELS, LABEL_END, get_form, is_han, labelled, unlabelled, verse_lines
from seq2text.verse.patterns import regulated_pattern
from seq2text.verse.subjects import CANDIDATES, GUIDANCE, clean_title
from seq2text.verse.tones import PING

SUBJECTS = ["秋夜", "送别", "边塞", "咏梅", "春日山居", "黄鹤楼", "明月", "春雨", "登高", "怀古",
            "江南", "思乡", "闺怨", "赠友", "咏柳", "秋思", "夜雨", "寒食", "山寺", "渔父"]
FORMS = ["wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi"]
MIN_POEMS = 30


def _han(text: str) -> list[str]:
    return [c for c in text if is_han(c)]


class SubjectReader:
    """Guesses which of ``subjects`` a poem is about, from corpus poems whose titles name them."""
    def __init__(self, subjects: list[str], titles: list[str], texts: list[str], normalize: Callable[[str], str]):
        """``titles``: the corpus titles, cleaned and normalized like ``subjects``; ``texts``:
        the poems, normalized here only where a subject needs them."""
        self.subjects, self.normalize = subjects, normalize
        self.matched: dict[str, list[int]] = {subject: self._match(subject, titles) for subject in subjects}
        counts = {subject: Counter(c for i in rows for c in _han(normalize(texts[i])))
                  for subject, rows in self.matched.items()}
        vocabulary = set().union(*counts.values())
        self.log_probs = {subject: {c: math.log((count[c] + 1) / (sum(count.values()) + len(vocabulary)))
                                    for c in vocabulary} for subject, count in counts.items()}

    @staticmethod
    def _match(subject: str, titles: list[str]) -> list[int]:
        """Poems whose title holds the subject, else one of its words (two characters), else one
        of its characters: the first of these that finds :data:`MIN_POEMS` poems."""
        words = [subject[i:i + 2] for i in range(len(subject) - 1)] or [subject]
        rows: list[int] = []
        for parts in ([subject], words, list(subject)):
            rows = [i for i, title in enumerate(titles) if any(part in title for part in parts)]
            if len(rows) >= MIN_POEMS:
                break
        return rows

    def guess(self, poem: str) -> str:
        chars = [c for c in _han(self.normalize(poem)) if c in self.log_probs[self.subjects[0]]]
        return max(self.subjects, key=lambda s: sum(self.log_probs[s][c] for c in chars))

    def accuracy(self, titles: list[str], texts: list[str]) -> tuple[Optional[float], int]:
        """Percent of poems whose (cleaned, normalized) title names exactly one subject that
        the reader assigns to it, and how many such poems there were."""
        named = [(next(s for s in self.subjects if s in title), text) for title, text in zip(titles, texts)
                 if sum(s in title for s in self.subjects) == 1]
        return percent(sum(self.guess(text) == subject for subject, text in named), len(named)), len(named)


SONG = "song"  # the Song poems' folder under the data root


def corpus_reader(generator: Generator, corpus=None) -> tuple[SubjectReader, Optional[float], int, set[str], Any]:
    """The subject reader built from the titled poems of the corpus, its accuracy (percent) on the
    held-out poems whose titles name a subject and how many there were, every line of the poems
    (for copies) and the held-out poems.  It reads all the Tang and the Song poems whatever the
    model was trained on (a share of them, or ci too), so that every model is measured alike;
    ``corpus``, the model's own corpus already loaded, is used when it is exactly that."""
    normalize, recipe = generator.tokenizer.normalize, generator.loaded.recipe
    data = recipe.data
    poems_only = data.model_copy(update={"ci": None, "poems_fraction": 1.0,
                                         "extra_poems": data.extra_poems or (SONG if recipe.data_path(SONG).is_dir()
                                                                             else None)})
    if corpus is None or poems_only != data:
        corpus = load_corpus(recipe.model_copy(update={"data": poems_only}))
    train, held_out = corpus["train"], corpus[corpus.held_out]
    reader = SubjectReader(SUBJECTS, [normalize(clean_title(t)) for t in train["title"]], train["text"], normalize)
    accuracy, named = reader.accuracy([normalize(clean_title(t)) for t in held_out["title"]], held_out["text"])
    corpus_lines = {line for split in (train, held_out) for text in split["text"]
                    for line in verse_lines(normalize(unlabelled(text)))}
    return reader, accuracy, named, corpus_lines, held_out


def subject_poems(generator: Generator, mode: str, per_subject: int, seed: int = 1,
                  **settings: Any) -> list[tuple[str, Poem]]:
    """``per_subject`` poems per subject, their forms in turn (each subject starting one form
    later), each written ``mode``: after its ``title`` (``unguided``: without the
    :data:`~seq2text.verse.subjects.GUIDANCE` of generation), with it as the ``prompt`` (the
    poem's first characters), or with ``none`` (the subject unused)."""
    written = []
    for index, subject in enumerate(SUBJECTS):
        forms = Counter(FORMS[(index + j) % len(FORMS)] for j in range(per_subject))
        for form in (form for form in FORMS if forms[form]):
            options = {"title": {"title": subject}, "unguided": {"title": subject, "guidance": 0.0},
                       "one candidate": {"title": subject, "candidates": 1},
                       "prompt": {"prompt": subject}, "none": {}}[mode]
            poems = generator.poems(form, forms[form], seed=seed + 4 * index + FORMS.index(form),
                                    **{**options, **settings})
            written += [(subject, poem) for poem in poems]
    return written


def diversity(poems: list[Poem], corpus_lines: set[str]) -> dict:
    """Distinct lines, the most common line, lines copied from the corpus, lines with a
    character written twice in a row (扁舟别别时) and the most common opening word, in percent."""
    lines = [line for poem in poems for line in verse_lines(poem.text)]
    common, times = Counter(lines).most_common(1)[0] if lines else ("", 0)
    opening, opened = Counter(poem.text[:2] for poem in poems).most_common(1)[0] if poems else ("", 0)
    return {"lines": len(lines), "distinct_lines": percent(len(set(lines)), len(lines)),
            "repeated_lines": len(lines) - len(set(lines)), "most_common_line": common,
            "most_common_share": percent(times, len(lines)),
            "copied_lines": percent(sum(line in corpus_lines for line in lines), len(lines)),
            "doubled_lines": percent(sum(stutters(line) for line in lines), len(lines)),
            "most_common_opening": opening, "opening_share": percent(opened, len(poems))}


def stutters(line: str) -> bool:
    """True for a line with the same character twice in a row (悠悠 and 别别 alike: the measure
    counts reduplication too, so compare it with the poets' own rate)."""
    return any(a == b for a, b in zip(line, line[1:]))


def regulated_endings(loaded, items: list[tuple[str, str, str]]) -> list[float]:
    """The rhyme log-probabilities (:mod:`seq2text.evaluation.endings`) of ``(subject, form,
    text)`` regulated poems read after their subject, every rhyme character of every poem."""
    chosen = [(subject, FORM_LABELS[form], text, rhyme_positions(regulated_pattern(get_form(form), PING)))
              for subject, form, text in items if form in FORMS]
    return rhyme_log_probs(loaded, chosen)


def subject_rates(generator: Generator, reader: SubjectReader, corpus_lines: set[str], per_subject: int,
                  held_out, seed: int = 1) -> tuple[dict, Section]:
    """On-subject, rule, diversity and line-ending rates of the :func:`subject_poems` of each mode
    the model allows: ``title``, ``one candidate`` (the title, a character at a time),
    ``unguided`` and ``none`` for a model trained with subjects, else ``prompt`` and ``none``;
    and the poets' own figures on the ``held_out`` regulated poems."""
    modes = (["title", "one candidate", "unguided", "none"] if generator.loaded.recipe.data.subjects
             else ["prompt", "none"])
    rates, rows = {}, []
    for mode in progress(modes, "subject poems", "setting"):
        written = subject_poems(generator, mode, per_subject, seed)
        poems = [poem for _, poem in written]
        reading = [(s if mode in ("title", "one candidate", "unguided") else "", p.form, p.text) for s, p in written]
        endings = regulated_endings(generator.loaded, reading)
        rates[mode] = {"poems": len(poems),
                       "on_subject": percent(sum(reader.guess(p.text) == s for s, p in written), len(written)),
                       "rules_kept": percent(sum(all(p.checks.values()) for p in poems), len(poems)),
                       **diversity(poems, corpus_lines), **summary(endings)}
        rows.append(_row(mode, rates[mode]))
    normalize = generator.tokenizer.normalize
    human = [(clean_title(title), form, normalize(text.rsplit(LABEL_END, 1)[-1]))
             for title, form, text in zip(held_out["title"], held_out["form"], held_out["text"]) if form in FORMS]
    endings = regulated_endings(generator.loaded, [(normalize(t), f, x) for t, f, x in human])
    people = [Poem(text=text, form=form, log_prob=0.0, seed=None, checks={}) for _, form, text in human]
    rates["held-out poems"] = {"poems": len(human), "on_subject": None, "rules_kept": None,
                               **diversity(people, set()), "copied_lines": None, **summary(endings)}
    rows.append(_row("held-out poems", rates["held-out poems"]))
    section = Section(
        "Poems on a subject",
        f"{count_of(per_subject, 'poem')} on each of {len(SUBJECTS)} subjects ({'、'.join(SUBJECTS)}), the four "
        f"regulated forms in turn, sampled with the defaults of `seq2text generate` (seed {seed}), written "
        f"after the subject as a title (title, with guidance {GUIDANCE} and {CANDIDATES} candidates per line; one "
        "candidate: the same, sampled a character at a time; unguided: guidance 0), with the subject "
        "as the first characters (prompt) or without it (none). on_subject: percent of poems that a naive "
        "Bayes reader of the corpus assigns to their own subject among the 20 (chance 5%; see "
        "seq2text/evaluation/subjects.py); rules kept: form, rhyme, "
        "平仄 and repetition all kept; copied: lines found verbatim in the Tang and Song corpus; doubled: "
        "lines with a character twice in a row (reduplication such as 悠悠 counts too); opening: the most "
        "common first two characters; rhyme log-prob: the mean log-probability (nats) of the rhyme "
        "characters under the model alone, read after the subject (none for `none`) with no rules and "
        "no guidance, and forced rhymes: the percent of them under -8 nats (seq2text/evaluation/endings.py). The last row: the held-out regulated poems of the "
        "corpus, read after their cleaned titles.",
        ["written", "on subject %", "rules kept %", "distinct lines %", "lines repeated", "most common line %",
         "copied lines %", "doubled lines %", "most common opening %", "rhyme log-prob", "forced rhymes %"], rows)
    return rates, section


def _row(mode: str, rate: dict) -> list:
    return [mode, rate["on_subject"], rate["rules_kept"], rate["distinct_lines"], rate["repeated_lines"],
            f"{rate['most_common_share']} ({rate['most_common_line']})", rate["copied_lines"], rate["doubled_lines"],
            f"{rate['opening_share']} ({rate['most_common_opening']})", rate["rhyme_log_prob"], rate["forced_rhymes"]]


def title_perplexities(loaded, held_out) -> tuple[dict, Section]:
    """Per-character perplexity of each corpus's held-out poems (form label, poem and its end
    scored) read without a subject and after their cleaned titles; a poem whose title cleans
    to nothing is read without one both times."""
    tokenizer, scores, rows = loaded.src, {}, []
    for corpus in sorted(set(held_out["corpus"])):
        chosen = [i for i, name in enumerate(held_out["corpus"]) if name == corpus]
        titles = [clean_title(held_out["title"][i]) for i in chosen]
        texts = [held_out["text"][i].rsplit(LABEL_END, 1)[-1] for i in chosen]
        forms = [held_out["form"][i] for i in chosen]
        plain = [tokenizer.encode(labelled(text, form)) for text, form in zip(texts, forms)]
        untitled = score_sequences(loaded.model, plain, loaded.device, progress=f"{corpus} perplexity, untitled")
        result = {"poems": len(chosen), "untitled": round(untitled.perplexity, 2)}
        if loaded.recipe.data.subjects:
            titled = [tokenizer.encode(labelled(text, form, title)) for text, form, title in zip(texts, forms, titles)]
            unscored = [len(t) - len(p) for t, p in zip(titled, plain)]
            with_title = score_sequences(loaded.model, titled, loaded.device, unscored=unscored,
                                         progress=f"{corpus} perplexity, titled")
            result.update(titled=round(with_title.perplexity, 2), with_title=sum(bool(title) for title in titles))
        scores[corpus] = result
        rows.append([corpus, len(chosen), result.get("with_title", ""), result["untitled"], result.get("titled", "")])
    return scores, Section(
        "Perplexity with and without the title",
        "Per-character perplexity of the held-out poems of each corpus: the form label, the poem and its end "
        "are scored, read without a subject (untitled) and after the poem's cleaned title (titled; a model "
        "trained with subjects only).", ["corpus", "poems", "with a title", "untitled", "titled"], rows)
