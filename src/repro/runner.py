"""One run: resolve its config, train, decode, score, and write the run directory.

``results/<reproduction>/<scale>/<run_id>/`` holds:

    config.json       the resolved RunSpec (+ its fingerprint)
    provenance.json   git commit and dirty flag, package versions, device, seed, wall time
    train_log.jsonl   one line per optimizer step (repro.train)
    checkpoint.pt     while training only (resume point)
    method/           the trained artifact (methods.save: folded prefix / prompt / weights)
    outputs.txt       one generated text per evaluation input, in order
    metrics.json      written last and atomically: a run without it is unfinished
    .lock             while a process trains it (repro.runlock: host, pid; removed on exit)

A finished run is skipped unless `force=True`; an unfinished one resumes from its checkpoint; one
that another live process is training is skipped with a message (two `repro run` on one results
directory, or overlapping shards, never train a run twice).

Under `accelerate launch` (several processes) every process trains on its share of each batch;
the main process alone writes files and decodes, the others wait for it.
"""
from __future__ import annotations

import functools
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep `repro --help` and `repro score` free of the torch import
    from repro.config import RunSpec

# registry dataset name and split names per dataset
REGISTRY_DATASET = {"e2e": "E2E", "webnlg": "WebNLG", "dart": "DART", "xsum": "XSUM",
                    "xsum_news_to_sports": "XSUM", "xsum_within_news": "XSUM",
                    "boolq": "BoolQ", "cb": "CB", "copa": "COPA", "multirc": "MultiRC", "record": "ReCoRD",
                    "rte": "RTE", "wic": "WiC", "wsc": "WSC"}
# registry split of a run's evaluation split (SuperGLUE is reported on dev: its test labels are hidden)
REGISTRY_SPLIT = {"dev": "dev", "fewglue_dev32": "dev"}
XSUM_SPLIT = {"xsum": "test", "xsum_news_to_sports": "news-to-sports", "xsum_within_news": "within-news"}
DART_REFERENCES = 3  # references per entry the official DART scoring uses


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


