"""The pretraining loop: deterministic, checkpointed, resumable, exported with `save_pretrained`.

Determinism: the initial weights come from `torch.manual_seed(recipe.seed)`, the data order and
BART noise from numpy generators keyed by (seed, step) (see data.py), dropout from torch's global
RNG, whose state is checkpointed. So an interrupted run resumed from its last checkpoint ends
with bit-identical weights to an uninterrupted one, on the same machine, torch build and thread
count (tests/test_pretrain.py checks it). `torch.use_deterministic_algorithms` is not needed for
that on CPU, and is not used: it imports torch._inductor (7 s).

The output directory, while training and after:
  recipe.json            the run's identity: recipe + corpus fingerprint (a different one is refused)
  corpus_manifest.json   the corpus files, their hashes, and the split sizes
  command.txt            the command line(s) that produced the run (one per start/resume)
  tokenizer.json, tokenizer_config.json
  training_log.jsonl     one JSON object per line: {"event": "train"|"eval"|"start"|"resume"|"export", ...}
  checkpoint.pt          model/optimizer/scheduler/RNG state; written to checkpoint.pt.tmp, then renamed
                         (removed after a successful export unless keep_checkpoint=True)
  config.json, generation_config.json, model.safetensors   the exported model (at the end)
  metrics.json           final validation perplexity, unigram baseline, fp16 check; written last,
                         so its presence means the run is complete

fp16 export: the weights are stored in fp16 iff the validation loss of the fp16-rounded weights
(computed in fp32, which is how `from_pretrained` loads them: config.json keeps dtype float32) is
within FP16_TOLERANCE = 1e-3 nats/token (0.1% perplexity) of the fp32 loss; otherwise in fp32.
transformers 5 always writes safetensors (its `safe_serialization` argument is gone).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import PretrainError
from .corpus import Corpus, load_corpus
from .data import IGNORE_INDEX, build_blocks
from .evaluate import perplexity, score, source_gain
from .recipes import Recipe

RUN_FILE = "recipe.json"
MANIFEST_FILE = "corpus_manifest.json"
COMMAND_FILE = "command.txt"
LOG_FILE = "training_log.jsonl"
CHECKPOINT_FILE = "checkpoint.pt"
METRICS_FILE = "metrics.json"
FP16_TOLERANCE = 1e-3  # nats per token


@dataclass
class TrainResult:
    model: torch.nn.Module          # the final fp32 model (for an already finished run: the exported one)
    out_dir: Path
    step: int
    finished: bool                  # False when stopped early by `stop_after`
    metrics: dict = field(default_factory=dict)


# ---------------------------------------------------------------- output directory

def check_out_dir(out: Path, recipe: Recipe, resume: bool) -> str:
    """Decide what to do with `out`: "fresh", "resume" or "done". Refuses to overwrite anything."""
    if out.exists() and not out.is_dir():
        raise PretrainError(f"Output path {str(out)!r} is a file. Choose a new or empty --out directory.")
    if not out.exists() or not any(out.iterdir()):
        return "fresh"
    run_file = out / RUN_FILE
    if not run_file.is_file():
        example = sorted(p.name for p in out.iterdir())[:3]
        raise PretrainError(f"Output directory {str(out)!r} is not empty and holds no pretraining run "
                            f"(found {example}). Choose a new or empty --out directory.")
    # a field added to Recipe later is absent from older runs: its default (the old behaviour) applies
    defaults = {f.name: f.default for f in dataclasses.fields(Recipe) if f.default is not dataclasses.MISSING}
    saved = {**defaults, **json.loads(run_file.read_text())["recipe"]}
    if saved != recipe.to_dict():
        diff = sorted(k for k in set(saved) | set(recipe.to_dict()) if saved.get(k) != recipe.to_dict().get(k))
        raise PretrainError(f"Output directory {str(out)!r} already holds a different model (recipe "
                            f"{saved.get('name')!r}; differs in {diff}). Choose another --out, or delete "
                            f"that directory to replace it.")
    if not resume:
        state = "a finished" if (out / METRICS_FILE).is_file() else "an unfinished"
        raise PretrainError(f"Output directory {str(out)!r} already holds {state} run of recipe {recipe.name!r}. "
                            f"Pass --resume to continue (or keep) it, or delete the directory to start over.")
    return "done" if (out / METRICS_FILE).is_file() else "resume"


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _log(out: Path, **row) -> None:
    with open(out / LOG_FILE, "a") as f:
        f.write(json.dumps(row) + "\n")


def _truncate_log(out: Path, step: int) -> None:
    """Drop log rows after `step` (steps redone after a resume would otherwise appear twice)."""
    path = out / LOG_FILE
    if path.is_file():
        rows = [line for line in path.read_text().splitlines() if json.loads(line).get("step", 0) <= step]
        path.write_text("".join(r + "\n" for r in rows))


# ---------------------------------------------------------------- optimisation

def lr_factor(recipe: Recipe, step: int) -> float:
    """Multiplier of the peak lr for the update after `step` updates: linear warmup, cosine decay."""
    if step < recipe.warmup_steps:
        return (step + 1) / recipe.warmup_steps
    progress = min(1.0, (step - recipe.warmup_steps) / max(1, recipe.max_steps - recipe.warmup_steps))
    return recipe.min_lr_ratio + (1 - recipe.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: torch.nn.Module, recipe: Recipe):
    """AdamW with weight decay on matrices (dim >= 2) only; biases, LayerNorms: none (nanoGPT)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": recipe.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=recipe.lr, betas=(recipe.beta1, recipe.beta2), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(recipe, s))
    return opt, sched


