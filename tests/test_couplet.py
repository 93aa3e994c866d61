"""Couplets: the rules and their checker, constrained decoding on both model structures, training
the aligned model on real pairs, and the bundled model through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from conftest import DATA, run, write_recipe
from seq2text.data.tang import CleaningReport, couplet_pairs, read_tang
from seq2text.decoding import beam_search, sample
from seq2text.models import AlignedTagger, Seq2Seq
from seq2text.recipe import ModelConfig, TokenizerConfig
from seq2text.tokenizers import PAD, train_tokenizer
from seq2text.data.batching import pad
from seq2text.verse.couplet import (RULES, CoupletRules, check_couplet, first_line_problem, rhythm_points,
                                    tone_agreement)
from seq2text.verse.tones import ToneTable

CLASSICAL = DATA / "couplet" / "classical_pairs.jsonl"


@pytest.fixture(scope="module")
def verse(tmp_path_factory: pytest.TempPathFactory):
    """Real pairs (middle couplets of five Tang files, the classical pairs), a char tokenizer
    over them, and the tone table of those poems."""
    folder = tmp_path_factory.mktemp("tang")
    (folder / "strains").mkdir()
    for number in (0, 1000, 2000, 3000, 4000):
        for name in (f"poet.tang.{number}.json", f"strains/poet.tang.{number}.json"):
            (folder / name).write_bytes((DATA / "tang" / name).read_bytes())
    poems = list(read_tang(folder, CleaningReport()))
    classical = [json.loads(line) for line in CLASSICAL.read_text(encoding="utf-8").splitlines()]
    tokenizer = train_tokenizer(TokenizerConfig(type="char", simplified=True),
                                [p["text"] for p in poems] + [c["first"] + c["second"] for c in classical])
    tones = ToneTable.learn(((p["text"], p["tones"]) for p in poems if p["tones"]), tokenizer.normalize)
    middle = [(tokenizer.normalize(a), tokenizer.normalize(b)) for p in poems
              for a, b, strict in couplet_pairs(p["text"], p["form"]) if strict]
    pairs = middle + [(c["first"], c["second"]) for c in classical if len(c["first"]) == len(c["second"])]
    return pairs, tokenizer, tones


def test_checker_on_real_couplets(verse) -> None:
    pairs, _, tones = verse
    assert check_couplet("白日依山尽", "黄河入海流", tones) == dict.fromkeys(RULES, True)
    assert check_couplet("年年岁岁花相似", "岁岁年年人不同", tones)["mirrored"]
    broken = check_couplet("年年岁岁花相似", "春秋秋春人不人", tones)
    assert not broken["mirrored"] and broken["length"] and broken["no_copy"]
    assert not check_couplet("白日依山尽", "白河入海流", tones)["no_copy"]
    assert not check_couplet("白日依山尽", "黄河入海", tones)["length"]
    assert not check_couplet("两鬓风霜，途次早行之客", "一蓑烟雨。溪边晚钓之翁", tones)["punctuation"]
    assert not check_couplet("白日依山尽", "黄河入海去", tones)["level_ending"]
    # The poets' own middle couplets keep the structural rules almost always.
    rates = {rule: sum(check_couplet(a, b, tones)[rule] for a, b in pairs) / len(pairs) for rule in RULES}
    assert len(pairs) > 1000 and rates["length"] == 1.0 and rates["punctuation"] == 1.0
    assert rates["no_copy"] > 0.95 and rates["mirrored"] > 0.9
    # 平仄相对: the poets oppose the tones at most rhythm points (about 92% for people writing today).
    agreement = [tone_agreement(a, b, tones) for a, b in pairs]
    assert 0.85 < sum(a for a, _ in agreement) / sum(n for _, n in agreement) < 1.0
    assert rhythm_points("两鬓风霜，途次早行之客") == [1, 3, 6, 8, 10]
    assert not check_couplet("白日依山尽", "黄河入江流", tones)["opposed_tones"]  # 山 and 江: both level


@pytest.mark.parametrize("architecture", ["seq2seq", "aligned"])
def test_constrained_decoding_keeps_every_rule_even_untrained(verse, architecture: str) -> None:
    pairs, tokenizer, tones = verse
    torch.manual_seed(0)
    config = ModelConfig(architecture=architecture, cell="gru", embed_size=16, hidden_size=16, encoder_size=8)
    vocab = tokenizer.vocab_size
    model = (AlignedTagger if architecture == "aligned" else Seq2Seq)(config, vocab, vocab).eval()
    # Real 上联 of every shape: with repeated characters, with a comma inside, 1 to 12 characters.
    firsts = sorted({a for a, _ in pairs}, key=lambda a: (len(set(a)) == len(a), a))[:6]
    firsts += [a for a, _ in pairs if "，" in a][:3] + [a for a, _ in pairs if len(a) <= 2][:3]
    firsts += ["年年岁岁花相似", "海阔凭鱼跃"]
    assert any(len(set(a)) < len(a) for a in firsts)
    rules = CoupletRules(tokenizer, tones, firsts)
    limits = torch.tensor([len(a) for a in firsts])
    src = pad([tokenizer.encode(a) for a in firsts])
    found = beam_search(model, model.encode(src, src != PAD), 4, limits, alpha=0.0, nbest=2, processors=[rules])
    rows = torch.arange(len(firsts)).repeat_interleave(3)
    rules_sampled = CoupletRules(tokenizer, tones, [firsts[i] for i in rows.tolist()])
    sampled = sample(model, model.encode(src, src != PAD).select(rows), limits[rows], 1.0,
                     generator=torch.Generator().manual_seed(1), processors=[rules_sampled])
    outputs = [(a, h) for a, best in zip(firsts, found) for h in best]
    outputs += [(firsts[i], h) for i, h in zip(rows.tolist(), sampled)]
    for first, hypothesis in outputs:
        second = tokenizer.decode(hypothesis.tokens)
        assert check_couplet(first, second, tones) == dict.fromkeys(RULES, True), (first, second)


def test_bad_first_lines_are_named() -> None:
    assert first_line_problem("") == "empty line"
    assert "punctuation" in first_line_problem("，。")
    assert "50" in first_line_problem("春" * 51)
    assert "ABC" in first_line_problem("春ABC风")
    assert first_line_problem("海阔凭鱼跃") is None and first_line_problem("翔鶤逐不及") is None


ALIGNED = """\
name: couplet_tiny
task: couplet
data: {kind: couplet, train: couplet/train.jsonl, valid: couplet/valid.jsonl, max_length: 16}
tokenizer: {type: char}
model: {architecture: aligned, cell: gru, embed_size: 32, encoder_size: 32, dropout: 0.1, tied_embeddings: true}
training: {batch_size: 32, epochs: 3, metric: ppl, learning_rate: 0.01}
"""


@pytest.mark.slow
def test_aligned_model_learns_real_pairs(tmp_path: Path) -> None:
    lines = [line for line in CLASSICAL.read_text(encoding="utf-8").splitlines()
             if len(json.loads(line)["first"]) == len(json.loads(line)["second"])]
    folder = tmp_path / "data" / "couplet"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text("\n".join(lines[:2000]) + "\n", encoding="utf-8")
    (folder / "valid.jsonl").write_text("\n".join(lines[2000:2200]) + "\n", encoding="utf-8")
    recipe = write_recipe(tmp_path, ALIGNED)
    result = run("train", str(recipe), "--data-root", str(tmp_path / "data"), "--output-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history[-1]["loss"] < history[0]["loss"] and "bleu" in history[-1]


@pytest.mark.slow
def test_bundled_couplet_model_from_the_command_line() -> None:
    result = run("generate", "--form", "couplet", "--first-line", "春回大地千山秀")
    assert result.returncode == 0, result.stderr
    second = result.stdout.strip()
    assert len(second) == 7 and second[-1] != "秀" and all(a != b for a, b in zip("春回大地千山秀", second))

    marks = run("generate", "--form", "couplet", "--first-line", "风声雨声读书声；声声入耳。")
    assert marks.returncode == 0, marks.stderr
    answer = marks.stdout.strip()
    assert len(answer) == 13 and answer[7] == "；" and answer[-1] == "。"
    assert answer[0] != answer[2] and answer[1] == answer[3] == answer[6] == answer[8] == answer[9]  # 声 ×5 mirrored

    nbest = run("generate", "--form", "couplet", "--first-line", "海阔凭鱼跃", "-n", "3")
    answers = [line.split("\t")[0] for line in nbest.stdout.splitlines()]
    assert nbest.returncode == 0 and len(set(answers)) == 3 and all(len(a) == 5 for a in answers)

    batch = run("generate", "--form", "couplet", stdin="白 日 依 山 尽\n\n，。\nhello\n明月松间照\n")
    lines = batch.stdout.split("\n")
    assert batch.returncode == 1 and len(lines[0]) == 5 and len(lines[4]) == 5 and lines[1:4] == ["", "", ""]
    errors = batch.stderr.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith(f"<stdin>:{n}:") for e, n in zip(errors, (2, 3, 4)))

    single = run("generate", "--form", "couplet", "--first-line", "Spring is here")
    assert single.returncode == 2 and single.stderr.count("\n") == 1 and "Traceback" not in single.stderr
    for args in (["--form", "五绝", "--first-line", "海阔凭鱼跃"],
                 ["--first-line", "海阔凭鱼跃", "--acrostic", "春夏"]):
        conflict = run("generate", *args)
        assert conflict.returncode == 2 and conflict.stderr.startswith("error: "), conflict.stderr
