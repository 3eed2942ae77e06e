"""Verdicts on claims, computed from run directories written here with made-up scores."""
import pytest

from repro.reporting import claims
from test_report import write_run

CLAIM = {"id": "prefix-beats-adapter", "metric": "BLEU", "higher": {"method": "PREFIX(0.1%)"},
         "lower": {"method": ["ADAPTER(0.1%)", "FT-TOP2"]}, "where": {"model": "GPT-2 Medium"}, "per": ["dataset"]}


def runs(results, values: dict[str, list[float]], dataset="E2E", model="GPT-2 Medium"):
    for method, seeds in values.items():
        for seed, value in zip((101, 102, 103), seeds):
            write_run(results, "mini", f"{dataset}-{model}-{method}-{seed}".replace(" ", "").replace("%", ""), seed,
                      {"dataset": dataset, "model": model, "method": method}, [("test", "BLEU", value)])
    return claims.load_scores(results, "table2_table_to_text", "mini", "BLEU")


@pytest.mark.parametrize("higher,lower,expected", [
    ([60, 62], [50, 52], claims.HOLDS),
    ([50, 52], [60, 62], claims.FAILS),
    ([60, 64], [59, 61], claims.OVERLAP),
    ([60], [50, 52], claims.ONE_SEED),
    ([], [50, 52], claims.NO_RUNS),
])
def test_side_verdicts(higher, lower, expected):
    assert claims.side_verdict(higher, lower) == expected


def test_lower_is_better_metrics_flip_the_direction():
    assert claims.side_verdict([0.40, 0.41], [0.50, 0.52], lower_is_better=True) == claims.HOLDS


def test_a_claim_holds_only_if_every_comparison_holds(tmp_path):
    records = runs(tmp_path, {"PREFIX(0.1%)": [60, 62], "ADAPTER(0.1%)": [50, 51], "FT-TOP2": [59, 61.5]})
    verdict, comparisons = claims.check_claim(CLAIM, records)
    assert [(c.where["vs"], c.verdict) for c in comparisons] == [("ADAPTER(0.1%)", claims.HOLDS),
                                                                 ("FT-TOP2", claims.OVERLAP)]
    assert verdict == claims.OVERLAP


def test_one_failed_comparison_fails_the_claim(tmp_path):
    runs(tmp_path, {"PREFIX(0.1%)": [60, 62], "ADAPTER(0.1%)": [50, 51], "FT-TOP2": [59, 61.5]})
    records = runs(tmp_path, {"PREFIX(0.1%)": [30, 31], "ADAPTER(0.1%)": [40, 41]}, dataset="DART")
    verdict, comparisons = claims.check_claim(CLAIM, records)
    assert verdict == claims.FAILS
    assert {c.where["dataset"] for c in comparisons} == {"E2E", "DART"}


def test_other_models_are_filtered_out(tmp_path):
    runs(tmp_path, {"PREFIX(0.1%)": [60, 62], "ADAPTER(0.1%)": [50, 51]})
    records = runs(tmp_path, {"ADAPTER(0.1%)": [70, 71]}, model="random-init control")
    verdict, _ = claims.check_claim({**CLAIM, "lower": {"method": "ADAPTER(0.1%)"}}, records)
    assert verdict == claims.HOLDS


def test_malformed_claims_name_the_valid_keys():
    with pytest.raises(claims.ClaimError, match="valid keys"):
        claims.check_claim({**CLAIM, "hgher": {}}, [])
    with pytest.raises(claims.ClaimError, match="cannot filter on \\['seed'\\]"):
        claims.check_claim({**CLAIM, "where": {"seed": 1}}, [])


