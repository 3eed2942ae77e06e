"""`repro probe`: can a run's recipe steer its model towards the label words at all?

A classification run (SuperGLUE in the Lester ablations) is scored by generating the label word.
When every output is garbage the accuracy is 0 and says nothing about the method. The probe trains
one run of a reproduction with its own recipe (optionally shortened or changed) and reports, before
and after training, on the run's training pairs and evaluation examples:

* the loss on the **first label token** next to the loss a constant label prior would reach there
  (the entropy of the training labels' first tokens): a method that cannot get below the prior in
  its budget has not learned even "which words are labels";
* the mean loss over all target tokens;
* rank accuracy (the label with the lowest summed loss) and generation accuracy, with the
  majority-class accuracy of the evaluation set as the floor.

It writes nothing under results/ (its training directory is temporary) and prints one JSON object.
"""
from __future__ import annotations

import dataclasses
import json
import math
import shlex
import tempfile
from collections import Counter
from pathlib import Path

import torch

from repro.methods.base import ConfigError, output_logits


def target_token_nll(tuner, collator, pairs: list[tuple[str, str]], batch_size: int = 32) -> list[torch.Tensor]:
    """Per pair, the NLL (nats) of each target token, in order."""
    rows = []
    tuner.eval()
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            batch = collator.train_batch(pairs[start:start + batch_size])
            hidden = tuner.hidden_states(batch.input_ids, batch.attention_mask, batch.labels)
            labels = batch.labels
            if not tuner.is_encoder_decoder:  # hidden[:, t] predicts labels[:, t + 1]
                hidden, labels = hidden[:, :-1], labels[:, 1:]
            nll = torch.nn.functional.cross_entropy(output_logits(tuner.model, hidden).float().transpose(1, 2),
                                                    labels.clamp(min=0), reduction="none")
            rows += [row[mask] for row, mask in zip(nll, labels != -100)]
    return rows


def label_ids(collator, label: str) -> list[int]:
    """The label's word pieces as the run's targets encode them (GPT-2: with its leading space)."""
    special = set(collator.tokenizer.all_special_ids)
    return [i for i in collator.target_ids(label) if i not in special]


def first_label_position(collator, label: str) -> int:
    """Index of the label's first word piece within its target ids (after BART's <s>)."""
    return collator.target_ids(label).index(label_ids(collator, label)[0])


def measure(tuner, collator, pairs, examples, labels: list[str], decode_kwargs: dict) -> dict:
    from repro.runner import normalize_label
    from repro.train import decode

    nll = target_token_nll(tuner, collator, pairs)
    first = [row[first_label_position(collator, target)].item() for row, (_, target) in zip(nll, pairs)]
    candidates = [(ex.source, label) for ex in examples for label in labels]
    totals = [row.sum().item() for row in target_token_nll(tuner, collator, candidates)]
    ranked = [labels[min(range(len(labels)), key=lambda j: totals[i * len(labels) + j])] for i in range(len(examples))]
    outputs = decode(tuner, collator, [ex.source for ex in examples], 32, progress=False, **decode_kwargs)
    gold = [ex.meta["label"] for ex in examples]
    return {
        "first_label_token_loss": sum(first) / len(first),
        "target_token_loss": torch.cat(nll).mean().item(),
        "rank_accuracy": sum(r == g for r, g in zip(ranked, gold)) / len(gold),
        "generation_accuracy": sum(normalize_label(o) == g for o, g in zip(outputs, gold)) / len(gold),
        "top_outputs": Counter(outputs).most_common(3),
    }


