"""Aggregate finished runs into tables: published numbers beside reproduced ones.

Runs live in ``results/<reproduction>/<scale>/<run_id>/``. A finished run has ``metrics.json``
(written last by :mod:`repro.runner`); a run directory without it is unfinished: it is ignored
and counted. ``metrics.json`` holds::

    {"reproduction": "table2_table_to_text", "scale": "mini", "run_id": "...", "seed": 101,
     "model_name": "models/gpt2-mini",                      # what was actually loaded
     "row": {"dataset": "E2E", "model": "GPT-2 Medium", "method": "PREFIX(0.1%)"},
     "scores": [{"split": "test", "metric": "BLEU", "value": 69.1}, ...]}

with registry names and units (:mod:`repro.reporting.published`). A score whose ``value`` is null (a
metric that could not be computed) is skipped and named in the table's notes.

**The comparison** (``table_spec``) comes from the reproduction's config,
``reproductions/<name>/config.yaml``, key ``compare_to``::

    compare_to:
      paper: "Prefix-Tuning (Li & Liang 2021)"          # registry `paper`
      versions: ["ACL 2021", "arXiv v1"]                # registry `version`s; the first is primary
      table: {"ACL 2021": "Table 2", "arXiv v1": "Table 1"}   # registry `table` per version

Two outputs:

* ``table.md`` shows the runs **in the paper's layout** (:func:`paper_tables`): Li & Liang's Table 2
  a row per method with E2E / WebNLG / DART column groups, Table 5 the same over E2E, Lester et
  al.'s Table 3 a row per (task, metric) and a column per prompt set; each cell "reproduced mean ±
  std (published)", and below each table, once, the scale, the model actually run, n seeds and
  the sources (paper, version, table, URL).
* ``table.csv`` is the long machine-readable record: one row per (dataset, split, model, method,
  metric) and model loaded, with each version's published value (the other versions' only where
  they differ from the primary one), the reproduced mean, sample std, n and seeds, the
  difference reproduced − primary published value, and the registry citation.

**Scale labelling rule**: a smoke or mini number never appears in a column labelled as the
paper's setting. In table.csv the reproduced columns say the scale and the models actually
loaded, e.g. ``reproduced (mini: models/gpt2-mini, not GPT-2 Medium)``; the difference column is
omitted at smoke scale (the numbers mean nothing) and labelled ``mini − published ACL 2021`` at
mini scale. table.md's columns name datasets and metrics only, and its captions say which model
stood in for which ("models/gpt2-mini, standing in for GPT-2 Medium").

``repro aggregate --reproduction NAME --scale SCALE [--results-dir DIR]`` writes
``<results-dir>/<reproduction>/<scale>/table.md`` and ``table.csv`` (see :func:`add_parser`).
No torch import here.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from repro.reporting import published
from repro.reporting.published import PublishedNumber

if TYPE_CHECKING:
    import pandas as pd

REPO = Path(__file__).resolve().parents[3]
REPRODUCTIONS_DIR = REPO / "reproductions"
SCALES = ("smoke", "mini", "paper")  # the same as repro.config.SCALES (not imported: it pulls in torch)
KEYS = ("dataset", "split", "model", "method", "metric")
SPEC_KEYS = {"paper", "versions", "table"}


def _table_names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    """compare_to.table of one version: a registry table name, or several."""
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class TableSpec:
    """Which registry table(s) a reproduction is compared with (``compare_to`` of its config)."""

    paper: str
    versions: tuple[str, ...]  # the first is the primary version (difference column, citation)
    tables: dict[str, str | tuple[str, ...]]  # version -> registry table (or several, e.g. Table 2 + Table 4)

    def table_names(self, version: str) -> tuple[str, ...]:
        return _table_names(self.tables[version])

    @classmethod
    def parse(cls, spec: dict | "TableSpec", registry: list[PublishedNumber]) -> "TableSpec":
        if isinstance(spec, TableSpec):
            return spec
        if not isinstance(spec, dict):
            raise ValueError(f"compare_to must be a mapping with keys {sorted(SPEC_KEYS)}, not {spec!r}")
        unknown, missing = sorted(set(spec) - SPEC_KEYS), sorted(SPEC_KEYS - set(spec))
        if unknown or missing:
            raise ValueError(f"compare_to: unknown keys {unknown}, missing keys {missing}; "
                             f"it needs exactly {sorted(SPEC_KEYS)}")
        versions = spec["versions"]
        if isinstance(versions, str) or not versions:
            raise ValueError(f"compare_to.versions must be a non-empty list, not {versions!r}")
        tables = spec["table"]
        if isinstance(tables, str):
            tables = {v: tables for v in versions}
        absent = [v for v in versions if v not in tables]
        if absent:
            raise ValueError(f"compare_to.table names no table for version(s) {absent}")
        tables = {v: t if isinstance(t, str) else tuple(t) for v, t in tables.items()}
        for version in versions:
            for table in _table_names(tables[version]):
                if not published.find(registry, paper=spec["paper"], version=version, table=table):
                    known = sorted({r.table for r in published.find(registry, paper=spec["paper"], version=version)})
                    raise ValueError(f"the registry has no {spec['paper']!r} {version} {table!r}; "
                                     f"its tables for that paper and version: {known or 'none'}")
        return cls(paper=spec["paper"], versions=tuple(versions), tables={v: tables[v] for v in versions})

    def label(self, version: str) -> str:
        return f"{version} {' + '.join(self.table_names(version))}"


@dataclass
class Runs:
    """The finished runs of one reproduction at one scale."""

    finished: list[dict]
    unfinished: list[Path]


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    return scale


def collect_runs(results_dir: str | Path, reproduction: str, scale: str) -> Runs:
    """Read every ``metrics.json`` under ``results_dir/reproduction/scale/*/``."""
    root = Path(results_dir) / reproduction / check_scale(scale)
    if not root.is_dir():
        raise FileNotFoundError(f"no results for {reproduction} at scale {scale}: {root} does not exist")
    finished, unfinished = [], []
    for run_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        path = run_dir / "metrics.json"
        if not path.exists():
            unfinished.append(run_dir)
            continue
        try:
            metrics = json.loads(path.read_text())
        except ValueError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from err
        problem = _metrics_problem(metrics)
        if problem:
            raise ValueError(f"{path}: not a runner's metrics.json: {problem}")
        if metrics.get("reproduction") != reproduction or metrics.get("scale") != scale:
            raise ValueError(f"{path} says reproduction={metrics.get('reproduction')!r}, "
                             f"scale={metrics.get('scale')!r}, but lies under {reproduction}/{scale}")
        finished.append({**metrics, "path": str(run_dir)})
    return Runs(finished=finished, unfinished=unfinished)


def _metrics_problem(metrics) -> str | None:
    """What is missing from a metrics.json, or None."""
    if not isinstance(metrics, dict):
        return "not a JSON object"
    missing = [k for k in ("reproduction", "scale", "seed", "model_name", "row", "scores") if k not in metrics]
    if missing:
        return f"missing keys {missing}"
    if not isinstance(metrics["row"], dict) or any(k not in metrics["row"] for k in ("dataset", "model", "method")):
        return "'row' needs dataset, model and method"
    if not isinstance(metrics["scores"], list) or any(
            not isinstance(s, dict) or any(k not in s for k in ("split", "metric", "value")) for s in metrics["scores"]):
        return "'scores' must be a list of {split, metric, value}"
    return None


# what a local model folder is, for the tables, figures and results page (a path alone would not say)
MODEL_DESCRIPTIONS = {
    "models/smollm2-135m": "SmolLM2-135M-Instruct, Q4_1 weights dequantized (models/smollm2-135m)",
}


def model_description(name: str) -> str:
    """The model a run loaded, as a reader should see it: SmolLM2's folder names the checkpoint it holds."""
    return MODEL_DESCRIPTIONS.get(str(name).rstrip("/"), str(name))


def reproduced_label(scale: str, loaded: dict[str, set[str]]) -> str:
    """The reproduced column's header. ``loaded``: registry model -> model names actually loaded."""
    if check_scale(scale) == "paper":
        return "reproduced (paper scale)"
    stand_ins = "; ".join(f"{', '.join(sorted(model_description(n) for n in names))}, not {model}"
                          for model, names in sorted(loaded.items()))
    return f"reproduced ({scale}: {stand_ins or 'no runs'})"


def difference_label(scale: str, primary: str) -> str | None:
    """The difference column's header, or None at smoke scale (no difference column)."""
    if check_scale(scale) == "smoke":
        return None
    return f"{'reproduced' if scale == 'paper' else scale} − published {primary}"


def _natural(text: str) -> list:
    """Sort key that orders "PREFIX-5" before "PREFIX-10"."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _fmt(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def replicate(run: dict) -> int | str:
    """What tells a run apart from the others of its row: the seed, or "sample/seed" for the
    low-data runs (several sampled training sets per seed)."""
    return run["seed"] if run.get("sample") is None else f"{run['sample']}/{run['seed']}"


def _group_scores(finished: list[dict]) -> tuple[dict[tuple, dict[int, float]], set[str]]:
    """((registry keys, model loaded) -> {seed: value}, the scores that were null)."""
    groups: dict[tuple, dict[int, float]] = {}
    unavailable: set[str] = set()
    for run in finished:
        for s in run["scores"]:
            key = (run["row"]["dataset"], s["split"], run["row"]["model"], run["row"]["method"], s["metric"])
            if s["value"] is None:
                unavailable.add(" ".join(key))
                continue
            seeds = groups.setdefault((key, run["model_name"]), {})
            if replicate(run) in seeds:
                raise ValueError(f"two finished runs give {' / '.join(key)} for seed {replicate(run)} "
                                 f"with {run['model_name']} (one is {run['path']})")
            seeds[replicate(run)] = float(s["value"])
    return groups, unavailable


def superglue_score_runs(finished: list[dict]) -> list[dict]:
    """Derived runs with the SuperGLUE score (dataset "SuperGLUE", metric "score"): one per
    (model, method, loaded model, split, replicate) whose finished runs cover all eight tasks,
    so the score gets a mean ± std over seeds like any metric and can be compared with Lester et
    al.'s Table 3 and claimed about (Figure 3 plots it)."""
    from repro.metrics.superglue import SCORE_METRICS, missing_score_metrics, superglue_score

    by_replicate: dict[tuple, dict[str, dict[str, float]]] = {}
    first: dict[tuple, dict] = {}
    for run in finished:
        if run["row"]["dataset"] not in SCORE_METRICS:
            continue
        for s in run["scores"]:
            if s["value"] is None:
                continue
            key = (run["row"]["model"], run["row"]["method"], run["model_name"], s["split"], replicate(run))
            by_replicate.setdefault(key, {}).setdefault(run["row"]["dataset"], {})[s["metric"]] = float(s["value"])
            first.setdefault(key, run)
    derived = []
    for key, tasks in by_replicate.items():
        if missing_score_metrics(tasks):
            continue
        model, method, model_name, split, _ = key
        run = first[key]
        derived.append({**{k: run.get(k) for k in ("reproduction", "scale", "seed", "sample")},
                        "model_name": model_name, "row": {"dataset": "SuperGLUE", "model": model, "method": method},
                        "scores": [{"split": split, "metric": "score", "value": superglue_score(tasks)}],
                        "path": f"SuperGLUE score of the eight {model} / {method} runs of replicate {key[4]}",
                        "derived": True})
    return derived


def reproduced_columns(frame) -> tuple[str, str]:
    """The (mean, std) column names of the reproduced values in an aggregated table."""
    mean = next(c for c in frame.columns if c.startswith("reproduced") and c.endswith(" mean"))
    return mean, mean[: -len(" mean")] + " std"


def scale_of(frame) -> str:
    """The scale an aggregated table (or table.csv) was made at, read from its reproduced column."""
    mean, _ = reproduced_columns(frame)
    label = mean[len("reproduced ("):]
    return "paper" if label.startswith("paper scale") else label.split(":", 1)[0]


def config_of(reproduction: str, reproductions_dir: str | Path | None = None) -> dict:
    """``reproductions/<reproduction>/config.yaml`` as a mapping ({} when there is none)."""
    path = Path(reproductions_dir or REPRODUCTIONS_DIR) / reproduction / "config.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def declared_rows(config: dict) -> list[tuple[str, str]]:
    """The (model, method) rows a config declares, in its order (``models``, then ``ensemble.rows``):
    the order of rows the registry does not publish (e.g. Figure 5's bars, left to right)."""
    rows = [(model, method) for model, methods in (config.get("models") or {}).items() for method in methods or []]
    ensemble = (config.get("ensemble") or {}).get("rows") or {}
    rows += [(model, method) for model in (config.get("models") or {}) for method in ensemble.values()]
    return list(dict.fromkeys(rows))


def aggregate(results_dir: str | Path, reproduction: str, scale: str, table_spec: dict | TableSpec,
              registry: list[PublishedNumber] | None = None) -> tuple[str, pd.DataFrame]:
    """(markdown text, DataFrame): the markdown shows the runs in the paper's layout
    (:func:`paper_tables`), the DataFrame (written as table.csv) is the long record, one row per
    (dataset, split, model, method, metric) and model loaded."""
    import pandas as pd  # here, not at the top: `repro --help` should not pay for it

    check_scale(scale)
    registry = published.load_registry() if registry is None else registry
    spec = TableSpec.parse(table_spec, registry)
    runs = collect_runs(results_dir, reproduction, scale)
    derived = superglue_score_runs(runs.finished)
    groups, unavailable = _group_scores(runs.finished + derived)
    primary = spec.versions[0]
    config = config_of(reproduction)

    tables = published_tables(spec, registry)
    order: dict[tuple, int] = {}
    for v in spec.versions:
        for k in tables[v]:
            order.setdefault(k, len(order))
    declared = {row: i for i, row in enumerate(declared_rows(config))}
    models = {model: i for i, (model, _) in reversed(list(enumerate(declared)))}
    metric_rank: dict[str, int] = {}  # the scorers' order (E2E: BLEU, NIST, METEOR, ROUGE-L, CIDEr)
    for run in runs.finished + derived:
        for s in run["scores"]:
            metric_rank.setdefault(s["metric"], len(metric_rank))

    loaded: dict[str, set[str]] = {}
    for key, model_name in groups:
        loaded.setdefault(key[2], set()).add(model_name)
    repro_col = reproduced_label(scale, loaded)
    diff_col = difference_label(scale, primary)
    pub_cols = {v: f"published {spec.label(v)}" for v in spec.versions}

    def row_order(group):
        """Registry order first; then dataset and split by name (numbers as numbers), the config's
        order of models and rows, and the scorer's order of metrics."""
        (dataset, split, model, method, metric), model_name = group[0]
        far = len(declared) + 1
        return (order.get(group[0][0], len(order)), _natural(dataset), _natural(split), models.get(model, far),
                _natural(model), declared.get((model, method), far), _natural(method), model_name,
                metric_rank.get(metric, len(metric_rank)), _natural(metric))

    records = []
    for (key, model_name), by_seed in sorted(groups.items(), key=row_order):
        values = [by_seed[s] for s in sorted(by_seed, key=lambda s: _natural(str(s)))]
        mean = statistics.fmean(values)
        std = statistics.stdev(values) if len(values) > 1 else math.nan
        found = {v: tables[v].get(key) for v in spec.versions}
        primary_row = found[primary]
        primary_value = primary_row.number if primary_row and primary_row.number is not None else math.nan

        record = {**dict(zip(KEYS, key)), "model loaded": model_name}
        for v in spec.versions:
            row = found[v]
            shown = row is not None and (v == primary or primary_row is None or published.values_differ(row, primary_row))
            record[pub_cols[v]] = row.number if shown and row.number is not None else math.nan
        record.update({f"{repro_col} mean": mean, f"{repro_col} std": std, "n seeds": len(values),
                       "seeds": " ".join(str(s) for s in sorted(by_seed, key=lambda s: _natural(str(s))))})
        if diff_col is not None:
            record[diff_col] = mean - primary_value
        record["source"] = "; ".join(f"{r.version} {r.table} [{r.source}]" for r in found.values() if r is not None)
        records.append(record)

    columns = [*KEYS, "model loaded", *pub_cols.values(), f"{repro_col} mean", f"{repro_col} std", "n seeds", "seeds",
               *([diff_col] if diff_col else []), "source"]
    frame = pd.DataFrame.from_records(records, columns=columns)

    # the unfinished count goes to stderr, not into table.md: it is the state of one checkout (a run in
    # progress, a stopped one), and a committed table must be what any clone regenerates
    notes = [f"Finished runs: {len(runs.finished)}."]
    if runs.unfinished:
        print(f"{reproduction}/{scale}: {len(runs.unfinished)} unfinished run(s) ignored: "
              f"{', '.join(sorted(p.name for p in runs.unfinished))}", file=sys.stderr)
    if derived:
        notes.append("SuperGLUE score: per seed, the mean over the eight tasks of each task's mean metric "
                     "(CB acc/F1, MultiRC F1a/EM, ReCoRD F1/EM), from that seed's eight runs "
                     "(`repro.metrics.superglue.superglue_score`).")
    if unavailable:
        notes.append(f"Scores not computed (null in metrics.json), shown as —: {'; '.join(sorted(unavailable))}.")
    long_note = ("[`table.csv`](table.csv): the long record, one row per (dataset, split, model, method, metric) "
                 f"with {' and '.join(pub_cols.values())}")
    if len(spec.versions) > 1:
        long_note += f" (the other versions' only where they differ from {spec.label(primary)})"
    long_note += ", the reproduced mean, std, seeds" + (f", {diff_col}" if diff_col else "") + " and the source."
    notes.append(long_note)

    title = config.get("title")
    lines = [f"# {reproduction}: {scale} scale", "",
             (f"{title}. " if title else "") + f"Compared with {spec.paper}, "
             f"{' / '.join(spec.label(v) for v in spec.versions)}.", "", _SCALE_NOTE[scale], ""]
    paper = paper_tables(frame, spec, registry)
    for table in paper:
        lines += [table.markdown(level=2), ""]
    if not paper:
        lines += ["(no finished runs)", ""]
    lines += ["## Notes", "", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n", frame


_SCALE_NOTE = {
    "smoke": "**Smoke scale**: a wiring check with tiny stand-in models and a handful of examples. Its numbers "
             "mean nothing and are not comparable with the published ones.",
    "mini": "**Mini scale**: models much smaller than the paper's (the model run is named below each table) on data "
            "subsets, with CPU budgets: the published value in parentheses is the paper's setting, not a target for "
            "these numbers.",
    "paper": "**Paper scale**: the paper's models and settings.",
}


# ---------------------------------------------------------------------------------------------
# The paper's layout
# ---------------------------------------------------------------------------------------------

METHODS_AS_ROWS, METRICS_AS_ROWS = "methods as rows", "metrics as rows"
# A paper table whose rows are (task, metric) and whose columns are methods; every other table has
# a row per method and a column per (dataset, split, metric), grouped by dataset, as Li & Liang's.
LAYOUTS = {(published.PROMPT_TUNING, "Table 3"): METRICS_AS_ROWS}  # Lester et al.: Average | Best | Ensemble
SPLIT_SHORT = {"test-seen": "S", "test-unseen": "U", "test-all": "A"}  # Li & Liang's WebNLG columns


def published_tables(spec: TableSpec, registry: list[PublishedNumber]) -> dict[str, dict[tuple, PublishedNumber]]:
    """version -> {(dataset, split, model, method, metric): registry row} of the compared tables, in
    registry order."""
    return {v: {r.key[3:]: r for t in spec.table_names(v)
                for r in published.find(registry, paper=spec.paper, version=v, table=t)} for v in spec.versions}


def layout_of(spec: TableSpec) -> str:
    return LAYOUTS.get((spec.paper, spec.table_names(spec.versions[0])[0]), METHODS_AS_ROWS)


def metric_label(metric: str) -> str:
    return metric.replace("(lower better)", "↓")


@dataclass
class PaperTable:
    """One compact table: a title, its header and rows (cell text), and what to say below it."""

    title: str
    header: list[str]
    rows: list[list[str]]
    caption: list[str]
    columns: list[tuple[str, str, str]]  # the (dataset, split, metric) of each value column or row
    methods: list[tuple[str, str, str]]  # the (model, model loaded, method) of each row or value column

    def markdown(self, level: int = 2) -> str:
        lines = [f"{'#' * level} {self.title}", "", "| " + " | ".join(_cell(h) for h in self.header) + " |",
                 "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in self.rows]
        return "\n".join(lines + ["", " ".join(self.caption)])


def _number(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def paper_tables(frame, spec: dict | TableSpec, registry: list[PublishedNumber] | None = None,
                 metrics: list[str] | None = None) -> list[PaperTable]:
    """The runs of an aggregated table (the DataFrame :func:`aggregate` returns, or its table.csv read
    back) in the layout of the paper's table: Li & Liang's Table 2 has a row per method and column
    groups E2E (BLEU, NIST, METEOR, ROUGE-L, CIDEr), WebNLG (BLEU, METEOR, TER for S/U/A) and DART;
    Lester et al.'s Table 3 a row per (task, metric) and a column per prompt set (:data:`LAYOUTS`).

    Each cell is "reproduced mean ± std (published)": the primary version's value as printed; "—"
    where the row was not run or the score not computed. Columns are the reproduced (dataset, split,
    metric) and every one the paper prints for these rows and datasets, in the registry's order.
    Rows of models whose datasets are disjoint go in separate tables (the paper's separate tables,
    e.g. WebNLG with GPT-2 and XSUM with BART); a model with no published value beside models
    that have one (table2's random-init control) gets its own table, with no published values.
    ``metrics``: only those columns (the README blocks show the claims' metrics)."""
    registry = published.load_registry() if registry is None else registry
    spec = TableSpec.parse(spec, registry)
    if frame.empty:
        return []
    mean_col, std_col = reproduced_columns(frame)
    scale = scale_of(frame)
    tables = published_tables(spec, registry)
    primary = spec.versions[0]
    if metrics is not None:
        frame = frame[frame["metric"].isin(metrics)]

    cells: dict[tuple, dict[tuple, tuple]] = {}  # (model, loaded, method) -> (dataset, split, metric) -> values
    for _, r in frame.iterrows():
        cells.setdefault((r["model"], r["model loaded"], r["method"]), {})[(r["dataset"], r["split"], r["metric"])] = (
            float(r[mean_col]), _number(r[std_col]), int(r["n seeds"]), str(r["seeds"]))

    def pub(row, column, version=primary):
        dataset, split, metric = column
        return tables[version].get((dataset, split, row[0], row[2], metric))

    def has_values(row):
        return any(pub(row, c, v) is not None and pub(row, c, v).number is not None
                   for v in spec.versions for c in _published_columns(tables, row, {d for d, _, _ in cells[row]}, metrics))

    # models whose rows share a dataset go in one table; disjoint ones apart (the paper's separate tables)
    rows = list(cells)
    groups: list[list[str]] = []
    for model in dict.fromkeys(row[0] for row in rows):
        datasets = {c[0] for row in rows if row[0] == model for c in cells[row]}
        joined = [g for g in groups if datasets & {c[0] for row in rows if row[0] in g for c in cells[row]}]
        merged = [m for g in joined for m in g] + [model]
        groups = [g for g in groups if g not in joined] + [merged]
    groups.sort(key=lambda g: min(rows.index(r) for r in rows if r[0] in g))

    out = []
    for group in groups:
        group_rows = [r for r in rows if r[0] in group]
        with_values = {r[0] for r in group_rows if has_values(r)}
        parts = [[r for r in group_rows if r[0] in with_values]] if with_values else [group_rows]
        parts += [[r for r in group_rows if r[0] == m] for m in group if with_values and m not in with_values]
        for part in parts:
            control = bool(with_values) and part[0][0] not in with_values
            out.append(_paper_table(part, cells, tables, spec, scale, metrics, control, pub))
    titles = [t.title for t in out]
    for table in out:  # tables from one paper table (disjoint datasets) are told apart by their datasets
        if titles.count(table.title) > 1:
            table.title += ": " + ", ".join(dict.fromkeys(c[0] for c in table.columns))
    return out


def _published_columns(tables, row, datasets, metrics) -> list[tuple[str, str, str]]:
    """The (dataset, split, metric) the compared tables print for a row's (model, method), on ``datasets``."""
    return list(dict.fromkeys((d, s, m) for version in tables.values() for (d, s, model, method, m) in version
                              if (model, method) == (row[0], row[2]) and d in datasets
                              and (metrics is None or m in metrics)))


def _paper_table(rows, cells, tables, spec, scale, metrics, control, pub) -> PaperTable:
    primary = spec.versions[0]
    datasets = {c[0] for r in rows for c in cells[r]}
    columns = list(dict.fromkeys(
        [] if control else [c for r in rows for c in _published_columns(tables, r, datasets, metrics)]))
    columns = _order_columns(columns + [c for r in rows for c in cells[r] if c not in columns], tables)
    decimals = {}
    for c in columns:
        printed = [p.value for r in rows for p in [pub(r, c)] if not control and p is not None and p.number is not None]
        decimals[c] = max((_decimals(v.strip()) for v in printed), default=2)

    def cell(row, column):
        value = cells[row].get(column)
        printed = None if control else pub(row, column)
        text = "—"
        if value is not None:
            mean, std, n, _ = value
            text = _fmt(mean, decimals[column]) + ("" if std is None else f" ± {_fmt(std, decimals[column])}")
            if n < most:
                text += f" [n={n}]"
        return text + (f" ({printed.value.strip()})" if printed is not None else "")

    ns = [v[2] for r in rows for v in cells[r].values()]
    most = max(ns)
    loaded = list(dict.fromkeys((r[1], r[0]) for r in rows))
    several_models = len(loaded) > 1

    def model_text(row):
        return (f"{row[0]} ({model_description(row[1])})" if scale == "paper"
                else f"{model_description(row[1])}, not {row[0]}")

    splits = {d: {s for dd, s, _ in columns if dd == d} for d in datasets}

    def column_label(column):
        dataset, split, metric = column
        where = "" if len(splits[dataset]) == 1 else " " + SPLIT_SHORT.get(split, split)
        return f"{dataset} {metric_label(metric)}{where}"

    if layout_of(spec) == METRICS_AS_ROWS:
        header = ["dataset", "metric"] + [f"{r[2]} ({model_text(r)})" if several_models else r[2] for r in rows]
        body = [[c[0] if len(splits[c[0]]) == 1 else f"{c[0]} ({c[1]})", metric_label(c[2])]
                + [cell(r, c) for r in rows] for c in columns]
    else:
        header = ["method"] + (["model run"] if several_models else []) + [column_label(c) for c in columns]
        body = [[r[2]] + ([model_text(r)] if several_models else []) + [cell(r, c) for c in columns] for r in rows]

    used = {}
    for r in rows:
        for c in columns:
            for v in spec.versions:
                p = None if control else pub(r, c, v)
                if p is not None:
                    used.setdefault((p.version, p.table), p.source)
    short_paper = spec.paper.split(" (")[0]
    if control:
        title = f"{rows[0][0]} (not in the paper)"
    elif used:
        title = f"{short_paper}, {primary} {' + '.join(dict.fromkeys(t for v, t in used if v == primary))}".rstrip(", ")
    else:
        title = f"{short_paper}, as {spec.label(primary)}"

    caption = [f"**{scale.capitalize()} scale.**"]
    runs_text = "; ".join(f"{model_description(name)} ({model})" if scale == "paper"
                          else f"{model_description(name)}, standing in for {model}" for name, model in loaded)
    caption.append(f"Model run: {runs_text}.")
    seeds = {v[3] for r in rows for v in cells[r].values()}
    unit = "replicates (sampled set/seed)" if any("/" in s for s in seeds) else "seeds"
    if len(seeds) == 1:
        caption.append(f"n = {most} {unit if most > 1 else unit.replace('seeds', 'seed')} per cell "
                       f"({', '.join(next(iter(seeds)).split())}).")
    else:
        caption.append(f"n = {min(ns)}–{most} {unit} per cell ([n=k] marks a cell with fewer than {most}).")
    caption.append("Cell: reproduced mean ± sample std" + ("" if control or not used else
                                                            f" (published {primary} value)") + "; — : not run or not computed.")
    if control:
        caption.append(f"A control the paper does not have: no published values.")
    elif used:
        caption.append("Published: " + f"{spec.paper}, " + "; ".join(
            f"{version} {table} [{source}]" for (version, table), source in used.items()) + ".")
        differ = sum(1 for r in rows for c in columns for v in spec.versions[1:]
                     if pub(r, c) is not None and pub(r, c, v) is not None and published.values_differ(pub(r, c), pub(r, c, v)))
        if differ:
            caption.append(f"{' / '.join(spec.versions[1:])} print{'s' if len(spec.versions) == 2 else ''} "
                           f"{differ} of these values differently: both are in table.csv.")
    else:
        plot = spec.table_names(primary)[0].startswith(("Figure", "§"))
        caption.append(f"{spec.paper}, {spec.label(primary)} has no value for these rows in its text"
                       + (" (it shows them only as a plot)" if plot else "") + ", so nothing is in parentheses.")
    return PaperTable(title=title, header=header, rows=body, caption=caption, columns=columns,
                      methods=list(rows))


def _order_columns(columns, tables) -> list[tuple[str, str, str]]:
    """Registry order (the paper's column order) first; the others as they came (the runs' order)."""
    rank: dict[tuple, int] = {}
    for version in tables.values():
        for (d, s, _, _, m) in version:
            rank.setdefault((d, s, m), len(rank))
    datasets = list(dict.fromkeys(c[0] for c in sorted(columns, key=lambda c: rank.get(c, len(rank)))))
    return sorted(dict.fromkeys(columns), key=lambda c: (datasets.index(c[0]), rank.get(c, len(rank))))


def write_table(results_dir: str | Path, reproduction: str, scale: str, table_spec: dict | TableSpec,
                registry: list[PublishedNumber] | None = None) -> tuple[Path, Path]:
    """Write ``<results_dir>/<reproduction>/<scale>/table.md`` and ``table.csv``; returns both paths."""
    markdown, frame = aggregate(results_dir, reproduction, scale, table_spec, registry)
    out = Path(results_dir) / reproduction / scale
    md_path, csv_path = out / "table.md", out / "table.csv"
    md_path.write_text(markdown, encoding="utf-8")
    frame.to_csv(csv_path, index=False)
    return md_path, csv_path


def load_table_spec(reproduction: str, config: str | Path | None = None) -> dict:
    """The ``compare_to`` mapping of ``reproductions/<reproduction>/config.yaml`` (or ``config``)."""
    path = Path(config) if config else REPRODUCTIONS_DIR / reproduction / "config.yaml"
    if not path.exists():
        known = sorted(p.parent.name for p in REPRODUCTIONS_DIR.glob("*/config.yaml"))
        raise FileNotFoundError(f"no reproduction config at {path}; known reproductions: {known}")
    raw = yaml.safe_load(path.read_text()) or {}
    if "compare_to" not in raw:
        raise ValueError(f"{path} has no 'compare_to' key (which registry table(s) to compare against)")
    return raw["compare_to"]