def provenance(seed: int) -> dict:
    import importlib.metadata as md

    import torch

    from repro.train import compiled_training, decode_engine

    def git(*args):
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                                  cwd=Path(__file__).parent).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    versions = {}
    for pkg in ("torch", "transformers", "peft", "datasets", "sacrebleu", "rouge-score", "pycocoevalcap"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})"
    return {"git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(git("status", "--porcelain")),
            "data_source": data_source(), "data_dir": str(data_dir()),
            "versions": versions, "python": platform.python_version(), "device": device,
            "torch_threads": torch.get_num_threads(), "seed": seed, "cpu_count": os.cpu_count(),
            "decode_engine": decode_engine(), "compiled_training": compiled_training(),
            # how busy the machine was (1, 5, 15 min) when the run ended: a wall time measured on a
            # shared CPU is not the run's cost (repro compute reports it)
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


# random subsets are the same for every run, seed and method (not drawn from the run's seed)
SUBSET_SEED = 0


def subset(items: list, n: int | None, how: str = "first") -> list:
    """The first `n` items, or `n` drawn without replacement with SUBSET_SEED and kept in order."""
    if not n or n >= len(items):
        return items
    if how == "random":
        return [items[i] for i in sorted(random.Random(SUBSET_SEED).sample(range(len(items)), n))]
    return items[:n]


def registry_dataset(spec: RunSpec) -> str:
    """The table's dataset name; a low-data run names its training-set size: "E2E (n=50)"."""
    name = REGISTRY_DATASET[spec.dataset]
    return f"{name} (n={spec.limits['lowdata_size']})" if "lowdata_size" in spec.limits else name


def data_source() -> str:
    """Where runs read their data: always "local", the files under `data_dir()` (a run whose split
    is missing stops with the `repro data fetch` command for it; `make reproduce-*` fetches first)."""
    return "local"


def data_dir() -> Path:
    """The data directory runs read: `$REPRO_DATA_DIR`, else data/ in the clone (repro.data.fetch)."""
    from repro.data.fetch import data_dir as resolve

    return resolve()


def load_data(spec: RunSpec):
    """(training pairs, evaluation examples) after the scale's limits: `train_pairs` / `eval_inputs`
    sizes, taken as the first ones or at random (`train_subset` / `eval_subset`: first | random)."""
    from repro.data import load, training_pairs

    if "lowdata_size" in spec.limits:  # Li & Liang §6.3: sampled set `lowdata_sample` of that size
        pairs = list(_lowdata_sample(spec).train)
    else:
        pairs = training_pairs(load(spec.dataset, spec.train_split))
    evaluation = load(spec.dataset, spec.eval_split)
    pairs = subset(pairs, spec.limits.get("train_pairs"), spec.limits.get("train_subset", "first"))
    evaluation = subset(evaluation, spec.limits.get("eval_inputs"), spec.limits.get("eval_subset", "first"))
    return pairs, evaluation


def dev_pairs(spec: RunSpec) -> list[tuple[str, str]]:
    """The pairs a run selects its checkpoint on by dev loss (`select_every` without a `select_metric`):
    a low-data run's sampler dev set, round(0.3 * size) pairs disjoint from its training set (Li & Liang
    §6.3); any other run's `select_inputs` random inputs of its `select_split` (all of them when 0), every
    reference of each as a pair, the same subset for every row and seed."""
    from repro.config import train_config
    from repro.data import load, training_pairs

    if "lowdata_size" in spec.limits:
        return list(_lowdata_sample(spec).dev)
    config = train_config(spec)
    return training_pairs(subset(load(spec.dataset, config.select_split), config.select_inputs or None, "random"))


def selection_metric(spec: RunSpec, collator, tokenizer, encoder_decoder: bool):
    """tuner -> (name, value) of the run's `select_metric` on its selection examples (`select_split`, the first
    `select_inputs`), decoded with the run's own decode settings and scored by its own scorer.
    "task" is the mean of the metrics the scorer reports (`task_metric`: acc for most SuperGLUE tasks,
    acc and F1 for CB, F1a and EM for MultiRC, EM and F1 for ReCoRD). The examples are loaded once, here."""
    from repro.config import train_config
    from repro.data import load
    from repro.methods import ConfigError
    from repro.train import decode

    config = train_config(spec)
    examples = subset(load(spec.dataset, config.select_split), config.select_inputs or None)
    batch_size, generation = generation_options(spec, tokenizer, collator, encoder_decoder)

    def metric(tuner) -> tuple[str, float]:
        outputs = decode(tuner, collator, [ex.source for ex in examples], batch_size, progress=False, **generation)
        rows = [row for row in score(spec, outputs, examples) if row.get("value") is not None]
        values = {row["metric"]: row["value"] for row in rows}
        if config.select_metric == "task":
            return task_metric(rows)
        name = config.select_metric
        if name not in values or "lower better" in name:
            raise ConfigError(f"select_metric={config.select_metric!r}: selection maximizes one of the metrics "
                              f"{spec.dataset} is scored with, {sorted(v for v in values if 'lower better' not in v)}")
        return name, values[name]

    return metric


def task_metric(rows: list[dict]) -> tuple[str, float]:
    """(name, value) of `select_metric: task` from a run's score rows: the mean of the higher-better
    metrics of the first split scored, as Lester et al. §3 early-stop ("the default metric for the
    dataset, or the average of metrics for datasets evaluated with multiple metrics"). One metric keeps
    its name (acc); several are named mean(acc,F1)."""
    from repro.methods import ConfigError

    split = rows[0]["split"] if rows else None
    chosen = [row for row in rows if row["split"] == split and "lower better" not in row["metric"]]
    if not chosen:
        raise ConfigError("select_metric='task': the run's scorer reports no higher-better metric to select on")
    names = [row["metric"] for row in chosen]
    name = names[0] if len(names) == 1 else f"mean({','.join(names)})"
    return name, sum(row["value"] for row in chosen) / len(chosen)


def _lowdata_sample(spec: RunSpec):
    """The run's low-data sample (training and dev pairs), drawn once: training and selection share it."""
    return _sample_of(spec.dataset, spec.train_split, str(data_dir()), spec.limits["lowdata_size"],
                      spec.limits["lowdata_sample"])


@functools.lru_cache(maxsize=2)
def _sample_of(dataset: str, split: str, root: str, size: int, sample: int):
    """`root` (the data directory `load` reads) only keys the cache."""
    from repro.data import load, training_pairs
    from repro.data.lowdata import sample_lowdata

    return sample_lowdata(training_pairs(load(dataset, split)), size, sample)


def score(spec: RunSpec, outputs: list[str], examples) -> list[dict]:
    """Registry-shaped scores: [{"split", "metric", "value"}] in the paper's units."""
    dataset = spec.dataset
    if dataset == "e2e":
        from repro.metrics import e2e

        s = e2e.score(outputs, [list(ex.references) for ex in examples])
        return [{"split": "test", "metric": m, "value": s[k] * f}
                for m, k, f in (("BLEU", "BLEU", 100), ("NIST", "NIST", 1), ("METEOR", "METEOR", 100),
                                ("ROUGE-L", "ROUGE_L", 100), ("CIDEr", "CIDEr", 1))]
    if dataset == "webnlg":
        from repro.metrics import webnlg

        entries = [webnlg.Entry(eid=int(str(ex.meta["eid"]).removeprefix("Id")), category=ex.meta["category"], size=int(ex.meta["size"]),
                                lexs=list(ex.references)) for ex in examples]
        present = ["all"] + [s for s in ("seen", "unseen") if webnlg.split_indices(entries, s)]
        s = webnlg.score(outputs, entries, splits=present)
        return [{"split": f"test-{split}", "metric": "TER(lower better)" if m == "TER" else m, "value": v}
                for split, values in s.items() for m, v in values.items()]
    if dataset == "dart":
        from repro.metrics import dart

        # the official evaluation reads three reference files (all-delex-reference{0,1,2}.lex): the
        # first three references of each entry (lowercased and tokenized there; cased text here)
        width = min(DART_REFERENCES, max(len(ex.references) for ex in examples))
        streams = [[ex.references[k] if k < len(ex.references) else "" for ex in examples] for k in range(width)]
        s = dart.score(outputs, streams, model_metrics=spec.scale == "paper")
        rows = [{"split": "test", "metric": "TER(lower better)" if m == "TER" else m, "value": s[m]}
                for m in ("BLEU", "METEOR", "TER")]
        for m in ("MoverScore", "BERTScore", "BLEURT"):
            rows.append({"split": "test", "metric": m, "value": s.get(m),
                         "unavailable": s.get(f"{m}_unavailable")} if s.get(m) is None else
                        {"split": "test", "metric": m, "value": s[m]})
        return rows
    if dataset.startswith("xsum"):
        from repro.metrics import xsum

        s = xsum.score(outputs, [ex.references[0] for ex in examples])
        return [{"split": XSUM_SPLIT[dataset], "metric": m, "value": s[k]}
                for m, k in (("ROUGE-1", "rouge1"), ("ROUGE-2", "rouge2"), ("ROUGE-L", "rougeL"))]
    if dataset in SUPERGLUE_TASKS:
        from repro.metrics import superglue

        # the generated text is the prediction (T5 / Lester: a label word); anything else is wrong
        predictions = [normalize_label(o) for o in outputs]
        split = REGISTRY_SPLIT.get(spec.eval_split, spec.eval_split)
        if dataset == "record":  # the generated entity, against every gold answer
            s = superglue.record_scores([o.strip() for o in outputs], [list(ex.references) for ex in examples])
            return [{"split": split, "metric": "EM", "value": 100 * s["em"]},
                    {"split": split, "metric": "F1", "value": 100 * s["f1"]}]
        if dataset == "wsc":  # does the generated text name the candidate, as the label says?
            s = superglue.wsc_scores(outputs, [ex.meta["referent"] for ex in examples],
                                     [ex.meta["label"] for ex in examples])
            return [{"split": split, "metric": "acc", "value": 100 * s["accuracy"]}]
        if dataset == "multirc":  # one example per answer option (idx "paragraph-question-answer")
            bits = {word: k for k, word in enumerate(("False", "True"))}
            s = superglue.multirc_scores([bits.get(p, -1) for p in predictions],
                                         [ex.meta["label_index"] for ex in examples],
                                         [str(ex.meta["idx"]).rsplit("-", 1)[0] for ex in examples])
            return [{"split": split, "metric": "F1a", "value": 100 * s["f1a"]},
                    {"split": split, "metric": "EM", "value": 100 * s["em"]}]
        s = superglue.score(dataset, predictions, [ex.meta["label"] for ex in examples])
        return [{"split": split, "metric": "acc" if m == "accuracy" else "F1", "value": 100 * v}
                for m, v in s.items()]
    raise NotImplementedError(f"scoring for dataset {dataset!r} is not wired into the runner; "
                              f"scored datasets: {sorted(REGISTRY_DATASET)}")


# scored SuperGLUE tasks (all eight)
SUPERGLUE_TASKS = ("boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc")


def normalize_label(output: str) -> str:
    """A generated answer as a label: stripped of surrounding whitespace and final punctuation."""
    return output.strip().rstrip(".").strip()


def run_inputs(spec: RunSpec):
    """(training pairs, evaluation examples, base model, tokenizer) of a run, seeded as the runner
    seeds them (the ensemble stage must rebuild the very base model its member runs used)."""
    import torch

    from repro.models import load_model_for_run

    torch.manual_seed(spec.seed)
    pairs, examples = load_data(spec)
    model, tokenizer = load_model_for_run(spec.model_name, [t for pair in pairs for t in pair], spec.seed)
    return pairs, examples, model, tokenizer


def positions_needed(spec: RunSpec, extra: int, encoder_decoder: bool) -> tuple[int, str] | None:
    """(learned positions the run's longest sequence takes, how that is summed), or None where the
    scale does not cap the source. GPT-2 puts a prefix, prompt or infix of `extra` positions in front
    of x (implementation_notes §9 trap 3; PT issue 40), so P + |x <eos>| + |y| must fit, |y| being
    the longer of the training targets and the generated tokens; BART prompt tuning puts P positions
    before the encoder input (a BART prefix lives inside attention and shifts no position)."""
    source = spec.limits.get("max_source_tokens")
    if not source:
        return None
    if encoder_decoder:
        extra = extra if spec.method == "prompt" else 0
        return extra + source, f"P + max_source_tokens = {extra} + {source}"
    target = max(spec.limits.get("max_target_tokens") or 0, spec.decode.get("max_new_tokens") or 0)
    return extra + source + 1 + target, (f"P + max_source_tokens + 1 (separator) + max(max_target_tokens, "
                                         f"max_new_tokens) = {extra} + {source} + 1 + {target}")


def check_positions(spec: RunSpec, tuner) -> None:
    """Refuse, before training, a run whose longest sequence cannot fit the model's learned positions
    (otherwise an IndexError deep inside the forward, maybe hours in)."""
    from repro.methods import ConfigError

    config = tuner.model.config
    limit = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)
    if limit and spec.limits.get("truncate_eval_sources") is False:
        raise ConfigError(f"{spec.run_id}: truncate_eval_sources: false leaves evaluation sources uncut, which "
                          f"{spec.model_name}'s {limit} learned positions cannot take; it is for models with "
                          "relative positions (T5, Lester's setting)")
    extra = next((getattr(tuner, name) for name in ("prefix_length", "prompt_length", "infix_length")
                  if getattr(tuner, name, None)), 0)
    needed = positions_needed(spec, extra, tuner.is_encoder_decoder)
    if limit and needed and needed[0] > limit:
        raise ConfigError(f"{spec.run_id}: {needed[1]} = {needed[0]} positions, but {spec.model_name} has {limit}; "
                          f"lower max_source_tokens (limits) by {needed[0] - limit} or more")


