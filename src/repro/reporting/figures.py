"""Every figure of the repository, regenerated from what is on disk (`make figures`).

* ``<reproduction>-<scale>.png/.pdf`` for each aggregated table
  ``results/<reproduction>/<scale>/table.csv`` (written by ``repro aggregate``): one panel per
  (dataset, split) of the figure's metric, published values beside the reproduced mean ± std;
  the reproduced bars are labelled with the scale and the model actually loaded, exactly as the
  table's column is, so a mini bar never passes for the paper's number.
* ``pretrain-<model>.png/.pdf`` for each ``models/<model>/training_log.jsonl`` (training curve).

Nothing here computes a result: the numbers come from the tables and logs. No torch import.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

def figure_metrics(reproduction: str, reproductions_dir: str | Path = REPO / "reproductions") -> list[str]:
    """The metrics a reproduction's figure shows: those its claims are about (else BLEU)."""
    import yaml

    config = Path(reproductions_dir) / reproduction / "config.yaml"
    claims = (yaml.safe_load(config.read_text()) or {}).get("claims", []) if config.exists() else []
    return list(dict.fromkeys(c["metric"] for c in claims if "metric" in c)) or ["BLEU"]


def reproduced_columns(frame) -> tuple[str, str]:
    """The (mean, std) column names of the reproduced values in an aggregated table."""
    mean = next(c for c in frame.columns if c.startswith("reproduced") and c.endswith(" mean"))
    return mean, mean[: -len(" mean")] + " std"


def table_figure(table, out_stem: str | Path, metric: str | list[str] = "BLEU", title: str | None = None) -> list[Path]:
    """Bars of published vs reproduced `metric` (one name or several: one panel per dataset, split
    and metric present) from one aggregated table (the table.csv path, or the DataFrame
    `repro.reporting.report.aggregate` returns); writes PNG and PDF, returns their paths."""
    return save(draw_table(table, metric, title), out_stem)


def draw_table(table, metric: str | list[str] = "BLEU", title: str | None = None):
    """The matplotlib Figure `table_figure` saves. A published column with no value for these rows
    (a figure the paper printed only as a plot) gets no bar and no legend entry; a note says so."""
    import pandas as pd
    from matplotlib.figure import Figure  # no pyplot: no global state, no backend to choose

    if not isinstance(table, pd.DataFrame):
        title = title or f"{Path(table).parent.parent.name} ({Path(table).parent.name} scale)"
    frame = table if isinstance(table, pd.DataFrame) else pd.read_csv(table)
    metrics = [metric] if isinstance(metric, str) else list(metric)
    rows = frame[frame["metric"].isin(metrics)]
    if rows.empty:
        raise ValueError(f"the table has no {' or '.join(map(repr, metrics))} rows; "
                         f"metrics present: {sorted(frame['metric'].unique())}")
    mean_col, std_col = reproduced_columns(frame)
    all_published = [c for c in frame.columns if c.startswith("published ")]
    published_cols = [c for c in all_published if pd.to_numeric(rows[c], errors="coerce").notna().any()]
    panels = list(dict.fromkeys(zip(rows["dataset"], rows["split"], rows["metric"])))
    fig = Figure(figsize=(4.2 * len(panels), 3.8), dpi=120)
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (dataset, split, panel_metric) in zip(axes[0], panels):
        part = rows[(rows["dataset"] == dataset) & (rows["split"] == split) & (rows["metric"] == panel_metric)]
        labels = [f"{m}\n{meth}" if part["model"].nunique() > 1 else meth for m, meth in zip(part["model"], part["method"])]
        x = range(len(part))
        width = 0.8 / (len(published_cols) + 1)
        for k, col in enumerate(published_cols):
            ax.bar([i + k * width for i in x], part[col], width, label=col, color=["0.55", "0.8"][k % 2])
        errors = [0 if math.isnan(s) else s for s in part[std_col]]
        ax.bar([i + len(published_cols) * width for i in x], part[mean_col], width, yerr=errors, capsize=2,
               label=mean_col[: -len(" mean")], color="tab:blue")
        ax.set_xticks([i + width * len(published_cols) / 2 for i in x], labels, rotation=35, ha="right", fontsize=7)
        ax.set_title(f"{dataset} {split}", fontsize=9)
        ax.set_ylabel(panel_metric)
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    missing = [c for c in all_published if c not in published_cols]
    fig.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 0.035 if missing else 0),
               ncol=len(names), fontsize=7, frameon=False)
    if missing:
        fig.text(0.5, 0.005, "; ".join(f"{c}: no value in the paper's text for these rows" for c in missing),
                 ha="center", va="bottom", fontsize=6, color="0.35")
    fig.suptitle(title or f"{', '.join(metrics)}: published vs reproduced", fontsize=10)
    fig.tight_layout(rect=(0, 0.12 if missing else 0.08, 1, 1))
    return fig


# no creation date and no software version in the files: the same figure gives the same bytes
_METADATA = {".png": {"Software": None}, ".pdf": {"CreationDate": None, "Producer": None, "Creator": None}}


def save(fig, out_stem: str | Path) -> list[Path]:
    """Write `fig` as PNG and PDF (for reports), the whole figure kept (legend included)."""
    written = []
    for suffix in (".png", ".pdf"):
        path = Path(out_stem).with_suffix(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, bbox_inches="tight", metadata=_METADATA[suffix])
        written.append(path)
    return written


def plot_training_curve(log_path: str | Path, png_path: str | Path, title: str | None = None) -> Path:
    """The pretraining curve of ``log_path`` (a training_log.jsonl) as ``png_path`` and the same
    figure as PDF beside it; returns the PNG's path."""
    from repro.reporting.curves import draw_training_curve

    png_path = Path(png_path)
    save(draw_training_curve(log_path, title), png_path.with_suffix(""))
    return png_path


def make_figures(results_dir: str | Path = REPO / "results", out_dir: str | Path = REPO / "figures",
                 models_dir: str | Path | None = REPO / "models") -> list[Path]:
    """Regenerate every figure whose inputs exist; returns the files written."""
    written = []
    for csv_path in sorted(Path(results_dir).glob("*/*/table.csv")):
        reproduction, scale = csv_path.parent.parent.name, csv_path.parent.name
        written += table_figure(csv_path, Path(out_dir) / f"{reproduction}-{scale}", figure_metrics(reproduction))
    for log in sorted(Path(models_dir).glob("*/training_log.jsonl")) if models_dir else []:
        png = plot_training_curve(log, Path(out_dir) / f"pretrain-{log.parent.name}.png")
        written += [png, png.with_suffix(".pdf")]
    return written


def _command(args) -> int:
    written = make_figures(args.results_dir, args.out, None if args.no_models else args.models_dir)
    for path in written:
        print(path)
    if not written:
        print(f"no inputs found: no {args.results_dir}/*/*/table.csv (run `repro aggregate`) "
              f"and no {args.models_dir}/*/training_log.jsonl", file=sys.stderr)
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", default=str(REPO / "results"))
    parser.add_argument("--out", default=str(REPO / "figures"), help="where the PNG and PDF files go")
    parser.add_argument("--models-dir", default=str(REPO / "models"), help="pretraining logs for the curves")
    parser.add_argument("--no-models", action="store_true", help="skip the pretraining curves")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "figures", help="regenerate every figure (PNG and PDF) from results/ and models/",
        description="Draw one figure per aggregated table (results/<reproduction>/<scale>/table.csv) "
                    "and one training curve per mini model (models/<name>/training_log.jsonl).")
    _add_arguments(parser)
    parser.set_defaults(func=_command)
    return parser
