"""`make bench`: training-step throughput and peak memory, table-to-text shaped.

A model of one shape (`--size`: gpt2-small, gpt2-medium (the paper's), smollm2 (SmolLM2-135M: real
weights from models/smollm2-135m when `make setup` made it, else random), tiny, tiny-llama), batch
8 x 128 tokens of which the first 64 are source tokens without loss, prefix length 10. Variants:

* ours_prefix   - `repro.methods.PrefixTuning` (MLP reparameterization, LM head only on targets)
* peft_prefix   - peft's PrefixTuning (prefix_projection=True), which runs the head everywhere
* full_finetune - every weight trains
* frozen_floor  - the frozen model on the same batch with the same loss (LM head on the target
                  positions only), backward to the input embeddings only: the work any method
                  must do that trains something below the top layer. (A floor without the LM head
                  and loss would hide the head's cost, ~20% of a step here, that every method pays.)
* ours_prefix_compiled - ours under `torch.compile` (a lever measured, not the default)

Each variant runs in its own process (so peak memory is its own): warm-up steps, then the median
of `--repeats` timed steps (forward, backward, AdamW step). On a shared machine a single sequence
of processes gives ratios that swing with the load (1.19x one run, 1.54x the next), so the variants
run in `--rounds` interleaved rounds (one process each, the order rotated every round), and the
report gives each ratio as the median over rounds with its range. Writes
results/bench/<size>-train_step.json and .md.
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
OPTIONAL_VARIANTS = ("ours_prefix_compiled",)
GPT2_SHAPES = {"gpt2-small": dict(n_layer=12, n_head=12, n_embd=768), "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024),
               "tiny": dict(n_layer=2, n_head=2, n_embd=32)}
LLAMA_SHAPES = {  # SmolLM2-135M (models/smollm2-135m/config.json) and a tiny GQA Llama for tests
    "smollm2": dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                    num_attention_heads=9, num_key_value_heads=3, head_dim=64, tie_word_embeddings=True,
                    max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5),
    "tiny-llama": dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=True),
}
SIZES = sorted({**GPT2_SHAPES, **LLAMA_SHAPES})
SMOLLM2_DIR = "models/smollm2-135m"


def write_report(out_dir: str | Path, stem: str, result: dict, text: str) -> None:
    """<out_dir>/<stem>.json (the numbers) and <stem>.md (the table), and the table on stdout."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text(text)
    print(text)


def make_batch(torch, vocab, batch, length, source_length):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch, length), generator=g)
    labels = ids.clone()
    labels[:, :source_length] = -100
    return ids, torch.ones_like(ids), labels


