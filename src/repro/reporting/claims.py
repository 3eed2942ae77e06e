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
inconclusive otherwise (also when no runs match). `repro claims` writes ``results/claims.md``.
No torch import here.
"""
from __future__ import annotations

import argparse
import os
import statistics
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
SCALES = ("paper", "mini", "smoke")  # the order claims.md lists them in
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


def claims_markdown(results_dir: str | Path = REPO / "results",
                    reproductions_dir: str | Path = REPO / "reproductions",
                    figures_dir: str | Path = REPO / "figures") -> str:
    lines = ["# Claims and verdicts", "",
             "Generated by `repro claims` from `results/` and the `claims` of each "
             "`reproductions/<name>/config.yaml`; never edited by hand. Verdict rule: `src/repro/reporting/claims.py` "
             "(holds / does not hold only when both sides have ≥ 2 seeds and their mean ± std intervals "
             "do not overlap). A verdict is about the scale it names: a mini-scale verdict says what happens "
             "with the small models, not whether the paper's number reproduces.", ""]
    for config in sorted(Path(reproductions_dir).glob("*/config.yaml")):
        raw = yaml.safe_load(config.read_text()) or {}
        name = raw.get("name", config.parent.name)
        for claim in raw.get("claims", []):
            lines += [f"## {name}: {claim['id']}", "", f"> {claim.get('text', '')} ({claim.get('source', '')})", "",
                      "| scale | verdict | comparisons |", "|---|---|---|"]
            for scale in SCALES:
                if not (Path(results_dir) / name / scale).is_dir():
                    reason = ((raw.get("scales") or {}).get(scale) or {}).get("known_failure")
                    if reason:  # a scale that is not run on purpose says why
                        lines.append(f"| {scale} | **not run: known failure** | {' '.join(reason.split())} |")
                    continue
                verdict, comparisons = check_claim(claim, load_scores(results_dir, name, scale, claim["metric"]))
                table = f"[table]({name}/{scale}/table.md)" if (Path(results_dir) / name / scale / "table.md").exists() else ""
                figure = Path(figures_dir) / f"{name}-{scale}.png"
                if figure.exists():
                    table += f" [figure]({Path(os.path.relpath(figure, results_dir)).as_posix()})"
                details = "; ".join(
                    f"{', '.join(str(v) for k, v in c.where.items() if k != 'vs')} vs {c.where['vs']}: "
                    f"{_fmt(c.higher)} vs {_fmt(c.lower)} → {c.verdict}" for c in comparisons
                    if c.higher or c.lower) or _no_runs(claim["metric"])
                lines.append(f"| {scale} | **{verdict}** {table} | {details} |")
            lines.append("")
    return "\n".join(lines)


def _command(args) -> int:
    text = claims_markdown(args.results_dir, args.reproductions_dir)
    out = Path(args.results_dir) / "claims.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text + f"\nwrote {out}")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "claims", help="verdicts on the papers' claims from the finished runs -> results/claims.md",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", default=str(REPO / "results"))
    parser.add_argument("--reproductions-dir", default=str(REPO / "reproductions"))
    parser.set_defaults(func=_command)
    return parser

