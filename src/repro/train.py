"""The training loop shared by every method: AdamW, linear schedule, gradient clipping,
deterministic data order, atomic checkpoints and resume, and best-dev-loss selection.

Defaults follow the reference GPT-2 trainer (implementation_notes §7.1): AdamW (betas 0.9/0.999,
eps 1e-8, weight decay 0), linear decay to 0, warmup 0 (100 in the low-data runs), gradient
clipping 1.0, seed 101. The data order of epoch e is a permutation drawn from (seed, e), so a run
resumed from a checkpoint sees exactly the batches the uninterrupted run would have seen.

Data parallelism goes through Hugging Face `accelerate` (`accelerate launch --multi_gpu
--num_processes N -m repro run ...`): every process draws the same global batch, takes its
contiguous share, and weights its loss by its share of the batch's sequences (or label tokens,
for a token-mean loss), so that the averaged gradient and the logged loss are those of one
process on the whole batch. The global batch size therefore stays the config's `batch_size`
whatever the number of processes. Only the main process writes logs and checkpoints.

Selection (`select_every` > 0 and dev pairs given): every `select_every` steps and at the end, the
mean loss on the dev pairs is computed (eval mode, no RNG drawn, so the training trajectory is
unchanged); the trainable state with the lowest dev loss is kept, in memory and in the checkpoint,
and is the state the run ends with. This is the reference's low-data protocol (implementation_notes
§5: dev loss every `eval_steps` 50, only the best checkpoint kept, the final model not saved).
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from repro.methods.base import ConfigError

CHECKPOINT = "checkpoint.pt"


OPTIMIZERS = ("adamw", "adafactor", "adafactor_t5x")
SCHEDULES = ("linear", "constant")


class T5XAdafactor(torch.optim.Optimizer):
    """T5X's Adafactor (`t5x/adafactor.py`, `apply_param_gradient`) as the prompt-tuning configs set it
    (`configs/models/t5_1_1_prompt.gin`: decay_rate 0.8, step_offset 0, no parameter scaling, weight
    decay 1e-5; T5X's defaults for the rest: no momentum, update clipping 1.0, epsilon1 1e-30,
    min_dim_size_to_factor 128, no global gradient clipping). Where it differs from HF's `Adafactor`:

    * weight decay is not scaled by the learning rate: p <- (1 - weight_decay) * p - lr * update
      (HF: p <- p - weight_decay * lr * p - lr * update);
    * the second moment of a matrix is factored only when its two largest dimensions are both at least
      `min_dim_size_to_factor` (T5X's heuristic, which a matrix's factor rule always falls back to):
      a 100 x d prompt keeps a full second moment, a 150 x d one is factored (HF factors every matrix).

    Step t (1-based): decay = 1 - t^-0.8; v = decay * v + (1 - decay) * (g^2 + epsilon1) (full, or as
    the row and column means); update = g / sqrt(v) divided by max(1, rms(update) / clipping_threshold).
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0, decay_rate: float = 0.8,
                 clipping_threshold: float | None = 1.0, epsilon1: float = 1e-30, min_dim_size_to_factor: int = 128):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, decay_rate=decay_rate,
                                      clipping_threshold=clipping_threshold, epsilon1=epsilon1,
                                      min_dim_size_to_factor=min_dim_size_to_factor))

    @staticmethod
    def factored_dims(shape, min_dim: int) -> tuple[int, int] | None:
        """(row dim, column dim) to factor over, or None: T5X's `_factored_dims`."""
        if len(shape) < 2:
            return None
        order = sorted(range(len(shape)), key=lambda i: shape[i])  # numpy's stable argsort
        if shape[order[-2]] < min_dim:
            return None
        return order[-2], order[-1]

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.float()
                state = self.state[p]
                dims = self.factored_dims(tuple(p.shape), group["min_dim_size_to_factor"])
                if not state:
                    state["step"] = 0
                    if dims is None:
                        state["v"] = torch.zeros_like(grad)
                    else:
                        state["v_row"] = torch.zeros_like(grad).mean(dims[1])
                        state["v_col"] = torch.zeros_like(grad).mean(dims[0])
                state["step"] += 1
                decay = 1.0 - state["step"] ** -group["decay_rate"]
                grad_sqr = grad * grad + group["epsilon1"]
                if dims is None:
                    state["v"].mul_(decay).add_(grad_sqr, alpha=1 - decay)
                    update = grad * state["v"].rsqrt()
                else:
                    row_dim, col_dim = dims
                    state["v_row"].mul_(decay).add_(grad_sqr.mean(col_dim), alpha=1 - decay)
                    state["v_col"].mul_(decay).add_(grad_sqr.mean(row_dim), alpha=1 - decay)
                    # v_row lost col_dim: the row dim's index in it shifts down if it came after
                    reduced_row = row_dim - (col_dim < row_dim)
                    row_factor = (state["v_row"] / state["v_row"].mean(reduced_row, keepdim=True)).rsqrt()
                    update = grad * row_factor.unsqueeze(col_dim) * state["v_col"].rsqrt().unsqueeze(row_dim)
                if group["clipping_threshold"] is not None:
                    rms = update.pow(2).mean().sqrt()
                    update = update / torch.clamp(rms / group["clipping_threshold"], min=1.0)
                new = p.float() * (1.0 - group["weight_decay"]) - group["lr"] * update
                p.copy_(new.to(p.dtype))


