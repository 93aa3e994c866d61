"""Corpus loaders: the recipe's ``data`` section -> Hugging Face ``datasets`` splits.

Every loader reads local files strictly (see :mod:`seq2text.textfile`), drops and counts
what cannot be used (empty lines, uncleanable poems), and returns a :class:`Corpus`: one
``datasets.Dataset`` per split plus a report of what was dropped.  Splits have the columns

- ``src``, ``tgt`` for parallel text and couplets (``verse_pairs`` adds ``parallel``: the pair
  is a middle couplet of regulated verse or an extra couplet);
- ``text``, ``label`` for labelled texts (classification);
- ``words``, ``tags``, ``sent_id`` for treebank sentences (tagging), ``text`` their words
  joined by spaces;
- ``text`` for language-model text (``tang`` adds ``id``, ``title``, ``author``, ``form``, ``tones``,
  ``corpus``: the folder it came from, and for language models ``subject``: what the poem is
  read after, see :func:`_subject`).

Nothing is ever fetched from the hub: ``datasets`` only sees in-memory lists.
"""

from __future__ import annotations

import csv
import hashlib
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pandas

from seq2text.data.cache import cache_folder
from seq2text.data.ci import read_ci
from seq2text.data.conllu import Reading, read_treebank
from seq2text.data.tang import CleaningReport, couplet_pairs, read_tang
from seq2text.errors import Seq2TextError
from seq2text.recipe import Recipe
from seq2text.tasks import task_of
from seq2text.textfile import read_jsonl, read_lines
from seq2text.verse.forms import labelled
from seq2text.verse.subjects import clean_title, poem_keywords, subject
from seq2text.verse.tunes import PATTERNS, TuneBook

# Local files only: datasets reads the hub's offline switch from here at every load (set here,
# not in os.environ, which would change it for the whole process and its children).
datasets.config.HF_HUB_OFFLINE = True
datasets.disable_progress_bars()
datasets.logging.set_verbosity(datasets.logging.CRITICAL)  # its failures reach us as exceptions, reported in one line

LOADER_VERSION = "2"  # bump when loaders change what they produce, to invalidate caches


@dataclass
class Corpus:
    """Splits of one corpus, with a fingerprint per split (for caches) and a drop report."""
    splits: dict[str, datasets.Dataset]
    fingerprints: dict[str, str]
    report: list[str] = field(default_factory=list)

    def __getitem__(self, split: str) -> datasets.Dataset:
        return self.splits[split]

    @property
    def held_out(self) -> str:
        """The split a finished model is scored on: ``test`` if there is one, else ``valid``."""
        return "test" if "test" in self.splits else "valid"

    def labels(self, split: str = "train") -> list[str]:
        """Every label of a split: one per labelled text, or one per word of tagged sentences."""
        dataset = self.splits[split]
        if "tags" in dataset.column_names:
            return [tag for tags in dataset["tags"] for tag in tags]
        return dataset["label"]

    def texts(self, split: str = "train") -> list[str]:
        """All sentences of a split, both sides for pairs: what a tokenizer is trained on."""
        dataset = self.splits[split]
        columns = [c for c in ("src", "tgt", "text") if c in dataset.column_names]
        return [text for column in columns for text in dataset[column]]


def load_corpus(recipe: Recipe, held_out_only: bool = False) -> Corpus:
    """Read the corpus the recipe's ``data`` section names.

    ``held_out_only``: what scoring a finished model needs.  Where the held-out split is a file
    of its own, the training data (and ``data.distilled``) is not read, so a bundled model is
    evaluated on a machine that has only its test split.
    """
    if held_out_only:
        recipe = held_out_recipe(recipe)
    loaders = {"parallel": _load_parallel, "tang": _load_tang, "couplet": _load_couplet,
               "verse_pairs": _load_verse_pairs, "text": _load_text, "labelled": _load_labelled,
               "conllu": _load_conllu}
    return loaders[recipe.data.kind](recipe)


