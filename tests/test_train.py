"""Batching, the shared training loop (resume is exact) and decoding, on real E2E text."""
import pytest
import torch

from conftest import needs_data
from repro import methods
from repro.batches import Collator
from repro.data import load, training_pairs
from repro.models import tiny_bart, tiny_gpt2
from repro.train import TrainConfig, decode, train


@pytest.fixture(scope="module")
def e2e_pairs():
    return training_pairs(load("e2e", "dev")[:6])[:16]


@pytest.fixture(scope="module")
def bpe_tokenizer(e2e_pairs):
    """A byte-level BPE trained in a second on the pairs themselves (no download)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([s for pair in e2e_pairs for s in pair], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


@needs_data
def test_collator_labels_only_the_target(bpe_tokenizer, e2e_pairs):
    collator = Collator(bpe_tokenizer, encoder_decoder=False)
    batch = collator.train_batch(e2e_pairs[:3])
    eos = bpe_tokenizer.eos_token_id
    for ids, mask, labels, (source, target) in zip(batch.input_ids, batch.attention_mask, batch.labels, e2e_pairs):
        n = int(mask.sum())
        first = int((labels != -100).nonzero()[0])
        assert ids[first - 1] == eos and ids[n - 1] == eos  # x <eos> y <eos>
        assert bpe_tokenizer.decode(ids[:first - 1]).strip() == source
        assert bpe_tokenizer.decode(labels[first:n - 1]).strip() == target
        assert (labels[n:] == -100).all()
    prompts = collator.prompt_batch([s for s, _ in e2e_pairs[:3]])
    assert (prompts.input_ids[:, -1] == eos).all()  # left-padded, ending with the separator


class Interrupted(Exception):
    pass


class DiesAfter:
    def __init__(self, collator, n):
        self.collator, self.n = collator, n

    def train_batch(self, pairs):
        if self.n == 0:
            raise Interrupted
        self.n -= 1
        return self.collator.train_batch(pairs)


@needs_data
@pytest.mark.parametrize("optimizer,schedule", [("adamw", "linear"), ("adafactor", "constant")])
def test_resumed_training_equals_uninterrupted(tmp_path, bpe_tokenizer, e2e_pairs, optimizer, schedule):
    config = TrainConfig(learning_rate=1e-2, epochs=2, batch_size=4, checkpoint_every=2, seed=3,
                         optimizer=optimizer, schedule=schedule)
    collator = Collator(bpe_tokenizer, encoder_decoder=False)

    def fresh():
        return methods.build(tiny_gpt2(vocab_size=len(bpe_tokenizer), initializer_range=0.2), "prefix",
                             {"prefix_length": 3, "mid_dim": 16, "prefix_dropout": 0.1})

    straight = fresh()
    summary = train(straight, collator, e2e_pairs, config, tmp_path / "a", progress=False)
    assert summary["steps"] == 8
    resumed = fresh()
    with pytest.raises(Interrupted):
        train(resumed, DiesAfter(collator, 5), e2e_pairs, config, tmp_path / "b", progress=False)
    assert (tmp_path / "b" / "checkpoint.pt").exists()
    resumed = fresh()  # a new process would start from scratch and load the checkpoint
    train(resumed, collator, e2e_pairs, config, tmp_path / "b", progress=False)
    for (name, a), b in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(a, b), name
    assert not (tmp_path / "b" / "checkpoint.pt").exists()
    # one log line per optimizer step
    logged = [line for line in (tmp_path / "a" / "train_log.jsonl").read_text().splitlines() if '"train"' in line]
    assert len(logged) == 8


def test_optimizers_and_schedules_follow_the_config():
    from transformers.optimization import Adafactor

    from repro.methods import ConfigError
    from repro.train import make_optimizer, make_schedule

    params = [torch.nn.Parameter(torch.zeros(3))]
    lester = TrainConfig(learning_rate=0.3, optimizer="adafactor", schedule="constant", warmup_steps=2,
                         weight_decay=1e-5)
    optimizer = make_optimizer(params, lester)
    assert isinstance(optimizer, Adafactor)
    group = optimizer.param_groups[0]
    assert (group["scale_parameter"], group["relative_step"], group["decay_rate"]) == (False, False, -0.8)
    scheduler = make_schedule(optimizer, lester, total=10)
    lrs = []
    for _ in range(6):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert lrs == pytest.approx([0.0, 0.15, 0.3, 0.3, 0.3, 0.3])  # warmup, then constant
    linear = TrainConfig(learning_rate=0.1)
    optimizer = make_optimizer(params, linear)
    assert isinstance(optimizer, torch.optim.AdamW)
    scheduler = make_schedule(optimizer, linear, total=4)
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr()[0] == pytest.approx(0.05)  # linear decay to 0 at step 4
    with pytest.raises(ConfigError, match="adamw.*adafactor"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ConfigError, match="linear.*constant"):
        TrainConfig(schedule="cosine")


@needs_data
def test_decode_returns_one_string_per_source(bpe_tokenizer, e2e_pairs):
    for encoder_decoder in (False, True):
        model = (tiny_bart(vocab_size=len(bpe_tokenizer), decoder_start_token_id=0, eos_token_id=0, bos_token_id=0,
                           pad_token_id=0) if encoder_decoder else tiny_gpt2(vocab_size=len(bpe_tokenizer)))
        tuner = methods.build(model, "prefix", {"prefix_length": 2, "mid_dim": 8})
        sources = [s for s, _ in e2e_pairs[:5]]
        out = decode(tuner, Collator(bpe_tokenizer, encoder_decoder=encoder_decoder), sources, batch_size=2,
                     progress=False, num_beams=2, max_new_tokens=5, do_sample=False)
        assert len(out) == 5 and all(isinstance(o, str) for o in out)