def build_model(size: str):
    """(model, description): real SmolLM2 weights when the converted folder exists, else random weights."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if size in GPT2_SHAPES:
        return GPT2LMHeadModel(GPT2Config(**GPT2_SHAPES[size])), f"{size} shape, random weights"
    if size == "smollm2" and (Path(SMOLLM2_DIR) / "model.safetensors").is_file():
        return (LlamaForCausalLM.from_pretrained(SMOLLM2_DIR, dtype=torch.float32),
                "SmolLM2-135M-Instruct (Q4_1 dequantized, models/smollm2-135m)")
    return LlamaForCausalLM(LlamaConfig(**LLAMA_SHAPES[size])), f"{size} shape, random weights"


def run_variant(variant: str, size: str, batch: int, length: int, prefix_length: int, repeats: int, warmup: int) -> dict:
    import torch

    from repro.methods import PrefixConfig, PrefixTuning
    from repro.methods.base import lm_loss

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(2 if torch.get_num_threads() >= 2 else 1)
    model, weights = build_model(size)
    model = model.to(device)
    ids, mask, labels = (t.to(device) for t in make_batch(torch, model.config.vocab_size, batch, length, length // 2))

    if variant in ("ours_prefix", "ours_prefix_compiled"):
        tuner = PrefixTuning(model, PrefixConfig(prefix_length=prefix_length, mid_dim=512)).train()
        params = tuner.trainable_parameters()
        forward = torch.compile(tuner) if variant == "ours_prefix_compiled" else tuner
        step = lambda: forward(ids, mask, labels).loss
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
        step = lambda: lm_loss(model, model.base_model(inputs_embeds=embeds, attention_mask=mask).last_hidden_state,
                               labels, "token_mean", shift=True)
    else:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS + OPTIONAL_VARIANTS}")
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
            "step_times_s": times, "device": device_name, "weights": weights}


RATIOS = (("ours / peft throughput", "ours_prefix", "peft_prefix", "tokens_per_s"),
          ("ours / frozen floor throughput", "ours_prefix", "frozen_floor", "tokens_per_s"),
          ("ours / full fine-tune peak memory", "ours_prefix", "full_finetune", "peak_mem_mb"),
          ("compiled / ours throughput", "ours_prefix_compiled", "ours_prefix", "tokens_per_s"),
          ("compiled / peft throughput", "ours_prefix_compiled", "peft_prefix", "tokens_per_s"),
          ("compiled / frozen floor throughput", "ours_prefix_compiled", "frozen_floor", "tokens_per_s"),
          ("compiled / full fine-tune peak memory", "ours_prefix_compiled", "full_finetune", "peak_mem_mb"))


def ratios(rounds: list[dict]) -> dict[str, dict]:
    """Each ratio per round (both variants measured in the same round), then median and range."""
    out = {}
    for name, a, b, key in RATIOS:
        values = [r[a][key] / r[b][key] for r in rounds if a in r and b in r]
        if values:
            out[name] = {"median": statistics.median(values), "min": min(values), "max": max(values),
                         "per_round": values}
    return out


def summarize(rounds: list[dict]) -> dict[str, dict]:
    """Per variant: medians over rounds of its throughput, step time and peak memory."""
    out = {}
    for variant in rounds[0]:
        per = [r[variant] for r in rounds]
        out[variant] = {"tokens_per_s": statistics.median(v["tokens_per_s"] for v in per),
                        "step_s": statistics.median(v["step_s"] for v in per),
                        "peak_mem_mb": statistics.median(v["peak_mem_mb"] for v in per),
                        "peak_mem_kind": per[0]["peak_mem_kind"],
                        "tokens_per_s_per_round": [v["tokens_per_s"] for v in per]}
    return out


def markdown(result: dict) -> str:
    rows = ["| variant | tokens/s (median of rounds) | range over rounds | median step (s) | peak memory (MB) |",
            "|---|---|---|---|---|"]
    for name, v in result["variants"].items():
        per = v["tokens_per_s_per_round"]
        rows.append(f"| {name} | {v['tokens_per_s']:.1f} | {min(per):.1f}-{max(per):.1f} | {v['step_s']:.3f} | "
                    f"{v['peak_mem_mb']:.0f} |")
    lines = [f"- {name}: **{r['median']:.2f}x** (range {r['min']:.2f}-{r['max']:.2f} over {len(r['per_round'])} rounds)"
             for name, r in result["ratios"].items()]
    kind = next(iter(result["variants"].values()))["peak_mem_kind"]
    return (f"# Training-step benchmark ({result['model']}, batch {result['batch']} x {result['length']}, "
            f"prefix {result['prefix_length']})\n\nModel: {result['weights']}. Device: {result['device']}. "
            f"{result['rounds']} interleaved rounds (one process per variant, order rotated each round); in each, "
            f"the median of {result['repeats']} steps after {result['warmup']} warm-up step(s); peak memory = {kind}.\n\n"
            f"Command: `{result['command']}`\n\n" + "\n".join(rows) + "\n\n" + "\n".join(lines) + "\n")


def main(argv=None) -> int:
    # no abbreviations: --decode's own options (e.g. --prefix) must not be read as ours (--prefix-length)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     allow_abbrev=False)
    parser.add_argument("--out", default="results/bench", help="output directory")
    parser.add_argument("--size", default="gpt2-small", choices=SIZES)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--prefix-length", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (ratios: median over rounds)")
    parser.add_argument("--compile", action="store_true", help="also measure ours under torch.compile")
    parser.add_argument("--decode", action="store_true",
                        help="benchmark beam-5 decoding instead (repro.decoding_bench; see its --help)")
    parser.add_argument("--batching", action="store_true",
                        help="benchmark length-grouped training batches instead (repro.batching_bench; see its --help)")
    parser.add_argument("--variant", choices=VARIANTS + OPTIONAL_VARIANTS, help=argparse.SUPPRESS)  # one child
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--decode" in argv or "--batching" in argv:  # the rest of the line is that bench's own (--batch, --compile...)
        from repro import batching_bench, decoding_bench

        module = decoding_bench if "--decode" in argv else batching_bench
        return module.main([a for a in argv if a not in ("--decode", "--batching")])
    args = parser.parse_args(argv)
    settings = dict(size=args.size, batch=args.batch, length=args.length, prefix_length=args.prefix_length,
                    repeats=args.repeats, warmup=args.warmup)
    if args.variant:
        print(json.dumps(run_variant(args.variant, **settings)))
        return 0
    variants = VARIANTS + (OPTIONAL_VARIANTS if args.compile else ())
    rounds = []
    for r in range(args.rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        measured = {}
        for variant in order:
            cmd = [sys.executable, "-m", "repro.bench", "--variant", variant, "--size", args.size, "--batch",
                   str(args.batch), "--length", str(args.length), "--prefix-length", str(args.prefix_length),
                   "--repeats", str(args.repeats), "--warmup", str(args.warmup)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            measured[variant] = json.loads(out)
            print(f"round {r + 1}/{args.rounds} {variant}: {measured[variant]['tokens_per_s']:.1f} tokens/s",
                  file=sys.stderr, flush=True)
        rounds.append({v: measured[v] for v in variants})
    first = rounds[0]["ours_prefix"]
    result = {"device": first["device"], "model": args.size, "weights": first["weights"],
              **{k: v for k, v in settings.items() if k != "size"}, "rounds": args.rounds,
              "command": "make bench BENCH_ARGS=\"" + " ".join(argv if argv is not None else sys.argv[1:]) + "\"",
              "variants": summarize(rounds), "ratios": ratios(rounds), "raw_rounds": rounds}
    write_report(args.out, f"{args.size}-train_step", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
