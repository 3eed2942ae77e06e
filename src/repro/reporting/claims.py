"""The papers' claims, checked against finished runs: a verdict computed from the numbers.

A reproduction's config lists the claims it tests (key ``claims``)::

    claims:
      - id: prefix-beats-adapter-same-budget
        text: "Prefix-tuning outperforms adapters with the same parameter budget (0.1%)."
        source: "ACL 2021 §6.1, Table 2"
        metric: BLEU                    # registry metric name as in metrics.json
        higher: {method: "PREFIX(0.1%)"}            # the side the paper says is better ...
        lower: {method: "ADAPTER(0.1%)"}            # ... than this one (a list: better than each)
        where: {model: "GPT-2 Medium"}              # optional filters on both sides
        per: [dataset, split]                       # one comparison per distinct value (optional)

For each comparison the runs of each side give one value per seed. The verdict:

* **inconclusive (n < 2)** unless both sides have at least two seeds: one seed has no spread;
* **inconclusive (spread overlaps)** when the intervals mean ± sample std of the two sides overlap;
* **holds** when they do not overlap and the higher side's mean is larger (smaller for a metric
  whose registry name says "lower better");
* **does not hold** when they do not overlap the other way round.

A claim holds if every comparison holds, does not hold if any does not hold, and is
inconclusive otherwise (also when no runs match). `repro claims` writes the results page,
``results/README.md`` (:func:`results_page`): per reproduction its claims, the verdict at each
scale with the numbers behind it, the model run, the compute and links to its table and figure.
No torch import here.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
SCALES = ("paper", "mini", "smoke")  # the order the results page lists them in
ROW_FIELDS = ("dataset", "split", "model", "method")
CLAIM_KEYS = {"id", "text", "source", "metric", "higher", "lower", "where", "per"}

HOLDS, FAILS = "holds", "does not hold"
ONE_SEED, OVERLAP, NO_RUNS = "inconclusive (n < 2)", "inconclusive (spread overlaps)", "inconclusive (no runs)"


class ClaimError(ValueError):
    """A malformed `claims` entry; the message names the valid keys."""


@dataclass
class Comparison:
    where: dict
    higher: list[float]
    lower: list[float]
    verdict: str


def side_verdict(higher: list[float], lower: list[float], lower_is_better: bool = False) -> str:
    if not higher or not lower:
        return NO_RUNS
    if len(higher) < 2 or len(lower) < 2:
        return ONE_SEED
    (mh, sh), (ml, sl) = ((statistics.fmean(v), statistics.stdev(v)) for v in (higher, lower))
    if mh - sh <= ml + sl and ml - sl <= mh + sh:
        return OVERLAP
    return HOLDS if (mh > ml) != lower_is_better else FAILS


def combine(verdicts: list[str]) -> str:
    if verdicts and all(v == HOLDS for v in verdicts):
        return HOLDS
    if FAILS in verdicts:
        return FAILS
    if not verdicts or all(v == NO_RUNS for v in verdicts):
        return NO_RUNS
    return next(v for v in verdicts if v not in (HOLDS, NO_RUNS))


def _listify(filters: dict) -> dict[str, list]:
    return {k: v if isinstance(v, list) else [v] for k, v in (filters or {}).items()}


def load_scores(results_dir: str | Path, reproduction: str, scale: str, metric: str) -> list[dict]:
    """One record per finished run: its registry row fields, seed and the value of `metric` per split."""
    from repro.reporting.report import collect_runs, replicate, superglue_score_runs

    records = []
    finished = collect_runs(results_dir, reproduction, scale).finished
    for m in finished + superglue_score_runs(finished):
        for score in m["scores"]:
            if score["metric"] == metric and score.get("value") is not None:
                records.append({**m["row"], "split": score["split"], "seed": replicate(m), "value": score["value"]})
    return records


def check_claim(claim: dict, records: list[dict]) -> tuple[str, list[Comparison]]:
    unknown = sorted(set(claim) - CLAIM_KEYS)
    if unknown or not {"id", "metric", "higher", "lower"} <= set(claim):
        raise ClaimError(f"claim {claim.get('id')!r}: unknown keys {unknown} or missing id/metric/higher/lower; "
                         f"valid keys: {sorted(CLAIM_KEYS)}")
    where = _listify(claim.get("where"))
    higher, lower = _listify(claim["higher"]), _listify(claim["lower"])
    for filters in (where, higher, lower):
        bad = sorted(set(filters) - set(ROW_FIELDS))
        if bad:
            raise ClaimError(f"claim {claim['id']!r}: cannot filter on {bad}; use {ROW_FIELDS}")
    per = claim.get("per", [])
    lower_is_better = "lower better" in claim["metric"].lower()

    def matches(r, filters):
        return all(r[k] in v for k, v in filters.items())

    pool = [r for r in records if matches(r, where)]
    groups = sorted({tuple(r[k] for k in per) for r in pool}) or [()]
    comparisons = []
    for group in groups:
        at = dict(zip(per, group))
        here = [r for r in pool if all(r[k] == v for k, v in at.items())]
        top = {r["seed"]: r["value"] for r in here if matches(r, higher)}
        # "higher than each of these": one comparison per distinct lower-side method
        for method in sorted({r["method"] for r in here if matches(r, lower)}) or [None]:
            bottom = {r["seed"]: r["value"] for r in here if matches(r, lower) and r["method"] == method}
            verdict = side_verdict(list(top.values()), list(bottom.values()), lower_is_better)
            comparisons.append(Comparison({**at, "vs": method}, list(top.values()), list(bottom.values()), verdict))
    return combine([c.verdict for c in comparisons]), comparisons


def _fmt(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f} (n=1)"
    return f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f} (n={len(values)})"


def _no_runs(metric: str) -> str:
    if metric == "score":
        return "no SuperGLUE score: it needs a seed with all eight tasks finished"
    return f"no finished run has {metric}"


PAGE = "README.md"  # results/README.md: the page a visitor reads first


def _order_key(raw: dict, name: str):
    """Prefix-Tuning before Prompt Tuning; in a paper, its tables in order, then its figures, then
    sections; a reproduction of one table before one that combines it with another."""
    spec = raw.get("compare_to") or {}
    tables = (spec.get("table") or {}).get((spec.get("versions") or [None])[0], "") if isinstance(
        spec.get("table"), dict) else spec.get("table", "")
    tables = [tables] if isinstance(tables, str) else list(tables)
    first = tables[0] if tables else ""
    kind = 0 if first.startswith("Table") else 1 if first.startswith("Figure") else 2
    number = int(next(iter(re.findall(r"\d+", first)), 0))
    return ("Prompt" in str(spec.get("paper", "")), kind, number, len(tables), name)


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _models_run(results_dir: Path, name: str, scale: str) -> str:
    from repro.reporting.report import collect_runs, model_description

    pairs = dict.fromkeys((m["row"]["model"], model_description(m["model_name"]))
                          for m in collect_runs(results_dir, name, scale).finished)
    if scale == "paper":
        return "; ".join(f"{model} ({loaded})" for model, loaded in pairs)
    return "; ".join(f"{loaded}, not {model}" for model, loaded in pairs)


def results_page(results_dir: str | Path = REPO / "results",
                 reproductions_dir: str | Path = REPO / "reproductions",
                 figures_dir: str | Path = REPO / "figures") -> str:
    """``results/README.md``: for each reproduction its claims, the verdict at each scale with the
    numbers behind it, the model run, the compute it took and links to its table and figure."""
    from repro.reporting.compute import run_costs
    from repro.reporting.report import _natural

    results_dir, figures_dir = Path(results_dir), Path(figures_dir)
    rel = lambda p: Path(os.path.relpath(p, results_dir)).as_posix()  # noqa: E731
    configs = []
    for config in Path(reproductions_dir).glob("*/config.yaml"):
        raw = yaml.safe_load(config.read_text()) or {}
        configs.append((raw.get("name", config.parent.name), raw, config))
    configs.sort(key=lambda c: _order_key(c[1], c[0]))

    def verdicts_of(name, raw, scale, claim):
        if not (results_dir / name / scale).is_dir():
            return None
        return check_claim(claim, load_scores(results_dir, name, scale, claim["metric"]))

    def known_failure(raw, scale):
        reason = ((raw.get("scales") or {}).get(scale) or {}).get("known_failure")
        return " ".join(reason.split()) if reason else None

    scales = [s for s in SCALES if s == "paper" or any((results_dir / n / s).is_dir() or known_failure(raw, s)
                                                       for n, raw, _ in configs)]
    costs = {scale: run_costs(results_dir, scale) if results_dir.is_dir() else {} for scale in scales}

    lines = ["# Results", "",
             "Generated by `repro claims` from the runs under `results/` and the `claims` of each "
             "`reproductions/<name>/config.yaml`; never edited by hand. Verdict rule (`src/repro/reporting/claims.py`): "
             "**holds** or **does not hold** only when both sides have ≥ 2 seeds and their mean ± std intervals do not "
             "overlap. A verdict is about the scale it names: at mini scale it says what the mini models (named in "
             "each table) do on their data subsets, not whether the paper's number reproduces. Each reproduction's table (`table.md`) shows its runs in the "
             "paper's layout beside the published numbers; its figure follows the paper's figure.", "",
             "| reproduction | compared with | claim | " + " | ".join(scales) + " |",
             "|---|---|---|" + "---|" * len(scales)]
    for name, raw, _ in configs:
        spec = raw.get("compare_to") or {}
        versions = spec.get("versions") or []
        table = spec.get("table") or {}
        where = " / ".join(f"{v} {' + '.join([table[v]] if isinstance(table.get(v), str) else table.get(v, []))}"
                           for v in versions) if isinstance(table, dict) else str(table)
        for claim in raw.get("claims", []) or [{"id": "(no claims)"}]:
            cells = []
            for scale in scales:
                got = verdicts_of(name, raw, scale, claim) if "metric" in claim else None
                cells.append(f"**{got[0]}**" if got else "known failure" if known_failure(raw, scale) else "not run")
            lines.append(f"| [{name}](#{name}) | {spec.get('paper', '').split(' (')[0]}, {where} | "
                         f"{claim.get('text', claim['id'])} | " + " | ".join(cells) + " |")
    lines.append("")

    for name, raw, config in configs:
        readme = config.parent / "README.md"
        lines += [f"## {name}", "", f"**{raw.get('title', name)}**" + (
            f" ([README]({rel(readme)}))" if readme.exists() else ""), "",
                  "| scale | model run | runs | compute (sum of run times) | table | figure |",
                  "|---|---|---|---|---|---|"]
        for scale in scales:
            reason = known_failure(raw, scale)
            if not (results_dir / name / scale).is_dir():
                lines.append(f"| {scale} | " + (f"not run: known failure — {reason}" if reason else "not run") + " | | | | |")
                continue
            runs = costs[scale].get(name, [])
            compute = (f"{_minutes(sum(r['wall'] for r in runs))} (training {_minutes(sum(r['train'] for r in runs))})"
                       if runs else "not recorded")
            table = results_dir / name / scale / "table.md"
            figure = figures_dir / f"{name}-{scale}.png"
            lines.append(f"| {scale} | {_models_run(results_dir, name, scale)} | {len(runs)} | {compute} | "
                         + (f"[table.md]({rel(table)})" if table.exists() else "") + " | "
                         + (f"[{figure.name}]({rel(figure)})" if figure.exists() else "") + " |")
        lines.append("")
        for claim in raw.get("claims", []):
            lines += [f"### Claim `{claim['id']}`", "", f"> {claim.get('text', '')} ({claim.get('source', '')})", "",
                      f"| scale | verdict | {claim['metric']}: mean ± std (n seeds), the side the paper says is better first |", "|---|---|---|"]
            for scale in scales:
                got = verdicts_of(name, raw, scale, claim)
                if got is None:
                    reason = known_failure(raw, scale)
                    lines.append(f"| {scale} | " + ("**not run: known failure**" if reason else "not run")
                                 + (f" | why: the {scale} row of the table above |" if reason else " | |"))
                    continue
                verdict, comparisons = got
                top = " / ".join(str(v) for v in _listify(claim["higher"]).get("method", ["higher side"]))

                def where(c):
                    at = ", ".join(str(v) for k, v in c.where.items() if k != "vs")
                    return f"{at}: " if at else ""

                details = "<br>".join(
                    f"{where(c)}{top} {_fmt(c.higher)} vs {c.where['vs']} {_fmt(c.lower)} → {c.verdict}"
                    for c in sorted(comparisons, key=lambda c: [_natural(str(v)) for v in c.where.values()])
                    if c.higher or c.lower) or _no_runs(claim["metric"])
                lines.append(f"| {scale} | **{verdict}** | {details} |")
            lines.append("")
    return "\n".join(lines)


def _command(args) -> int:
    text = results_page(args.results_dir, args.reproductions_dir, args.figures_dir)
    out = Path(args.results_dir) / PAGE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text + f"\nwrote {out}")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "claims", help="the results page: verdicts on the papers' claims, with the numbers, models, compute, "
                       "tables and figures -> results/README.md",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", default=str(REPO / "results"))
    parser.add_argument("--reproductions-dir", default=str(REPO / "reproductions"))
    parser.add_argument("--figures-dir", default=str(REPO / "figures"), help="the figures the page links to")
    parser.set_defaults(func=_command)
    return parser

