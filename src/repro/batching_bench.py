"""`make bench BENCH_ARGS="--batching"`: what length-grouped training batches (`TrainConfig.length_groups`)
buy on real data: prefix-tuning steps of SmolLM2 (P = 5, MLP 512, AdamW) on the mini recipe's
training subsets (1,000 random pairs; DART from dev), random batches against length-grouped ones.

Each chunk is one length group: `--groups` batches of `--batch` pairs from the epoch's permutation,
trained once as random consecutive batches and once grouped by length (the same pairs, so the same
real tokens); the two alternate chunk by chunk, the order swapped every chunk, so load on a shared
machine hits both alike. Reported per dataset: the padded positions per real token of each variant,
real (unpadded) tokens per second, and the median over chunks of the random / grouped time ratio.

`--compile` adds a third variant, the grouped batches through `torch.compile` of the tuner (what
REPRO_COMPILE=1 does in training): its compile time (two warm-up batches of different lengths, so the
dynamic-shape graph is built too) is reported apart, and the chunks time the compiled steps only.

Writes results/bench/batching.json and batching.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

DATASETS = {"e2e": "train", "webnlg": "train", "dart": "dev"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/bench")
    parser.add_argument("--model", default="models/smollm2-135m", help="a model folder, or tiny:gpt2 (tests)")
    parser.add_argument("--datasets", nargs="+", default=["e2e", "webnlg"], choices=sorted(DATASETS))
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--groups", type=int, default=20, help="batches per length group (length_groups)")
    parser.add_argument("--chunks", type=int, default=3, help="length groups timed per dataset and variant")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=1000, help="the training subset (the mini recipe's: 1,000)")
    parser.add_argument("--compile", action="store_true", help="also time the grouped batches under torch.compile")
    args = parser.parse_args(argv)

    import torch

    from repro import methods
    from repro.batches import Collator
    from repro.data import load, training_pairs
    from repro.models import load_model_for_run
    from repro.runner import subset
    from repro.train import TrainConfig, epoch_batches

    torch.set_num_threads(args.threads)
    data = {d: subset(training_pairs(load(d, DATASETS[d])), args.pairs, "random") for d in args.datasets}
    model, tokenizer = load_model_for_run(args.model, [t for pairs in data.values() for p in pairs for t in p], seed=0)
    collator = Collator(tokenizer, encoder_decoder=False)
    report = {"device": f"CPU ({platform.machine()}, {args.threads} thread(s); 1-minute load average at the "
                        f"start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", "model": args.model,
              "batch": args.batch, "groups": args.groups, "pairs": args.pairs, "chunks": args.chunks,
              "command": "make bench BENCH_ARGS=\"--batching " + " ".join(argv if argv is not None else sys.argv[1:]) + "\"",
              "datasets": {}}
    for dataset in args.datasets:
        pairs = data[dataset]
        lengths = [collator.pair_length(*p) for p in pairs]
        configs = {"random": TrainConfig(batch_size=args.batch, seed=101),
                   "grouped": TrainConfig(batch_size=args.batch, seed=101, length_groups=args.groups)}
        epoch = {name: epoch_batches(config, 0, len(pairs), lengths) for name, config in configs.items()}
        tuner = methods.build(model, "prefix", {"prefix_length": 5, "mid_dim": 512})
        optimizer = torch.optim.AdamW(tuner.trainable_parameters(), lr=1e-4)
        tuner.train()
        # variant -> (its epoch's batches, the forward it trains through)
        variants = {"random": (epoch["random"], tuner), "grouped": (epoch["grouped"], tuner)}
        if args.compile:
            variants["grouped_compiled"] = (epoch["grouped"], torch.compile(tuner))

        def step(forward, indices):
            batch = collator.train_batch([pairs[i] for i in indices])
            loss = forward(**batch.as_kwargs()).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            return batch.input_ids.numel()

        step(tuner, epoch["random"][0])  # warm-up
        compile_seconds = None
        if args.compile:  # two lengths: the static graph, then the dynamic-shape one every later batch uses
            began = time.perf_counter()
            first = epoch["grouped"][0]
            longest = max(lengths[i] for i in first)
            second = next(b for b in epoch["grouped"] if max(lengths[i] for i in b) != longest)
            for warmup in (first, second):
                step(variants["grouped_compiled"][1], warmup)
            compile_seconds = time.perf_counter() - began
        names = list(variants)
        chunks = []
        for c in range(args.chunks):
            group = {i for k in range(c * args.groups, (c + 1) * args.groups) for i in epoch["random"][k]}
            timed = {}
            for name in names[c % len(names):] + names[:c % len(names)]:  # the order rotated every chunk
                batches = [b for b in variants[name][0] if set(b) <= group]
                assert sorted(i for b in batches for i in b) == sorted(group)
                began = time.perf_counter()
                positions = sum(step(variants[name][1], b) for b in batches)
                timed[name] = {"seconds": time.perf_counter() - began, "positions": positions,
                               "real_tokens": sum(lengths[i] for i in group)}
                print(f"{dataset} chunk {c + 1}/{args.chunks} {name}: {timed[name]['seconds']:.1f} s",
                      file=sys.stderr, flush=True)
            chunks.append(timed)
        ratios = [ch["random"]["seconds"] / ch["grouped"]["seconds"] for ch in chunks]
        summary = {}
        result = {}
        if args.compile:
            compiled = [ch["grouped"]["seconds"] / ch["grouped_compiled"]["seconds"] for ch in chunks]
            result = {"compile_seconds": compile_seconds, "compiled_speedup_median": statistics.median(compiled),
                      "compiled_speedup_range": [min(compiled), max(compiled)]}
        for name in variants:
            seconds = sum(ch[name]["seconds"] for ch in chunks)
            real = sum(ch[name]["real_tokens"] for ch in chunks)
            summary[name] = {"seconds": seconds, "real_tokens_per_s": real / seconds,
                             "positions_per_real_token": sum(ch[name]["positions"] for ch in chunks) / real}
        report["datasets"][dataset] = {"variants": summary, "speedup_median": statistics.median(ratios),
                                       "speedup_range": [min(ratios), max(ratios)], **result, "chunks": chunks}
    from repro.bench import write_report

    write_report(args.out, "batching", report, markdown(report))
    return 0


def markdown(report: dict) -> str:
    lines = [f"# Length-grouped training batches ({report['model']}, prefix-tuning, batch {report['batch']})", "",
             f"Device: {report['device']}. Each dataset: {report['chunks']} length groups of {report['groups']} "
             f"batches from the mini recipe's {report['pairs']:,} training pairs, each trained as random batches and as "
             "length-grouped ones (the same pairs), the two alternating.", "",
             f"Command: `{report['command']}`", "",
             "| dataset | batches | padded positions per real token | real tokens/s | seconds |", "|---|---|---|---|---|"]
    for dataset, d in report["datasets"].items():
        for name, v in d["variants"].items():
            lines.append(f"| {dataset} | {name} | {v['positions_per_real_token']:.3f} | {v['real_tokens_per_s']:.1f} "
                         f"| {v['seconds']:.1f} |")
    lines.append("")
    for dataset, d in report["datasets"].items():
        low, high = d["speedup_range"]
        lines.append(f"- {dataset}: grouped is **{d['speedup_median']:.2f}x** as fast (median over chunks; "
                     f"range {low:.2f}-{high:.2f})")
        if "compiled_speedup_median" in d:
            low, high = d["compiled_speedup_range"]
            lines.append(f"- {dataset}: grouped under torch.compile is **{d['compiled_speedup_median']:.2f}x** as fast as "
                         f"grouped (median over chunks; range {low:.2f}-{high:.2f}), after {d['compile_seconds']:.0f} s "
                         "of compiling (two warm-up batches, not in the table)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