def test_results_page_gives_each_reproduction_its_claim_verdict_numbers_compute_and_links(tmp_path):
    import json

    results, figures_dir = tmp_path / "results", tmp_path / "figures"
    runs(results, {"PREFIX(0.1%)": [60, 62], "ADAPTER(0.1%)": [50, 51], "FT-TOP2": [40, 41]})
    for k, run_dir in enumerate(sorted((results / "table2_table_to_text" / "mini").iterdir())):
        (run_dir / "provenance.json").write_text(json.dumps({"wall_seconds": 600.0, "train": {"train_seconds": 300.0}}))
    from repro.reporting import report

    report.write_table(results, "table2_table_to_text", "mini", report.load_table_spec("table2_table_to_text"))
    figures_dir.mkdir()
    (figures_dir / "table2_table_to_text-mini.png").write_bytes(b"\x89PNG")
    page = claims.results_page(results, figures_dir=figures_dir)

    overview = [line for line in page.splitlines() if line.startswith("| [table2_table_to_text](#table2_table_to_text)")]
    assert len(overview) == 1 and overview[0].endswith("| not run | **holds** |")  # columns: paper, mini
    section = page.split("\n## table2_table_to_text\n", 1)[1].split("\n## ", 1)[0]
    import re

    readme = re.search(r"\(\[README\]\(([^)]+)\)\)", section).group(1)
    assert (results / readme).resolve() == (claims.REPO / "reproductions/table2_table_to_text/README.md").resolve()
    # the scale row: the model actually run, the runs, their compute, links that resolve from results/
    assert ("| mini | models/gpt2-mini, not GPT-2 Medium | 6 | 60 min (training 30 min) | "
            "[table.md](table2_table_to_text/mini/table.md) | "
            "[table2_table_to_text-mini.png](../figures/table2_table_to_text-mini.png) |") in section
    assert (results / "table2_table_to_text/mini/table.md").exists()
    # the claim, its verdict and the numbers behind it
    assert "### Claim `prefix-beats-lightweight-baselines`" in section
    assert ("| mini | **holds** | E2E, test: PREFIX(0.1%) 61.00 ± 1.41 (n=2) vs ADAPTER(0.1%) 50.50 ± 0.71 (n=2) → holds"
            "<br>E2E, test: PREFIX(0.1%) 61.00 ± 1.41 (n=2) vs FT-TOP2 40.50 ± 0.71 (n=2) → holds |") in section
    # a reproduction with no runs says so at each scale
    assert "| [table3_xsum](#table3_xsum) |" in page and "\n## table3_xsum\n" in page
    # `repro claims` writes it as results/README.md, the page a visitor reads first
    import argparse

    parser = argparse.ArgumentParser()
    claims.add_parser(parser.add_subparsers())
    args = parser.parse_args(["claims", "--results-dir", str(results), "--figures-dir", str(figures_dir)])
    assert args.func(args) == 0
    assert (results / "README.md").read_text() == page and not (results / "claims.md").exists()


def test_a_claim_on_the_superglue_score_reads_the_derived_score(tmp_path):
    """metric "score": each seed's SuperGLUE score from its eight task runs; the claim compares those."""
    from repro.metrics.superglue import SCORE_METRICS

    for method, base in (("ensemble", 80.0), ("average", 70.0)):
        for seed in (1, 2):
            for task, metrics in SCORE_METRICS.items():
                # every metric of every task = base + seed, so the seed's score is base + seed
                write_run(tmp_path, "mini", f"{task}-{method}-{seed}", seed,
                          {"dataset": task, "model": "T5-XXL", "method": method},
                          [("dev", m, base + seed) for m in metrics])
    records = claims.load_scores(tmp_path, "table2_table_to_text", "mini", "score")
    assert sorted((r["method"], r["seed"], r["value"]) for r in records) == [
        ("average", 1, 71.0), ("average", 2, 72.0), ("ensemble", 1, 81.0), ("ensemble", 2, 82.0)]
    claim = {"id": "score", "metric": "score", "higher": {"method": "ensemble"}, "lower": {"method": "average"}}
    assert claims.check_claim(claim, records)[0] == claims.HOLDS
    assert claims.check_claim({**claim, "higher": claim["lower"], "lower": claim["higher"]}, records)[0] == claims.FAILS
