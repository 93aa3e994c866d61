"""Property tests with hypothesis: the tokenizers' round trip on arbitrary Unicode, the recipe
loader on random YAML (aliases included), and the command line on random bytes.  Every input
either works or gives one line through :class:`Seq2TextError`; nothing else may escape."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from seq2text.cli import main
from seq2text.errors import Seq2TextError
from seq2text.recipe import load_recipe
from seq2text.tokenizers import CharTokenizer, WordTokenizer, load_tokenizers

# Any code point, lone surrogates included (Python strings can hold them; no library wants them).
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=60)
# Sized so that the whole file runs in about a minute on two cores.
MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def subwords():
    return load_tokenizers(ROOT / "vocab" / "multi30k-de-en")[0]


@MANY
@given(text=ANY_TEXT)
def test_sentencepiece_round_trip(subwords, text: str) -> None:
    assert subwords.decode(subwords.encode(text)) == subwords.normalize(text)


@pytest.mark.slow
@MANY
@given(text=ANY_TEXT)
def test_char_round_trip(text: str) -> None:
    for simplified in (False, True):
        tokenizer = CharTokenizer.train([text], simplified=simplified)
        assert tokenizer.decode(tokenizer.encode(text)) == tokenizer.normalize(text)
        assert len(tokenizer.encode(text)) == len(tokenizer.normalize(text))


@pytest.mark.slow
@MANY
@given(words=st.lists(st.one_of(st.sampled_from(["<s>", "</s>", "<pad>", "<sep>", "<unk>"]),
                                st.text(st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp")), min_size=1,
                                        max_size=8)), max_size=12))
def test_word_tokenizer_keeps_every_word(words: list[str]) -> None:
    text = " ".join(words)
    tokenizer = WordTokenizer.train([text])
    ids = tokenizer.encode(text)
    assert len(ids) == len(tokenizer.normalize(text).split())  # no word is dropped
    decoded = tokenizer.decode(ids).split()
    for word, back in zip(tokenizer.normalize(text).split(), decoded):
        assert back == (word if word not in ("<s>", "</s>", "<pad>", "<sep>") else "<unk>")


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(), st.text(max_size=20))
KEYS = st.sampled_from(["name", "task", "seed", "data", "model", "training", "kind", "train", "hidden_size",
                        "embed_size", "cell", "epochs", "learning_rate", "decoding", "beam_size", "x"])
TREES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


@MANY
@given(tree=TREES, shared=TREES, text=st.text(string.printable, max_size=200))
def test_recipe_loader_takes_any_yaml(tmp_path: Path, tree, shared, text: str) -> None:
    # The same object twice makes yaml.dump write an anchor and an alias.
    for document in (yaml.safe_dump({"data": tree, "model": shared, "training": shared}), text):
        path = tmp_path / "recipe.yaml"
        path.write_text(document, encoding="utf-8")
        try:
            load_recipe(path, check_files=False)
        except Seq2TextError as err:
            assert "\n" not in str(err) and len(str(err)) < 600


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=200), command=st.sampled_from(["translate", "couplet", "classic"]))
def test_command_line_on_random_bytes(data: bytes, command: str) -> None:
    args = {"translate": ["translate", "--greedy", "--max-length", "8"],
            "couplet": ["generate", "--form", "couplet", "-m", "couplet-aligned"],
            "classic": ["generate", "--form", "五绝", "--prompt", data.decode("utf-8", "surrogateescape")[:4]]}[command]
    result = CliRunner().invoke(main, args, input=data)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output[-500:])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr


@settings(max_examples=80, deadline=None)
@given(argument=st.binary(min_size=1, max_size=30))
def test_arguments_of_random_bytes(argument: bytes) -> None:
    text = argument.decode("utf-8", "surrogateescape")  # what Python makes of a raw argv entry
    result = CliRunner().invoke(main, ["translate", "--greedy", "--max-length", "8", text])
    assert result.exit_code in (0, 2) and "Traceback" not in result.stderr, (result.exit_code, result.stderr)

