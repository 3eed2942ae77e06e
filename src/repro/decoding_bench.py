"""`make bench BENCH_ARGS="--decode"`: beam-5 decoding of E2E test inputs with SmolLM2 and a prefix,
`repro.decoding` (ours) against `transformers.generate` (the reference), on the same inputs.

The prefix: `--prefix DIR` (a run's `method/` folder), else the first trained SmolLM2 PREFIX run
found under results/, else a prefix initialized from the activations of an instruction (so that
outputs have realistic lengths); the report says which. The inputs are a fixed random subset
(seed 0) of the E2E test MRs. The two engines alternate chunk by chunk (`--chunk` inputs each,
the order swapped every chunk), so load on a shared machine hits both alike; each chunk's time
is recorded. Outputs of the first `--check` inputs are compared text for text.

Writes results/bench/decode.json and decode.md.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

INSTRUCTION = "Describe the restaurant in one sentence from its attributes:"


def find_trained_prefix(results: Path) -> Path | None:
    for config in sorted(results.glob("*/mini/*/config.json")):
        spec = json.loads(config.read_text())
        method_dir = config.parent / "method"
        if spec.get("method") == "prefix" and "smollm2" in str(spec.get("model_name", "")) and \
                (method_dir / "method.json").is_file() and spec.get("dataset") == "e2e":
            return method_dir
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/bench")
    parser.add_argument("--model", default="models/smollm2-135m")
    parser.add_argument("--prefix", help="a trained prefix (a run's method/ folder)")
    parser.add_argument("--inputs", type=int, default=200)
    parser.add_argument("--check", type=int, default=50, help="inputs whose outputs are compared")
    parser.add_argument("--chunk", type=int, default=40, help="inputs per alternation")
    parser.add_argument("--batch-ours", type=int, default=32)
    parser.add_argument("--batch-generate", type=int, default=8)
    parser.add_argument("--num-beams", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    from repro import methods
    from repro.batches import Collator
    from repro.data import load
    from repro.models import load_base_model
    from repro.train import decode

    torch.set_num_threads(args.threads)
    model, tokenizer = load_base_model(args.model)
    prefix_dir = Path(args.prefix) if args.prefix else find_trained_prefix(Path("results"))
    if prefix_dir:
        tuner, prefix_kind = methods.load(model, prefix_dir), f"trained prefix ({prefix_dir})"
    else:
        tuner = methods.build(model, "prefix", {"init": "real_words", "init_text": INSTRUCTION, "reparameterize": False},
                              tokenizer=tokenizer)
        prefix_kind = f"untrained prefix: the model's activations of {INSTRUCTION!r} (no trained SmolLM2 prefix found)"
    tuner.eval()
    examples = load("e2e", "test")
    rng = random.Random(0)
    chosen = sorted(rng.sample(range(len(examples)), min(args.inputs, len(examples))))
    sources = [examples[i].source for i in chosen]
    collator = Collator(tokenizer, encoder_decoder=False, max_source_tokens=None)
    bad = [tokenizer.encode(t, add_special_tokens=False) for t in ("\n\n", "\n")]
    options = dict(num_beams=args.num_beams, max_new_tokens=args.max_new_tokens, do_sample=False, length_penalty=1.0,
                   no_repeat_ngram_size=0, repetition_penalty=1.0, bad_words_ids=bad, num_return_sequences=1,
                   pad_token_id=collator.pad, eos_token_id=collator.eos)
    engines = {"ours": args.batch_ours, "generate": args.batch_generate}
    outputs = {e: [] for e in engines}
    times = {e: [] for e in engines}
    for c, start in enumerate(range(0, len(sources), args.chunk)):
        chunk = sources[start:start + args.chunk]
        for engine in (list(engines) if c % 2 == 0 else list(engines)[::-1]):
            began = time.perf_counter()
            outputs[engine] += decode(tuner, collator, chunk, engines[engine], progress=False, engine=engine, **options)
            times[engine].append(time.perf_counter() - began)
            print(f"chunk {c + 1}: {engine} {times[engine][-1]:.1f} s for {len(chunk)} inputs", file=sys.stderr, flush=True)
    n_tokens = sum(len(tokenizer(o, add_special_tokens=False).input_ids) + 1 for o in outputs["generate"])
    checked = min(args.check, len(sources))
    same = [a == b for a, b in zip(outputs["ours"][:checked], outputs["generate"][:checked])]
    all_same = [a == b for a, b in zip(outputs["ours"], outputs["generate"])]
    per_chunk = [g / o for o, g in zip(times["ours"], times["generate"])]
    result = {
        "model": args.model, "prefix": prefix_kind, "inputs": len(sources), "num_beams": args.num_beams,
        "max_new_tokens": args.max_new_tokens, "batch_size": engines, "threads": args.threads,
        "device": f"CPU ({platform.processor() or platform.machine()}, {args.threads} threads)",
        "seconds": {e: sum(t) for e, t in times.items()},
        "tokens_per_s": {e: n_tokens / sum(t) for e, t in times.items()},
        "speedup_median_over_chunks": statistics.median(per_chunk), "speedup_per_chunk": per_chunk,
        "checked_inputs": checked, "identical_in_checked": sum(same), "identical_in_all": sum(all_same),
        "differences": [{"input": sources[i], "ours": outputs["ours"][i], "generate": outputs["generate"][i]}
                        for i, s in enumerate(all_same) if not s][:10],
        "generated_tokens": n_tokens, "command": "make bench BENCH_ARGS=\"--decode " + " ".join(argv or []) + "\"",
    }
    from repro.bench import write_report

    write_report(args.out, "decode", result, markdown(result))
    return 0


def markdown(r: dict) -> str:
    rows = ["| engine | batch | seconds | tokens/s |", "|---|---|---|---|"]
    for e in ("ours", "generate"):
        rows.append(f"| {e} | {r['batch_size'][e]} | {r['seconds'][e]:.1f} | {r['tokens_per_s'][e]:.1f} |")
    per = r["speedup_per_chunk"]
    return (f"# Beam-search decoding benchmark ({r['model']}, beam {r['num_beams']}, {r['inputs']} E2E test inputs)\n\n"
            f"Device: {r['device']}. Prefix: {r['prefix']}. max_new_tokens {r['max_new_tokens']}; the engines "
            f"alternate chunk by chunk.\n\nCommand: `{r['command']}`\n\n" + "\n".join(rows) + "\n\n"
            f"- ours / generate speed: **{r['speedup_median_over_chunks']:.2f}x** (median over chunks; range "
            f"{min(per):.2f}-{max(per):.2f})\n"
            f"- identical outputs: {r['identical_in_checked']} of the first {r['checked_inputs']} inputs, "
            f"{r['identical_in_all']} of all {r['inputs']}\n")


if __name__ == "__main__":
    sys.exit(main())
