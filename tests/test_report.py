"""`repro aggregate`: finished runs -> table.md / table.csv beside the published numbers.

The run directories are fixtures written here with made-up scores; the published values are the
registry's (typed from the paper: ACL 2021 Table 2 / arXiv v1 Table 1)."""
import argparse
import json
import math

import pandas as pd
import pytest

from repro.reporting import report

REPRO = "table2_table_to_text"
SPEC = {"paper": "Prefix-Tuning (Li & Liang 2021)", "versions": ["ACL 2021", "arXiv v1"],
        "table": {"ACL 2021": "Table 2", "arXiv v1": "Table 1"}}
E2E_PREFIX = {"dataset": "E2E", "model": "GPT-2 Medium", "method": "PREFIX(0.1%)"}
MODEL_AT = {"smoke": "tiny:gpt2", "mini": "models/gpt2-mini", "paper": "gpt2-medium"}


def write_run(results, scale, run_id, seed, row, scores, model_name=None, finished=True):
    run_dir = results / REPRO / scale / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text("{}")
    if finished:
        (run_dir / "metrics.json").write_text(json.dumps({
            "reproduction": REPRO, "scale": scale, "run_id": run_id, "seed": seed,
            "model_name": model_name or MODEL_AT[scale], "row": row,
            "scores": [{"split": split, "metric": metric, "value": value} for split, metric, value in scores]}))
    return run_dir


def three_seeds(results, scale):
    """E2E PREFIX(0.1%) BLEU 60, 62, 64 (mean 62, sample std 2) and NIST 8.0 for seeds 101-103."""
    for seed, bleu in ((101, 60.0), (102, 62.0), (103, 64.0)):
        write_run(results, scale, f"e2e-prefix-seed{seed}", seed, E2E_PREFIX,
                  [("test", "BLEU", bleu), ("test", "NIST", 8.0)])


def row_of(frame, **keys):
    found = frame
    for k, v in keys.items():
        found = found[found[k] == v]
    assert len(found) == 1, found
    return found.iloc[0]


def test_mean_and_std_over_seeds(tmp_path):
    three_seeds(tmp_path, "paper")
    markdown, frame = report.aggregate(tmp_path, REPRO, "paper", SPEC)
    bleu = row_of(frame, metric="BLEU")
    assert bleu["reproduced (paper scale) mean"] == pytest.approx(62.0)
    assert bleu["reproduced (paper scale) std"] == pytest.approx(2.0)
    assert bleu["n seeds"] == 3 and bleu["seeds"] == "101 102 103"
    assert bleu["published ACL 2021 Table 2"] == pytest.approx(70.3)
    assert bleu["published arXiv v1 Table 1"] == pytest.approx(69.7)  # differs from ACL: shown
    assert bleu["reproduced − published ACL 2021"] == pytest.approx(62.0 - 70.3)
    assert "ACL 2021 Table 2 [https://aclanthology.org/2021.acl-long.353.pdf]" in bleu["source"]
    assert "| 70.3 | 69.7 | 62.00 ± 2.00 (n=3) | -8.30 |" in markdown
    assert row_of(frame, metric="NIST")["reproduced (paper scale) std"] == pytest.approx(0.0)


def test_one_seed_has_no_std(tmp_path):
    write_run(tmp_path, "paper", "e2e", 101, E2E_PREFIX, [("test", "BLEU", 65.0)])
    markdown, frame = report.aggregate(tmp_path, REPRO, "paper", SPEC)
    assert math.isnan(row_of(frame, metric="BLEU")["reproduced (paper scale) std"])
    assert "| 65.00 (n=1) |" in markdown


def test_unfinished_runs_are_ignored_and_counted(tmp_path):
    three_seeds(tmp_path, "paper")
    write_run(tmp_path, "paper", "e2e-prefix-seed104", 104, E2E_PREFIX, [("test", "BLEU", 0.0)], finished=False)
    write_run(tmp_path, "paper", "e2e-prefix-seed105", 105, E2E_PREFIX, [], finished=False)
    (tmp_path / REPRO / "paper" / "table.md").write_text("an old table: not a run")
    markdown, frame = report.aggregate(tmp_path, REPRO, "paper", SPEC)
    assert row_of(frame, metric="BLEU")["n seeds"] == 3
    assert "Finished runs: 3; unfinished runs ignored: 2." in markdown


