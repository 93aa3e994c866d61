"""What the training loop feeds a model, per kind of task: its batches, their loss, validation.

- :class:`PairFeed` (translation, couplets): length-bucketed sentence pairs, teacher-forced
  cross-entropy over the target; validation reports loss, perplexity and greedy BLEU
  (couplets: character BLEU).  :class:`AlignedFeed` is the same for the N-vs-N couplet model,
  whose loss labels every source position with the target character there.
- :class:`SequenceFeed` (language model, whole sentences or poems): ``<s> text`` predicts
  ``text </s>``, length-bucketed like pairs.
- :class:`ClassificationFeed` (N vs 1): labelled texts, cross-entropy of the label;
  validation reports accuracy and macro-F1.
- :class:`TaggingFeed` (N vs N tagging): treebank sentences batched by length, the loss summed
  over words (softmax) or sentences (CRF) and averaged over words; validation reports tag
  accuracy and the macro-F1 of the tags.
- :class:`StreamFeed` (language model, ``training.bptt`` set): the split's lines joined by
  ``</s>`` into one stream, cut into ``batch_size`` parallel rows and read in windows of
  ``bptt`` tokens; the hidden state runs on from one window to the next (truncated
  back-propagation through time, Zaremba et al. 2014).

A feed hands out a list of batch descriptions per epoch (:meth:`batches`), turns one into
tensors (:meth:`collate`), computes the summed loss of a batch and its token count
(:meth:`loss`) and scores a split (:meth:`validate`).
"""

from __future__ import annotations

import math
from typing import Any

import sacrebleu
import torch
import torch.nn.functional as F

from seq2text.classifier import Classifier
from seq2text.data.batching import BucketBatcher, collate_pairs, pad
from seq2text.decoding import decode_sources, output_limits
from seq2text.errors import Seq2TextError
from seq2text.generation.requests import TextRequest
from seq2text.generation.text import TextWriter
from seq2text.prepare import Prepared, example_lengths
from seq2text.recipe import Recipe
from seq2text.scoring.labels import ClassScores, confusion, predict
from seq2text.scoring.perplexity import (
    TextBatch,
    Validation,
    carried_loss,
    mean_loss,
    score_sequences,
    score_stream,
    sequence_batch,
    sequence_loss,
    stream_rows,
    summed_cross_entropy,
    window,
)
from seq2text.scoring.tags import TagBatch, predict_tags, tag_batch
from seq2text.tasks import feed_for, task_of
from seq2text.tokenizers import EOS, PAD, UNK
from seq2text.training.distributed import Process

SAMPLES = 3  # outputs shown in the training log at each validation
SAMPLE_TOKENS = 60


def pair_loss(model, batch, label_smoothing: float) -> tuple[torch.Tensor, int]:
    """Summed teacher-forced cross-entropy of a :class:`~seq2text.data.batching.PairBatch` and
    its number of target tokens."""
    logits, _ = model(batch.src, batch.src_mask, batch.tgt_in, batch.tgt_mask)
    return summed_cross_entropy(logits, batch.tgt_out[batch.tgt_mask], label_smoothing), batch.target_tokens


class _BucketedFeed:
    """Examples batched by length (:class:`BucketBatcher`); nothing runs on between batches."""
    report: tuple[str, ...] = ()  # lines for the training log

    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        config = recipe.training
        self.data = data
        self.batcher = BucketBatcher(example_lengths(data.splits["train"]), config.batch_size, config.batch_tokens,
                                     config.bucket_pool, recipe.seed, rank=process.rank,
                                     world_size=process.world_size)

    def batches(self, epoch: int) -> list[Any]:
        return self.batcher.batches(epoch)

    def start_epoch(self) -> None:
        """Every batch starts from a zero state."""
    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        """Stateless."""