def held_out_recipe(recipe: Recipe) -> Recipe:
    """``recipe`` without its training data (and ``data.distilled``; without the validation
    file too when the test file is held out, except for classifiers and taggers, which are scored
    on both) where its held-out split is a file of its own; as it is where that split is cut from
    the training data (poems by a hash of their id, the tail of a text, a share of a treebank)."""
    data = recipe.data
    from_train = data.kind in ("tang", "verse_pairs") or (
        data.test is None and (data.valid is None or (data.kind == "conllu" and data.test_fraction > 0)))
    if from_train:
        return recipe
    dropped = {"train": None, "distilled": None, **({"valid": None} if data.test is not None and
                                                     not task_of(recipe).labels else {})}
    return recipe.model_copy(update={"data": data.model_copy(update=dropped)})


class _Builder:
    """Collects splits, their fingerprints and the report while a loader runs."""
    def __init__(self, recipe: Recipe):
        self.recipe = recipe
        self.corpus = Corpus({}, {})

    def add(self, split: str, columns: dict[str, list], sources: list[Path], extra: str = "") -> None:
        digest = hashlib.sha1(f"{LOADER_VERSION}|{self.recipe.data.kind}|{split}|{extra}".encode())
        for path in sources:
            digest.update(str(path).encode())
            digest.update(_file_digest(path))
        self.corpus.splits[split] = datasets.Dataset.from_dict(columns)
        self.corpus.fingerprints[split] = digest.hexdigest()

    def note(self, line: str) -> None:
        self.corpus.report.append(line)


def _file_digest(path: Path) -> bytes:
    if path.is_dir():
        return b"".join(_file_digest(p) for p in sorted(path.rglob("*.json")))
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}".encode()


def _splits(recipe: Recipe) -> list[tuple[str, str]]:
    data = recipe.data
    return [(split, getattr(data, split)) for split in ("train", "valid", "test")
            if getattr(data, split) is not None]


def _load_parallel(recipe: Recipe) -> Corpus:
    data, builder = recipe.data, _Builder(recipe)
    for split, prefix in _splits(recipe):
        src_path = recipe.data_path(f"{prefix}.{data.src_lang}")
        tgt_path = recipe.data_path(f"{prefix}.{data.tgt_lang}")
        src, tgt = read_lines(src_path), read_lines(tgt_path)
        if len(src) != len(tgt):
            raise Seq2TextError(f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}; "
                                f"parallel files must be aligned line by line")
        keep = [i for i in range(len(src)) if src[i].strip() and tgt[i].strip()]
        _note_empty(builder, f"{prefix}.{data.src_lang}/.{data.tgt_lang}", len(src), keep, "pairs")
        pairs = [(src[i].strip(), tgt[i].strip()) for i in keep]
        sources = [src_path, tgt_path]
        if split == "train" and data.distilled is not None:
            distilled_path = Path(data.distilled).resolve()
            pairs = _distilled_pairs(builder, src, tgt, keep, distilled_path, data.distilled_mix)
            sources.append(distilled_path)
        builder.add(split, {"src": [s for s, _ in pairs], "tgt": [t for _, t in pairs]}, sources,
                    data.distilled_mix if split == "train" and data.distilled else "")
    return builder.corpus


def _distilled_pairs(builder: _Builder, src: list[str], references: list[str], keep: list[int], path: Path,
                     mix: str) -> list[tuple[str, str]]:
    """The training pairs of ``data.distilled``: each kept source with the teacher's translation
    (line ``i`` of ``path`` translates source line ``i``), and with ``mix: add`` also with its
    reference where the two differ."""
    if not path.is_file():
        what = "not a regular file (a folder, a device or a pipe)" if path.exists() else "no such file"
        raise Seq2TextError(f"{path}: {what}; data.distilled names the file of a teacher's translations of the "
                            f"training source, e.g. seq2text translate -m A -m B -i train.de -o FILE")
    teacher = read_lines(path)
    if len(teacher) != len(src):
        raise Seq2TextError(f"{path}: {len(teacher)} lines, but the training source has {len(src)}; "
                            f"data.distilled must translate it line for line")
    translated = [i for i in keep if teacher[i].strip()]
    _note_empty(builder, f"{path.name} (data.distilled)", len(keep), translated, "teacher translations")
    pairs = [(src[i].strip(), teacher[i].strip()) for i in translated]
    if mix == "add":
        pairs = [(src[i].strip(), references[i].strip()) for i in keep] + \
                [pair for i, pair in zip(translated, pairs) if pair[1] != references[i].strip()]
    same = sum(teacher[i].strip() == references[i].strip() for i in translated)
    builder.note(f"data.distilled: {len(translated):,} teacher translations ({same / max(1, len(translated)):.1%} "
                 f"the same as the reference), mix {mix}: {len(pairs):,} training pairs")
    return pairs


