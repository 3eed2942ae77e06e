"""Every figure of the repository, regenerated from what is on disk (`make figures`).

* ``<reproduction>-<scale>.png/.pdf`` for each aggregated table
  ``results/<reproduction>/<scale>/table.csv`` (written by ``repro aggregate``), drawn in the
  form of the paper's own figure or table (:data:`FORMS`, keyed by the registry table the
  reproduction compares with):

  - Li & Liang Figure 3 (low data): lines over the training size (log x), one per method, mean ±
    std band, a panel per dataset and plotted metric;
  - Figure 4 (prefix length): lines over the prefix length;
  - Lester et al. §3.2 / Figure 3 (prompt length, prompt initialization): lines over the model
    size, one per method (bars when only one model size was run);
  - everything else (Table 2, Table 5, Figure 5's initializations, Lester's Table 3): grouped bars,
    a group per method in the table's order (Figure 5's order for the initializations), the
    published value beside the reproduced mean ± std.

  Published values are drawn where the paper printed numbers; a figure the paper printed only as
  a plot gets a note saying so. Reproduced series are labelled with the scale and the model
  actually loaded ("mini: models/gpt2-mini, not GPT-2 Medium"), so a mini value never passes for
  the paper's number.
* ``pretrain-<model>.png/.pdf`` for each ``models/<model>/training_log.jsonl`` (training curve,
  :mod:`repro.reporting.curves`).

Nothing here computes a result: the numbers come from the tables and logs. No torch import.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
import textwrap
from pathlib import Path

from repro.reporting import published
from repro.reporting.report import TableSpec, load_table_spec, reproduced_columns, scale_of

REPO = Path(__file__).resolve().parents[3]

GROUPED_BARS, TRAINING_SIZE, PREFIX_LENGTH, MODEL_SIZE = "grouped bars", "training size", "prefix length", "model size"
FORMS = {
    (published.PREFIX_TUNING, "Figure 3"): TRAINING_SIZE,
    (published.PREFIX_TUNING, "Figure 4"): PREFIX_LENGTH,
    (published.PREFIX_TUNING, "Figure 5"): GROUPED_BARS,  # bars, in Figure 5's order (the config's rows)
    (published.PROMPT_TUNING, "§3.2"): MODEL_SIZE,        # Lester et al. Figure 3(a, b)
}
_SIZE = re.compile(r"^(.*) \(n=(\d+)\)$")          # low-data datasets: "E2E (n=50)"
_LENGTH = re.compile(r"^(.*?)-(\d+)(\b.*)$")        # prefix lengths: "PREFIX-10", "PREFIX-10 (k=800)"
REPRODUCED_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
PUBLISHED_GREYS = ("0.35", "0.6", "0.8")


def figure_metrics(reproduction: str, reproductions_dir: str | Path = REPO / "reproductions") -> list[str]:
    """The metrics a reproduction's figure shows: those its claims are about (else BLEU)."""
    import yaml

    config = Path(reproductions_dir) / reproduction / "config.yaml"
    claims = (yaml.safe_load(config.read_text()) or {}).get("claims", []) if config.exists() else []
    return list(dict.fromkeys(c["metric"] for c in claims if "metric" in c)) or ["BLEU"]


def figure_form(spec: TableSpec | None) -> str:
    """The form of the paper's figure for the table a reproduction compares with (its primary one)."""
    if spec is None:
        return GROUPED_BARS
    return FORMS.get((spec.paper, spec.table_names(spec.versions[0])[0]), GROUPED_BARS)


def paper_plotted_metrics(spec: TableSpec | None, registry=None) -> dict[str, list[str]]:
    """dataset -> the metrics the paper's figure plots for it, read from the registry's axis-range
    rows of that figure (e.g. Figure 3: E2E BLEU and ROUGE-L, XSUM ROUGE-1 and ROUGE-2)."""
    if spec is None:
        return {}
    registry = published.load_registry() if registry is None else registry
    plotted: dict[str, list[str]] = {}
    for version in spec.versions:
        for table in spec.table_names(version):
            for r in published.find(registry, paper=spec.paper, version=version, table=table):
                if " axis range" in r.metric:
                    plotted.setdefault(_base(r.dataset), []).append(r.metric.split(" axis range")[0])
    return plotted


def _base(dataset: str) -> str:
    """"E2E (n=50)" -> "E2E"; "E2E (low-data, 100 ex.)" -> "E2E"."""
    return dataset.split(" (")[0]