def aligned_loss(model, batch, label_smoothing: float) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy of an N-vs-N model: source position i predicts target token i."""
    logits = model(batch.src, batch.src_mask)
    targets = batch.tgt_out[:, :logits.size(1)].clone()
    targets[targets == EOS] = PAD
    return summed_cross_entropy(logits, targets, label_smoothing), int((targets != PAD).sum())


class PairFeed(_BucketedFeed):
    """Sentence pairs; with ``training.subword_sampling`` each batch's pairs are split afresh
    (batches are still formed by the lengths of the one best split)."""
    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        super().__init__(recipe, data, process)
        self.max_length = recipe.decoding.max_length
        self.bleu_tokenize = "char" if task_of(recipe).characters else "13a"
        self.sampling = recipe.training.subword_sampling
        # Batches split so far: with the seed and rank, the seed of the next batch's splits, so
        # that a resumed run draws the splits it would have drawn.
        self.sampled_batches = 0
        self.sampling_seed = (recipe.seed * 1009 + process.rank) * 1_000_003

    def collate(self, batch: list[int], device: torch.device):
        rows = self.data.splits["train"].dataset[batch]
        if not self.sampling:
            return collate_pairs(rows["src_ids"], rows["tgt_ids"]).to(device)
        seed = (self.sampling_seed + self.sampled_batches) % 2**32
        self.sampled_batches += 1
        src = self.data.src.sample(rows["src"], self.sampling, seed)
        tgt = self.data.tgt.sample(rows["tgt"], self.sampling, seed + 1)
        return collate_pairs(src, tgt).to(device)

    def state_dict(self) -> dict:
        return {"sampled_batches": self.sampled_batches}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.sampled_batches = int(state.get("sampled_batches", 0))

    loss = staticmethod(pair_loss)

    @torch.no_grad()
    def validate(self, model, split: str, device: torch.device, batch_size: int = 64) -> Validation:
        """Loss and perplexity (no smoothing) and cased sacreBLEU of greedy search, whose
        outputs follow the translator's length rule (:func:`~seq2text.decoding.output_limits`)."""
        was_training = model.training
        model.eval()
        dataset = self.data.splits[split].dataset
        total_loss, total_tokens, hypotheses = 0.0, 0, []
        for start in range(0, len(dataset), batch_size):
            rows = dataset[start:start + batch_size]
            batch = collate_pairs(rows["src_ids"], rows["tgt_ids"]).to(device)
            loss, tokens = self.loss(model, batch, 0.0)
            total_loss, total_tokens = total_loss + loss.item(), total_tokens + tokens
            limits = output_limits(torch.tensor([len(ids) for ids in rows["src_ids"]]), self.max_length)
            found = decode_sources(model, rows["src_ids"], limits)
            hypotheses += [self.data.tgt.decode(best[0].tokens) for best in found]
        model.train(was_training)
        references = dataset["tgt"]
        if self.bleu_tokenize == "char":  # couplets: the Tang poems are traditional, the model writes simplified
            references = [self.data.tgt.normalize(reference) for reference in references]
        bleu = sacrebleu.corpus_bleu(hypotheses, [references], tokenize=self.bleu_tokenize)
        scores = mean_loss(total_loss, total_tokens, bleu.score)
        scores.samples = tuple(f"{src} => {hyp} (reference: {ref})" for src, hyp, ref in
                               zip(dataset["src"][:SAMPLES], hypotheses, references[:SAMPLES]))
        return scores


class AlignedFeed(PairFeed):
    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        super().__init__(recipe, data, process)
        for split, encoded in data.splits.items():
            rows = encoded.dataset
            uneven = sum(len(s) != len(t) for s, t in zip(rows["src_ids"], rows["tgt_ids"]))
            if uneven:
                raise Seq2TextError(f"{recipe.path}: model.architecture: aligned needs sides of equal length, "
                                    f"but {uneven} {split} pairs differ")

    loss = staticmethod(aligned_loss)


class SequenceFeed(_BucketedFeed):
    def collate(self, batch: list[int], device: torch.device) -> TextBatch:
        return sequence_batch(self.data.splits["train"].dataset[batch]["ids"], device)

    loss = staticmethod(sequence_loss)

    def validate(self, model, split: str, device: torch.device) -> Validation:
        """Per-token loss and perplexity, ``</s>`` of every sequence counted as a token."""
        scores = score_sequences(model, self.data.splits[split].dataset["ids"], device)
        scores.samples = lm_samples(model, self.data.src, device, stream=False)
        return scores