def collator_for(spec: RunSpec, tokenizer, encoder_decoder: bool):
    """The run's `Collator`: its token limits, source prefix, token layout, and whether decoding prompts
    are cut like training sources (`truncate_eval_sources`, default true)."""
    from repro.batches import Collator

    return Collator(tokenizer, encoder_decoder, spec.limits.get("max_source_tokens"),
                    spec.limits.get("max_target_tokens"), spec.source_prefix, token_layout=spec.token_layout,
                    truncate_prompts=spec.limits.get("truncate_eval_sources", True))


def generation_options(spec: RunSpec, tokenizer, collator, encoder_decoder: bool) -> tuple[int, dict]:
    """(decode batch size, `generate` keyword arguments) from the run's `decode` block."""
    generation = dict(spec.decode)
    batch_size = generation.pop("batch_size", 8)
    if generation.pop("ban_newlines", False):  # reference: bad_words_ids=[[628], [198]] ("\n\n", "\n" in GPT-2)
        generation["bad_words_ids"] = [tokenizer.encode(t, add_special_tokens=False) for t in ("\n\n", "\n")]
    if not encoder_decoder:
        generation.setdefault("pad_token_id", collator.pad)
        generation.setdefault("eos_token_id", collator.eos)
    return batch_size, generation


def run(spec: RunSpec, results_dir: str | Path = "results", force: bool = False, progress: bool = True) -> Path:
    """Train, decode and score one run into its run directory (skipped when finished, unless `force`).

    While it trains, the run holds its directory's lock (`repro.runlock`: host and pid in
    ``<run_dir>/.lock``, released on exit, taken over when its owner is dead); a run whose lock a live
    process holds is skipped, with a message, and its directory left alone."""
    from accelerate import PartialState

    from repro.runlock import holder, try_lock

    run_dir = Path(results_dir) / spec.reproduction / spec.scale / spec.run_id
    metrics_path = run_dir / "metrics.json"
    if metrics_path.exists() and not force:
        return run_dir
    state = PartialState()
    twin = None if force else find_twin(spec, Path(results_dir))
    if twin is not None:
        if state.is_main_process:
            link_run(spec, run_dir, twin)
            print(f"  {spec.run_id}: the same run as {twin.relative_to(results_dir)} (same config but for its labels): "
                  "linked, not recomputed", flush=True)
        return run_dir
    lock = try_lock(run_dir) if state.is_main_process else None
    held = [lock is not None]
    if state.num_processes > 1:  # every process of an `accelerate launch` follows the main one
        from accelerate.utils import broadcast_object_list

        broadcast_object_list(held)
    if not held[0]:
        if state.is_main_process:
            print(f"  skipped {spec.run_id}: another process is training it ({holder(run_dir)})", flush=True)
        return run_dir
    try:
        if metrics_path.exists() and not force:  # finished by the process that held the lock before us
            return run_dir
        return _train_run(spec, run_dir, force, progress)
    finally:
        if lock is not None:
            lock.release()