# ---------------------------------------------------------------------------------------------
# Command line: `repro aggregate`
# ---------------------------------------------------------------------------------------------

def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reproduction", required=True, help="e.g. table2_table_to_text")
    parser.add_argument("--scale", required=True, choices=SCALES)
    parser.add_argument("--results-dir", default="results", help="default: results")
    parser.add_argument("--config", default=None,
                        help="config.yaml with the compare_to key (default: reproductions/<reproduction>/config.yaml)")


def _command(args: argparse.Namespace) -> int:
    try:
        spec = load_table_spec(args.reproduction, args.config)
        md_path, csv_path = write_table(args.results_dir, args.reproduction, args.scale, spec)
    except (OSError, ValueError) as err:
        print(f"repro aggregate: {err}", file=sys.stderr)
        return 2
    print(md_path.read_text(encoding="utf-8"), end="")
    print(f"wrote {md_path} and {csv_path}", file=sys.stderr)
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``repro aggregate`` (called by :mod:`repro.cli`)."""
    parser = subparsers.add_parser(
        "aggregate", help="tabulate finished runs beside the published numbers",
        description="Aggregate results/<reproduction>/<scale>/*/metrics.json into table.md and table.csv, "
                    "compared with the registry table(s) named by the reproduction's compare_to.")
    _add_arguments(parser)
    parser.set_defaults(func=_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="repro aggregate", description=__doc__.split("\n\n")[0])
    _add_arguments(parser)
    return _command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