def _load_text(recipe: Recipe) -> Corpus:
    data, builder = recipe.data, _Builder(recipe)
    for split, name in _splits(recipe):
        path = recipe.data_path(name)
        lines = read_lines(path)
        keep = [i for i, line in enumerate(lines) if line.strip()]
        _note_empty(builder, name, len(lines), keep, "lines")
        texts = [lines[i] for i in keep]
        if split == "train" and data.valid is None and data.valid_fraction > 0:
            cut = _cut_by_characters(texts, 1.0 - data.valid_fraction)
            builder.add("valid", {"text": texts[cut:]}, [path], f"tail {data.valid_fraction}")
            builder.note(f"{name}: last {data.valid_fraction:.0%} of the characters "
                         f"({len(texts) - cut} lines) held out for validation")
            texts = texts[:cut]
        builder.add(split, {"text": texts}, [path], f"head {data.valid_fraction}")
    return builder.corpus


def _cut_by_characters(lines: list[str], fraction: float) -> int:
    """Index of the first line after ``fraction`` of all characters."""
    total, target = sum(len(line) for line in lines), 0
    for index, line in enumerate(lines):
        if target >= fraction * total:
            return index
        target += len(line)
    return len(lines)


def _load_tang(recipe: Recipe) -> Corpus:
    builder, poems, folders, data = _Builder(recipe), [], [], recipe.data
    for name in filter(None, (data.train, data.extra_poems)):
        report = CleaningReport()
        folders.append(recipe.data_path(name))
        read = [{**poem, "corpus": name} for poem in read_tang(folders[-1], report)]
        poems += [poem for poem in read if _hash_fraction(f"{poem['id']}|kept") < data.poems_fraction]
        kept = "" if data.poems_fraction == 1 else f"; {len(poems):,} read (poems_fraction {data.poems_fraction})"
        builder.note(f"{name}: " + "; ".join(report.lines()) + kept)
    if data.ci:
        report, folders = CleaningReport(), [*folders, recipe.data_path(data.ci)]
        book_path = recipe.data_path(PATTERNS)
        book = TuneBook.read(book_path) if book_path.is_file() else None
        poems += [{**ci, "corpus": data.ci} for ci in read_ci(folders[-1], book, report)]
        builder.note(f"{data.ci}: " + "; ".join(report.lines()[:3]) + ("" if book else f"; tunes named as the "
                     f"corpus names them ({book_path} not found)"))
    held_out = [_hash_fraction(poem["id"]) < recipe.data.valid_fraction for poem in poems]
    for split, wanted in (("train", False), ("valid", True)):
        chosen = [poem for poem, out in zip(poems, held_out) if out == wanted]
        if chosen:
            columns = {key: [poem[key] for poem in chosen] for key in chosen[0]}
            if not task_of(recipe).pairs:  # a language model reads each poem after its subject and form
                subjects = [_subject(poem, recipe.data) if recipe.data.subjects else "" for poem in chosen]
                columns["subject"] = subjects
                columns["text"] = [labelled(poem["text"], poem["form"], subject)
                                   for poem, subject in zip(chosen, subjects)]
            builder.add(split, columns, folders, f"held out {recipe.data.valid_fraction}, task {recipe.task}")
    return builder.corpus


def _subject(poem: dict, data) -> str:
    """The subject a poem is read after: none, its cleaned title, two keywords from it, or both,
    by the fractions of the recipe and a hash of its id (the same poem, the same subject)."""
    draw = _hash_fraction(f"{poem['id']}|subject")
    title = clean_title(poem["title"])
    if poem["corpus"] == data.ci and draw >= data.untitled_fraction:  # ci have no titles: keywords stand in
        return subject("", poem_keywords(poem["text"], 2, random.Random(poem["id"])))
    if draw < data.untitled_fraction or not (title or draw < data.untitled_fraction + data.keywords_fraction):
        return ""
    if draw >= data.untitled_fraction + data.keywords_fraction:
        return title
    words = poem_keywords(poem["text"], 2, random.Random(poem["id"]))
    with_title = draw < data.untitled_fraction + data.keywords_fraction / 2
    return subject(title if with_title else "", words)