SHARED_FILES = ("provenance.json", "train_log.jsonl", "outputs.txt", "method")
SHARED_NOTE = "shared.json"


def find_twin(spec: RunSpec, results_dir: Path) -> Path | None:
    """A finished run of this scale, in any reproduction, that computed what `spec` would (same
    `compute_key`), and is itself computed, not linked; None when there is none."""
    from repro.config import compute_key_of

    key = spec.compute_key()
    own = results_dir / spec.reproduction / spec.scale / spec.run_id
    for config in sorted(results_dir.glob(f"*/{spec.scale}/*/config.json")):
        run_dir = config.parent
        if run_dir == own or not (run_dir / "metrics.json").is_file() or (run_dir / SHARED_NOTE).exists():
            continue
        try:
            if compute_key_of(json.loads(config.read_text())) == key:
                return run_dir
        except (json.JSONDecodeError, OSError):
            continue
    return None


def link_run(spec: RunSpec, run_dir: Path, twin: Path) -> None:
    """`run_dir` holds its own config.json and metrics.json (the twin's scores under this run's labels)
    and relative links to the twin's other files, with a note naming the twin; metrics.json, which
    marks a run finished, comes last."""
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(run_dir / "config.json", {**spec.to_dict(), "fingerprint": spec.fingerprint()})
    _write_json(run_dir / SHARED_NOTE, {"computed_in": os.path.relpath(twin, run_dir), "compute_key": spec.compute_key(),
                                        "note": "the same run as computed_in (its config differs only in labels); "
                                                "the files here are links to it"})
    for name in SHARED_FILES:
        target, link = twin / name, run_dir / name
        if target.exists() and not link.exists():
            os.symlink(os.path.relpath(target, run_dir), link)
    metrics = json.loads((twin / "metrics.json").read_text())
    metrics.update(reproduction=spec.reproduction, run_id=spec.run_id,
                   row={"dataset": registry_dataset(spec), "model": spec.model_row, "method": spec.row})
    _write_json(run_dir / "metrics.json", metrics)


