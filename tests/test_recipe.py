"""Recipe loading: every shipped recipe validates; mistakes are one line naming file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT, SLICE_RECIPE, model_folder, write_recipe
from seq2text.errors import Seq2TextError
from seq2text.recipe import load_recipe
from seq2text.translator import Translator


@pytest.mark.parametrize("recipe", sorted((ROOT / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_recipes_load_against_the_real_data(recipe: Path, data_root: Path) -> None:
    loaded = load_recipe(recipe, data_root=data_root)
    assert loaded.name == recipe.stem
    assert loaded.data_root == data_root


def test_settings_and_overrides(multi30k_slice: Path, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, SLICE_RECIPE)
    recipe = load_recipe(path, ["model.hidden_size=128", "training.learning_rate=5e-4",
                                "model.attention=dot"], data_root=multi30k_slice)
    assert (recipe.model.hidden_size, recipe.training.learning_rate) == (128, 5e-4)
    assert recipe.model.attention == "dot"
    assert recipe.training.batch_tokens == 1024 and recipe.tokenizer.vocab_size == 1000
    assert recipe.data_path("multi30k/train.de") == multi30k_slice / "multi30k" / "train.de"


def test_data_root_from_environment(multi30k_slice: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQ2TEXT_DATA", str(multi30k_slice))
    assert load_recipe(write_recipe(tmp_path, SLICE_RECIPE)).data_root == multi30k_slice


def error_of(path: Path, overrides: list[str] = (), data_root: Path | None = None) -> str:
    with pytest.raises(Seq2TextError) as caught:
        load_recipe(path, overrides, data_root=data_root)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_key_suggests_the_right_spelling(multi30k_slice: Path, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, SLICE_RECIPE + "model: {hiden_size: 512}\n", "x.yaml")
    assert error_of(path, data_root=multi30k_slice) == \
        f"{path}: model.hiden_size: unknown setting (did you mean hidden_size?)"


def test_unknown_section_and_wrong_type(multi30k_slice: Path, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, SLICE_RECIPE + "modle: {}\n")
    assert error_of(path, data_root=multi30k_slice).endswith(
        "modle: unknown setting (did you mean model?)")
    path = write_recipe(tmp_path, SLICE_RECIPE + "model: {hidden_size: large}\n")
    message = error_of(path, data_root=multi30k_slice)
    assert message.startswith(f"{path}: model.hidden_size: ") and "'large'" in message
    path = write_recipe(tmp_path, SLICE_RECIPE + "model: {cell: transformer}\n")
    assert "model.cell: Input should be 'rnn', 'gru' or 'lstm'" in error_of(path, data_root=multi30k_slice)


def test_override_errors_name_the_override(multi30k_slice: Path, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, SLICE_RECIPE)
    assert error_of(path, ["model.hiden_size=3"], multi30k_slice) == \
        "--set model.hiden_size: unknown setting (did you mean hidden_size?)"
    assert error_of(path, ["model.dropout=2"], multi30k_slice).startswith("--set model.dropout: ")
    assert "expected KEY=VALUE" in error_of(path, ["model.dropout"], multi30k_slice)


def test_missing_data_file_names_key_and_file(tmp_path: Path) -> None:
    path = write_recipe(tmp_path, SLICE_RECIPE)
    message = error_of(path, data_root=tmp_path / "nowhere")
    assert message.startswith(f"{path}: data.train: no such file or folder beside the recipe or under the data root: ")
    assert f"{tmp_path}/multi30k/train.de or {tmp_path}/nowhere/multi30k/train.de" in message
    assert "--data-root" in message


def test_data_paths_are_found_beside_the_recipe_first(tmp_path: Path, data_root: Path) -> None:
    """A recipe in the user's own folder names its files beside it; others still come from the
    data root."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "train.tsv").write_text("sentence\tlabel\n好\t1\n差\t0\n", encoding="utf-8")
    path = write_recipe(own, "task: classification\ndata: {kind: labelled, train: train.tsv, "
                             "valid: sentiment/valid.tsv}\ntraining: {metric: accuracy}\ntokenizer: {type: char}\n")
    recipe = load_recipe(path, data_root=data_root)
    assert recipe.data_path("train.tsv") == own / "train.tsv"
    assert recipe.data_path("sentiment/valid.tsv") == data_root / "sentiment" / "valid.tsv"


def test_a_missing_tokenizer_model_file_stops_a_recipe_but_not_a_trained_model(multi30k_slice: Path,
                                                                                tmp_path: Path) -> None:
    gone = tmp_path / "elsewhere" / "spm.model"
    path = write_recipe(tmp_path, SLICE_RECIPE.replace("vocab_size: 1000}", f"vocab_size: 1000, model_file: {gone}}}"))
    assert error_of(path, data_root=multi30k_slice) == f"{path}: tokenizer.model_file: no such file: {gone}"
    # A model trained on another machine names the model file it read there; its own
    # tokenizer folder is what it decodes with.
    folder = model_folder("multi30k-de-en", tmp_path)
    recipe = folder / "recipe.yaml"
    recipe.write_text(re.sub(r"(?m)^  model_file: .*$", f"  model_file: {gone}", recipe.read_text(encoding="utf-8")),
                      encoding="utf-8")
    assert f"  model_file: {gone}\n" in recipe.read_text(encoding="utf-8")
    assert Translator.load(folder).translate(["Ein Hund läuft."], beam_size=1) == ["A dog running."]


def test_missing_setting_and_bad_yaml(tmp_path: Path) -> None:
    path = write_recipe(tmp_path, "name: x\ntokenizer: {type: char}\n")
    assert error_of(path) == f"{path}: data: missing setting"
    path = write_recipe(tmp_path, "data: {kind: parallel\n")
    assert error_of(path).startswith(f"{path}:")
    assert error_of(tmp_path / "absent.yaml") == f"{tmp_path / 'absent.yaml'}: no such recipe file"
    path = write_recipe(tmp_path, "data: {kind: parallel, train: x}\n")
    assert "parallel data needs src_lang and tgt_lang" in error_of(path)