def probe(reproduction: str, scale: str, dataset: str, row: str | None = None, model: str | None = None,
          method: str | None = None, train_overrides: dict | None = None) -> dict:
    from repro import methods
    from repro.config import TRAIN_KEYS, load_reproduction, train_config
    from repro.runner import collator_for, generation_options, run_inputs
    from repro.train import train

    unknown = sorted(set(train_overrides or {}) - TRAIN_KEYS)
    if unknown:
        raise ConfigError(f"unknown training setting(s) {unknown}; valid: {sorted(TRAIN_KEYS)}")
    specs = [s for s in load_reproduction(reproduction).runs(scale, [dataset]) if row in (None, s.row)]
    if not specs:
        rows = sorted({s.row for s in load_reproduction(reproduction).runs(scale, [dataset])})
        raise ConfigError(f"{reproduction} ({scale}, {dataset}) has no row {row!r}; rows: {rows}")
    spec = specs[0]
    if model:
        spec = dataclasses.replace(spec, model_name=model)
    if method:  # e.g. finetune as the control: that method's defaults
        spec = dataclasses.replace(spec, method=method, options={})
    spec = dataclasses.replace(spec, train={**spec.train, "checkpoint_every": 0, "select_every": 0,
                                            **(train_overrides or {})})
    pairs, examples, base, tokenizer = run_inputs(spec)
    labels = sorted({target for _, target in pairs})
    if any("label" not in ex.meta for ex in examples) or len(labels) > 10:
        raise ConfigError(f"{dataset} is not a label-word classification task; the probe needs one (cb, rte, boolq, ...)")
    torch.manual_seed(spec.seed)
    tuner = methods.build(base, spec.method, spec.options, tokenizer=tokenizer)
    collator = collator_for(spec, tokenizer, tuner.is_encoder_decoder)
    _, decode_kwargs = generation_options(spec, tokenizer, collator, tuner.is_encoder_decoder)
    firsts = Counter(collator.target_ids(t)[first_label_position(collator, t)] for _, t in pairs)
    gold = Counter(ex.meta["label"] for ex in examples)
    report = {
        "reproduction": reproduction, "scale": scale, "dataset": dataset, "row": spec.row, "model": spec.model_name,
        "method": spec.method, "train": spec.train, "seed": spec.seed,
        "n_train_pairs": len(pairs), "n_eval_inputs": len(examples),
        "label_pieces": {label: " ".join(tokenizer.convert_ids_to_tokens(label_ids(collator, label)))
                         for label in labels},
        "first_token_prior_loss": -sum(c / len(pairs) * math.log(c / len(pairs)) for c in firsts.values()),
        "majority_accuracy": max(gold.values()) / len(examples),
        "before": measure(tuner, collator, pairs, examples, labels, decode_kwargs),
    }
    with tempfile.TemporaryDirectory() as run_dir:
        summary = train(tuner, collator, pairs, train_config(spec), run_dir, progress=False)
    report["train_seconds"] = summary["train_seconds"]
    report["after"] = measure(tuner, collator, pairs, examples, labels, decode_kwargs)
    return report


def probe_table(paths: list[str | Path]) -> str:
    """A markdown table of probe outputs (one row per file, in the order given)."""
    lines = ["| model | method | steps | first-label-token loss: before → after (prior) | target-token loss "
             "before → after | rank acc. after (majority) | generation acc. after | top output after | training (min) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        r = json.loads(Path(path).read_text())
        b, a = r["before"], r["after"]
        method = r["method"] if r["method"] != "prompt" else f"prompt ({r['row']})"
        lr = r["train"].get("learning_rate")
        lines.append(
            f"| {Path(r['model']).name} | {method}, {r['train'].get('optimizer', 'adamw')} lr {lr:g} | "
            f"{r['train'].get('max_steps')} | {b['first_label_token_loss']:.2f} → {a['first_label_token_loss']:.2f} "
            f"({r['first_token_prior_loss']:.2f}) | {b['target_token_loss']:.2f} → {a['target_token_loss']:.2f} | "
            f"{100 * a['rank_accuracy']:.1f}% ({100 * r['majority_accuracy']:.1f}%) | "
            f"{100 * a['generation_accuracy']:.1f}% | `{a['top_outputs'][0][0]}` | {r['train_seconds'] / 60:.0f} |")
    return "\n".join(lines)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "probe", help="does a classification run's recipe learn its label words? (losses before/after)",
        description="Train one run of a reproduction (its recipe, optionally changed) in a temporary "
                    "directory and print, before and after, the first-label-token loss against the "
                    "label prior, the target-token loss, rank and generation accuracy (JSON).")
    parser.add_argument("--table", nargs="+", metavar="JSON",
                        help="only print a markdown table of earlier probes' --out files")
    parser.add_argument("--reproduction")
    parser.add_argument("--scale")
    parser.add_argument("--dataset")
    parser.add_argument("--row", help="config row (default: the first)")
    parser.add_argument("--model", help="another model path or name than the scale's")
    parser.add_argument("--method", help="another method with its defaults (e.g. finetune as a control)")
    parser.add_argument("--train", action="append", default=[], metavar="KEY=VALUE",
                        help="override a training setting, e.g. max_steps=100 learning_rate=1e-4 optimizer=adamw")
    parser.add_argument("--out", help="also write the JSON (with the command) to this file")
    parser.set_defaults(func=_probe_command)


def parse_value(text: str):
    """A command-line value: a JSON number / boolean / null (1e-4, 300, true), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _probe_command(args) -> int:
    if args.table:
        print(probe_table(args.table))
        return 0
    missing = [f"--{k}" for k in ("reproduction", "scale", "dataset") if not getattr(args, k)]
    if missing:
        raise ConfigError(f"repro probe needs {' '.join(missing)} (or --table FILES)")
    overrides = {}
    for item in args.train:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--train {item!r}: expected KEY=VALUE, e.g. max_steps=100")
        overrides[key] = parse_value(value)
    report = probe(args.reproduction, args.scale, args.dataset, args.row, args.model, args.method, overrides)
    command = ["repro", "probe", "--reproduction", args.reproduction, "--scale", args.scale, "--dataset", args.dataset]
    for flag, value in (("--row", args.row), ("--model", args.model), ("--method", args.method)):
        command += [flag, value] if value else []
    command += [part for item in args.train for part in ("--train", item)]
    text = json.dumps({"command": shlex.join(command), **report}, indent=1)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".tmp").write_text(text + "\n")
        out.with_suffix(".tmp").replace(out)
    return 0
