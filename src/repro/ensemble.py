"""`repro ensemble`: Lester et al.'s Table 3 rows from finished prompt-tuning runs.

A reproduction with an ``ensemble`` block trains its prompts as ordinary runs (one per seed); this
stage then takes them in groups of ``size`` consecutive seeds and writes, per group, three derived
run directories whose ``metrics.json`` the table and the claims read like any run's:

* ``average``: the mean of the members' own scores (the paper's "single prompt average");
* ``best``: the scores of the member with the highest first metric ("best single prompt", chosen
  on the same dev set it is reported on, as the paper's);
* ``vote``: all members decoded in ONE batched pass over the frozen model
  (`repro.methods.ensemble.PromptEnsemble`), then a majority vote per input.

```yaml
ensemble:
  size: 5
  rows: {average: "single prompt average (5 prompts)", best: "best single prompt",
         vote: "5-prompt ensemble (majority vote)"}
```

Group g's directories carry ``seed = g + 1`` (so two groups give a mean ± std), and list the
member seeds. Groups with an unfinished member are skipped (and reported).
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from repro.methods import ConfigError


def groups(specs, size: int) -> dict[tuple, list[list]]:
    """Runs of the same (dataset, model, row) in seed order, cut into groups of `size`."""
    by_row: dict[tuple, list] = {}
    for spec in specs:
        by_row.setdefault((spec.dataset, spec.model_row, spec.row), []).append(spec)
    return {key: [sorted(runs, key=lambda s: s.seed)[i:i + size] for i in range(0, len(runs), size)]
            for key, runs in by_row.items()}


def ensemble_reproduction(name: str, scale: str, results_dir: str | Path = "results", progress: bool = True) -> list[Path]:
    """Write the average / best / vote directories of every complete group; returns them."""
    from repro.config import load_reproduction

    reproduction = load_reproduction(name)
    spec = reproduction.raw.get("ensemble")
    if not spec:
        return []
    written = []
    for key, row_groups in groups(reproduction.runs(scale), spec["size"]).items():
        for g, members in enumerate(row_groups):
            run_dirs = [Path(results_dir) / name / scale / m.run_id for m in members]
            if len(members) < spec["size"] or not all((d / "metrics.json").exists() for d in run_dirs):
                print(f"ensemble {key} group {g + 1}: skipped ({len(members)} of {spec['size']} members, "
                      f"{sum((d / 'metrics.json').exists() for d in run_dirs)} finished)", flush=True)
                continue
            written += write_group(members, run_dirs, g, spec["rows"], Path(results_dir), progress)
    return written


def write_group(members, run_dirs: list[Path], g: int, rows: dict, results_dir: Path, progress: bool) -> list[Path]:
    from repro.config import ENSEMBLE_ROWS

    first = members[0]
    out = {kind: results_dir / first.reproduction / first.scale /
           f"{first.run_id.rsplit('-seed', 1)[0]}-ensemble{g + 1}-{kind}" for kind in ENSEMBLE_ROWS}
    if all((d / "metrics.json").exists() for d in out.values()):
        return list(out.values())
    began = time.time()
    member_metrics = [json.loads((d / "metrics.json").read_text()) for d in run_dirs]
    outputs, per_prompt, examples = vote_outputs(members, run_dirs, progress)
    from repro.runner import _write_json, score

    scores = {
        "average": average_scores([m["scores"] for m in member_metrics]),
        "best": max(member_metrics, key=lambda m: m["scores"][0]["value"])["scores"],
        "vote": score(first, outputs, examples),
    }
    for kind, directory in out.items():
        directory.mkdir(parents=True, exist_ok=True)
        if kind == "vote":  # the voted labels, and each member's labels from the batched pass
            (directory / "outputs.txt").write_text("".join(o + "\n" for o in outputs))
            (directory / "member_outputs.json").write_text(json.dumps(per_prompt) + "\n")
        metrics = {
            "reproduction": first.reproduction, "scale": first.scale, "run_id": directory.name, "seed": g + 1,
            "model_name": first.model_name,
            "row": {"dataset": member_metrics[0]["row"]["dataset"], "model": first.model_row, "method": rows[kind]},
            "ensemble": {"kind": kind, "group": g + 1, "member_seeds": [m.seed for m in members],
                         "member_runs": [d.name for d in run_dirs], "seconds": time.time() - began},
            "n_eval_inputs": member_metrics[0].get("n_eval_inputs"),
            "scores": scores[kind]}
        _write_json(directory / "metrics.json", metrics)
    return list(out.values())


def average_scores(score_lists: list[list[dict]]) -> list[dict]:
    keys = [(s["split"], s["metric"]) for s in score_lists[0]]
    values = {k: [] for k in keys}
    for scores in score_lists:
        for s in scores:
            values[(s["split"], s["metric"])].append(s["value"])
    return [{"split": split, "metric": metric, "value": statistics.fmean(values[(split, metric)])}
            for split, metric in keys]


def vote_outputs(members, run_dirs: list[Path], progress: bool):
    """Decode the evaluation inputs with all members at once: (voted labels, each member's labels, examples)."""
    from repro.methods.ensemble import PromptEnsemble, majority_vote, stack_prompts
    from repro.runner import collator_for, generation_options, normalize_label, run_inputs
    from repro.train import decode

    first = members[0]
    if any(m.method != "prompt" for m in members):
        raise ConfigError(f"ensembles combine prompt-tuning runs; {first.row!r} is {first.method!r}")
    _, examples, model, tokenizer = run_inputs(first)
    ensemble = PromptEnsemble(model, stack_prompts(model, [d / "method" for d in run_dirs]))
    collator = collator_for(first, tokenizer, ensemble.is_encoder_decoder)
    batch_size, generation = generation_options(first, tokenizer, collator, ensemble.is_encoder_decoder)
    flat = decode(ensemble, collator, [ex.source for ex in examples], batch_size, progress=progress, **generation)
    k = ensemble.size
    per_prompt = [[normalize_label(flat[b * k + j]) for b in range(len(examples))] for j in range(k)]
    return majority_vote(per_prompt), per_prompt, examples


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "ensemble", help="prompt-ensemble rows (average / best / majority vote) from finished prompt runs",
        description="For a reproduction with an `ensemble` block (e.g. prompt_ensembling): group its finished "
                    "prompt-tuning runs and write the average, best-single and majority-vote rows. "
                    "A no-op for other reproductions.")
    parser.add_argument("--reproduction", required=True)
    parser.add_argument("--scale", required=True)
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=lambda a: ensemble_reproduction(a.reproduction, a.scale, a.results_dir,
                                                             not a.no_progress) and 0)