def _hash_fraction(key: str) -> float:
    """A stable number in [0, 1) for ``key`` (the same on every machine and run)."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def _load_verse_pairs(recipe: Recipe) -> Corpus:
    data = recipe.data
    corpus = _load_tang(recipe)
    builder = _Builder(recipe)
    builder.corpus.report = corpus.report
    extra: dict[str, list[tuple[str, str]]] = {"train": [], "valid": []}
    if data.extra_pairs:
        path = recipe.data_path(data.extra_pairs)
        pairs = _read_pairs(path, builder, data.extra_pairs)
        equal = [(first, second) for first, second in pairs if len(first) == len(second)]
        if len(equal) < len(pairs):
            builder.note(f"{data.extra_pairs}: dropped {len(pairs) - len(equal)} pairs whose sides "
                         f"differ in length")
        for first, second in equal:
            held_out = _hash_fraction(f"{first}|{second}") < data.valid_fraction
            extra["valid" if held_out else "train"].append((first, second))
    for split, poems in corpus.splits.items():
        rows = [(first, second, middle)
                for text, form in zip(poems["text"], poems["form"])
                for first, second, middle in couplet_pairs(text, form)]
        rows += [(first, second, True) for first, second in extra.get(split, [])]
        if data.parallel_only:
            rows = [row for row in rows if row[2]]
        if split == "train":
            rows += [row for row in rows if row[2]] * (data.parallel_repeat - 1)
        sources = [recipe.data_path(data.extra_pairs)] if data.extra_pairs else []
        builder.add(split, {"src": [r[0] for r in rows], "tgt": [r[1] for r in rows],
                            "parallel": [r[2] for r in rows]}, sources,
                    f"{corpus.fingerprints[split]}|{data.parallel_repeat}|{data.valid_fraction}|"
                    f"{data.parallel_only}")
        builder.note(f"{split}: {len(rows)} 上句/下句 pairs, {sum(r[2] for r in rows)} of them strictly "
                     f"parallel (middle couplets of regulated verse, {len(extra.get(split, []))} extra pairs)"
                     + (f", those read {data.parallel_repeat}x" if split == "train" and data.parallel_repeat > 1
                        else ""))
    return builder.corpus


def _read_pairs(path: Path, builder: _Builder, name: str) -> list[tuple[str, str]]:
    """The ``{"first", "second"}`` records of a JSONL file; pairs with an empty side are dropped."""
    pairs, skipped = [], []
    for number, record in read_jsonl(path):
        if not isinstance(record, dict) or not isinstance(record.get("first"), str) \
                or not isinstance(record.get("second"), str):
            raise Seq2TextError(f"{path}:{number}: expected {{\"first\": ..., \"second\": ...}}")
        first, second = record["first"].strip(), record["second"].strip()
        if first and second:
            pairs.append((first, second))
        else:
            skipped.append(number)
    if skipped:
        builder.note(f"{name}: dropped {len(skipped)} pairs with an empty side (lines {_some(skipped)})")
    return pairs


def _load_labelled(recipe: Recipe) -> Corpus:
    """Texts and labels from a TSV or CSV file per split (the ``datasets`` CSV loader); labels
    are read as strings, rows with an empty text or label are dropped and counted."""
    data, builder = recipe.data, _Builder(recipe)
    for split, name in _splits(recipe):
        path = recipe.data_path(name)
        if not path.is_file():
            what = "not a regular file (a device, a pipe or a folder)" if path.exists() else "no such file"
            raise Seq2TextError(f"{path}: {what}; data.{split} names a TSV or CSV file")
        tsv = path.suffix.lower() in (".tsv", ".tab")
        try:
            with warnings.catch_warnings():
                # a first row with more fields than the header would become an index column
                # (pandas' guess), or lose its extra field (index_col=False): an error instead
                warnings.simplefilter("error", pandas.errors.ParserWarning)
                table = datasets.load_dataset("csv", data_files=str(path), split="train",
                                              delimiter="\t" if tsv else ",",
                                              quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL,
                                              keep_default_na=False, on_bad_lines="error", index_col=False,
                                              cache_dir=str(cache_folder("datasets")))
        except (ValueError, UnicodeDecodeError, datasets.exceptions.DatasetGenerationError) as err:
            cause = err.__cause__ or err
            reason = "a row has more fields than the header" if isinstance(cause, pandas.errors.ParserWarning) \
                else " ".join(str(cause).split())
            raise Seq2TextError(f"{path}: cannot read it as {'TSV' if tsv else 'CSV'} with a header row "
                                f"({reason})") from None
        for setting, column in (("text_column", data.text_column), ("label_column", data.label_column)):
            if column not in table.column_names:
                raise Seq2TextError(f"{path}: no column {column!r} (data.{setting}); its columns: "
                                    f"{', '.join(table.column_names)}")
        texts, labels = table[data.text_column], [str(label).strip() for label in table[data.label_column]]
        keep = [i for i, (text, label) in enumerate(zip(texts, labels)) if str(text).strip() and label]
        _note_empty(builder, name, len(texts), keep, "rows (text or label)", first_line=2)
        if data.label_names:
            labels = _named_labels(labels, keep, data.label_names, path)
        builder.add(split, {"text": [str(texts[i]).strip() for i in keep], "label": [labels[i] for i in keep]},
                    [path], f"{data.text_column}|{data.label_column}|{sorted((data.label_names or {}).items())}")
    return builder.corpus


def _named_labels(labels: list[str], keep: list[int], names: dict[str, str], path: Path) -> list[str]:
    """``labels`` by their ``data.label_names``: a value is read as its name, a name as itself."""
    known = set(names.values())
    for i in keep:
        if labels[i] not in names and labels[i] not in known:
            raise Seq2TextError(f"{path}: line {i + 2}: label {labels[i]!r} is neither a value nor a name of "
                                f"data.label_names ({', '.join(f'{k}: {v}' for k, v in names.items())})")
    return [names.get(label, label) for label in labels]


def _load_conllu(recipe: Recipe) -> Corpus:
    """Treebank sentences (:mod:`seq2text.data.conllu`); sentences with an untagged word are
    dropped and counted; without a test file, ``test_fraction`` of train is held out."""
    data, builder = recipe.data, _Builder(recipe)
    reading = Reading.of(data)
    settings = f"{reading}|{data.test_fraction}"
    for split, name in _splits(recipe):
        path = recipe.data_path(name)
        sentences = read_treebank(path, reading)
        tagged = [s for s in sentences if None not in s.tags]
        if len(tagged) < len(sentences):
            lines = [s.line for s in sentences if None in s.tags]
            builder.note(f"{name}: dropped {len(lines)} sentences with a word without {data.tag_column} "
                         f"(lines {_some(lines)})")
        held_out = [split == "train" and data.test is None and _hash_fraction(s.sent_id) < data.test_fraction
                    for s in tagged]
        if any(held_out):
            builder.note(f"{name}: {sum(held_out)} of {len(tagged)} sentences ({data.test_fraction:.0%} by a hash "
                         f"of their sent_id) held out as the test split")
            builder.add("test", _tagged_columns([s for s, out in zip(tagged, held_out) if out]), [path],
                        f"{settings}|held out")
        builder.add(split, _tagged_columns([s for s, out in zip(tagged, held_out) if not out]), [path], settings)
    return builder.corpus


def _tagged_columns(sentences: list) -> dict[str, list]:
    return {"words": [s.words for s in sentences], "tags": [s.tags for s in sentences],
            "sent_id": [s.sent_id for s in sentences], "text": [" ".join(s.words) for s in sentences]}


def _load_couplet(recipe: Recipe) -> Corpus:
    builder = _Builder(recipe)
    for split, name in _splits(recipe):
        path = recipe.data_path(name)
        pairs = _read_pairs(path, builder, name)
        builder.add(split, {"src": [p[0] for p in pairs], "tgt": [p[1] for p in pairs]}, [path])
    return builder.corpus


def _note_empty(builder: _Builder, name: str, total: int, keep: list[int], what: str, first_line: int = 1) -> None:
    """Report the rows not in ``keep`` by line number (``first_line``: the line of row 0)."""
    if len(keep) < total:
        kept = set(keep)
        dropped = [i + first_line for i in range(total) if i not in kept]
        builder.note(f"{name}: dropped {len(dropped)} empty or whitespace-only {what} "
                     f"(lines {_some(dropped)})")


def _some(numbers: list[int], shown: int = 5) -> str:
    text = ", ".join(str(n) for n in numbers[:shown])
    return text + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")
