"""The bundled de->en model through the Python API and `seq2text translate`, as users run them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sacrebleu

from conftest import DATA, run
from seq2text import Translator

DOG = "Ein Hund läuft durch den Schnee."


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator.load("multi30k-de-en")


@pytest.mark.slow
def test_bundled_model_translates_the_test_set(translator: Translator) -> None:
    sources = (DATA / "multi30k" / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()[:200]
    references = (DATA / "multi30k" / "test_2016_flickr.en").read_text(encoding="utf-8").splitlines()[:200]
    greedy = translator.translate(sources, beam_size=1)
    beam = translator.translate(sources, beam_size=5)
    assert sacrebleu.corpus_bleu(greedy, [references]).score > 33
    assert sacrebleu.corpus_bleu(beam, [references]).score > 34
    # Sorting by length and batching does not change what comes out.
    assert translator.translate(sources[:20], beam_size=5, batch_size=3) == beam[:20]


def test_awkward_input_is_translated_or_cut_never_fatal(translator: Translator) -> None:
    texts = ["", "   ", "Ein Hund 🐕 läuft über die Straße — 北京 ☃!", "Hund " * 400, DOG]
    results = translator.search(texts, nbest=2)
    assert [r.hypotheses[0].text for r in results[:2]] == ["", ""]
    assert results[2].hypotheses[0].text and results[2].truncated == 0
    assert results[3].truncated == 400 and results[3].hypotheses[0].text
    assert "dog" in results[4].hypotheses[0].text and "snow" in results[4].hypotheses[0].text
    with pytest.warns(UserWarning, match="sentence 1: 400 pieces"):
        translator.translate(["Hund " * 400])


def test_search_options_are_honoured(translator: Translator) -> None:
    sources = [DOG, "Zwei junge Männer spielen auf einer grünen Wiese mit einem roten Ball Fußball."]
    for result in translator.search(sources, beam_size=4, nbest=4):
        scores = [h.score for h in result.hypotheses]
        assert scores == sorted(scores, reverse=True) and len({h.text for h in result.hypotheses}) == 4
    for result in translator.search(sources, min_length=25, max_length=30, max_length_ratio=5.0):
        assert 25 <= len(result.hypotheses[0].tokens) <= 30
    for result, source in zip(translator.search(sources, min_length=80, max_length=100), sources):
        # One length rule everywhere: at most 2 x source + 10 pieces, and at most max_length.
        assert len(result.hypotheses[0].tokens) == 2 * len(translator.src.encode(source)) + 10
    for result in translator.search(sources, max_length=3):
        assert len(result.hypotheses[0].tokens) <= 3
    for result in translator.search(sources, no_repeat_ngram=1, min_length=20):
        tokens = result.hypotheses[0].tokens
        assert len(set(tokens)) == len(tokens)
    plain = translator.search(sources, length_penalty=1.0, penalty="plain")[0].hypotheses[0]
    assert plain.score == pytest.approx(plain.log_prob / (len(plain.tokens) + 1))


def test_coverage_penalty_scores_the_attention_the_source_received(translator: Translator) -> None:
    best = translator.search([DOG], coverage_penalty=0.4, length_penalty=0.0)[0].hypotheses[0]
    received = translator.attention(DOG, best).weights.sum(dim=0)
    assert best.score == pytest.approx(best.log_prob + 0.4 * received.clamp(max=1).log().sum().item(),
                                       abs=1e-3)


@pytest.mark.slow
def test_translate_command_reads_arguments_stdin_and_files(tmp_path: Path) -> None:
    for precision in ("fp32", "bf16"):
        result = run("translate", "--precision", precision, DOG)
        assert result.returncode == 0 and result.stdout == "A dog runs through the snow.\n", result.stderr
    result = run("translate", "--greedy", stdin=f"{DOG}\n\nEine Frau liest ein Buch.\n")
    lines = result.stdout.split("\n")
    assert result.returncode == 0 and len(lines) == 4 and lines[1] == "" and "woman" in lines[2]

    source = tmp_path / "in.de"
    source.write_text(f"{DOG}\nEine Frau liest ein Buch.\n", encoding="utf-8")
    result = run("translate", "-i", str(source), "-o", str(tmp_path / "out.en"), "--nbest", "3",
                 "--attention-plot", str(tmp_path / "plots"))
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "out.en").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6 and all(len(line.split("\t")) == 2 for line in lines)
    assert float(lines[0].split("\t")[1]) >= float(lines[1].split("\t")[1])
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["0001.png", "0002.png"]
    assert (tmp_path / "plots" / "0001.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_translate_command_errors_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.de"
    broken.write_bytes(b"Ein Hund.\nEin \xe9 Hund.\n")
    for args, stdin, message in (
            (["-i", str(broken)], "", f"{broken}:2: invalid UTF-8 (byte 0xe9 at column 5)"),
            ([], b"Ein Hund.\n\xff\n", "<stdin>:2: invalid UTF-8 (byte 0xff at column 1)"),
            (["-m", "no-such-model", "Hallo"], "",
             "'no-such-model': neither a bundled model (ci, couplet, couplet-aligned, multi30k-de-en, "),
            (["-m", "tang-poetry", "Hallo"], "", "tang-poetry: not a translation model (task: lm)"),
            (["--nbest", "3", "--beam-size", "2", "Hallo"], "", "--nbest 3 needs --beam-size of at least 3"),
            (["--device", "cuda:7", "Hallo"], "", "'--device': cuda:7: CUDA is not available")):
        result = run("translate", *args, stdin=stdin)
        stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
        assert result.returncode == 2 and stderr.count("\n") == 1 and message in stderr, stderr


@pytest.mark.slow
def test_models_lists_the_bundled_models() -> None:
    result = run("models")
    assert result.returncode == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(name, task) for name, task, _, _ in rows] == [
        ("ci", "lm"), ("couplet", "couplet"), ("couplet-aligned", "couplet"), ("multi30k-de-en", "translation"),
        ("poems", "lm"), ("pos-en", "tagging"), ("pos-lzh", "tagging"), ("ptb-word-lm", "lm"),
        ("sentiment-zh", "classification"), ("shakespeare-char", "lm"), ("tang-poetry", "lm")]
    assert all(float(size.split()[0]) <= 16 for _, _, size, _ in rows)


def test_int8_keeps_the_probabilities_of_the_bundled_model(translator: Translator) -> None:
    """--precision int8 (dynamic int8 linear layers): teacher forced on 100 test sentences, the
    probabilities move by the rounding only (tolerances in seq2text.decoding.quantized)."""
    import torch

    from seq2text.data.batching import collate_pairs

    int8 = Translator.load("multi30k-de-en", precision="int8")
    assert int8.model is not translator.model and isinstance(translator.model.generator, torch.nn.Linear)
    prefix = DATA / "multi30k" / "test_2016_flickr"
    sources = (prefix.with_suffix(".de")).read_text(encoding="utf-8").splitlines()[:100]
    targets = (prefix.with_suffix(".en")).read_text(encoding="utf-8").splitlines()[:100]
    batch = collate_pairs([translator.src.encode(s) for s in sources], [translator.tgt.encode(t) for t in targets])
    with torch.no_grad():
        exact, rounded = (model(batch.src, batch.src_mask, batch.tgt_in, batch.tgt_mask)[0].log_softmax(-1)
                          for model in (translator.model, int8.model))
    gold = batch.tgt_out[batch.tgt_mask].unsqueeze(1)
    assert (exact.exp() - rounded.exp()).abs().max() < 0.1
    assert (exact.gather(1, gold) - rounded.gather(1, gold)).abs().mean() < 0.05
    assert (exact.argmax(-1) == rounded.argmax(-1)).float().mean() > 0.98
    assert abs(rounded.gather(1, gold).mean() - exact.gather(1, gold).mean()) < 0.01
    assert int8.translate(sources[:8], beam_size=5) != [""] * 8
