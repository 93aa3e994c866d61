"""`seq2text export`: the exported graphs run by ONNX Runtime translate as the PyTorch model does
(fp32: the same outputs; int8: the same quality), from the API and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sacrebleu
import torch
from safetensors.torch import save_file

from conftest import DATA, model_folder, one_line_error, run
from seq2text import Translator
from seq2text.models import build_model
from seq2text.pretrained import load_pretrained
from seq2text.recipe import load_recipe
from seq2text.model_folder import MODEL_FILE, stored_names

LOG_PROB_TOLERANCE = 1e-3  # fp32 graphs: per sentence, against PyTorch
INT8_BLEU_TOLERANCE = 1.5  # int8 weights: beam 5 on 200 test2016 sentences


def multi30k_test(count: int) -> tuple[list[str], list[str]]:
    prefix = DATA / "multi30k" / "test_2016_flickr"
    return [Path(f"{prefix}.{lang}").read_text(encoding="utf-8").splitlines()[:count] for lang in ("de", "en")]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("exported")
    folders = {"fp32": where / "fp32", "int8": where / "int8"}
    for kind, folder in folders.items():
        result = run("export", "-m", "multi30k-de-en", "-o", str(folder), *(["--int8"] if kind == "int8" else []))
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stderr == f"exported multi30k-de-en{' (int8)' if kind == 'int8' else ''} -> {folder}\n"
    return folders


def same_searches(expected: Translator, found: Translator, sources: list[str]) -> None:
    for beam_size in (1, 5):
        for a, b in zip(expected.search(sources, beam_size=beam_size, nbest=min(beam_size, 2)),
                        found.search(sources, beam_size=beam_size, nbest=min(beam_size, 2))):
            assert [h.tokens for h in a.hypotheses] == [h.tokens for h in b.hypotheses]
            for x, y in zip(a.hypotheses, b.hypotheses):
                assert abs(x.log_prob - y.log_prob) < LOG_PROB_TOLERANCE


@pytest.mark.slow
def test_fp32_graphs_search_as_the_model_does(exported: dict[str, Path]) -> None:
    sources, _ = multi30k_test(100)
    same_searches(Translator.load("multi30k-de-en"), Translator.load(exported["fp32"]), sources)


@pytest.mark.slow
def test_int8_graphs_keep_the_quality_in_a_third_of_the_size(exported: dict[str, Path]) -> None:
    sources, references = multi30k_test(200)
    bleu = [sacrebleu.corpus_bleu(Translator.load(model).translate(sources, beam_size=5), [references]).score
            for model in ("multi30k-de-en", exported["int8"])]
    assert abs(bleu[0] - bleu[1]) < INT8_BLEU_TOLERANCE, bleu
    size = {kind: sum(f.stat().st_size for f in folder.glob("*.onnx")) for kind, folder in exported.items()}
    assert size["int8"] < size["fp32"] / 2.5, size
    assert json.loads((exported["int8"] / "export.json").read_text(encoding="utf-8"))["int8"] is True


@pytest.mark.slow
def test_an_lstm_model_exports_too(tmp_path: Path) -> None:
    """The LSTM's (h, c) state travels through the graphs (an untrained model: only equality counts)."""
    folder = model_folder("multi30k-de-en", tmp_path)
    recipe_file = folder / "recipe.yaml"
    recipe_file.write_text(recipe_file.read_text(encoding="utf-8").replace("cell: gru", "cell: lstm")
                           .replace("decoder_layers: 1", "decoder_layers: 2"), encoding="utf-8")
    torch.manual_seed(0)
    loaded = load_pretrained("multi30k-de-en")
    model = build_model(load_recipe(recipe_file, check_files=False), loaded.src.vocab_size, loaded.tgt.vocab_size)
    weights = model.state_dict()
    save_file({k: weights[k].contiguous() for k in stored_names(weights)}, str(folder / MODEL_FILE))
    result = run("export", "-m", str(folder), "-o", str(tmp_path / "lstm"))
    assert result.returncode == 0, result.stderr[-2000:]
    same_searches(Translator.load(folder), Translator.load(tmp_path / "lstm"), multi30k_test(8)[0])


@pytest.mark.slow
def test_translate_runs_an_exported_folder_like_a_model(exported: dict[str, Path]) -> None:
    result = run("translate", "-m", str(exported["int8"]), stdin="Ein Hund läuft durch den Schnee.\n\nZwei Männer.\n")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.split("\n")
    assert "dog" in lines[0] and lines[1] == "" and len(lines) == 4