def make_optimizer(params, config: "TrainConfig"):
    if config.optimizer == "adafactor_t5x":
        return T5XAdafactor(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    if config.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        return Adafactor(params, lr=config.learning_rate, scale_parameter=False, relative_step=False,
                         warmup_init=False, decay_rate=-0.8, clip_threshold=1.0, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.learning_rate, betas=(0.9, 0.999), eps=1e-8,
                             weight_decay=config.weight_decay)


def make_schedule(optimizer, config: "TrainConfig", total: int):
    from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

    if config.schedule == "constant":
        return get_constant_schedule_with_warmup(optimizer, config.warmup_steps)
    return get_linear_schedule_with_warmup(optimizer, config.warmup_steps, total)


@dataclass
class TrainConfig:
    learning_rate: float = 5e-5
    epochs: int = 5
    max_steps: int | None = None  # overrides epochs when set (low-data runs)
    batch_size: int = 5
    warmup_steps: int = 0
    grad_clip: float = 1.0
    weight_decay: float = 0.0
    seed: int = 101
    checkpoint_every: int = 500  # optimizer steps; 0 = only at the end
    # "adamw" (Prefix-Tuning: betas 0.9/0.999, eps 1e-8), "adafactor" (HF's: no parameter scaling, beta2
    # decay 0.8, update clipping 1.0, weight decay `weight_decay` scaled by the learning rate, every matrix
    # factored) or "adafactor_t5x" (T5X's, as Lester's prompt-tuning configs: `T5XAdafactor`)
    optimizer: str = "adamw"
    schedule: str = "linear"  # "linear" (warmup then linear decay to 0) or "constant" (after warmup; Lester)
    # every N steps (and at the end) score the dev pairs and end with the lowest-dev-loss state;
    # 0 = end with the last step (the reference's low-data runs: 50)
    select_every: int = 0
    # also select at the end of every epoch (and at the end): Lightning's validation, once per epoch,
    # in Li & Liang's XSUM code (val ROUGE-2 on 500 articles)
    select_every_epoch: bool = False
    # what selection scores: "" = the dev loss (above); a metric name ("ROUGE-2", "acc", ...) or
    # "task" (the mean of the metrics the dataset is scored with: acc; acc and F1 for CB; F1a and EM for
    # MultiRC; EM and F1 for ReCoRD) = that metric of the run's own decoding of `select_split`'s first
    # `select_inputs` examples (0 = all), higher better: Lester §3 early-stops on "the default metric for
    # the dataset, or the average of metrics for datasets evaluated with multiple metrics"; Li & Liang's
    # XSUM code validates on val ROUGE-2 (500 articles)
    select_metric: str = ""
    select_split: str = "dev"
    select_inputs: int = 0
    # 0 = batches drawn at random from each epoch's permutation (the reference code's RandomSampler);
    # N > 0 = that permutation cut into groups of N batches, each group sorted by token length and its
    # batches shuffled, so a batch pads little: transformers Trainer's group_by_length (megabatches of
    # 50), here with the group's batch order shuffled as well. A speed lever of the mini scale (E2E
    # pads 31% and WebNLG 72% on top of the real tokens in random batches of 5; grouped by 50: 1-3%)
    length_groups: int = 0

    def __post_init__(self):
        if self.learning_rate <= 0 or self.batch_size <= 0 or self.epochs <= 0:
            raise ConfigError(f"learning_rate, batch_size and epochs must be positive: {self}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer={self.optimizer!r}; choose one of {OPTIMIZERS}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule={self.schedule!r}; choose one of {SCHEDULES}")
        if self.max_steps is not None and self.max_steps <= 0:
            raise ConfigError(f"max_steps must be positive, got {self.max_steps}")
        if self.select_every < 0:
            raise ConfigError(f"select_every must be >= 0 (0 = keep the last step), got {self.select_every}")
        if self.select_metric and not self.selects:
            raise ConfigError(f"select_metric={self.select_metric!r} needs select_every > 0 or select_every_epoch "
                              "(how often to score it)")
        if self.select_inputs < 0:
            raise ConfigError(f"select_inputs must be >= 0 (0 = the whole split), got {self.select_inputs}")
        if self.length_groups < 0:
            raise ConfigError(f"length_groups must be >= 0 (0 = random batches), got {self.length_groups}")

    @property
    def selects(self) -> bool:
        """Whether the run selects its end state (every `select_every` steps and/or every epoch)."""
        return bool(self.select_every or self.select_every_epoch)

    def selects_at(self, done: int, total: int, n_examples: int) -> bool:
        """Whether selection scores the state after `done` optimizer steps."""
        if not self.selects:
            return False
        every_epoch = self.select_every_epoch and done % math.ceil(n_examples / self.batch_size) == 0
        return done == total or every_epoch or bool(self.select_every and done % self.select_every == 0)

    def total_steps(self, n_examples: int) -> int:
        per_epoch = math.ceil(n_examples / self.batch_size)
        return self.max_steps or per_epoch * self.epochs


def epoch_order(seed: int, epoch: int, n: int) -> list[int]:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch)).tolist()


