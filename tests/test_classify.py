"""Text classification (N vs 1): labelled TSV/CSV corpora, the pooling variants, training a
classifier on a slice of the review sentiment data, `seq2text classify` and its errors, and
the TF-IDF baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import DATA, HANG, ROOT, head, one_line_error, run, write_recipe
from seq2text.data.corpora import load_corpus
from seq2text.errors import Seq2TextError
from seq2text.scoring.labels import ClassScores, confusion, predict
from seq2text.models import build_model
from seq2text.recipe import load_recipe

RECIPE = """\
name: {name}
task: classification
seed: 3
data: {{kind: labelled, train: sentiment/train.tsv, valid: sentiment/valid.tsv, max_length: 64}}
tokenizer: {{type: char}}
model: {{cell: {cell}, embed_size: 32, hidden_size: 32, pooling: {pooling}, bidirectional: {bidirectional}}}
training: {{batch_size: 32, epochs: 2, learning_rate: 3e-3, metric: accuracy, class_weights: true}}
"""


@pytest.fixture(scope="module")
def sentiment_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with the first 1,201 lines of train.tsv and 301 of valid.tsv (header included)."""
    root = tmp_path_factory.mktemp("sentiment") / "data"
    (root / "sentiment").mkdir(parents=True)
    for split, lines in (("train", 1201), ("valid", 301)):
        (root / "sentiment" / f"{split}.tsv").write_text(head(DATA / "sentiment" / f"{split}.tsv", lines),
                                                         encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def trained(sentiment_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small classifier trained for two epochs on the slice, through the command line."""
    folder = tmp_path_factory.mktemp("classifier")
    recipe = write_recipe(folder, RECIPE.format(name="tiny", cell="gru", pooling="attention", bidirectional="true"))
    result = run("train", str(recipe), "--data-root", str(sentiment_slice), "--output-dir", str(folder / "run"))
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stderr and "macro-F1" in result.stderr
    return folder / "run"


@pytest.mark.slow
def test_labelled_tsv_reads_every_row_with_quotes_kept(sentiment_slice: Path, tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, RECIPE.format(name="r", cell="gru", pooling="mean",
                                                              bidirectional="true")), data_root=sentiment_slice)
    corpus = load_corpus(recipe)
    assert len(corpus["train"]) == 1200 and len(corpus["valid"]) == 300
    assert set(corpus["train"]["label"]) == {"0", "1"}
    # Fields are never quoted: a review that starts with " keeps it, and the next row stays a row.
    first = (DATA / "sentiment" / "train.tsv").read_text(encoding="utf-8").splitlines()[1].rsplit("\t", 1)[0]
    assert first.startswith('"') and corpus["train"]["text"][0] == first.strip()


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "attention"])
@pytest.mark.parametrize("cell, bidirectional", [("gru", True), ("lstm", False)])
def test_padding_never_changes_a_prediction(pooling: str, cell: str, bidirectional: bool, tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, RECIPE.format(name="p", cell=cell, pooling=pooling,
                                                              bidirectional=str(bidirectional).lower())),
                         data_root=DATA)
    torch.manual_seed(0)
    model = build_model(recipe, 50, 50, labels=3).eval()
    short, long = [5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15, 16]
    alone = predict(model, [short], torch.device("cpu"))
    batched = predict(model, [long, short, long[:4]], torch.device("cpu"), batch_size=3)
    assert alone.probabilities.shape == (1, 3)
    assert torch.allclose(alone.probabilities[0], batched.probabilities[1], atol=1e-6)
    if pooling == "attention":
        assert len(batched.attention[1]) == 3 and abs(sum(batched.attention[1]) - 1.0) < 1e-5
    else:
        assert batched.attention is None


def test_scores_from_a_confusion_matrix() -> None:
    scores = ClassScores(confusion([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 2))
    assert scores.matrix.tolist() == [[1, 1], [1, 2]] and scores.accuracy == 60.0
    assert scores.precision() == [50.0, pytest.approx(200 / 3)] and scores.recall() == [50.0, pytest.approx(200 / 3)]
    assert scores.macro_f1 == pytest.approx((50.0 + 200 / 3) / 2)


@pytest.mark.slow
def test_a_trained_classifier_labels_reviews(trained: Path) -> None:
    from seq2text import Classifier

    history = json.loads((trained / "history.json").read_text())
    assert len(history) == 2 and all(0 <= h["accuracy"] <= 100 and 0 <= h["f1"] <= 100 for h in history)
    assert history[-1]["accuracy"] > 60.0  # two epochs on 1,200 reviews: well above chance (about 50%)
    classifier = Classifier.load(trained)
    assert classifier.labels == ["0", "1"]
    found = classifier.classify(["质量很好，非常满意", "太差了，再也不买了"])
    assert all(abs(sum(p.probabilities.values()) - 1.0) < 1e-5 and p.label in ("0", "1") for p in found)
    assert len(found[0].attention) == len(found[0].tokens) == 9
    long = classifier.classify("好" * 100)
    assert long.truncated == 100 and len(long.tokens) == 64
    with pytest.raises(Seq2TextError, match="text 2: empty"):
        classifier.classify(["好", "  "])


@pytest.mark.slow
def test_classify_command_line(trained: Path, tmp_path: Path) -> None:
    result = run("classify", "-m", str(trained), "质量很好，非常满意", "太差了")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert len(rows) == 2 and all(len(row) == 2 and row[0] in ("0", "1") and 0.5 <= float(row[1]) <= 1 for row in rows)
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("不错\n\n很差劲\n", encoding="utf-8")
    piped = run("classify", "-m", str(trained), "--format", "jsonl", stdin=reviews.read_text(encoding="utf-8"))
    lines = piped.stdout.split("\n")
    assert piped.returncode == 1 and lines[1] == "" and "<stdin>:2: empty" in piped.stderr
    assert set(json.loads(lines[0])["probabilities"]) == {"0", "1"}
    top = run("classify", "-m", str(trained), "-i", str(reviews), "--top-k", "2", "-o", str(tmp_path / "out.tsv"))
    written = (tmp_path / "out.tsv").read_text(encoding="utf-8").split("\n")
    assert top.returncode == 1 and len(written[0].split("\t")) == 4 and written[1] == ""
    # The same review alone and among others gets the same probability.
    alone = run("classify", "-m", str(trained), "很差劲").stdout
    assert alone.strip() == written[2].split("\t", 2)[0] + "\t" + written[2].split("\t")[1]


@pytest.mark.slow
@pytest.mark.parametrize("args, needles", [
    (["-m", "tang-poetry", "好"], ["tang-poetry", "not a classification model"]),
    (["-m", "no-such-model", "好"], ["no-such-model", "neither a bundled model"]),
    (["-i", "missing.txt"], ["missing.txt"]),
    (["-i", "x.txt", "好"], ["give TEXT arguments or -i FILE"]),
    (["--top-k", "0", "好"], ["--top-k"]),
])
def test_classify_errors_are_one_line(args: list[str], needles: list[str], tmp_path: Path) -> None:
    one_line_error(run("classify", *args, cwd=tmp_path), *needles)


@pytest.mark.slow
def test_bad_labelled_data_names_the_file_and_setting(sentiment_slice: Path, tmp_path: Path) -> None:
    bad = tmp_path / "data" / "sentiment"
    bad.mkdir(parents=True)
    (bad / "train.tsv").write_text("review\tlabel\n好\t1\n差\t0\n", encoding="utf-8")
    (bad / "valid.tsv").write_text("sentence\tlabel\n好\t1\n", encoding="utf-8")
    recipe = write_recipe(tmp_path, RECIPE.format(name="bad", cell="gru", pooling="max", bidirectional="true"))
    one_line_error(run("train", str(recipe), "--data-root", str(tmp_path / "data"), "--output-dir",
                       str(tmp_path / "run")), "train.tsv", "'sentence'", "data.text_column", "review")
    (bad / "train.tsv").write_text("sentence\tlabel\n好\t1\n差\t0\n好\t2\t3\n", encoding="utf-8")
    one_line_error(run("train", str(recipe), "--data-root", str(tmp_path / "data"), "--output-dir",
                       str(tmp_path / "run")), "train.tsv", "cannot read it as TSV")
    (bad / "train.tsv").write_text("sentence\tlabel\n好\t1\n差\t1\n", encoding="utf-8")
    one_line_error(run("train", str(recipe), "--data-root", str(tmp_path / "data"), "--output-dir",
                       str(tmp_path / "run")), "only one label")
    wrong = write_recipe(tmp_path, RECIPE.format(name="w", cell="gru", pooling="max", bidirectional="true")
                         .replace("metric: accuracy", "metric: bleu"), "wrong.yaml")
    one_line_error(run("train", str(wrong), "--data-root", str(sentiment_slice)), "training.metric", "bleu")


@pytest.mark.slow
def test_tfidf_baseline_on_the_slice(sentiment_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, RECIPE.format(name="b", cell="gru", pooling="max", bidirectional="true"))
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "baseline_tfidf.py"), str(recipe),
                             "--data-root", str(sentiment_slice)], capture_output=True, text=True, timeout=HANG)
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["examples"] == 300 and 60.0 < scores["accuracy"] <= 100.0 and scores["features"] > 1000


@pytest.mark.slow
def test_evaluate_reports_a_classifier(trained: Path, sentiment_slice: Path, tmp_path: Path) -> None:
    report = tmp_path / "report"
    # The model's recipe reads sentiment/ under the data root: here the slice's.
    result = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", str(trained), "--report", str(report)],
                            capture_output=True, text=True, timeout=HANG,
                            env={**os.environ, "SEQ2TEXT_DATA": str(sentiment_slice)})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["examples"] == 300 and sum(map(sum, summary["confusion"])) == 300
    assert summary["accuracy"] == pytest.approx(100 * sum(summary["confusion"][i][i] for i in range(2)) / 300, abs=0.01)
    assert set(summary["labels"]) == {"0", "1"} and summary["texts_per_s"] > 0
    assert (report / "confusion.png").is_file() and "The most confident mistakes" in (report / "report.md").read_text()
    page = (report / "report.html").read_text(encoding="utf-8")
    assert page.count('class="shaded"') == 8 and "rgba(214, 39, 40, 1.00)" in page
    given = tmp_path / "given.csv"
    given.write_text('sentence,label\n"好,很好",1\n太差了,0\n', encoding="utf-8")
    on_file = run("evaluate", "-m", str(trained), "--text", str(given))
    assert on_file.returncode == 0, on_file.stderr
    assert json.loads(on_file.stdout)["examples"] == 2
    given.write_text("sentence,label\n好,7\n", encoding="utf-8")
    one_line_error(run("evaluate", "-m", str(trained), "--text", str(given)), "given.csv", "labels the model does "
                   "not know: 7")


@pytest.mark.slow
def test_the_bundled_sentiment_model_works_offline() -> None:
    result = run("classify", "质量很好，非常满意", "太差了，再也不买了")
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["positive", "negative"]


NAMED = RECIPE.replace("max_length: 64}}", "max_length: 64, label_names: {{0: negative, 1: positive}}}}")


@pytest.mark.slow
def test_label_names_name_the_outputs_and_keep_the_numbers_as_aliases(sentiment_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, NAMED.format(name="named", cell="gru", pooling="mean", bidirectional="true")
                          .replace("epochs: 2", "epochs: 1"))
    result = run("train", str(recipe), "--data-root", str(sentiment_slice), "--output-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert "2 labels: negative, positive" in result.stderr
    found = run("classify", "-m", str(tmp_path / "run"), "--format", "jsonl", "质量很好，非常满意")
    assert set(json.loads(found.stdout)["probabilities"]) == {"negative", "positive"}
    given = tmp_path / "given.tsv"  # gold labels as the data writes them (0/1), or by name
    given.write_text("sentence\tlabel\n好,很好\t1\n太差了\tnegative\n", encoding="utf-8")
    on_file = run("evaluate", "-m", str(tmp_path / "run"), "--text", str(given))
    assert on_file.returncode == 0, on_file.stderr
    assert set(json.loads(on_file.stdout)["labels"]) == {"negative", "positive"}
    given.write_text("sentence\tlabel\n好\t1\n坏\t7\n", encoding="utf-8")
    one_line_error(run("evaluate", "-m", str(tmp_path / "run"), "--text", str(given)),
                   "given.tsv: line 3: label '7'", "data.label_names (0: negative, 1: positive)")
    clash = write_recipe(tmp_path, NAMED.format(name="c", cell="gru", pooling="mean", bidirectional="true")
                         .replace("1: positive", "1: '0'"), "clash.yaml")
    one_line_error(run("train", str(clash), "--data-root", str(sentiment_slice)), "clash.yaml",
                   "label_names: 0 is both a name and another label's value")


def test_the_bidirectional_lm_loss_counts_each_prediction_once(tmp_path: Path) -> None:
    """A row of n tokens makes n - 1 predictions per direction, and padding changes nothing."""
    recipe = load_recipe(write_recipe(tmp_path, RECIPE.format(name="lm", cell="lstm", pooling="mean",
                                                              bidirectional="true")
                                      .replace("metric: accuracy", "metric: ppl, objective: bilm")
                                      .replace("embed_size: 32", "embed_size: 16")))
    torch.manual_seed(0)
    model = build_model(recipe, 50, 50, 2).eval()
    rows = [[5, 6, 7, 8, 9], [10, 11, 12]]
    with torch.no_grad():
        together, count = model.language_model_loss(*_padded(rows))
        alone = [model.language_model_loss(*_padded([row])) for row in rows]
    assert count == 2 * (4 + 2) and [n for _, n in alone] == [8, 4]
    assert float(together) == pytest.approx(sum(float(loss) for loss, _ in alone), rel=1e-5)


def _padded(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    from seq2text.data.batching import pad
    from seq2text.tokenizers import PAD

    src = pad(rows)
    return src, src != PAD


@pytest.mark.slow
def test_a_pretrained_encoder_and_teachers_train_a_classifier(sentiment_slice: Path, tmp_path: Path) -> None:
    """objective: bilm pretrains without labels; a labels run starts from it (init_from) and
    learns from a teacher's probabilities as well as from the labels."""
    named = NAMED.format(name="NAME", cell="lstm", pooling="mean", bidirectional="true") \
        .replace("embed_size: 32", "embed_size: 16").replace("epochs: 2", "epochs: 1")
    pretrain = write_recipe(tmp_path, named.replace("NAME", "pre").replace("metric: accuracy", "metric: ppl, objective: "
                                                                       "bilm"), "pre.yaml")
    result = run("train", str(pretrain), "--data-root", str(sentiment_slice), "--output-dir", str(tmp_path / "pre"),
                 "--set", "training.epochs=2")
    assert result.returncode == 0, result.stderr
    assert "trained char tokenizer (1998 tokens)" in result.stderr
    first, second = json.loads((tmp_path / "pre" / "history.json").read_text())
    assert "accuracy" not in first and second["ppl"] < first["ppl"] < 1998  # uniform would be 1998
    teacher = write_recipe(tmp_path, named.replace("NAME", "teacher"), "teacher.yaml")
    assert run("train", str(teacher), "--data-root", str(sentiment_slice), "--output-dir",
               str(tmp_path / "teacher")).returncode == 0
    student = write_recipe(tmp_path, named.replace("NAME", "student").replace(
        "metric: accuracy", f"metric: accuracy, init_from: {tmp_path / 'pre'}, teachers: [{tmp_path / 'teacher'}], "
        f"teacher_weight: 0.7"), "student.yaml")
    result = run("train", str(student), "--data-root", str(sentiment_slice), "--output-dir", str(tmp_path / "student"))
    assert result.returncode == 0, result.stderr
    assert "every weight copied (same tokenizers)" in result.stderr
    assert "training.teachers: the mean probabilities of 1 models" in result.stderr and "weigh 0.7" in result.stderr
    wrong = write_recipe(tmp_path, named.replace("NAME", "w").replace("metric: accuracy", "metric: accuracy, objective: "
                                                                  "bilm"), "wrong.yaml")
    one_line_error(run("train", str(wrong), "--data-root", str(sentiment_slice)), "training.objective", "metric: ppl")
