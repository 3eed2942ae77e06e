"""The data-parallel path (`accelerate launch`): 2 CPU processes give the loss and the trained
parameters of one process on the same batches.

The 2-process run goes through `accelerate.debug_launcher` (gloo on CPU, the launcher accelerate's
own tests use) in a fresh interpreter, so that the fork happens before any torch thread pool
exists. Batch size 5 over 7 pairs makes shares of 3 and 2 and a final batch of 2 (one example
each), and with 3 processes one share is empty (a stand-in example weighted by 0).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from repro.train import loss_weight, shard

PAIRS = [(f"name : Place {i} | food : {food} | area : {area}",
          f"Place {i} serves {food} food in the {area} .")
         for i, (food, area) in enumerate([("Thai", "city centre"), ("French", "riverside"), ("Italian", "city centre"),
                                           ("English", "riverside"), ("Chinese", "city centre"),
                                           ("Indian", "riverside"), ("Japanese", "city centre")])]


def train_tiny(run_dir: str, method: str, accelerator=None) -> None:
    """Train a tiny GPT-2 (`method`) for 3 steps; write losses and trained parameters to run_dir."""
    from repro import methods
    from repro.batches import Collator
    from repro.models import tiny_model_and_tokenizer
    from repro.train import TrainConfig, train

    torch.set_num_threads(1)
    model, tokenizer = tiny_model_and_tokenizer("gpt2", [t for p in PAIRS for t in p], seed=3)
    for module in model.modules():  # fine-tuning trains with dropout: the processes' masks would differ
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    torch.manual_seed(3)
    tuner = methods.build(model, method, {"mid_dim": 16} if method == "prefix" else {}, tokenizer=tokenizer)
    # with checkpoint selection on: every process scores the dev pairs and must pick the same step
    config = TrainConfig(learning_rate=1e-2, epochs=2, batch_size=5, seed=3, checkpoint_every=0, select_every=2)
    train(tuner, Collator(tokenizer, encoder_decoder=False), PAIRS, config, run_dir, progress=False,
          accelerator=accelerator, dev_pairs=PAIRS[4:])
    if accelerator is None or accelerator.is_main_process:
        torch.save({n: p.detach().clone() for n, p in tuner.named_parameters() if p.requires_grad},
                   Path(run_dir) / "trained.pt")


def _worker(run_dir: str, method: str) -> None:
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    assert accelerator.num_processes > 1
    train_tiny(run_dir, method, accelerator)


def _losses(run_dir: Path, event: str = "train", key: str = "loss") -> list[float]:
    lines = [json.loads(x) for x in (run_dir / "train_log.jsonl").read_text().splitlines()]
    return [x[key] for x in lines if x["event"] == event]


def test_shard_covers_the_batch_in_order():
    for n in range(1, 9):
        for world in (1, 2, 3):
            parts = [shard(list(range(n)), r, world) for r in range(world)]
            assert [i for mine, real in parts if real for i in mine] == list(range(n))
            assert all(mine for mine, _ in parts)  # every process gets something to run
            sizes = [len(mine) for mine, real in parts if real]
            assert max(sizes) - min(sizes) <= 1


def test_loss_weight_counts_sequences_or_predicted_tokens():
    labels = torch.tensor([[-100, -100, 5, 6, -100], [-100, 7, 8, 9, 10]])
    assert loss_weight(labels, "sequence_sum", shift=True) == 2
    assert loss_weight(labels, "token_mean", shift=True) == 6
    assert loss_weight(labels[:, 1:], "token_mean", shift=False) == 6


@pytest.mark.parametrize("method,world", [("finetune", 2), ("prefix", 3)])
def test_processes_match_one_process(tmp_path, method, world):
    """prefix: per-sequence-sum loss; finetune: token-mean loss (weights by label tokens)."""
    single, multi = tmp_path / "single", tmp_path / "multi"
    train_tiny(str(single), method)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_distributed as t; "
            "from accelerate import debug_launcher; "
            f"debug_launcher(t._worker, (sys.argv[2], {method!r}), num_processes={world})")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(multi)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = [json.loads(x) for x in (multi / "train_log.jsonl").read_text().splitlines()]
    assert log[0]["processes"] == world
    one, many = _losses(single), _losses(multi)
    assert len(one) == len(many) == 4  # ceil(7 / 5) * 2 epochs
    assert one[0] > one[-1]  # it trains
    assert many == pytest.approx(one, rel=1e-5, abs=1e-5)
    dev_one, dev_many = _losses(single, "dev", "dev_loss"), _losses(multi, "dev", "dev_loss")
    assert len(dev_one) == 2 and dev_many == pytest.approx(dev_one, rel=1e-5, abs=1e-5)
    a, b = torch.load(single / "trained.pt"), torch.load(multi / "trained.pt")
    assert a.keys() == b.keys()
    worst = max((a[n] - b[n]).abs().max().item() for n in a)
    assert worst < 1e-4  # Adam at lr 1e-2 moves a weight by up to 4e-2 in these 4 steps