def epoch_batches(config: TrainConfig, epoch: int, n: int, lengths: list[int] | None = None) -> list[list[int]]:
    """One epoch's batches of the n examples: consecutive slices of the epoch's permutation, or with
    `length_groups` N (then `lengths`, each example's token count, is needed), groups of N batches
    sorted by length (longest first, ties in permutation order) and their batch order shuffled within
    the group. Either way every example appears once per epoch and there are ceil(n / batch_size)
    batches, so the step count and schedule do not depend on the grouping."""
    if config.length_groups and (lengths is None or len(lengths) != n):
        raise ValueError("length_groups needs the token length of every training example")
    size = config.batch_size
    order = epoch_order(config.seed, epoch, n)
    if not config.length_groups:
        return [order[k:k + size] for k in range(0, n, size)]
    generator = torch.Generator().manual_seed(config.seed * 1000 + epoch + 500)
    out, span = [], config.length_groups * size
    for start in range(0, n, span):
        group = sorted(order[start:start + span], key=lambda i: -lengths[i])
        chunk = [group[k:k + size] for k in range(0, len(group), size)]
        out += [chunk[j] for j in torch.randperm(len(chunk), generator=generator).tolist()]
    return out


def batches(config: TrainConfig, n: int, start_step: int, total: int, lengths: list[int] | None = None):
    """(step, indices) for steps start_step..total-1, cycling epochs with per-epoch permutations
    (`lengths`: each example's token count, needed with `config.length_groups`)."""
    per_epoch, cached = math.ceil(n / config.batch_size), (None, None)
    for step in range(start_step, total):
        epoch, k = divmod(step, per_epoch)
        if cached[0] != epoch:
            cached = (epoch, epoch_batches(config, epoch, n, lengths))
        yield step, cached[1][k]


