"""Aggregate finished runs into a table: published numbers beside reproduced ones.

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

Each table row is one (dataset, split, model, method, metric) the runs reproduced, with: the
primary version's published value; each other version's value where it differs (blank where
it is identical or not published); the reproduced mean ± sample standard deviation over
seeds and the number of seeds; the difference reproduced − primary published value; and the
registry citation.

**Scale labelling rule**: a smoke or mini number never appears in a column labelled as the
paper's setting. Below ``paper`` scale the reproduced column says the scale and the models
actually loaded, e.g. ``reproduced (mini: models/gpt2-mini, not GPT-2 Medium)``, and the
heading states the scale; the difference column is omitted at smoke scale (the numbers mean
nothing) and labelled ``mini − published ACL 2021`` at mini scale.

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


def reproduced_label(scale: str, loaded: dict[str, set[str]]) -> str:
    """The reproduced column's header. ``loaded``: registry model -> model names actually loaded."""
    if check_scale(scale) == "paper":
        return "reproduced (paper scale)"
    stand_ins = "; ".join(f"{', '.join(sorted(names))}, not {model}" for model, names in sorted(loaded.items()))
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


def aggregate(results_dir: str | Path, reproduction: str, scale: str, table_spec: dict | TableSpec,
              registry: list[PublishedNumber] | None = None) -> tuple[str, pd.DataFrame]:
    """(markdown text, DataFrame) comparing the finished runs with the published table(s)."""
    import pandas as pd  # here, not at the top: `repro --help` should not pay for it

    check_scale(scale)
    registry = published.load_registry() if registry is None else registry
    spec = TableSpec.parse(table_spec, registry)
    runs = collect_runs(results_dir, reproduction, scale)
    derived = superglue_score_runs(runs.finished)
    groups, unavailable = _group_scores(runs.finished + derived)
    primary = spec.versions[0]

    # each version's published rows by (dataset, split, model, method, metric); rows follow the registry order
    tables = {v: {r.key[3:]: r for t in spec.table_names(v) for r in published.find(registry, paper=spec.paper,
                                                                                   version=v, table=t)}
              for v in spec.versions}
    order: dict[tuple, int] = {}
    for v in spec.versions:
        for k in tables[v]:
            order.setdefault(k, len(order))

    loaded: dict[str, set[str]] = {}
    for key, model_name in groups:
        loaded.setdefault(key[2], set()).add(model_name)
    repro_col = reproduced_label(scale, loaded)
    diff_col = difference_label(scale, primary)
    pub_cols = {v: f"published {spec.label(v)}" for v in spec.versions}

    records, md_rows = [], []
    def row_order(group):  # registry order first; unpublished rows by name, numbers compared as numbers
        key = group[0][0]
        return order.get(key, len(order)), [_natural(str(part)) for part in key]

    for (key, model_name), by_seed in sorted(groups.items(), key=row_order):
        values = [by_seed[s] for s in sorted(by_seed)]
        mean = statistics.fmean(values)
        std = statistics.stdev(values) if len(values) > 1 else math.nan
        found = {v: tables[v].get(key) for v in spec.versions}
        primary_row = found[primary]
        primary_value = primary_row.number if primary_row and primary_row.number is not None else math.nan
        decimals = 2 if math.isnan(primary_value) else _decimals(primary_row.value) + 1
        diff = mean - primary_value

        record = {**dict(zip(KEYS, key)), "model loaded": model_name}
        md = [*key]
        for v in spec.versions:
            row = found[v]
            shown = row is not None and (v == primary or primary_row is None or published.values_differ(row, primary_row))
            record[pub_cols[v]] = row.number if shown and row.number is not None else math.nan
            md.append(row.value if shown else "")
        record.update({f"{repro_col} mean": mean, f"{repro_col} std": std, "n seeds": len(values),
                       "seeds": " ".join(str(s) for s in sorted(by_seed))})
        md.append(_fmt(mean, decimals) + ("" if math.isnan(std) else f" ± {_fmt(std, decimals)}") + f" (n={len(values)})")
        if diff_col is not None:
            record[diff_col] = diff
            md.append("" if math.isnan(diff) else f"{diff:+.{decimals}f}")
        record["source"] = "; ".join(f"{r.version} {r.table} [{r.source}]" for r in found.values() if r is not None)
        md.append(record["source"])
        records.append(record)
        md_rows.append(md)

    columns = [*KEYS, "model loaded", *pub_cols.values(), f"{repro_col} mean", f"{repro_col} std", "n seeds", "seeds",
               *([diff_col] if diff_col else []), "source"]
    frame = pd.DataFrame.from_records(records, columns=columns)

    notes = [f"Finished runs: {len(runs.finished)}; unfinished runs ignored: {len(runs.unfinished)}.",
             "Reproduced values: mean ± sample standard deviation over seeds (n seeds)."]
    if len(spec.versions) > 1:
        others = ", ".join(pub_cols[v] for v in spec.versions[1:])
        notes.append(f"{others}: blank where identical to {spec.label(primary)} or not published.")
    if derived:
        notes.append("SuperGLUE score: per seed, the mean over the eight tasks of each task's mean metric "
                      "(CB acc/F1, MultiRC F1a/EM, ReCoRD F1/EM), from that seed's eight runs "
                      "(`repro.metrics.superglue.superglue_score`).")
    unpublished = sum(all(r is None for r in (tables[v].get(k) for v in spec.versions)) for k, _ in groups)
    if unpublished:
        notes.append(f"Reproduced rows with no published value in {' / '.join(spec.label(v) for v in spec.versions)}: "
                     f"{unpublished} (blank published columns).")
    if unavailable:
        notes.append(f"Scores not computed (null in metrics.json), left out: {'; '.join(sorted(unavailable))}.")
    header = [*KEYS, *pub_cols.values(), f"{repro_col}, mean ± std (n seeds)", *([diff_col] if diff_col else []),
              "source"]
    lines = [f"# {reproduction}: {scale} scale", "",
             f"Compared with {spec.paper}, {' / '.join(spec.label(v) for v in spec.versions)}.", "",
             _SCALE_NOTE[scale], "",
             *[f"- {n}" for n in notes], "",
             "| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in md_rows]
    if not md_rows:
        lines.append("| " + " | ".join(["(no finished runs)"] + [""] * (len(header) - 1)) + " |")
    return "\n".join(lines) + "\n", frame


_SCALE_NOTE = {
    "smoke": "**Smoke scale**: a wiring check with tiny stand-in models and a handful of examples. Its numbers "
             "mean nothing and are not comparable with the published ones, so there is no difference column.",
    "mini": "**Mini scale**: small stand-in models (named in the reproduced column's header), not the paper's "
            "models or data sizes. The difference column is mini − published, not a reproduction gap.",
    "paper": "**Paper scale**: the paper's models and settings.",
}


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
