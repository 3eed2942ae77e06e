"""Batching, the shared training loop (resume is exact) and decoding, on real E2E text."""
import pytest
import torch

from conftest import needs_data
from repro import methods
from repro.batches import Collator
from repro.data import load, training_pairs
from repro.models import tiny_bart, tiny_gpt2, tiny_llama
from repro.methods.base import ConfigError
from repro.train import TrainConfig, decode, epoch_batches, train


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


@needs_data
@pytest.mark.parametrize("encoder_decoder", [False, True])
def test_source_prefix_is_text_in_front_of_every_source(bpe_tokenizer, e2e_pairs, encoder_decoder):
    """The reference's low-data fine-tuning input ' table-to-text: {src}', in training and decoding,
    and still under the source limit."""
    plain = Collator(bpe_tokenizer, encoder_decoder=encoder_decoder, max_source_tokens=40)
    prefixed = Collator(bpe_tokenizer, encoder_decoder=encoder_decoder, max_source_tokens=40,
                        source_prefix="table-to-text:")
    source = e2e_pairs[0][0]
    assert prefixed.source_ids(source) == plain.source_ids("table-to-text: " + source)
    assert len(prefixed.source_ids(source)) <= 40
    text = bpe_tokenizer.decode(prefixed.source_ids(source), skip_special_tokens=True).strip()
    assert text.startswith("table-to-text: ") and text != bpe_tokenizer.decode(
        plain.source_ids(source), skip_special_tokens=True).strip()
    assert torch.equal(prefixed.train_batch(e2e_pairs[:2]).input_ids,
                       plain.train_batch([("table-to-text: " + s, t) for s, t in e2e_pairs[:2]]).input_ids)


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

    def __getattr__(self, name):  # pair_length, ...
        return getattr(self.collator, name)


@needs_data
@pytest.mark.parametrize("optimizer,schedule,select_every,length_groups",
                         [("adamw", "linear", 0, 0), ("adafactor", "constant", 0, 0), ("adafactor_t5x", "constant", 0, 0),
                          ("adamw", "linear", 3, 0), ("adamw", "linear", 0, 2)])
def test_resumed_training_equals_uninterrupted(tmp_path, bpe_tokenizer, e2e_pairs, optimizer, schedule, select_every,
                                               length_groups):
    config = TrainConfig(learning_rate=1e-2, epochs=2, batch_size=4, checkpoint_every=2, seed=3,
                         optimizer=optimizer, schedule=schedule, select_every=select_every, length_groups=length_groups)
    collator = Collator(bpe_tokenizer, encoder_decoder=False)
    dev = e2e_pairs[12:] if select_every else None  # with selection, the best state so far travels in the checkpoint

    def fresh():
        return methods.build(tiny_gpt2(vocab_size=len(bpe_tokenizer), initializer_range=0.2), "prefix",
                             {"prefix_length": 3, "mid_dim": 16, "prefix_dropout": 0.1})

    straight = fresh()
    summary = train(straight, collator, e2e_pairs, config, tmp_path / "a", progress=False, dev_pairs=dev)
    assert summary["steps"] == 8
    resumed = fresh()
    with pytest.raises(Interrupted):
        train(resumed, DiesAfter(collator, 5), e2e_pairs, config, tmp_path / "b", progress=False, dev_pairs=dev)
    assert (tmp_path / "b" / "checkpoint.pt").exists()
    resumed = fresh()  # a new process would start from scratch and load the checkpoint
    again = train(resumed, collator, e2e_pairs, config, tmp_path / "b", progress=False, dev_pairs=dev)
    assert again.get("selected_step") == summary.get("selected_step")
    for (name, a), b in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(a, b), name
    assert not (tmp_path / "b" / "checkpoint.pt").exists()
    # one log line per optimizer step
    logged = [line for line in (tmp_path / "a" / "train_log.jsonl").read_text().splitlines() if '"train"' in line]
    assert len(logged) == 8


