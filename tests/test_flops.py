"""The roofline's counter (seq2text.training.flops): the matrix-product FLOPs counted in one
training step of a small attention encoder-decoder equal a count by hand."""

from __future__ import annotations

from pathlib import Path

import torch

from conftest import write_recipe
from seq2text.data.batching import collate_pairs
from seq2text.models import Seq2Seq
from seq2text.recipe import load_recipe
from seq2text.training.feeds import pair_loss
from seq2text.training.flops import Gemm, count_step, gemm_seconds

B, S, T = 3, 5, 4  # sentences, source and target length (no padding: every row the same)
E, HE, H, V = 8, 6, 10, 20  # embeddings, encoder per direction, decoder, vocabulary

RECIPE = f"""\
name: flops
data: {{kind: parallel, train: multi30k/train, src_lang: de, tgt_lang: en}}
model: {{cell: gru, embed_size: {E}, encoder_size: {HE}, hidden_size: {H}, bidirectional: true,
        attention: bahdanau, input_feeding: true, tied_embeddings: true, dropout: 0.0}}
"""


def hand_count() -> int:
    """2 m k n per product; backward computes the weight's gradient of every product (3 x the
    forward in all) except the input gradients of products whose input is a constant: the
    first hidden state of each encoder direction (zeros) and the decoder's first fed-back
    vector (zeros)."""
    def times3(m: int, k: int, n: int) -> int:
        return 3 * 2 * m * k * n

    A, M = E, 2 * HE  # attentional vector (tied to the embeddings), encoder output
    encoder = 2 * (times3(B * S, E, 3 * HE)  # input projection of all positions, per direction
                   + (3 * S - 1) * 2 * B * HE * 3 * HE)  # hidden products: S forward, 2S - 1 backward
    bridge = times3(B, M, H)
    keys = times3(B * S, M, H)
    projected = times3(B * T, E, 3 * H)  # the decoder's input projection of the target embeddings
    per_step = (times3(B, H, 3 * H)  # hidden
                + times3(B, H, H)  # attention query
                + times3(B * S, H, 1)  # attention energy
                + times3(B, S, M)  # context: weights x memory (bmm)
                + times3(B, H + M, A))  # combine
    feed = (3 * T - 1) * 2 * B * A * 3 * H  # fed-back vector: T forward, 2T - 1 backward
    generator = times3(B * T, A, V)
    return encoder + bridge + keys + projected + T * per_step + feed + generator


def test_counted_flops_of_a_step_equal_a_hand_count(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, RECIPE))
    torch.manual_seed(0)
    model = Seq2Seq(recipe.model, V, V)
    source = torch.randint(4, V, (B, S)).tolist()
    target = torch.randint(4, V, (B, T - 1)).tolist()  # + </s> (or <s> on the input side): T steps
    batch = collate_pairs(source, target)

    def step() -> None:
        loss, _ = pair_loss(model, batch, 0.1)
        loss.backward()

    counted = count_step(step)
    assert counted.flops == hand_count()
    assert sum(gemm.flops * times for gemm, times in counted.gemms.items()) == counted.flops
    assert counted.by_dtype() == {"float32": counted.flops}
    assert counted.gemms[Gemm(1, B * T, E, V, torch.float32)] == 1  # the output layer, forward
    with torch.autocast("cpu", dtype=torch.bfloat16):
        in_bf16 = count_step(step)
    assert in_bf16.flops == counted.flops and in_bf16.by_dtype().get("bfloat16", 0) > 0
    assert gemm_seconds(counted.gemms, repeats=2) > 0  # a time: how long is the benchmarks' business
