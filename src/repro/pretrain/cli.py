"""`python -m repro.pretrain --recipe gpt2-mini --out models/gpt2-mini [--resume]`.

`add_parser(subparsers)` also registers it as `repro pretrain` (for repro.cli.SUBCOMMANDS).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from . import PretrainError
from .corpus import CORPUS_ENV
from .recipes import RECIPES


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES), help="what to train (recipes.py)")
    parser.add_argument("--out", required=True, help="output directory, e.g. models/gpt2-mini")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint (or keep it if finished)")
    parser.add_argument("--corpus", default=None,
                        help="a folder of *.txt files, or 'wikitext-103' (hub); default: $REPRO_CORPUS_DIR")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--figure", default=None,
                        help="training-curve PNG (default: figures/pretrain-<recipe>.png)")
    parser.add_argument("--keep-checkpoint", action="store_true", help="keep checkpoint.pt after the export")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    parser.set_defaults(func=run)
    return parser


def command_line(args: argparse.Namespace) -> str:
    """The canonical command for these arguments (recorded in the run's command.txt)."""
    words = ["python", "-m", "repro.pretrain", "--recipe", args.recipe, "--out", args.out]
    if args.corpus is None and os.environ.get(CORPUS_ENV):  # record where the corpus came from
        words = [f"{CORPUS_ENV}={os.environ[CORPUS_ENV]}", *words]
    for flag in ("corpus", "threads", "figure"):
        if getattr(args, flag) is not None:
            words += [f"--{flag}", str(getattr(args, flag))]
    words += [f"--{flag.replace('_', '-')}" for flag in ("resume", "keep_checkpoint", "no_progress") if getattr(args, flag)]
    return " ".join(shlex.quote(w) for w in words)


def add_parser(subparsers) -> None:
    configure(subparsers.add_parser("pretrain", help="pretrain gpt2-mini / bart-mini from scratch",
                                    description=__doc__))


def run(args: argparse.Namespace) -> int:
    from .evaluate import MIN_SOURCE_GAIN_NATS
    from repro.reporting.figures import plot_training_curve
    from .recipes import get_recipe
    from .train import LOG_FILE, train

    command = command_line(args)
    try:
        result = train(get_recipe(args.recipe), args.out, args.corpus, resume=args.resume, threads=args.threads,
                       progress=not args.no_progress, command=command, keep_checkpoint=args.keep_checkpoint)
    except PretrainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    figure = plot_training_curve(result.out_dir / LOG_FILE, args.figure or f"figures/pretrain-{args.recipe}.png")
    if result.finished:
        v = result.metrics["validation"]
        lm = v.get("model_mask_only_source")  # bart: denoising ppl, plus the decoder-only one
        kind = f"denoising ppl {v['model']['ppl']:.2f}, decoder-only ppl {lm['ppl']:.2f}" if lm else \
            f"validation ppl {v['model']['ppl']:.2f}"
        print(f"{args.recipe}: {kind} (unigram baseline {v['unigram']['ppl']:.1f}) "
              f"over {v['model']['tokens']} tokens; saved {result.metrics['fp16_check']['saved_dtype']} to "
              f"{result.out_dir}; curve {figure}")
        gain = v.get("source_gain_nats")
        if gain is not None and gain < MIN_SOURCE_GAIN_NATS:
            print(f"WARNING: {args.recipe} does not use its encoder: the noised source lowers the loss by only "
                  f"{gain:.4f} nats/token (< {MIN_SOURCE_GAIN_NATS}). Do not use it for conditional tasks; "
                  f"see models/README.md.", file=sys.stderr)
            return 3
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = configure(argparse.ArgumentParser(prog="python -m repro.pretrain", description=__doc__))
    args = parser.parse_args(argv)
    return args.func(args)