@needs_data
def test_compiled_training_follows_eager_within_float_rounding(tmp_path, bpe_tokenizer, e2e_pairs, monkeypatch):
    """REPRO_COMPILE=1 puts the training forward through torch.compile: the same steps, so the same
    losses and the same end state up to float32 rounding, over batches of varying lengths (the
    length-grouped batches recompile once, to a dynamic-shape graph). Provenance records the choice."""
    from torch._dynamo.utils import counters

    from repro.runner import provenance

    config = TrainConfig(learning_rate=1e-2, epochs=1, batch_size=4, seed=3, length_groups=2)
    collator = Collator(bpe_tokenizer, encoder_decoder=False)
    runs = {}
    for flag in ("0", "1"):
        monkeypatch.setenv("REPRO_COMPILE", flag)
        assert provenance(0)["compiled_training"] is (flag == "1")
        counters.clear()
        tuner = methods.build(tiny_llama(vocab_size=len(bpe_tokenizer), seed=0), "prefix",
                              {"prefix_length": 3, "mid_dim": 16})
        train(tuner, collator, e2e_pairs, config, tmp_path / flag, progress=False)
        runs[flag] = (tuner, [loss for _, loss in _logged(tmp_path / flag, "train", "loss")])
        assert bool(counters["stats"]["unique_graphs"]) is (flag == "1")  # dynamo compiled graphs only when asked
    (eager, eager_losses), (compiled, compiled_losses) = runs["0"], runs["1"]
    lengths = [collator.pair_length(*pair) for pair in e2e_pairs]
    assert len({max(lengths[i] for i in b) for b in epoch_batches(config, 0, len(e2e_pairs), lengths)}) > 1  # shapes vary
    assert compiled_losses == pytest.approx(eager_losses, rel=1e-4, abs=1e-5)
    for (name, a), b in zip(eager.named_parameters(), compiled.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    monkeypatch.setenv("REPRO_COMPILE", "yes")
    with pytest.raises(ConfigError, match="REPRO_COMPILE"):
        train(eager, collator, e2e_pairs, config, tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists()  # refused before anything is written


def _logged(run_dir, event, key):
    import json

    lines = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    return [(line["step"], line[key]) for line in lines if line["event"] == event]


@needs_data
def test_selection_ends_with_the_lowest_dev_loss_state_and_leaves_training_alone(tmp_path, bpe_tokenizer, e2e_pairs):
    from repro.train import dev_loss

    train_pairs, dev = e2e_pairs[:10], e2e_pairs[10:]
    collator = Collator(bpe_tokenizer, encoder_decoder=False)

    def fresh():
        return methods.build(tiny_gpt2(vocab_size=len(bpe_tokenizer), initializer_range=0.2), "prefix",
                             {"prefix_length": 3, "mid_dim": 16, "prefix_dropout": 0.1})

    base = dict(learning_rate=3e-2, max_steps=12, batch_size=4, checkpoint_every=0, seed=5)
    selected, last = fresh(), fresh()
    summary = train(selected, collator, train_pairs, TrainConfig(**base, select_every=2), tmp_path / "s",
                    progress=False, dev_pairs=dev)
    train(last, collator, train_pairs, TrainConfig(**base), tmp_path / "l", progress=False)
    # scoring the dev set draws no randomness and changes nothing: the same training losses
    assert _logged(tmp_path / "s", "train", "loss") == _logged(tmp_path / "l", "train", "loss")
    scored = _logged(tmp_path / "s", "dev", "dev_loss")
    assert [step for step, _ in scored] == [2, 4, 6, 8, 10, 12]
    best_step, best = min(scored, key=lambda s: s[1])
    assert summary["selected_step"] == best_step and summary["selected_dev_loss"] == best
    assert dev_loss(selected, collator, dev, 3, "cpu") == pytest.approx(best, abs=1e-5)
    # the last step's dev loss is the one the unselected run ends with
    assert dev_loss(last, collator, dev, 4, "cpu") == pytest.approx(scored[-1][1], abs=1e-5)
    with pytest.raises(ConfigError, match="needs dev pairs"):
        train(fresh(), collator, train_pairs, TrainConfig(**base, select_every=2), tmp_path / "x", progress=False)


@needs_data
def test_selection_restores_an_earlier_state_when_dev_loss_rises(tmp_path, bpe_tokenizer, e2e_pairs, monkeypatch):
    import repro.train

    collator = Collator(bpe_tokenizer, encoder_decoder=False)

    def fresh():
        return methods.build(tiny_gpt2(vocab_size=len(bpe_tokenizer), initializer_range=0.2), "prefix",
                             {"prefix_length": 3, "mid_dim": 16, "prefix_dropout": 0.1})

    base = dict(learning_rate=1e-2, max_steps=12, batch_size=4, seed=5)
    # the state after step 4, from a run stopped right after its step-4 checkpoint
    with pytest.raises(Interrupted):
        train(fresh(), DiesAfter(collator, 4), e2e_pairs, TrainConfig(**base, checkpoint_every=4), tmp_path / "ref",
              progress=False)
    at_step_4 = torch.load(tmp_path / "ref" / "checkpoint.pt", weights_only=False)["trainable"]
    scripted = iter([5.0, 3.0, 4.0, 6.0, 7.0, 8.0])  # dev losses at steps 2, 4, ..., 12: best at step 4
    monkeypatch.setattr(repro.train, "dev_loss", lambda *args: next(scripted))
    tuner = fresh()
    summary = train(tuner, collator, e2e_pairs, TrainConfig(**base, checkpoint_every=0, select_every=2),
                    tmp_path / "s", progress=False, dev_pairs=e2e_pairs[:2])
    assert summary["selected_step"] == 4 and summary["steps"] == 12
    own = dict(tuner.named_parameters())
    for name, value in at_step_4.items():
        assert torch.equal(own[name], value), name


@needs_data
def test_metric_selection_keeps_the_highest_scoring_state(tmp_path, bpe_tokenizer, e2e_pairs):
    """select_metric: the callable's value is maximized (Lester: early stopping on the dev metric);
    the state at the best step is restored, training losses are untouched, the log names the metric."""
    collator = Collator(bpe_tokenizer, encoder_decoder=False)

    def fresh():
        return methods.build(tiny_gpt2(vocab_size=len(bpe_tokenizer), initializer_range=0.2), "prefix",
                             {"prefix_length": 3, "mid_dim": 16, "prefix_dropout": 0.1})

    base = dict(learning_rate=1e-2, max_steps=12, batch_size=4, seed=5)
    with pytest.raises(Interrupted):  # the reference state after step 6
        train(fresh(), DiesAfter(collator, 6), e2e_pairs, TrainConfig(**base, checkpoint_every=6), tmp_path / "ref",
              progress=False)
    at_step_6 = torch.load(tmp_path / "ref" / "checkpoint.pt", weights_only=False)["trainable"]
    scripted = iter([10.0, 20.0, 30.0, 25.0, 5.0, 29.0])  # ROUGE-2 at steps 2, 4, ..., 12: best at 6
    seen_modes = []

    def metric(tuner):
        seen_modes.append(tuner.training)
        tuner.eval()  # as decode does: train() must put the tuner back in training mode
        return "ROUGE-2", next(scripted)

    tuner = fresh()
    config = TrainConfig(**base, checkpoint_every=0, select_every=2, select_metric="ROUGE-2")
    summary = train(tuner, collator, e2e_pairs, config, tmp_path / "s", progress=False, dev_metric=metric)
    assert summary["selected_step"] == 6 and summary["selected_dev_ROUGE-2"] == 30.0
    assert "selected_dev_loss" not in summary
    assert _logged(tmp_path / "s", "dev", "dev_ROUGE-2") == [(2, 10.0), (4, 20.0), (6, 30.0), (8, 25.0),
                                                             (10, 5.0), (12, 29.0)]
    assert seen_modes == [True] * 6  # dropout was on again after every evaluation
    own = dict(tuner.named_parameters())
    for name, value in at_step_6.items():
        assert torch.equal(own[name], value), name
    plain = fresh()
    train(plain, collator, e2e_pairs, TrainConfig(**base, checkpoint_every=0), tmp_path / "p", progress=False)
    assert _logged(tmp_path / "s", "train", "loss") == _logged(tmp_path / "p", "train", "loss")
    with pytest.raises(ConfigError, match="needs a dev_metric"):
        train(fresh(), collator, e2e_pairs, config, tmp_path / "x", progress=False)
    with pytest.raises(ConfigError, match="needs select_every > 0"):
        TrainConfig(select_metric="acc")


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


@pytest.mark.parametrize("n,size,groups", [(1000, 5, 50), (23, 4, 2), (7, 3, 10), (10, 5, 1)])
def test_length_groups_cover_each_epoch_once_with_little_padding(n, size, groups):
    from repro.train import epoch_batches

    lengths = [int(x) for x in torch.randint(10, 120, (n,), generator=torch.Generator().manual_seed(n))]
    plain = TrainConfig(batch_size=size, seed=7)
    grouped = TrainConfig(batch_size=size, seed=7, length_groups=groups)

    def padded(batches):
        return sum(max(lengths[i] for i in b) * len(b) for b in batches)

    for epoch in (0, 1):
        random_batches = epoch_batches(plain, epoch, n, lengths)
        batches = epoch_batches(grouped, epoch, n, lengths)
        assert len(batches) == len(random_batches) == -(-n // size)  # same steps per epoch
        assert sorted(i for b in batches for i in b) == list(range(n))  # every example once
        assert padded(batches) <= padded(random_batches)
        span = groups * size
        for start in range(0, n, span):  # each group holds the same examples as that slice of the permutation,
            order = [i for b in random_batches for i in b][start:start + span]
            mine = [b for b in batches if set(b) <= set(order)]
            assert sorted(i for b in mine for i in b) == sorted(order)
            mine.sort(key=lambda b: (-max(lengths[i] for i in b), -min(lengths[i] for i in b)))  # ... cut into
            # length-contiguous batches
            for longer, shorter in zip(mine, mine[1:]):
                assert min(lengths[i] for i in longer) >= max(lengths[i] for i in shorter)
    assert epoch_batches(grouped, 0, n, lengths) == epoch_batches(grouped, 0, n, lengths)
    if n > size * 2:
        assert epoch_batches(grouped, 0, n, lengths) != epoch_batches(grouped, 1, n, lengths)
    if n == 1000:  # on this spread, grouping by 50 batches pads < 5% where random batches pad > 20%
        assert padded(epoch_batches(grouped, 0, n, lengths)) < 1.05 * sum(lengths)
        assert padded(epoch_batches(plain, 0, n, lengths)) > 1.2 * sum(lengths)


def test_length_groups_must_not_be_negative():
    with pytest.raises(ConfigError, match="length_groups must be >= 0"):
        TrainConfig(length_groups=-1)