class StreamFeed:
    report: tuple[str, ...] = ()

    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        if process.world_size > 1:
            raise Seq2TextError("training.bptt: several processes are not supported yet")
        self.data, self.bptt = data, recipe.training.bptt
        self.rows = recipe.training.batch_size or 20
        self.train = stream_rows(self.data.splits["train"].dataset["ids"], self.rows)
        self.hidden = None

    def batches(self, epoch: int) -> list[Any]:
        """Window start positions; every window needs one more token as the last target."""
        return list(range(0, self.train.size(1) - 1, self.bptt))

    def collate(self, start: int, device: torch.device) -> TextBatch:
        return window(self.train, start, self.bptt, device)

    def start_epoch(self) -> None:
        self.hidden = None

    def state_dict(self) -> dict:
        """The carried hidden state, so that a resumed run continues exactly."""
        hidden = self.hidden if isinstance(self.hidden, tuple) else (self.hidden,) if self.hidden is not None else ()
        return {"hidden": [h.cpu() for h in hidden]}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        hidden = [h.to(device) for h in state.get("hidden") or []]
        self.hidden = None if not hidden else tuple(hidden) if len(hidden) == 2 else hidden[0]

    def loss(self, model, batch: TextBatch, label_smoothing: float) -> tuple[torch.Tensor, int]:
        loss, tokens, self.hidden = carried_loss(model, batch, self.hidden, label_smoothing)
        return loss, tokens

    def validate(self, model, split: str, device: torch.device) -> Validation:
        """Perplexity of the split read as 10 streams with the state carried throughout."""
        scores = score_stream(model, self.data.splits[split].dataset["ids"], device, self.bptt)
        scores.samples = lm_samples(model, self.data.src, device, stream=True)
        return scores


