"""What the notebooks show for one reproduction: its table, its figure and its claims' verdicts.

    from repro.reporting.notebook_view import show
    table = show("table2_table_to_text")      # in a notebook cell

Reads `REPRO_RESULTS_DIR` (default: the repository's results/) and `REPRO_SCALE` (default: the
largest scale with finished runs of that reproduction), as `repro notebooks` sets them.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def results_dir() -> Path:
    return Path(os.environ.get("REPRO_RESULTS_DIR", REPO / "results"))


def pick_scale(reproduction: str, root: Path | None = None) -> str | None:
    """REPRO_SCALE if set, else the largest scale with at least one finished run."""
    if os.environ.get("REPRO_SCALE"):
        return os.environ["REPRO_SCALE"]
    root = root or results_dir()
    for scale in ("paper", "mini", "smoke"):
        if any((root / reproduction / scale).glob("*/metrics.json")):
            return scale
    return None


def show(reproduction: str, metric: str | list[str] | None = None):
    """Display the table, the figure (the claims' metrics unless `metric` is given) and the claim
    verdicts of one reproduction at its scale; returns the table (a DataFrame) or None."""
    import yaml
    from IPython.display import Image, Markdown, display

    from repro.reporting import claims, figures, report

    root = results_dir()
    scale = pick_scale(reproduction, root)
    if scale is None or not any((root / reproduction / scale).glob("*/metrics.json")):
        shown = os.path.relpath(root, REPO) if root.resolve().is_relative_to(REPO) else root
        from repro.config import load_reproduction

        reason = load_reproduction(reproduction).known_failure("mini")
        note = f" Its mini scale is a known failure: {reason.strip()}" if reason else ""
        display(Markdown(f"*No finished runs of `{reproduction}` under `{shown}`: run `make reproduce-{reproduction}`.*"
                         + note))
        return None
    spec = report.load_table_spec(reproduction)
    markdown, table = report.aggregate(root, reproduction, scale, spec)
    display(Markdown(markdown))
    metrics = metric or figures.figure_metrics(reproduction)
    try:
        png, _ = figures.table_figure(table, Path(tempfile.mkdtemp()) / f"{reproduction}-{scale}", metrics,
                                      title=f"{reproduction} ({scale} scale)", spec=spec)
        display(Image(filename=str(png)))
    except ValueError as err:  # e.g. no rows of the claim's metric yet
        display(Markdown(f"*No figure: {err}*"))
    config = yaml.safe_load((REPO / "reproductions" / reproduction / "config.yaml").read_text())
    for claim in config.get("claims", []):
        verdict, comparisons = claims.check_claim(claim, claims.load_scores(root, reproduction, scale, claim["metric"]))
        lines = [f"**Claim** ({claim['source']}): {claim['text']}", "", f"**Verdict at {scale} scale: {verdict}**", ""]
        lines += [f"- {', '.join(f'{k}={v}' for k, v in c.where.items())}: {c.higher} vs {c.lower} → {c.verdict}"
                  for c in comparisons]
        display(Markdown("\n".join(lines)))
    return table