def save_checkpoint(path: Path, state: dict) -> None:
    """Atomic: write to a temporary file, then rename over the old checkpoint."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def count_parameters(model: torch.nn.Module) -> dict:
    total = sum(p.numel() for p in model.parameters())
    emb = model.get_input_embeddings().weight.numel()
    return {"total": total, "non_embedding": total - emb, "embedding": emb}


# ---------------------------------------------------------------- the run

def train(recipe: Recipe, out_dir: str | os.PathLike, corpus: Corpus | str | os.PathLike | None = None, *,
          resume: bool = False, stop_after: int | None = None, threads: int | None = None,
          progress: bool = True, command: str | None = None, keep_checkpoint: bool = False) -> TrainResult:
    """Train `recipe` into `out_dir` (see the module docstring), or continue it with `resume=True`.

    stop_after: stop once this many steps are done, without a checkpoint or export, as if the
        process had been killed there (used by the tests); `resume=True` later continues from the
        last checkpoint.
    corpus: a loaded Corpus, a directory, "wikitext-103", or None for $REPRO_CORPUS_DIR.
    """
    out = Path(out_dir)
    state = check_out_dir(out, recipe, resume)
    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _train(recipe, out, state, corpus, stop_after=stop_after, progress=progress, command=command,
                      keep_checkpoint=keep_checkpoint)
    finally:
        torch.set_num_threads(previous_threads)


def _train(recipe: Recipe, out: Path, state: str, corpus, *, stop_after, progress, command, keep_checkpoint):
    from transformers import AutoTokenizer

    from repro.tiny_tokenizer import make_tokenizer, train_bpe

    if not isinstance(corpus, Corpus):
        corpus = load_corpus(corpus)

    if state == "fresh":
        bpe = train_bpe(corpus.train, recipe.vocab_size)  # before anything is written: may raise
        out.mkdir(parents=True, exist_ok=True)
        tokenizer = make_tokenizer(bpe, recipe.arch, model_max_length=recipe.seq_len)
        tokenizer.save_pretrained(out)
        _write_json(out / MANIFEST_FILE, corpus.manifest)
        _write_json(out / RUN_FILE, {"recipe": recipe.to_dict(), "corpus_fingerprint": corpus.fingerprint})
        (out / LOG_FILE).write_text("")
    else:
        saved = json.loads((out / RUN_FILE).read_text())["corpus_fingerprint"]
        if saved != corpus.fingerprint:
            raise PretrainError(f"Output directory {str(out)!r} was trained on a different corpus (fingerprint "
                                f"{saved[:12]}…, now {corpus.fingerprint[:12]}…). Resume with the same corpus "
                                f"(REPRO_CORPUS_DIR / --corpus), or choose another --out.")
        tokenizer = AutoTokenizer.from_pretrained(out)
    if command:
        with open(out / COMMAND_FILE, "a") as f:
            f.write(command + "\n")

    if state == "done":
        model = _load_exported(out, recipe)
        metrics = json.loads((out / METRICS_FILE).read_text())
        return TrainResult(model, out, recipe.max_steps, True, metrics)

    bpe = tokenizer.backend_tokenizer
    train_blocks = build_blocks(recipe, bpe, corpus.train)
    valid_blocks = build_blocks(recipe, bpe, corpus.valid)
    if len(train_blocks) < recipe.batch_size or len(valid_blocks) == 0:
        raise PretrainError(f"The corpus is too small for recipe {recipe.name!r}: {len(train_blocks)} training and "
                            f"{len(valid_blocks)} validation blocks of {recipe.seq_len} tokens (need at least "
                            f"{recipe.batch_size} and 1). Use a larger corpus (REPRO_CORPUS_DIR / --corpus).")
    periodic_eval = list(valid_blocks.eval_batches(recipe, recipe.eval_batches))
    periodic_mask_only = list(valid_blocks.eval_batches(recipe, recipe.eval_batches, source="mask_only")) \
        if recipe.arch == "bart" else None

    model = recipe.build_model()
    if recipe.unigram_logits_bias and recipe.arch == "bart":
        # BART's output bias `final_logits_bias` (a fixed buffer, saved with the model) set to the
        # training unigram log-probabilities. With it at zero the decoder learns the unigram through
        # the mean of uniform cross-attention instead, which pushes every encoder position toward one
        # vector: measured here, the encoder collapsed and the source never mattered (no source gain
        # after 1,000 steps; on a pure copy task none after 150 steps, vs 8.4 nats with the bias).
        from .evaluate import unigram_counts, unigram_log_probs

        with torch.no_grad():
            model.final_logits_bias.copy_(unigram_log_probs(unigram_counts(train_blocks, recipe.vocab_size))
                                          .to(model.final_logits_bias.dtype).unsqueeze(0))
    opt, sched = make_optimizer(model, recipe)
    step, tokens_seen, elapsed = 0, 0, 0.0
    ckpt = out / CHECKPOINT_FILE
    if ckpt.is_file():
        s = torch.load(ckpt, weights_only=True)
        model.load_state_dict(s["model"])
        opt.load_state_dict(s["optimizer"])
        sched.load_state_dict(s["scheduler"])
        torch.set_rng_state(s["torch_rng"])
        step, tokens_seen, elapsed = s["step"], s["tokens_seen"], s["elapsed_s"]
    _truncate_log(out, step)
    _log(out, event="resume" if step else "start", step=step, time=_now(), threads=torch.get_num_threads(),
         torch=torch.__version__, train_blocks=len(train_blocks), valid_blocks=len(valid_blocks),
         params=count_parameters(model))

    def checkpoint():
        save_checkpoint(ckpt, {"step": step, "tokens_seen": tokens_seen, "elapsed_s": elapsed,
                               "model": model.state_dict(), "optimizer": opt.state_dict(),
                               "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state()})

    model.train()
    window_loss, window_tokens, window_steps, window_time = 0.0, 0, 0, 0.0
    bar = _progress(recipe, step, progress)
    while step < recipe.max_steps:
        if stop_after is not None and step >= stop_after:
            break
        t0 = time.perf_counter()
        batch = train_blocks.train_batch(recipe, step)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        n_tokens = int((batch["labels"] != IGNORE_INDEX).sum())
        tokens_seen += n_tokens
        dt = time.perf_counter() - t0
        elapsed += dt
        window_time += dt
        window_loss += loss.item()
        window_tokens += n_tokens
        window_steps += 1

        if step % recipe.log_every == 0 or step == recipe.max_steps:
            row = {"event": "train", "step": step, "loss": window_loss / window_steps,
                   "lr": sched.get_last_lr()[0], "tokens": tokens_seen, "elapsed_s": round(elapsed, 2),
                   "tokens_per_s": round(window_tokens / max(window_time, 1e-9), 1)}  # training steps only
            _log(out, **row)
            bar.set_postfix(loss=f"{row['loss']:.3f}", tok_s=f"{row['tokens_per_s']:.0f}")
            window_loss, window_tokens, window_steps, window_time = 0.0, 0, 0, 0.0
        if step % recipe.eval_every == 0 or step == recipe.max_steps:
            val = perplexity(model, periodic_eval, recipe.arch)
            extra = {}
            if periodic_mask_only:  # bart: is the encoder used? (source_gain ~ 0: it is not)
                extra["source_gain_nats"] = source_gain(val, perplexity(model, periodic_mask_only, recipe.arch))
            _log(out, event="eval", step=step, val_loss=val["loss"], val_ppl=val["ppl"], val_tokens=val["tokens"],
                 **extra)
        if step % recipe.checkpoint_every == 0 or step == recipe.max_steps:
            checkpoint()
        bar.update(1)
    bar.close()

    if step < recipe.max_steps:
        return TrainResult(model, out, step, False)
    metrics = export(model, recipe, out, train_blocks, valid_blocks, tokens_seen=tokens_seen, elapsed=elapsed)
    if not keep_checkpoint:
        (out / CHECKPOINT_FILE).unlink(missing_ok=True)
    return TrainResult(model, out, step, True, metrics)


def export(model, recipe: Recipe, out: Path, train_blocks, valid_blocks, *, tokens_seen: int, elapsed: float) -> dict:
    """Final evaluation on the whole validation split, the fp16 check, save_pretrained, metrics.json."""
    import transformers

    final = score(model, recipe, train_blocks, valid_blocks)
    rounded = copy.deepcopy(model).half().float()
    fp16_loss = perplexity(rounded, valid_blocks.eval_batches(recipe), recipe.arch)["loss"]
    delta = abs(fp16_loss - final["model"]["loss"])
    use_fp16 = delta <= FP16_TOLERANCE

    # A fresh model whose config carries the export dropout; same weights.
    exported = type(model)(recipe.model_config(dropout=recipe.export_dropout))
    exported.load_state_dict(model.state_dict())
    weights = (rounded.half() if use_fp16 else model).state_dict()  # tied weights stay shared -> saved once
    exported.save_pretrained(out, state_dict=weights)  # config.json says float32: loads as fp32

    metrics = {
        "recipe": recipe.name, "steps": recipe.max_steps, "tokens_seen": tokens_seen,
        "train_time_s": round(elapsed, 1), "tokens_per_s": round(tokens_seen / max(elapsed, 1e-9), 1),
        "params": count_parameters(model),
        "validation": final,
        "fp16_check": {"fp32_loss": final["model"]["loss"], "fp16_loss": fp16_loss, "abs_delta": delta,
                       "tolerance": FP16_TOLERANCE, "saved_dtype": "float16" if use_fp16 else "float32"},
        "threads": torch.get_num_threads(), "torch": torch.__version__, "transformers": transformers.__version__,
    }
    extra = {"mask_only_source_ppl": final["model_mask_only_source"]["ppl"]} if recipe.arch == "bart" else {}
    _log(out, event="export", step=recipe.max_steps, time=_now(), val_loss=final["model"]["loss"],
         val_ppl=final["model"]["ppl"], unigram_ppl=final["unigram"]["ppl"],
         saved_dtype=metrics["fp16_check"]["saved_dtype"], **extra)
    _write_json(out / METRICS_FILE, metrics)
    return metrics


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _load_exported(out: Path, recipe: Recipe):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return (AutoModelForCausalLM if recipe.arch == "gpt2" else AutoModelForSeq2SeqLM).from_pretrained(out)


def _progress(recipe: Recipe, step: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=recipe.max_steps, initial=step, desc=recipe.name, disable=not enabled, unit="step")
