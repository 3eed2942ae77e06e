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


def test_claims_markdown_lists_the_table2_claim(tmp_path):
    runs(tmp_path, {"PREFIX(0.1%)": [60, 62], "ADAPTER(0.1%)": [50, 51], "FT-TOP2": [40, 41]})
    text = claims.claims_markdown(tmp_path)
    assert "## table2_table_to_text: prefix-beats-lightweight-baselines" in text
    assert "| mini | **holds**" in text


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
