"""The methods on a CUDA device: skipped without one (CI has none); on a GPU box run
`pytest tests/test_cuda.py`.

Checks that what the CPU tests establish carries over to the GPU: every method gives the CPU's
logits (fp32, to 1e-4 of the logits' scale) and the CPU's greedy and beam-search tokens on GPT-2, BART and T5, and the
shared training loop trains on the GPU through `accelerate` (only the method's parameters move,
the loss falls) and, under bf16 autocast, stays close to fp32.
"""
import copy

import pytest
import torch

from repro import methods
from repro.models import tiny_bart, tiny_gpt2, tiny_t5

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

V = 48
CASES = [
    ("gpt2", "prefix", {"prefix_length": 3, "mid_dim": 8}),
    ("gpt2", "infix", {"infix_length": 2, "mid_dim": 8}),
    ("gpt2", "prompt", {"prompt_length": 3}),
    ("gpt2", "lora", {}),
    ("gpt2", "adapter", {}),
    ("bart", "prefix", {"prefix_length": 3, "mid_dim": 8}),
    ("bart", "prompt", {"prompt_length": 3}),
    ("t5", "prompt", {"prompt_length": 3}),
]


def tuner_on_cpu(arch: str, method: str, options: dict):
    torch.manual_seed(0)
    model = {"gpt2": lambda: tiny_gpt2(vocab_size=V, initializer_range=0.5),
             "bart": lambda: tiny_bart(vocab_size=V, init_std=0.5),
             "t5": lambda: tiny_t5(vocab_size=V, initializer_factor=5.0)}[arch]()
    tuner = methods.build(model, method, options).eval()
    with torch.no_grad():  # methods that start at the base model (LoRA, adapters) are moved off it
        for p in tuner.trainable_parameters():
            p.add_(0.3 * torch.randn_like(p))
    return tuner


def batch(arch: str, device):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, V, (3, 7), generator=g)
    mask = torch.ones_like(ids)
    mask[0, :2] = 0  # one left-padded row
    if arch == "gpt2":  # x = the first 4 tokens, y = the last 3 (infix goes between them)
        labels = ids.masked_fill(torch.arange(7) < 4, -100)
    else:
        labels = torch.randint(3, V, (3, 4), generator=g)
    return ids.to(device), mask.to(device), labels.to(device)


@pytest.mark.parametrize("arch,method,options", CASES, ids=[f"{a}-{m}" for a, m, _ in CASES])
def test_gpu_gives_the_cpu_logits_and_tokens(arch, method, options):
    cpu = tuner_on_cpu(arch, method, options)
    gpu = copy.deepcopy(cpu).to("cuda")
    ids, mask, labels = batch(arch, "cpu")
    with torch.no_grad():
        expected = cpu.logits(ids, mask, labels=labels)
        got = gpu.logits(ids.cuda(), mask.cuda(), labels=labels.cuda())
    assert got.shape == expected.shape
    keep = mask.bool() if arch == "gpt2" and got.shape[1] == mask.shape[1] else torch.ones(got.shape[:2], dtype=torch.bool)
    scale = max(1.0, expected[keep].abs().max().item())  # a tolerance relative to the logits' range
    torch.testing.assert_close(got.cpu()[keep], expected[keep], rtol=1e-4, atol=1e-4 * scale)
    special = {"pad_token_id": 1, "eos_token_id": 2} | ({"decoder_start_token_id": 0} if arch == "t5" else {})
    if arch == "gpt2":  # decoding starts from x
        ids, mask = ids[:, :4], mask[:, :4]
    for beams in (1, 3):
        options = dict(num_beams=beams, max_new_tokens=5, do_sample=False, **special)
        on_cpu = cpu.generate(ids, mask, **options)
        on_gpu = gpu.generate(ids.cuda(), mask.cuda(), **options)
        assert torch.equal(on_gpu.cpu(), on_cpu), (beams, on_cpu, on_gpu)


PAIRS = [(f"name : Place {i} | food : {food}", f"Place {i} serves {food} food .")
         for i, food in enumerate(["Thai", "French", "Italian", "English", "Chinese", "Indian", "Japanese", "Greek"])]


@pytest.mark.parametrize("arch", ["gpt2", "bart"])
def test_training_on_the_gpu_moves_only_the_method(tmp_path, arch):
    from accelerate import Accelerator

    from repro.batches import Collator
    from repro.models import tiny_model_and_tokenizer
    from repro.train import TrainConfig, train

    model, tokenizer = tiny_model_and_tokenizer(arch, [t for p in PAIRS for t in p], seed=3)
    tuner = methods.build(model, "prefix", {"prefix_length": 4, "mid_dim": 16}, tokenizer=tokenizer)
    frozen = {n: p.detach().clone() for n, p in tuner.named_parameters() if not p.requires_grad}
    config = TrainConfig(learning_rate=1e-2, max_steps=30, batch_size=4, seed=3, checkpoint_every=10,
                         select_every=10)
    summary = train(tuner, Collator(tokenizer, encoder_decoder=arch == "bart"), PAIRS, config, tmp_path,
                    progress=False, accelerator=Accelerator(cpu=False), dev_pairs=PAIRS[:2])
    assert next(tuner.parameters()).device.type == "cuda"
    losses = [line for line in (tmp_path / "train_log.jsonl").read_text().splitlines() if '"train"' in line]
    assert len(losses) == 30 and summary["selected_step"] in (10, 20, 30)
    for name, p in tuner.named_parameters():
        if name in frozen:
            assert torch.equal(p.detach().cpu(), frozen[name].cpu()), name
    import json

    values = [json.loads(line)["loss"] for line in losses]
    assert sum(values[-5:]) < sum(values[:5])


def test_bf16_autocast_stays_close_to_fp32():
    tuner = tuner_on_cpu("gpt2", "prefix", {"prefix_length": 3, "mid_dim": 8}).to("cuda")
    ids, mask, _ = batch("gpt2", "cuda")
    with torch.no_grad():
        full = tuner.logits(ids, mask).float().log_softmax(-1)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            half = tuner.logits(ids, mask).float().log_softmax(-1)
    keep = mask.bool()
    assert (half - full)[keep].abs().max().item() < 0.1  # bf16 keeps ~3 significant digits
