"""The training curve of a pretraining run, drawn from its training_log.jsonl (no pyplot state).

For bart the plotted losses are denoising losses (the training objective); the unigram line is
then only a reference point, and the title also gives the decoder-only perplexity (see
``repro.pretrain.evaluate``). :func:`repro.reporting.figures.plot_training_curve` saves it as PNG
and PDF; this module imports nothing of the repository, so figures -> curves is the only edge.
"""

from __future__ import annotations

import json
import math
from pathlib import Path


def read_log(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def draw_training_curve(log_path: str | Path, title: str | None = None):
    """Training loss (per logged window) and validation loss against tokens seen; the right axis
    shows the same values as perplexity. The unigram baseline is drawn if the run was exported.
    Returns a matplotlib Figure."""
    import numpy as np
    from matplotlib.figure import Figure

    rows = read_log(log_path)
    train = [r for r in rows if r.get("event") == "train"]
    evals = [r for r in rows if r.get("event") == "eval"]
    export = [r for r in rows if r.get("event") == "export"]
    tokens_at = {r["step"]: r["tokens"] for r in train}

    fig = Figure(figsize=(6.4, 4.0), dpi=120)
    ax = fig.subplots()
    ax.plot([r["tokens"] / 1e6 for r in train], [r["loss"] for r in train], lw=1, label="train loss")
    if evals:
        ax.plot([tokens_at.get(r["step"], math.nan) / 1e6 for r in evals], [r["val_loss"] for r in evals],
                "o-", ms=3, label="validation loss (periodic subset)")
    if export:
        e = export[-1]
        ax.axhline(math.log(e["unigram_ppl"]), color="grey", ls="--", lw=1,
                   label=f"unigram baseline (ppl {e['unigram_ppl']:.0f})")
        if "mask_only_source_ppl" in e:  # bart: the main number is a denoising perplexity
            default = (f"{Path(log_path).parent.name}: denoising ppl {e['val_ppl']:.1f}, "
                       f"decoder-only (<mask> source) ppl {e['mask_only_source_ppl']:.1f}")
        else:
            default = f"{Path(log_path).parent.name}: final validation ppl {e['val_ppl']:.1f}"
        ax.set_title(title or default, fontsize=10)
    else:
        ax.set_title(title or Path(log_path).parent.name)
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("cross-entropy (nats/token)")
    right = ax.secondary_yaxis("right", functions=(lambda x: np.exp(np.clip(x, -50, 50)),
                                                   lambda y: np.log(np.maximum(y, 1e-300))))
    right.set_ylabel("perplexity")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