def shard(indices: list[int], rank: int, world: int) -> tuple[list[int], bool]:
    """This process's contiguous share of a global batch, and whether it is a real share.

    A process left without examples (a final batch smaller than the number of processes) gets the
    batch's first example as a stand-in whose loss is weighted by 0: every process must run a
    forward and backward pass for the gradient all-reduce.
    """
    per, extra = divmod(len(indices), world)
    start = rank * per + min(rank, extra)
    mine = indices[start:start + per + (rank < extra)]
    return (mine, True) if mine else (indices[:1], False)


def loss_weight(labels: torch.Tensor, reduction: str, shift: bool) -> int:
    """How many units the tuner's loss averages over: sequences, or predicted label tokens (a
    `batch_sum` loss is the sum over those tokens)."""
    if reduction == "sequence_sum":
        return labels.shape[0]
    return int((labels[:, 1:] if shift else labels).ne(-100).sum())


def loss_total(loss: float, units: int, reduction: str) -> float:
    """The summed loss over `units` of a batch whose loss is `loss` (a mean over its units, or already a sum)."""
    return loss if reduction == "batch_sum" else loss * units


def trainable_state(tuner) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in tuner.named_parameters() if p.requires_grad}


def load_trainable_state(tuner, state: dict[str, torch.Tensor]) -> None:
    own = dict(tuner.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            own[name].copy_(value)


@torch.no_grad()
def dev_loss(tuner, collator, pairs: list[tuple[str, str]], batch_size: int, device) -> float:
    """The tuner's loss on `pairs` as one batch would give it (batches weighted by their units:
    sequences for a per-sequence-sum loss, label tokens for a token mean; a `batch_sum` loss is
    reported per label token), in eval mode."""
    was_training = tuner.training
    tuner.eval()
    total = units = 0.0
    for i in range(0, len(pairs), batch_size):
        batch = collator.train_batch(pairs[i:i + batch_size]).to(device)
        n = loss_weight(batch.labels, tuner.loss_reduction, not tuner.is_encoder_decoder)
        total += loss_total(tuner(**batch.as_kwargs()).loss.item(), n, tuner.loss_reduction)
        units += n
    tuner.train(was_training)
    return total / units


def _save_checkpoint(path: Path, tuner, optimizer, scheduler, step: int, best: dict | None = None):
    state = {"step": step, "trainable": trainable_state(tuner),
             "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "torch_rng": torch.get_rng_state(), "best": best}
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train(tuner, collator, pairs: list[tuple[str, str]], config: TrainConfig, run_dir: str | Path,
          progress: bool = True, accelerator=None, dev_pairs: list[tuple[str, str]] | None = None,
          dev_metric=None) -> dict:
    """Train `tuner` on (source, target) pairs; checkpoints and a JSONL log go to `run_dir`.

    Resumes from `run_dir/checkpoint.pt` when present. Returns a summary (steps, final loss, time;
    with selection, the selected step and its dev loss). `accelerator`: an `accelerate.Accelerator`
    (one is made when None: on one process it only places the model on the available device).
    `dev_pairs`: scored every `config.select_every` steps (required when that is > 0).
    `dev_metric`: with `config.select_metric`, a callable tuner -> (metric name, value), higher
    better (`repro.runner.selection_metric`), used instead of the dev loss.
    """
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    compiled = compiled_training()
    accelerator = accelerator or Accelerator()
    main = accelerator.is_main_process
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not pairs:
        raise ConfigError("no training pairs")
    if config.select_metric and dev_metric is None:
        raise ConfigError(f"select_metric={config.select_metric!r} needs a dev_metric to call (the runner builds it)")
    if config.selects and not config.select_metric and not dev_pairs:
        raise ConfigError(f"select_every={config.select_every} needs dev pairs to select on; this run has none "
                          "(set select_every: 0, or give the run a dev set, e.g. the low-data sampler's)")
    model = accelerator.prepare_model(tuner)  # DistributedDataParallel over >1 process, else `tuner`
    device = accelerator.device
    total = config.total_steps(len(pairs))
    torch.manual_seed(config.seed)
    params = tuner.trainable_parameters()
    optimizer = make_optimizer(params, config)
    scheduler = make_schedule(optimizer, config, total)
    start, best = 0, None  # best: {"step", "dev_loss", "trainable"} of the lowest dev loss so far
    checkpoint = run_dir / CHECKPOINT
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        load_trainable_state(tuner, state["trainable"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        start, best = state["step"], state.get("best")
    log = open(run_dir / "train_log.jsonl", "a") if main else None
    if log:
        log.write(json.dumps({"event": "resume" if start else "start", "step": start, "total_steps": total,
                              "processes": accelerator.num_processes, "config": asdict(config)}) + "\n")
    rank, world = accelerator.process_index, accelerator.num_processes
    tuner.train()
    began, loss_value = time.time(), float("nan")
    bar = tqdm(total=total, initial=start, desc="train", disable=not (progress and main), dynamic_ncols=True)
    lengths = [collator.pair_length(*pair) for pair in pairs] if config.length_groups else None
    # the dev loss and the selection decoding stay eager (eval mode, no grad: graphs of their own)
    forward = torch.compile(model) if compiled else model
    for step, indices in batches(config, len(pairs), start, total, lengths):
        mine, real = shard(indices, rank, world)
        batch = collator.train_batch([pairs[i] for i in mine]).to(device)
        loss = forward(**batch.as_kwargs()).loss
        if world > 1:  # weight by this share of the batch, so the all-reduced mean is the batch's
            units = loss_weight(batch.labels, tuner.loss_reduction, not tuner.is_encoder_decoder) if real else 0
            summed = loss_total(loss.item(), units, tuner.loss_reduction) if real else 0.0
            counts = accelerator.reduce(torch.tensor([float(units), summed], device=device), "sum")
            if tuner.loss_reduction == "batch_sum":  # a sum: the batch's is the sum of the shares'
                loss = loss * (world if real else 0)
                loss_value = counts[1].item()
            else:
                loss = loss * (units * world / counts[0].item())
                loss_value = (counts[1] / counts[0]).item()
        else:
            loss_value = loss.item()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        scheduler.step()
        bar.update(1)
        bar.set_postfix(loss=f"{loss_value:.3f}")
        done = step + 1
        if log:
            log.write(json.dumps({"event": "train", "step": done, "loss": loss_value,
                                  "lr": scheduler.get_last_lr()[0]}) + "\n")
        if config.selects_at(done, total, len(pairs)):
            # every process scores the whole dev set on its own copy: the choice is the same everywhere.
            # best["dev_loss"] is the value minimized: the loss, or minus the selection metric
            if config.select_metric:
                name, metric = dev_metric(tuner)
                tuner.train()
                value, logged = -metric, {f"dev_{name}": metric}
            else:
                value = dev_loss(tuner, collator, dev_pairs, config.batch_size, device)
                logged = {"dev_loss": value}
            if best is None or value < best["dev_loss"]:
                best = {"step": done, "dev_loss": value, "trainable": trainable_state(tuner), "logged": logged}
            if log:
                log.write(json.dumps({"event": "dev", "step": done, **logged}) + "\n")
        if config.checkpoint_every and done % config.checkpoint_every == 0 and done < total and main:
            _save_checkpoint(checkpoint, tuner, optimizer, scheduler, done, best)
            log.flush()
    bar.close()
    tuner.eval()
    summary = {"steps": total, "final_loss": loss_value, "train_seconds": time.time() - began,
               "processes": world}
    if best is not None:
        load_trainable_state(tuner, best["trainable"])
        logged = best.get("logged", {"dev_loss": best["dev_loss"]})  # (checkpoints before select_metric)
        summary.update(selected_step=best["step"], **{f"selected_{k}": v for k, v in logged.items()})
    accelerator.wait_for_everyone()
    if log:
        log.write(json.dumps({"event": "end", **summary}) + "\n")
        log.close()
        checkpoint.unlink(missing_ok=True)
    return summary


DECODE_ENGINES = ("ours", "generate")


def execution_choice(name: str, default: str, choices: tuple[str, ...], fix: str) -> str:
    """An environment variable that picks how a run executes (not what it computes), checked: a value
    outside `choices` is one ConfigError naming the variable and `fix`."""
    value = os.environ.get(name, default)
    if value not in choices:
        raise ConfigError(f"{name}={value!r}; {fix}")
    return value


def compiled_training() -> bool:
    """Whether `train` runs the training forward through `torch.compile` (REPRO_COMPILE=1; default 0).
    An execution choice like the thread count, not part of a run's config: the same computation with
    fused kernels, equal to eager within float32 rounding (tests/test_train.py), its speed measured by
    `make bench BENCH_ARGS="--batching --compile"`. Provenance records it."""
    return execution_choice("REPRO_COMPILE", "0", ("0", "1"), "use 1 (compile the training step) or 0 (eager)") == "1"


def decode_engine() -> str:
    """`repro.decoding` ("ours", the default) or the model's own `generate` (REPRO_DECODE_ENGINE=generate,
    the reference: same outputs, slower). An execution choice, not part of a run's config; provenance
    records it."""
    return execution_choice("REPRO_DECODE_ENGINE", "ours", DECODE_ENGINES, f"choose one of {DECODE_ENGINES}")


@torch.no_grad()
def decode(tuner, collator, sources: list[str], batch_size: int, progress: bool = True, engine: str | None = None,
           **generation_kwargs) -> list[str]:
    """Generate one output per source, in order, with every generation option explicit.

    Inputs are decoded in order of their token length (so a batch carries little padding) and the
    outputs put back in the input order (a tuner that returns k rows per input, PromptEnsemble, gives
    k consecutive outputs per input)."""
    from tqdm.auto import tqdm

    from repro import decoding

    engine = engine or decode_engine()
    if engine == "generate" and generation_kwargs.get("length_normalization", "generated") != "generated":
        raise ConfigError("length_normalization=full_sequence needs the repro decoding engine (transformers' "
                          "generate divides by the generated length only); unset REPRO_DECODE_ENGINE")
    kwargs = dict(generation_kwargs)
    if engine == "generate":
        kwargs.pop("length_normalization", None)
    tuner.eval()
    device = next(tuner.parameters()).device
    lengths = [len(collator.source_ids(s)) for s in sources]
    order = sorted(range(len(sources)), key=lambda i: (lengths[i], i))
    # a tuner may return several rows per input (PromptEnsemble: one per prompt, consecutive); they stay together
    outputs: list[list[str]] = [[] for _ in sources]
    with tqdm(total=len(sources), desc="decode", disable=not progress, dynamic_ncols=True) as bar:
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = collator.prompt_batch([sources[i] for i in chunk]).to(device)
            if engine == "ours":
                ids = decoding.decode(tuner, batch.input_ids, batch.attention_mask, **kwargs)
            else:
                ids = tuner.generate(batch.input_ids, batch.attention_mask, **kwargs)
            texts = collator.decode(ids)
            per_input = len(texts) // len(chunk)
            for r, i in enumerate(chunk):
                outputs[i] = texts[r * per_input:(r + 1) * per_input]
            bar.update(len(chunk))
    return [text for rows in outputs for text in rows]
