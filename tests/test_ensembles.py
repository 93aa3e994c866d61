"""Two checkpoints of one real run: `seq2text average` writes their mean as a model folder,
`translate -m A -m B` decodes with the mean of their probabilities, and their translations of
the training source train a student (sequence-level distillation)."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import model_folder, one_line_error, run, write_multi30k_slice, write_recipe
from seq2text import Translator
from seq2text.data.corpora import load_corpus
from seq2text.recipe import load_recipe
from seq2text.data.batching import pad
from seq2text.tokenizers import BOS, PAD
from test_training import TINY, train_command

SENTENCES = ["Ein Hund läuft durch den Schnee.", "Zwei Männer sitzen auf einer Bank.", "Eine Frau liest."]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first and the last kept checkpoint of one tiny run."""
    root = tmp_path_factory.mktemp("ensembles")
    recipe = write_recipe(root, TINY)
    folder = root / "run"
    result = subprocess.run(train_command(recipe, write_multi30k_slice(root), folder), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    kept = sorted((folder / "checkpoints").glob("step-*"))
    return kept[0], kept[-1]


@pytest.mark.slow
def test_average_writes_the_mean_of_the_weights(checkpoints, tmp_path: Path) -> None:
    first, second = checkpoints
    target = tmp_path / "avg"
    result = run("average", str(first), str(second), "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert f"averaged 2 models -> {target}" in result.stderr
    a, b, mean = (load_file(str(folder / "model.safetensors")) for folder in (first, second, target))
    assert set(mean) == set(a)
    for name in a:
        assert torch.allclose(mean[name], (a[name].double() + b[name].double()).div(2).float(), atol=1e-7), name
    assert not torch.equal(a["decoder.cells.0.weight_hh"], b["decoder.cells.0.weight_hh"])
    translated = run("translate", "-m", str(target), "--greedy", *SENTENCES)
    assert translated.returncode == 0 and len(translated.stdout.splitlines()) == 3, translated.stderr


@pytest.mark.slow
def test_average_refuses_what_it_cannot_average(checkpoints, tmp_path: Path) -> None:
    first, second = checkpoints
    one_line_error(run("average", str(first), "-o", str(tmp_path / "x")), "two or more")
    one_line_error(run("average", str(first), "multi30k-de-en", "-o", str(tmp_path / "x")),
                   "multi30k-de-en: its model", "differs from that of")
    other_tokenizer = model_folder("multi30k-de-en", tmp_path)
    one_line_error(run("average", "multi30k-de-en", str(other_tokenizer), str(first), "-o", str(tmp_path / "x")),
                   "differs")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep me")
    one_line_error(run("average", str(first), str(second), "-o", str(notes)), "holds files this program did not write", "--force")
    assert (notes / "mine.txt").read_text() == "keep me"
    one_line_error(run("average", str(first), str(second), "-o", str(first)), "is one of the models averaged")


@pytest.mark.slow
def test_an_ensemble_of_one_model_twice_is_that_model(checkpoints) -> None:
    first, _ = checkpoints
    alone = Translator.load(first).search(SENTENCES, beam_size=4, nbest=2)
    twice = Translator.load([first, first]).search(SENTENCES, beam_size=4, nbest=2)
    for one, two in zip(alone, twice):
        assert [h.text for h in one.hypotheses] == [h.text for h in two.hypotheses]
        assert [h.score for h in one.hypotheses] == pytest.approx([h.score for h in two.hypotheses], abs=1e-4)


@pytest.mark.slow
def test_an_ensemble_predicts_the_mean_of_its_members_probabilities(checkpoints) -> None:
    ensemble = Translator.load(list(checkpoints))
    members = [Translator.load(folder).model for folder in checkpoints]
    src = pad([ensemble.src.encode(text) for text in SENTENCES])
    with torch.no_grad():
        state = ensemble.model.encode(src, src != PAD)
        member_states = [member.encode(src, src != PAD) for member in members]
        previous = torch.full((len(SENTENCES),), BOS)
        for _ in range(4):  # greedy steps: every member's state moves on inside the ensemble's
            mixed, state, attention = ensemble.model.step(previous, state)
            steps = [member.step(previous, s) for member, s in zip(members, member_states)]
            member_states = [s for _, s, _ in steps]
            expected = torch.log((steps[0][0].exp() + steps[1][0].exp()) / 2)
            assert torch.allclose(mixed, expected, atol=1e-5)
            assert torch.allclose(attention, (steps[0][2] + steps[1][2]) / 2, atol=1e-6)
            previous = mixed.argmax(-1)
    assert not torch.allclose(steps[0][0], steps[1][0], atol=1e-3)  # two different models
    found = ensemble.search(SENTENCES, beam_size=3)
    assert all(result.hypotheses[0].text for result in found)
    assert all(math.isfinite(result.hypotheses[0].score) for result in found)


@pytest.mark.slow
def test_translate_with_two_models_on_the_command_line(checkpoints, tmp_path: Path) -> None:
    first, second = checkpoints
    result = run("translate", "-m", str(first), "-m", str(second), "--nbest", "2", "--beam-size", "3",
                 "--attention-plot", str(tmp_path / "plots"), *SENTENCES)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and all("\t" in line for line in lines)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["0001.png", "0002.png", "0003.png"]
    one_line_error(run("translate", "-m", str(first), "-m", "multi30k-de-en", "Ein Hund."),
                   "multi30k-de-en: its tokenizers differ", "share them")
    one_line_error(run("translate", "-m", str(first), "-m", "couplet", "Ein Hund."), "not a translation model")


@pytest.mark.slow
def test_an_ensembles_translations_become_a_training_set_that_trains(checkpoints, tmp_path: Path) -> None:
    """Sequence-level distillation's data path: the ensemble translates the training source
    (`translate -m A -m B -i train.de -o FILE`), and a recipe's data.distilled trains on it."""
    data_root = write_multi30k_slice(tmp_path, train_lines=300, val_lines=50)
    teacher = tmp_path / "train.teacher.en"
    translated = run("translate", "-m", str(checkpoints[0]), "-m", str(checkpoints[1]), "--beam-size", "3",
                     "-i", str(data_root / "multi30k" / "train.de"), "-o", str(teacher))
    assert translated.returncode == 0, translated.stderr
    outputs = teacher.read_text(encoding="utf-8").splitlines()
    references = (data_root / "multi30k" / "train.en").read_text(encoding="utf-8").splitlines()
    assert len(outputs) == 300 and sum(o != r for o, r in zip(outputs, references)) > 250

    for mix, expected in (("replace", outputs), ("add", references + [o for o, r in zip(outputs, references)
                                                                      if o != r])):
        text = TINY.replace("max_length: 30}", f"max_length: 30, distilled: {teacher}, distilled_mix: {mix}}}", 1)
        recipe = load_recipe(write_recipe(tmp_path, text, f"{mix}.yaml"), data_root=data_root)
        assert load_corpus(recipe)["train"]["tgt"] == [line.strip() for line in expected if line.strip()]
    student = tmp_path / "student"
    result = subprocess.run(train_command(tmp_path / "add.yaml", data_root, student, "--set", "training.epochs=1"),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    log = (student / "train.log").read_text(encoding="utf-8")
    assert "data.distilled: 300 teacher translations" in log and "mix add" in log
    history = json.loads((student / "history.json").read_text())
    assert history and history[-1]["train_loss"] < math.log(600)  # it learned (uniform over 600 pieces is higher)

    teacher.write_text("\n".join(outputs[:-1]) + "\n", encoding="utf-8")
    one_line_error(run("train", str(tmp_path / "add.yaml"), "--data-root", str(data_root), "--output-dir",
                       str(tmp_path / "short")), str(teacher), "299 lines", "300")