def _train_run(spec: RunSpec, run_dir: Path, force: bool, progress: bool) -> Path:
    import torch
    from accelerate import Accelerator

    from repro import methods
    from repro.config import train_config
    from repro.train import decode, train

    metrics_path = run_dir / "metrics.json"
    accelerator = Accelerator()
    main = accelerator.is_main_process
    if force and main:
        if (run_dir / SHARED_NOTE).exists():  # a linked run: drop the links, never write through them
            for name in (*SHARED_FILES, SHARED_NOTE):
                path = run_dir / name
                if path.is_symlink() or name == SHARED_NOTE:
                    path.unlink(missing_ok=True)
        metrics_path.unlink(missing_ok=True)
        (run_dir / "checkpoint.pt").unlink(missing_ok=True)
        (run_dir / "train_log.jsonl").unlink(missing_ok=True)
        (run_dir / "config.json").unlink(missing_ok=True)
    accelerator.wait_for_everyone()
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / "config.json"
    resolved = {**spec.to_dict(), "fingerprint": spec.fingerprint()}
    if config_path.exists() and json.loads(config_path.read_text()).get("fingerprint") != resolved["fingerprint"]:
        raise RuntimeError(f"{run_dir} holds a run with a different config; pass force=True (--force) to redo it")
    if main:
        _write_json(config_path, resolved)
    began = time.time()
    pairs, examples, model, tokenizer = run_inputs(spec)
    torch.manual_seed(spec.seed)
    tuner = methods.build(model, spec.method, spec.options, tokenizer=tokenizer)
    encoder_decoder = tuner.is_encoder_decoder
    check_positions(spec, tuner)
    collator = collator_for(spec, tokenizer, encoder_decoder)
    config = train_config(spec)
    trained = None if force else finished_training(run_dir)
    if trained is None:
        summary = train(tuner, collator, pairs, config, run_dir, progress=progress, accelerator=accelerator,
                        dev_pairs=dev_pairs(spec) if config.selects and not config.select_metric else None,
                        dev_metric=selection_metric(spec, collator, tokenizer, encoder_decoder)
                        if config.select_metric else None)
    else:  # trained before, stopped while decoding: decode the saved artifact, do not train again
        summary = {**trained, "resumed_at": "decoding"}
        began -= trained.get("train_seconds", 0.0)
    if not main:
        accelerator.wait_for_everyone()
        return run_dir
    if trained is None:
        methods.save(tuner, run_dir / "method")
        decoder = tuner
    else:
        decoder = methods.load(tuner.model, run_dir / "method")
        print(f"  {spec.run_id}: trained before (method/ saved, training log ended); decoding it", flush=True)
    batch_size, generation = generation_options(spec, tokenizer, collator, encoder_decoder)
    outputs = decode(decoder, collator, [ex.source for ex in examples], batch_size, progress=progress, **generation)
    (run_dir / "outputs.txt").write_text("".join(o.replace("\n", " ") + "\n" for o in outputs))
    scores = score(spec, outputs, examples)
    _write_json(run_dir / "provenance.json", {**provenance(spec.seed), "wall_seconds": time.time() - began,
                                              "train": summary})
    _write_json(metrics_path, {
        "reproduction": spec.reproduction, "scale": spec.scale, "run_id": spec.run_id, "seed": spec.seed,
        "model_name": spec.model_name,
        "row": {"dataset": registry_dataset(spec), "model": spec.model_row, "method": spec.row},
        **({"sample": spec.limits["lowdata_sample"]} if "lowdata_sample" in spec.limits else {}),
        "n_train_pairs": len(pairs), "n_eval_inputs": len(examples),
        **({"selected_step": summary["selected_step"]} if "selected_step" in summary else {}),
        "trainable_parameters": tuner.num_trainable_parameters(),
        "inference_parameters": tuner.num_inference_parameters(),
        "scores": scores})
    accelerator.wait_for_everyone()
    return run_dir


