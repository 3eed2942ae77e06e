"""`make bench`: training-step throughput and peak memory, table-to-text shaped.

A GPT-2-small-shaped model (`--size gpt2-medium`: the paper's) with random weights (no download), batch 8 x 128 tokens of which the
first 64 are source tokens without loss, prefix length 10. Variants:

* ours_prefix   - `repro.methods.PrefixTuning` (MLP reparameterization, LM head only on targets)
* peft_prefix   - peft's PrefixTuning (prefix_projection=True), which runs the head everywhere
* full_finetune - every weight trains
* frozen_floor  - the frozen model on the same batch with the same loss (LM head on the target
                  positions only), backward to the input embeddings only: the work any method
                  must do that trains something below the top layer. (A floor without the LM head
                  and loss would hide the head's cost, ~20% of a step here, that every method pays.)

Each variant runs in its own process (so peak memory is its own): warm-up steps, then the median
of `--repeats` timed steps (forward, backward, AdamW step). Writes results/bench/train_step.json
and train_step.md.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ("ours_prefix", "peft_prefix", "full_finetune", "frozen_floor")
# GPT-2 shapes (random weights); gpt2-medium is the paper's table-to-text model
SHAPES = {"gpt2-small": dict(n_layer=12, n_head=12, n_embd=768), "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024),
          "tiny": dict(n_layer=2, n_head=2, n_embd=32)}


def make_batch(torch, vocab, batch, length, source_length):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch, length), generator=g)
    labels = ids.clone()
    labels[:, :source_length] = -100
    return ids, torch.ones_like(ids), labels


def run_variant(variant: str, size: str, batch: int, length: int, prefix_length: int, repeats: int, warmup: int) -> dict:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from repro.methods import PrefixConfig, PrefixTuning

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(2 if torch.get_num_threads() >= 2 else 1)
    shape = SHAPES[size]
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(**shape)).to(device)
    ids, mask, labels = (t.to(device) for t in make_batch(torch, model.config.vocab_size, batch, length, length // 2))

    if variant == "ours_prefix":
        tuner = PrefixTuning(model, PrefixConfig(prefix_length=prefix_length, mid_dim=512)).train()
        params, step = tuner.trainable_parameters(), lambda: tuner(ids, mask, labels).loss
    elif variant == "peft_prefix":
        from peft import PrefixTuningConfig, TaskType, get_peft_model

        peft_model = get_peft_model(model, PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=prefix_length,
                                                              prefix_projection=True, encoder_hidden_size=512))
        peft_model.base_model.eval()  # frozen LM without dropout, as ours
        params = [p for p in peft_model.parameters() if p.requires_grad]
        step = lambda: peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
    elif variant == "full_finetune":
        model.train()
        params, step = list(model.parameters()), lambda: model(input_ids=ids, attention_mask=mask, labels=labels).loss
    elif variant == "frozen_floor":
        model.requires_grad_(False)
        embeds = model.get_input_embeddings()(ids).detach().requires_grad_(True)
        params = [embeds]
        from repro.methods.base import lm_loss

        step = lambda: lm_loss(model, model.transformer(inputs_embeds=embeds, attention_mask=mask).last_hidden_state,
                               labels, "token_mean", shift=True)
    else:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    optimizer = torch.optim.AdamW(params, lr=5e-5)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    times = []
    for i in range(warmup + repeats):
        sync()
        start = time.perf_counter()
        loss = step()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    if device == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
        device_name = torch.cuda.get_device_name()
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        device_name = f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    return {"tokens_per_s": batch * length / median, "step_s": median, "peak_mem_mb": peak_mb,
            "peak_mem_kind": "max_memory_allocated" if device == "cuda" else "process max RSS",
            "step_times_s": times, "device": device_name}


def markdown(result: dict) -> str:
    rows = ["| variant | tokens/s | median step (s) | peak memory (MB) |", "|---|---|---|---|"]
    for name, v in result["variants"].items():
        rows.append(f"| {name} | {v['tokens_per_s']:.1f} | {v['step_s']:.3f} | {v['peak_mem_mb']:.0f} |")
    v = result["variants"]
    ratios = [f"ours / peft throughput: {v['ours_prefix']['tokens_per_s'] / v['peft_prefix']['tokens_per_s']:.2f}x",
              f"ours / frozen floor throughput: {v['ours_prefix']['tokens_per_s'] / v['frozen_floor']['tokens_per_s']:.2f}x",
              f"ours / full fine-tune peak memory: {v['ours_prefix']['peak_mem_mb'] / v['full_finetune']['peak_mem_mb']:.2f}x"]
    return (f"# Training-step benchmark ({result['model']}, batch {result['batch']} x {result['length']}, "
            f"prefix {result['prefix_length']})\n\nDevice: {result['device']}. Median of {result['repeats']} steps "
            f"after {result['warmup']} warm-up step(s); peak memory = {v['ours_prefix']['peak_mem_kind']}.\n\n"
            + "\n".join(rows) + "\n\n" + "\n".join(f"- {r}" for r in ratios) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/bench", help="output directory")
    parser.add_argument("--size", default="gpt2-small", choices=sorted(SHAPES))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--prefix-length", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # internal: one child process
    args = parser.parse_args(argv)
    settings = dict(size=args.size, batch=args.batch, length=args.length, prefix_length=args.prefix_length,
                    repeats=args.repeats, warmup=args.warmup)
    if args.variant:
        print(json.dumps(run_variant(args.variant, **settings)))
        return 0
    variants = {}
    for variant in VARIANTS:
        cmd = [sys.executable, "-m", "repro.bench", "--variant", variant, "--size", args.size, "--batch", str(args.batch),
               "--length", str(args.length), "--prefix-length", str(args.prefix_length),
               "--repeats", str(args.repeats), "--warmup", str(args.warmup)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        variants[variant] = json.loads(out)
        print(f"{variant}: {variants[variant]['tokens_per_s']:.1f} tokens/s", file=sys.stderr)
    result = {"device": variants["ours_prefix"]["device"], "model": args.size, **{k: v for k, v in settings.items() if k != "size"},
              "variants": variants}
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "train_step.json").write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / "train_step.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