@pytest.mark.slow
def test_export_and_exported_folders_fail_in_one_line(exported: dict[str, Path], tmp_path: Path) -> None:
    one_line_error(run("export", "-m", "poems", "-o", str(tmp_path / "x")), "poems: its task is")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    one_line_error(run("export", "-o", str(tmp_path / "busy")), "holds files this program did not write", "--force")
    one_line_error(run("translate", "-m", str(exported["fp32"]), "--shortlist", "Hallo"), "runs alone")
    one_line_error(run("translate", "-m", str(exported["fp32"]), "-m", "multi30k-de-en", "Hallo"), "runs alone")
    broken = model_folder("multi30k-de-en", tmp_path)
    (broken / "export.json").write_text('{"format": "seq2text-onnx-1", "cell": "gru"}', encoding="utf-8")
    one_line_error(run("translate", "-m", str(broken), "Hallo"), str(broken / "encoder.onnx"))


@pytest.mark.slow
def test_mismatched_or_hostile_exported_folders_are_one_line(exported: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    import onnx
    from onnx import TensorProto, helper

    # another model's step.onnx: an LSTM of two layers exported beside the GRU's encoder
    other = model_folder("multi30k-de-en", tmp_path / "other")
    recipe_file = other / "recipe.yaml"
    recipe_file.write_text(recipe_file.read_text(encoding="utf-8").replace("hidden_size: 512", "hidden_size: 32"),
                           encoding="utf-8")
    loaded = load_pretrained("multi30k-de-en")
    model = build_model(load_recipe(recipe_file, check_files=False), loaded.src.vocab_size, loaded.tgt.vocab_size)
    weights = model.state_dict()
    save_file({k: weights[k].contiguous() for k in stored_names(weights)}, str(other / MODEL_FILE))
    assert run("export", "-m", str(other), "-o", str(tmp_path / "small")).returncode == 0
    mixed = tmp_path / "mixed"
    shutil.copytree(exported["fp32"], mixed)
    shutil.copyfile(tmp_path / "small" / "step.onnx", mixed / "step.onnx")
    one_line_error(run("translate", "-m", str(mixed), "Ein Hund."), "step.onnx", "graphs of two different models")

    # another model's tokenizer
    foreign = tmp_path / "foreign"
    shutil.copytree(exported["fp32"], foreign)
    shutil.rmtree(foreign / "tokenizer")
    shutil.copytree(Path(__file__).resolve().parents[1] / "vocab" / "couplet", foreign / "tokenizer")
    one_line_error(run("translate", "-m", str(foreign), "Ein Hund."), "not the model's own tokenizer")

    # a deeply nested export.json
    nested = tmp_path / "nested"
    shutil.copytree(exported["fp32"], nested)
    (nested / "export.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    one_line_error(run("translate", "-m", str(nested), "Ein Hund."), "export.json")

    # an encoder graph that asks for 4e13 bytes when it runs
    hostile = tmp_path / "hostile"
    shutil.copytree(exported["fp32"], hostile)
    shape = helper.make_tensor("shape", TensorProto.INT64, [1], [10**13])
    nodes = [helper.make_node("ConstantOfShape", ["shape"], [name], value=helper.make_tensor("v", TensorProto.FLOAT,
                                                                                              [1], [0.0]))
             for name in ("hidden", "feed", "keys", "memory")]
    graph = helper.make_graph(nodes, "bomb", [helper.make_tensor_value_info("src", TensorProto.INT64, ["b", "s"]),
                                              helper.make_tensor_value_info("mask", TensorProto.BOOL, ["b", "s"])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                               for n in ("hidden", "feed", "keys", "memory")], [shape])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(hostile / "encoder.onnx"))
    one_line_error(run("translate", "-m", str(hostile), "Ein Hund."), "encoder.onnx")


@pytest.mark.slow
def test_evaluate_and_the_api_take_an_exported_folder(exported: dict[str, Path], tmp_path: Path) -> None:
    import json as json_lines

    sources, references = multi30k_test(10)
    (tmp_path / "src.de").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "ref.en").write_text("\n".join(references) + "\n", encoding="utf-8")
    result = run("evaluate", "-m", str(exported["fp32"]), "--src", str(tmp_path / "src.de"), "--ref",
                 str(tmp_path / "ref.en"), "--report", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json_lines.loads(result.stdout)["beam5"]["bleu"] > 20
    assert (tmp_path / "report" / "attention-1.png").is_file()  # heat-maps by stepping the graphs
    loaded = load_pretrained(exported["fp32"])
    assert loaded.exported and loaded.task == "translation"
    from seq2text.server.served import serve_models

    served = serve_models([str(exported["fp32"])])
    assert [model.endpoint for model in served.values()] == ["translate"]