def finished_training(run_dir: Path) -> dict | None:
    """The training summary of a run whose training ended and whose artifact was saved (method/ complete)
    but that stopped before its metrics: it resumes at decoding. None otherwise."""
    log, method = run_dir / "train_log.jsonl", run_dir / "method"
    if not (log.is_file() and (method / "method.json").is_file() and (method / "weights.safetensors").is_file()):
        return None
    end = None
    for line in log.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == "start":
            end = None  # a later training attempt
        elif event.get("event") == "end":
            end = {k: v for k, v in event.items() if k != "event"}
    return end


def check_run_data(specs: list[RunSpec]) -> None:
    """Load every (dataset, split) the runs read (training, evaluation and selection splits), once
    each; raises DataMissingError (naming the file and the `repro data fetch` command) for the first
    one that is missing."""
    from repro.data import load
    from repro.data_cli import run_data_needs

    for dataset, split in run_data_needs(specs):
        print(f"{dataset}/{split} (local): {len(load(dataset, split))} inputs", flush=True)


def run_reproduction(name: str, scale: str, results_dir: str | Path = "results", datasets=None,
                     force: bool = False, progress: bool = True, shard: str | None = None,
                     check_data: bool = False, allow_known_failure: bool = False) -> list[Path]:
    """Every run of a reproduction at one scale; `shard` "i/n" keeps runs i, i+n, i+2n, ... (0-based),
    so n processes or machines can share the runs of one scale. `check_data`: only check that
    the data of every run can be read (`repro run --check-data`; exit status 3 when it cannot).
    A scale whose config marks it `known_failure` raises KnownFailure unless `allow_known_failure`."""
    from accelerate import PartialState

    from repro.config import load_reproduction
    from repro.methods import ConfigError

    reproduction = load_reproduction(name)
    specs = reproduction.runs(scale, datasets)
    reason = reproduction.known_failure(scale)
    if reason and not allow_known_failure:
        raise KnownFailure(f"{name} at scale {scale!r} is marked known_failure in "
                           f"{reproduction.path}: {reason.strip()} "
                           f"(run it anyway: `repro run ... --allow-known-failure`, or make ... RUN_ARGS=--allow-known-failure)")
    if shard:
        try:
            index, count = (int(x) for x in shard.split("/"))
            assert 0 <= index < count
        except (ValueError, AssertionError):
            raise ConfigError(f"--shard {shard!r}: expected i/n with 0 <= i < n, e.g. 0/2") from None
        specs = specs[index::count]
    if check_data:
        check_run_data(specs)
        return []
    main = PartialState().is_main_process  # one process, or the first of `accelerate launch`
    done, skipped = [], []
    for i, spec in enumerate(specs, 1):
        if main:
            print(f"[{i}/{len(specs)}] {spec.run_id}", flush=True)
        done.append(run(spec, results_dir, force=force, progress=progress))
        if not (done[-1] / "metrics.json").exists():  # another process holds it (run said so)
            skipped.append(spec.run_id)
    if skipped and main:
        print(f"{len(skipped)} of {len(specs)} runs skipped: other processes were training them "
              f"({', '.join(skipped)}); run again once they finish to aggregate everything", flush=True)
    return done


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "run", help="train, decode and score every run of a reproduction at one scale",
        description="Run a reproduction (reproductions/<name>/config.yaml) at one scale. Each run writes "
                    "results/<name>/<scale>/<run_id>/; finished runs (metrics.json present) are skipped, "
                    "unfinished ones resume from their checkpoint.")
    parser.add_argument("--reproduction", required=True, help="directory name under reproductions/")
    parser.add_argument("--scale", required=True, help="smoke (tiny random models), mini (models/*-mini), or paper")
    parser.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--force", action="store_true", help="recompute finished runs")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--shard", default=None, help="i/n: only runs i, i+n, ... (share a scale among n processes)")
    parser.add_argument("--check-data", action="store_true",
                        help="only check that every run's data can be read; exit status 3 if some is missing")
    parser.add_argument("--allow-known-failure", action="store_true",
                        help="run a scale its config marks known_failure (otherwise: exit status 4 with the reason)")
    parser.set_defaults(func=_run_command)


def _run_command(args) -> int:
    from repro.data import DataMissingError

    try:
        run_reproduction(args.reproduction, args.scale, args.results_dir, args.dataset, args.force,
                         not args.no_progress, args.shard, args.check_data, args.allow_known_failure)
    except KnownFailure as err:
        print(f"repro run: {err}", file=sys.stderr)
        return KNOWN_FAILURE_EXIT
    except DataMissingError as err:
        if not args.check_data:
            raise
        print(f"repro run --check-data: {args.reproduction} ({args.scale}): data missing: {err}", file=sys.stderr)
        return DATA_MISSING_EXIT
    return 0


DATA_MISSING_EXIT = 3  # `repro run --check-data`: some data a run needs cannot be read
KNOWN_FAILURE_EXIT = 4  # `repro run`: the scale is marked known_failure in the reproduction's config


class KnownFailure(Exception):
    """The asked-for scale of a reproduction is known not to give meaningful numbers (config says why)."""
