"""Learning-rate schedules, as plain functions of the trainer's resumable state."""

from __future__ import annotations

from seq2text.recipe import TrainingConfig


def learning_rate(config: TrainingConfig, step: int, epoch: int, plateau_scale: float) -> float:
    """The learning rate for optimizer step ``step`` (counted from 1) in ``epoch`` (from 0).

    ``plateau_scale`` is the product of the ``lr_decay`` factors applied by :func:`after_validation`.
    """
    rate = config.learning_rate
    if config.warmup_steps:
        rate *= min(1.0, step / config.warmup_steps)
    if config.schedule == "exponential":
        rate *= config.lr_decay ** max(0, epoch + 2 - config.decay_start)
    elif config.schedule == "plateau":
        rate *= plateau_scale
    return max(rate, config.min_learning_rate)


def score(validation: dict, metric: str) -> float:
    """A validation's score under ``metric``, higher is better (BLEU, accuracy, macro-F1, or
    minus perplexity)."""
    return -validation["ppl"] if metric == "ppl" else validation[metric]


def after_validation(config: TrainingConfig, state) -> bool:
    """Update the plateau and early-stopping counters of ``state`` (a
    :class:`~seq2text.training.checkpoint.TrainerState`: ``plateau_scale``, and
    ``bad_validations`` since the best score) after the validation last added to its
    ``history``; True means stop training."""
    scores = [score(h, config.metric) for h in state.history]
    improved = len(scores) == 1 or scores[-1] > max(scores[:-1])
    state.bad_validations = 0 if improved else state.bad_validations + 1
    if config.schedule == "plateau" and state.bad_validations and state.bad_validations % config.patience == 0:
        state.plateau_scale *= config.lr_decay
    return config.early_stopping is not None and state.bad_validations >= config.early_stopping