def test_smoke_and_mini_numbers_never_sit_under_a_paper_header(tmp_path):
    tables = {}
    for scale in ("smoke", "mini", "paper"):
        three_seeds(tmp_path, scale)
        tables[scale] = report.aggregate(tmp_path, REPRO, scale, SPEC)
    paper_md, paper_frame = tables["paper"]
    paper_only = set(paper_frame.columns) - {"dataset", "split", "model", "method", "metric", "model loaded",
                                             "published ACL 2021 Table 2", "published arXiv v1 Table 1",
                                             "n seeds", "seeds", "source"}
    assert paper_only == {"reproduced (paper scale) mean", "reproduced (paper scale) std",
                          "reproduced − published ACL 2021"}

    smoke_md, smoke_frame = tables["smoke"]
    assert not paper_only & set(smoke_frame.columns)
    assert "reproduced (smoke: tiny:gpt2, not GPT-2 Medium) mean" in smoke_frame.columns
    assert not [c for c in smoke_frame.columns if "−" in c]  # no difference column at smoke scale
    assert smoke_md.startswith(f"# {REPRO}: smoke scale\n")
    smoke_header = next(line for line in smoke_md.splitlines() if line.startswith("| dataset"))
    paper_header = next(line for line in paper_md.splitlines() if line.startswith("| dataset"))
    assert smoke_header != paper_header and "reproduced (paper scale)" not in smoke_header
    assert "−" not in smoke_header

    mini_md, mini_frame = tables["mini"]
    assert not paper_only & set(mini_frame.columns)
    assert "reproduced (mini: models/gpt2-mini, not GPT-2 Medium) mean" in mini_frame.columns
    assert row_of(mini_frame, metric="BLEU")["mini − published ACL 2021"] == pytest.approx(62.0 - 70.3)
    assert "| mini − published ACL 2021 |" in mini_md and "mini scale" in mini_md.splitlines()[0]


def test_missing_and_identical_published_values_are_blank(tmp_path):
    # DART BLEU of PREFIX(0.1%) is 46.4 in both versions; the paper's GPT-2 Large row is "PREFIX",
    # so a "PREFIX(0.1%)" GPT-2 Large run has no published value; "test-x" is no WebNLG split.
    write_run(tmp_path, "mini", "dart", 101, {"dataset": "DART", "model": "GPT-2 Medium", "method": "PREFIX(0.1%)"},
              [("test", "BLEU", 40.0)])
    write_run(tmp_path, "mini", "e2e-large", 101, {"dataset": "E2E", "model": "GPT-2 Large", "method": "PREFIX(0.1%)"},
              [("test", "BLEU", 50.0)], model_name="models/gpt2-mini-large")
    write_run(tmp_path, "mini", "webnlg", 101, {"dataset": "WebNLG", "model": "GPT-2 Medium", "method": "PREFIX(0.1%)"},
              [("test-x", "BLEU", 30.0)])
    markdown, frame = report.aggregate(tmp_path, REPRO, "mini", SPEC)

    dart = row_of(frame, dataset="DART")
    assert dart["published ACL 2021 Table 2"] == pytest.approx(46.4)
    assert math.isnan(dart["published arXiv v1 Table 1"])
    assert "| DART | test | GPT-2 Medium | PREFIX(0.1%) | BLEU | 46.4 |  | 40.00 (n=1) | -6.40 |" in markdown

    for dataset in ("E2E", "WebNLG"):
        absent = row_of(frame, dataset=dataset)
        assert math.isnan(absent["published ACL 2021 Table 2"]) and math.isnan(absent["published arXiv v1 Table 1"])
        assert math.isnan(absent["mini − published ACL 2021"]) and absent["source"] == ""
    assert "| E2E | test | GPT-2 Large | PREFIX(0.1%) | BLEU |  |  | 50.00 (n=1) |  |  |" in markdown
    # two stand-ins: the reproduced header names both
    assert "models/gpt2-mini-large, not GPT-2 Large; models/gpt2-mini, not GPT-2 Medium" in markdown
    assert "no published value in ACL 2021 Table 2 / arXiv v1 Table 1: 2" in markdown


def test_null_scores_are_left_out_and_named(tmp_path):
    write_run(tmp_path, "paper", "dart", 101, {"dataset": "DART", "model": "GPT-2 Medium", "method": "PREFIX(0.1%)"},
              [("test", "BLEU", 45.0), ("test", "BLEURT", None)])
    markdown, frame = report.aggregate(tmp_path, REPRO, "paper", SPEC)
    assert list(frame["metric"]) == ["BLEU"]
    assert "left out: DART test GPT-2 Medium PREFIX(0.1%) BLEURT" in markdown


def test_unknown_scale_is_an_error(tmp_path):
    three_seeds(tmp_path, "paper")
    with pytest.raises(ValueError, match="unknown scale 'full'; choose one of smoke, mini, paper"):
        report.aggregate(tmp_path, REPRO, "full", SPEC)
    with pytest.raises(ValueError, match="unknown scale"):
        report.write_table(tmp_path, REPRO, "Paper", SPEC)


def test_bad_table_spec_and_misplaced_runs_are_errors(tmp_path):
    three_seeds(tmp_path, "paper")
    with pytest.raises(ValueError, match="Table 2"):  # lists the tables that exist
        report.aggregate(tmp_path, REPRO, "paper", {**SPEC, "table": {"ACL 2021": "Table 12", "arXiv v1": "Table 1"}})
    with pytest.raises(ValueError, match="missing keys"):
        report.aggregate(tmp_path, REPRO, "paper", {"paper": SPEC["paper"]})
    with pytest.raises(FileNotFoundError):
        report.aggregate(tmp_path, REPRO, "mini", SPEC)
    write_run(tmp_path, "paper", "from-mini", 101, E2E_PREFIX, [("test", "BLEU", 1.0)])
    path = tmp_path / REPRO / "paper" / "from-mini" / "metrics.json"
    path.write_text(path.read_text().replace('"scale": "paper"', '"scale": "mini"'))
    with pytest.raises(ValueError, match="lies under"):
        report.aggregate(tmp_path, REPRO, "paper", SPEC)