class ClassificationFeed(_BucketedFeed):
    """Labelled texts batched by length; the loss is the cross-entropy of each text's label
    (``training.class_weights``: weighed by the inverse of the label's share), averaged over texts.

    With ``training.teachers`` each text's loss is shared (``teacher_weight``) with the
    cross-entropy against the teachers' mean probabilities for it, computed once at the start.
    With ``training.objective: bilm`` there are no labels: the loss and validation are those of
    the encoder read as a bidirectional language model (per predicted token)."""
    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        super().__init__(recipe, data, process)
        self.labels = data.labels
        self.bilm = recipe.training.objective == "bilm"
        self.weights = None
        if recipe.training.class_weights:
            counts = torch.bincount(torch.tensor(data.splits["train"].dataset["label_id"]), minlength=len(self.labels))
            self.weights = counts.sum() / (len(self.labels) * counts.clamp(min=1).float())
        self.teacher_weight = recipe.training.teacher_weight if recipe.training.teachers else 0.0
        self.soft = None
        if recipe.training.teachers:
            self.soft = teacher_probabilities(recipe, data.splits["train"].dataset["text"], self.labels)
            agree = (self.soft.argmax(-1) == torch.tensor(data.splits["train"].dataset["label_id"])).float().mean()
            self.report = (f"training.teachers: the mean probabilities of {len(recipe.training.teachers)} models, "
                           f"whose best label is the data's on {agree:.1%} of the training texts, weigh "
                           f"{self.teacher_weight:g} of the loss",)

    def collate(self, batch: list[int], device: torch.device
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Padded ids ``(B, S)``, label ids ``(B,)`` and, with teachers, their probabilities ``(B, L)``."""
        rows = self.data.splits["train"].dataset[batch]
        soft = None if self.soft is None else self.soft[batch].to(device)
        return pad(rows["ids"]).to(device), torch.tensor(rows["label_id"], device=device), soft

    def loss(self, model, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None], label_smoothing: float
             ) -> tuple[torch.Tensor, int]:
        src, labels, soft = batch
        if self.bilm:
            return model.language_model_loss(src, src != PAD, label_smoothing)
        logits, _ = model(src, src != PAD)
        weights = None if self.weights is None else self.weights.to(logits.device)
        loss = F.cross_entropy(logits.float(), labels, weight=weights, label_smoothing=label_smoothing,
                               reduction="sum")
        if soft is not None:
            learned = -(soft * logits.float().log_softmax(-1)).sum()
            loss = (1 - self.teacher_weight) * loss + self.teacher_weight * learned
        return loss, len(labels)

    def validate(self, model, split: str, device: torch.device) -> Validation:
        """Loss per text (unweighted), accuracy and macro-F1, in percent (bilm: loss per token
        and perplexity)."""
        dataset = self.data.splits[split].dataset
        if self.bilm:
            return self._validate_bilm(model, dataset["ids"], device)
        probabilities = predict(model, dataset["ids"], device).probabilities
        gold = torch.tensor(dataset["label_id"])
        loss = float(F.nll_loss(probabilities.clamp(min=1e-12).log(), gold, reduction="mean"))
        scores = ClassScores(confusion(gold.tolist(), probabilities.argmax(-1).tolist(), len(self.labels)))
        shown = [f"{text[:SAMPLE_TOKENS]} => {self.labels[int(p.argmax())]} (gold {label})" for text, p, label in
                 zip(dataset["text"][:SAMPLES], probabilities, dataset["label"][:SAMPLES])]
        return Validation(loss, math.exp(min(loss, 50.0)), tokens=len(gold), samples=tuple(shown),
                          accuracy=scores.accuracy, f1=scores.macro_f1)

    @staticmethod
    @torch.no_grad()
    def _validate_bilm(model, ids: list[list[int]], device: torch.device, batch_size: int = 64) -> Validation:
        was_training = model.training
        model.eval()
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        total, tokens = 0.0, 0
        for start in range(0, len(order), batch_size):
            src = pad([ids[i] for i in order[start:start + batch_size]]).to(device)
            loss, count = model.language_model_loss(src, src != PAD)
            total, tokens = total + float(loss), tokens + count
        model.train(was_training)
        return mean_loss(total, tokens)


def teacher_probabilities(recipe: Recipe, texts: list[str], labels: list[str]) -> torch.Tensor:
    """The mean label probabilities ``(N, L)`` that the models ``training.teachers`` give
    ``texts``, in the order of ``labels`` (a teacher's labels may be the values that
    ``data.label_names`` names)."""
    total = torch.zeros(len(texts), len(labels))
    for name in recipe.training.teachers:
        try:
            total += Classifier.load(name).probabilities(texts, labels, recipe.data.label_names)
        except Seq2TextError as err:
            raise Seq2TextError(f"training.teachers: {err}") from None
    return total / len(recipe.training.teachers)


class TaggingFeed(_BucketedFeed):
    """Tagged sentences; with ``training.word_dropout`` (alpha), each word of a training batch is
    read as ``<unk>`` with probability ``alpha / (alpha + its count in the training data)``."""
    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        super().__init__(recipe, data, process)
        self.tags = data.labels
        alpha = recipe.training.word_dropout
        self.dropped = None
        if alpha:
            counts = torch.bincount(torch.tensor([i for ids in data.splits["train"].dataset["ids"] for i in ids]),
                                    minlength=data.src.vocab_size).float()
            self.dropped = alpha / (alpha + counts)

    def collate(self, batch: list[int], device: torch.device) -> TagBatch:
        rows = self.data.splits["train"].dataset[batch]
        found = tag_batch(rows["ids"], rows["words"], self.data.tgt, rows["tag_ids"])
        if self.dropped is not None:
            drop = (torch.rand(found.words.shape) < self.dropped[found.words]) & found.mask
            found.words = found.words.masked_fill(drop, UNK)
        return found.to(device)

    @staticmethod
    def loss(model, batch: TagBatch, label_smoothing: float) -> tuple[torch.Tensor, int]:
        scores = model(batch.words, batch.spellings, batch.spelled)
        return model.loss(scores, batch.tags, batch.mask, label_smoothing), batch.word_count

    def validate(self, model, split: str, device: torch.device) -> Validation:
        """Loss per word (of the gold tags under the tag probabilities found), tag accuracy and
        macro-F1 over the tags, in percent."""
        dataset = self.data.splits[split].dataset
        found = predict_tags(model, dataset["ids"], dataset["words"], self.data.tgt, device)
        gold = [tag for tags in dataset["tag_ids"] for tag in tags]
        probabilities = torch.cat([sentence.probabilities for sentence in found])
        loss = float(F.nll_loss(probabilities.clamp(min=1e-12).log(), torch.tensor(gold)))
        scores = ClassScores(confusion(gold, [tag for sentence in found for tag in sentence.best], len(self.tags)))
        shown = [" ".join(f"{word}/{self.tags[tag]}" for word, tag in zip(words, sentence.best))[:SAMPLE_TOKENS * 2]
                 for words, sentence in zip(dataset["words"][:SAMPLES], found)]
        return Validation(loss, math.exp(min(loss, 50.0)), tokens=len(gold), samples=tuple(shown),
                          accuracy=scores.accuracy, f1=scores.macro_f1)


def lm_samples(model, tokenizer, device: torch.device, stream: bool) -> tuple[str, ...]:
    """A few short texts sampled from ``<s>`` with a seed of their own (the training RNG is left
    alone, so that a resumed run stays exact); line ends shown as `` / ``."""
    was_training = model.training
    model.eval()
    passages = TextWriter(model, tokenizer, stream).text(TextRequest(length=SAMPLE_TOKENS, count=SAMPLES, seed=0))
    model.train(was_training)
    return tuple(passage.text.strip().replace("\n", " / ") for passage in passages)


def make_feed(recipe: Recipe, data: Prepared, process: Process = Process()):
    """The feed a recipe's task asks for (:func:`seq2text.tasks.feed_for`)."""
    return feed_for(recipe)(recipe, data, process)