def table_figure(table, out_stem: str | Path, metric: str | list[str] = "BLEU", title: str | None = None,
                 spec: TableSpec | dict | None = None) -> list[Path]:
    """The figure of one aggregated table (the table.csv path, or the DataFrame
    `repro.reporting.report.aggregate` returns) for `metric` (one name or several), in the form of
    the paper's figure for `spec` (the reproduction's compare_to; grouped bars without it); writes
    PNG and PDF, returns their paths."""
    return save(draw_table(table, metric, title, spec), out_stem)


def draw_table(table, metric: str | list[str] = "BLEU", title: str | None = None,
               spec: TableSpec | dict | None = None):
    """The matplotlib Figure `table_figure` saves. A published column with no value for the drawn
    rows (a figure the paper printed only as a plot) gets no series and no legend entry; a note says so."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        title = title or f"{Path(table).parent.parent.name} ({Path(table).parent.name} scale)"
    frame = table if isinstance(table, pd.DataFrame) else pd.read_csv(table)
    registry = published.load_registry()
    spec = TableSpec.parse(spec, registry) if spec is not None else None
    form = figure_form(spec)
    metrics = [metric] if isinstance(metric, str) else list(metric)
    plotted = paper_plotted_metrics(spec, registry) if form in (TRAINING_SIZE, PREFIX_LENGTH) else {}

    def wanted(row) -> bool:
        return row["metric"] in metrics or any(row["metric"].startswith(m) for m in plotted.get(_base(row["dataset"]), ()))

    rows = frame[frame.apply(wanted, axis=1)] if len(frame) else frame
    if form == MODEL_SIZE and (rows["metric"] == "score").any():
        rows = rows[rows["metric"] == "score"]  # Lester et al. Figure 3 plots the SuperGLUE score
    if rows.empty:
        raise ValueError(f"the table has no {' or '.join(map(repr, metrics))} rows; "
                         f"metrics present: {sorted(frame['metric'].unique())}")
    if form == TRAINING_SIZE and not rows["dataset"].str.match(_SIZE).all():
        form = GROUPED_BARS
    if form == PREFIX_LENGTH and not rows["method"].str.match(_LENGTH).all():
        form = GROUPED_BARS
    if form == MODEL_SIZE and rows["model"].nunique() < 2:
        form = GROUPED_BARS  # one model size: bars per method
    scale = scale_of(frame)
    all_published = [c for c in frame.columns if c.startswith("published ")]
    primary = all_published[:1]
    drawn = [c for c in primary if pd.to_numeric(rows[c], errors="coerce").notna().any()]
    missing = [c for c in primary if c not in drawn]
    notes = [f"{c}: no value in the paper's text for these rows (printed only as a plot), so none is drawn"
             for c in missing]
    if form == GROUPED_BARS:
        fig, handles, notes = _draw_bars(rows, scale, drawn, notes)
    else:
        fig, handles, notes = _draw_lines(rows, form, scale, drawn, notes)
    # the title heads the legend (constrained layout stacks no suptitle above an outside legend)
    fig.legend(list(handles.values()), list(handles), loc="outside upper center", ncol=min(len(handles), 3),
               fontsize=7, frameon=False, title=title or f"{', '.join(metrics)}: published vs reproduced",
               title_fontsize=10)
    if notes:
        fig.supxlabel("\n".join(notes), fontsize=6, color="0.35")
    return fig


def _series_label(scale: str, model: str, loaded: str) -> str:
    from repro.reporting.report import model_description

    loaded = model_description(loaded)
    return f"reproduced: {model} ({loaded})" if scale == "paper" else f"{scale}: {loaded}, not {model}"


def _wrap(text: str, width: int = 14) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _draw_bars(rows, scale: str, drawn: list[str], notes: list[str]):
    """A panel per (dataset, split, metric); in each, a group per method; in a group, the published
    value (grey) and each model's reproduced mean ± std, side by side, only the bars that exist."""
    from matplotlib.figure import Figure

    mean_col, std_col = reproduced_columns(rows)
    panels = list(dict.fromkeys(zip(rows["dataset"], rows["split"], rows["metric"])))
    runs = list(dict.fromkeys(zip(rows["model"], rows["model loaded"])))
    pub_models = [m for m in dict.fromkeys(rows["model"]) for c in drawn
                  if rows.loc[rows["model"] == m, c].notna().any()]
    series = [("published", m, None) for m in dict.fromkeys(pub_models)] + [("reproduced", m, l) for m, l in runs]
    colors = {}
    for k, s in enumerate(s for s in series if s[0] == "published"):
        colors[s] = PUBLISHED_GREYS[k % len(PUBLISHED_GREYS)]
    for k, s in enumerate(s for s in series if s[0] == "reproduced"):
        colors[s] = REPRODUCED_COLORS[k % len(REPRODUCED_COLORS)]

    def label(s):
        kind, model, loaded = s
        if kind == "published":
            return drawn[0] + (f", {model}" if len(pub_models) > 1 else "")
        return _series_label(scale, model, loaded)

    def groups_of(part):
        return list(dict.fromkeys(part["method"]))

    parts = {p: rows[(rows["dataset"] == p[0]) & (rows["split"] == p[1]) & (rows["metric"] == p[2])] for p in panels}
    widest = max(len(series), 1)
    most = max(len(groups_of(part)) for part in parts.values())
    per_group = max(0.9, 0.22 * widest + 0.15)  # inches: room for the bars and a wrapped label side by side
    ncols = min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(ncols * (most * per_group + 0.9), 3.1 * nrows + 0.9), dpi=120, layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    width = 0.8 / widest
    seen = set()
    for ax, panel in zip(axes, panels):
        part = parts[panel]
        methods = groups_of(part)
        for i, method in enumerate(methods):
            bars = []
            for s in series:
                kind, model, loaded = s
                at = part[(part["method"] == method) & (part["model"] == model)]
                if kind == "reproduced":
                    at = at[at["model loaded"] == loaded]
                    value = at[mean_col].iloc[0] if len(at) else math.nan
                    err = at[std_col].iloc[0] if len(at) else math.nan
                else:
                    value = at[drawn[0]].iloc[0] if len(at) else math.nan
                    err = math.nan
                if not math.isnan(value):
                    bars.append((s, value, err))
            for k, (s, value, err) in enumerate(bars):
                x = i + (k - (len(bars) - 1) / 2) * width
                ax.bar(x, value, width, color=colors[s], label=None if s in seen else label(s),
                       yerr=None if math.isnan(err) else err, capsize=2, error_kw={"lw": 0.8})
                seen.add(s)
        ax.set_xticks(range(len(methods)), [_wrap(m) for m in methods], fontsize=7)
        ax.set_xlim(-0.6, max(len(methods), most) - 0.4)
        dataset, split, metric = panel
        ax.set_title(f"{dataset} {split}", fontsize=9)
        ax.set_ylabel(metric)
        ax.grid(axis="y", alpha=0.3)
    handles = {}
    for ax in axes:
        for h, name in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(name, h)
    return fig, {label(s): handles[label(s)] for s in series if label(s) in handles}, notes


