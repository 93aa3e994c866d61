"""`seq2text evaluate` on the bundled models: numbers equal sacrebleu's own CLI on the same
files, and the HTML report renders its images and tables in a real headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import DATA, HANG, head, render_in_chromium, run

SACREBLEU_NAMES = {"bleu": "BLEU", "chrf": "chrF2", "ter": "TER"}


def sacrebleu_cli(ref: Path, hypotheses: Path, *options: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "sacrebleu", str(ref), "-i", str(hypotheses), "-m", "bleu", "chrf",
                             "ter", "-w", "4", "-f", "json", *options], capture_output=True, text=True, check=True)
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


def assert_matches_cli(summary: dict, report: Path, ref: Path, searches: list[str], *options: str) -> None:
    for search in searches:
        cli = sacrebleu_cli(ref, report / f"outputs.{search}.txt", *options)
        for ours, theirs in SACREBLEU_NAMES.items():
            assert round(summary[search][ours], 4) == cli[theirs]["score"], (search, ours)
            assert summary["signatures"][ours] == cli[theirs]["signature"]
            if "--confidence" in options:
                assert round(summary[search][f"{ours}_mean"], 4) == cli[theirs]["confidence_mean"]
                assert round(summary[search][f"{ours}_ci"], 4) == cli[theirs]["confidence_var"]


@pytest.mark.slow
def test_translation_scores_match_sacrebleu_and_the_report_renders(tmp_path: Path) -> None:
    src, ref = tmp_path / "test.de", tmp_path / "test.en"
    src.write_text(head(DATA / "multi30k" / "test_2016_flickr.de", 60), encoding="utf-8")
    ref.write_text(head(DATA / "multi30k" / "test_2016_flickr.en", 60), encoding="utf-8")
    report = tmp_path / "report"
    result = run("evaluate", "-m", "multi30k-de-en", "--src", str(src), "--ref", str(ref), "--beam-size", "3",
                 "--bootstrap", "200", "--report", str(report))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # exactly one JSON line on stdout
    assert summary["sentences"] == 60 and summary["beam3"]["bleu"] > 25
    assert "nrefs:1|bs:200|seed:12345|case:mixed" in result.stderr  # the signature is printed
    assert_matches_cli(summary, report, ref, ["greedy", "beam3"], "--confidence", "--confidence-n", "200")
    assert json.loads((report / "metrics.json").read_text()) == summary
    markdown = (report / "report.md").read_text()
    for title in ("Scores", "Attention", "Learning curves", "BLEU by source length", "Best and worst outputs"):
        assert f"## {title}" in markdown
    assert all((report / name).is_file() for name in ("attention-1.png", "learning_curves.png", "length_bleu.png"))
    rendered = render_in_chromium(report / "report.html", tmp_path)
    assert rendered["images"] == 5 and rendered["broken"] == 0  # 3 attention maps, learning curves, length chart
    assert rendered["tables"] == 2 and rendered["rows"] > 10


@pytest.mark.slow
def test_couplet_scores_use_characters(tmp_path: Path) -> None:
    pairs = [json.loads(line) for line in head(DATA / "couplet" / "classical_pairs.jsonl", 400).splitlines()]
    pairs = [p for p in pairs if len(p["first"]) == len(p["second"]) and len(p["first"]) >= 5][:40]
    src, ref = tmp_path / "first.txt", tmp_path / "second.txt"
    src.write_text("".join(p["first"] + "\n" for p in pairs), encoding="utf-8")
    ref.write_text("".join(p["second"] + "\n" for p in pairs), encoding="utf-8")
    report = tmp_path / "report"
    result = run("evaluate", "-m", "couplet", "--src", str(src), "--ref", str(ref), "--report", str(report))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert_matches_cli(summary, report, ref, ["greedy", "beam5"], "--tokenize", "char", "--ter-normalized",
                       "--ter-asian-support")
    assert summary["rules"] == {"length": 100.0, "punctuation": 100.0, "no_copy": 100.0, "mirrored": 100.0,
                                "level_ending": pytest.approx(100.0, abs=3.0),
                                "opposed_tones": pytest.approx(100.0, abs=5.0)}
    assert summary["tone_points"] >= 98.0 and 0 < summary["top_ending_share"] <= 100.0
    assert 0 < summary["distinct"] <= 100.0


@pytest.mark.slow
def test_language_model_perplexity_and_verse_report(tmp_path: Path) -> None:
    poems = tmp_path / "poems.txt"
    poems.write_text("七绝|白日依山尽，黄河入海流。欲穷千里目，更上一层楼。\n", encoding="utf-8")
    report = tmp_path / "report"
    result = run("evaluate", "-m", "tang-poetry", "--text", str(poems), "--poems", "4")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["tokens"] == len("七绝|白日依山尽，黄河入海流。欲穷千里目，更上一层楼。") + 1
    assert 1 < summary["ppl"] < 500 and summary["bits_per_char"] > 0
    assert "verse" not in summary  # --text: the file's perplexity, nothing else
    result = run("evaluate", "-m", "tang-poetry", "--poems", "4", "--report", str(report))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["verse"]) == {"wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi"}
    assert all(rates["form"] == 100.0 for rates in summary["verse"].values())
    subjects = summary["subjects"]  # the old model has no titles: the subject as its prompt, or unused
    assert subjects["perplexity"]["tang"]["poems"] == 1124 and "titled" not in subjects["perplexity"]["tang"]
    assert set(subjects["poems"]) == {"prompt", "none", "held-out poems"} and subjects["poems"]["none"]["poems"] == 20
    people = subjects["poems"]["held-out poems"]  # the poets' own line endings, to compare with
    assert people["poems"] > 1000 and -8 < people["rhyme_log_prob"] < -2 and 0 <= people["forced_rhymes"] < 30
    assert subjects["poems"]["prompt"]["rules_kept"] == 100.0 and subjects["reader_accuracy"] > 20.0
    rendered = render_in_chromium(report / "report.html", tmp_path)
    assert rendered["images"] == 1 and rendered["broken"] == 0 and rendered["tables"] == 5
    assert rendered["lang"] == "zh"  # the page says it is Chinese, so the browser picks Chinese fonts


def test_plots_draw_chinese_characters(tmp_path: Path) -> None:
    import warnings

    from seq2text.plots import attention_figure, has_cjk_font, plot_bars

    assert has_cjk_font(), "no CJK font: install Debian's fonts-noto-cjk (.ci/run does)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = attention_figure(list("海阔凭鱼跃"), list("天高任鸟飞"), torch.eye(5), "上联 → 下联")
        figure.canvas.draw()
        plot_bars(["五绝", "七律"], [1.0, 2.0], "诗体", "数量", tmp_path / "bars.png")
    assert not [w for w in caught if "missing from font" in str(w.message)]


@pytest.mark.slow
def test_evaluate_shows_its_progress(tmp_path: Path) -> None:
    src = tmp_path / "test.de"
    src.write_text(head(DATA / "multi30k" / "test_2016_flickr.de", 5), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", "multi30k-de-en", "--src", str(src),
                             "--ref", str(src)], capture_output=True, text=True,
                            env={**os.environ, "SEQ2TEXT_PROGRESS": "1"}, timeout=HANG)
    assert result.returncode == 0, result.stderr
    assert "greedy:   0%|" in result.stderr and "beam 5:   0%|" in result.stderr and "batch/s" in result.stderr


@pytest.mark.slow
def test_evaluate_rejects_bad_requests(tmp_path: Path) -> None:
    short = tmp_path / "short.en"
    short.write_text("one line\n", encoding="utf-8")
    for args in (["--src", str(short)], ["--src", str(short), "--ref", str(short), "--text", str(short)],
                 ["--text", str(short)]):
        result = run("evaluate", "-m", "multi30k-de-en", *args)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    elsewhere = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", "ptb-word-lm"], capture_output=True,
                               text=True, env={**os.environ, "SEQ2TEXT_DATA": str(tmp_path / "nowhere")})
    assert elsewhere.returncode == 2 and "set SEQ2TEXT_DATA" in elsewhere.stderr, elsewhere.stderr


def test_evaluate_loads_the_model_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import seq2text.model_folder as model_folder
    import seq2text.pretrained as pretrained
    from seq2text import recipe as recipes
    from seq2text.evaluation import evaluate

    calls = {"weights": 0, "recipe": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(pretrained, "_LOADED", {})
    monkeypatch.setattr(pretrained, "load_weights", counted("weights", model_folder.load_weights))
    monkeypatch.setattr(model_folder, "load_recipe", counted("recipe", recipes.load_recipe))
    pairs = [json.loads(line) for line in head(DATA / "couplet" / "classical_pairs.jsonl", 20).splitlines()]
    src, ref = tmp_path / "first.txt", tmp_path / "second.txt"
    src.write_text("".join(p["first"] + "\n" for p in pairs), encoding="utf-8")
    ref.write_text("".join(p["second"] + "\n" for p in pairs), encoding="utf-8")
    evaluation = evaluate("couplet-aligned", src, ref, beam_size=2, figures=tmp_path)
    assert evaluation.summary["sentences"] == 20
    assert calls == {"weights": 1, "recipe": 1}