def test_duplicate_seed_is_an_error(tmp_path):
    write_run(tmp_path, "paper", "a", 101, E2E_PREFIX, [("test", "BLEU", 1.0)])
    write_run(tmp_path, "paper", "b", 101, E2E_PREFIX, [("test", "BLEU", 2.0)])
    with pytest.raises(ValueError, match="seed 101"):
        report.aggregate(tmp_path, REPRO, "paper", SPEC)


def test_cli_writes_table_md_and_csv(tmp_path, capsys):
    three_seeds(tmp_path, "smoke")
    config = tmp_path / "config.yaml"
    config.write_text("name: table2_table_to_text\ncompare_to:\n  paper: \"Prefix-Tuning (Li & Liang 2021)\"\n"
                      "  versions: [\"ACL 2021\", \"arXiv v1\"]\n"
                      "  table: {\"ACL 2021\": \"Table 2\", \"arXiv v1\": \"Table 1\"}\n")
    argv = ["--reproduction", REPRO, "--scale", "smoke", "--results-dir", str(tmp_path), "--config", str(config)]
    assert report.main(argv) == 0
    out = tmp_path / REPRO / "smoke"
    markdown = (out / "table.md").read_text()
    assert markdown == capsys.readouterr().out
    frame = pd.read_csv(out / "table.csv")
    assert row_of(frame, metric="BLEU")["reproduced (smoke: tiny:gpt2, not GPT-2 Medium) mean"] == pytest.approx(62.0)

    # the same through `repro aggregate` as the CLI registers it
    parser = argparse.ArgumentParser(prog="repro")
    report.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["aggregate", *argv])
    assert args.func(args) == 0
    assert report.main([*argv[:4], "--results-dir", str(tmp_path / "nowhere"), "--config", str(config)]) == 2


@pytest.mark.skipif(not (report.REPRODUCTIONS_DIR / REPRO / "config.yaml").exists(), reason="no reproduction config")
def test_the_reproduction_config_names_a_registry_table():
    spec = report.load_table_spec(REPRO)
    parsed = report.TableSpec.parse(spec, report.published.load_registry())
    assert parsed.tables == {"ACL 2021": "Table 2", "arXiv v1": "Table 1"}


def test_superglue_score_row_from_eight_tasks_per_seed(tmp_path):
    """A seed whose eight SuperGLUE runs all finished gets a derived "SuperGLUE score" row (mean over
    tasks of each task's mean metric); a seed missing a task gets none."""
    from repro.metrics.superglue import SCORE_METRICS

    repro = "prompt_ensembling"
    spec = {"paper": "Prompt Tuning (Lester et al. 2021)", "versions": ["EMNLP 2021"], "table": "Table 3"}
    model, method = "T5-XXL (T5.1.1 LM-adapted, frozen)", "5-prompt ensemble (majority vote)"
    for seed, base in ((1, 60.0), (2, 70.0), (3, 80.0)):
        for k, (task, metrics) in enumerate(SCORE_METRICS.items()):
            if seed == 3 and task == "WSC":
                continue  # seed 3 lacks a task: no score for it
            run_dir = tmp_path / repro / "mini" / f"{task}-seed{seed}"
            run_dir.mkdir(parents=True)
            # task k's metrics: base + k and base + k + 2 -> task mean base + k (+1 for two metrics)
            scores = [{"split": "dev", "metric": m, "value": base + k + 2 * i} for i, m in enumerate(metrics)]
            (run_dir / "metrics.json").write_text(json.dumps({
                "reproduction": repro, "scale": "mini", "seed": seed, "model_name": "models/bart-mini",
                "row": {"dataset": task, "model": model, "method": method}, "scores": scores}))
    expected = {seed: base + sum(k + (len(ms) - 1) for k, ms in enumerate(SCORE_METRICS.values())) / 8
                for seed, base in ((1, 60.0), (2, 70.0))}
    markdown, frame = report.aggregate(tmp_path, repro, "mini", spec)
    score = row_of(frame, dataset="SuperGLUE", metric="score")
    mean_col = [c for c in frame.columns if c.endswith(" mean")][0]
    assert score[mean_col] == pytest.approx((expected[1] + expected[2]) / 2)
    assert score["seeds"] == "1 2"
    assert score["published EMNLP 2021 Table 3"] == pytest.approx(91.3)
    assert "SuperGLUE score: per seed" in markdown
    assert "Finished runs: 23;" in markdown  # the derived rows are not counted as runs