def _draw_lines(rows, form: str, scale: str, drawn: list[str], notes: list[str]):
    """Lines over the training size (log x), the prefix length or the model size: one per method
    (and model run), mean ± std as a band, the published value as a dashed line where printed."""
    from matplotlib.figure import Figure

    mean_col, std_col = reproduced_columns(rows)
    rows = rows.copy()
    if form == TRAINING_SIZE:
        rows["_panel"] = [_SIZE.match(d).group(1) for d in rows["dataset"]]
        rows["_x"] = [int(_SIZE.match(d).group(2)) for d in rows["dataset"]]
        rows["_line"] = rows["method"]
        xlabel = "training examples (log scale)"
    elif form == PREFIX_LENGTH:
        rows["_panel"] = rows["dataset"]
        rows["_x"] = [int(_LENGTH.match(m).group(2)) for m in rows["method"]]
        rows["_line"] = [(_LENGTH.match(m).group(1) + _LENGTH.match(m).group(3)) for m in rows["method"]]
        xlabel = "prefix length"
    else:  # MODEL_SIZE: the config's (the paper's) order of model sizes
        sizes = list(dict.fromkeys(rows["model"]))
        rows["_panel"] = rows["dataset"]
        rows["_x"] = [sizes.index(m) for m in rows["model"]]
        rows["_line"] = rows["method"]
        xlabel = "model size" if scale == "paper" else "model size (the stand-ins loaded, for the paper's sizes)"
    panels = list(dict.fromkeys(zip(rows["_panel"], rows["split"], rows["metric"])))
    runs = list(dict.fromkeys(zip(rows["model"], rows["model loaded"])))
    several = form != MODEL_SIZE and len(runs) > 1 and len({m for m, _ in runs}) != len(runs)
    lines = list(dict.fromkeys(zip(rows["_line"], rows["model loaded"] if several else [""] * len(rows))))
    fig = Figure(figsize=(max(4.6, 4.2 * len(panels)), 4.0), dpi=120, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    published_label = None
    for ax, (panel, split, metric) in zip(axes, panels):
        part = rows[(rows["_panel"] == panel) & (rows["split"] == split) & (rows["metric"] == metric)]
        for k, (line, loaded) in enumerate(lines):
            at = part[part["_line"] == line]
            if loaded:
                at = at[at["model loaded"] == loaded]
            if at.empty:
                continue
            at = at.sort_values("_x")
            color = REPRODUCED_COLORS[k % len(REPRODUCED_COLORS)]
            x, y = list(at["_x"]), list(at[mean_col])
            std = [0.0 if math.isnan(s) else s for s in at[std_col]]
            ax.plot(x, y, "o-", color=color, ms=4, lw=1.5, label=line + (f" ({loaded})" if loaded else ""))
            if any(std):
                ax.fill_between(x, [a - b for a, b in zip(y, std)], [a + b for a, b in zip(y, std)],
                                color=color, alpha=0.18, lw=0)
            for col in drawn:
                pub = at[at[col].notna()]
                if len(pub):
                    published_label = col
                    ax.plot(list(pub["_x"]), list(pub[col]), "s--", color=color, ms=3, lw=1, alpha=0.7)
        if form == TRAINING_SIZE:
            ax.set_xscale("log")
            ticks = sorted(set(part["_x"]))
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
        elif form == MODEL_SIZE:
            names = [f"{m}" if scale == "paper" else f"{l}\n(not {m})" for m, l in runs]
            ax.set_xticks(range(len(runs)), names, fontsize=7)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(metric)
        ax.set_title(f"{panel} {split}", fontsize=9)
        ax.grid(alpha=0.3)
    handles = {}
    for ax in axes:
        for h, name in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(name, h)
    if published_label:
        from matplotlib.lines import Line2D

        handles[published_label + " (dashed)"] = Line2D([], [], ls="--", marker="s", ms=3, color="0.4")
    run_text = "; ".join(_series_label(scale, m, l) for m, l in runs)
    over = "replicates (sampled training set x seed)" if form == TRAINING_SIZE else "seeds"
    return fig, handles, [f"{run_text}; line: mean, shaded: ± sample std over {over}"] + notes


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


def _no_rows(csv_path: Path) -> bool:
    import pandas as pd

    return pd.read_csv(csv_path).empty


def make_figures(results_dir: str | Path = REPO / "results", out_dir: str | Path = REPO / "figures",
                 models_dir: str | Path | None = REPO / "models") -> list[Path]:
    """Regenerate every figure whose inputs exist; returns the files written."""
    written = []
    for csv_path in sorted(Path(results_dir).glob("*/*/table.csv")):
        reproduction, scale = csv_path.parent.parent.name, csv_path.parent.name
        try:
            spec = load_table_spec(reproduction)
        except (OSError, ValueError):
            spec = None  # a results directory with no reproduction config here: plain bars
        out_stem = Path(out_dir) / f"{reproduction}-{scale}"
        if _no_rows(csv_path):  # every run of that scale removed or unfinished: no figure, and no stale one
            for stale in (out_stem.with_suffix(".png"), out_stem.with_suffix(".pdf")):
                if stale.exists():
                    stale.unlink()
                    print(f"{csv_path} has no finished runs: removed {stale}", file=sys.stderr)
            continue
        written += table_figure(csv_path, out_stem, figure_metrics(reproduction), spec=spec)
    for log in sorted(Path(models_dir).glob("*/training_log.jsonl")) if models_dir else []:
        png = plot_training_curve(log, Path(out_dir) / f"pretrain-{log.parent.name}.png")
        written += [png, png.with_suffix(".pdf")]
    return written


def _command(args) -> int:
    written = make_figures(args.results_dir, args.out, None if args.no_models else args.models_dir)
    for path in written:
        print(path)
    if not written:
        print(f"no figure written: no {args.results_dir}/*/*/table.csv with finished runs (run `repro aggregate`) "
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
