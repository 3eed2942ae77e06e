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
    # the paper's layout: one row per method; cell = reproduced ± std (published ACL value, as printed)
    assert "| PREFIX(0.1%) | 62.0 ± 2.0 (70.3) | 8.00 ± 0.00 (8.82) | — (46.3) | — (72.1) | — (2.46) |" in markdown
    assert row_of(frame, metric="NIST")["reproduced (paper scale) std"] == pytest.approx(0.0)


def test_one_seed_has_no_std(tmp_path):
    write_run(tmp_path, "paper", "e2e", 101, E2E_PREFIX, [("test", "BLEU", 65.0)])
    markdown, frame = report.aggregate(tmp_path, REPRO, "paper", SPEC)
    assert math.isnan(row_of(frame, metric="BLEU")["reproduced (paper scale) std"])
    assert "| PREFIX(0.1%) | 65.0 (70.3) |" in markdown and "n = 1 seed per cell (101)" in markdown


def test_unfinished_runs_are_ignored_and_named_on_stderr_not_in_the_table(tmp_path, capsys):
    three_seeds(tmp_path, "paper")
    write_run(tmp_path, "paper", "e2e-prefix-seed104", 104, E2E_PREFIX, [("test", "BLEU", 0.0)], finished=False)
    write_run(tmp_path, "paper", "e2e-prefix-seed105", 105, E2E_PREFIX, [], finished=False)
    (tmp_path / REPRO / "paper" / "table.md").write_text("an old table: not a run")
    markdown, frame = report.aggregate(tmp_path, REPRO, "paper", SPEC)
    assert row_of(frame, metric="BLEU")["n seeds"] == 3
    assert "Finished runs: 3." in markdown and "unfinished" not in markdown
    assert "2 unfinished run(s) ignored: e2e-prefix-seed104, e2e-prefix-seed105" in capsys.readouterr().err


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
    # the compact tables' headers name datasets and metrics, never a model; the caption names the model run
    for md in (smoke_md, tables["mini"][0], paper_md):
        header = next(line for line in md.splitlines() if line.startswith("| method"))
        assert "GPT-2" not in header and "gpt2" not in header
    assert "Model run: tiny:gpt2, standing in for GPT-2 Medium." in smoke_md
    assert "Model run: models/gpt2-mini, standing in for GPT-2 Medium." in tables["mini"][0]
    assert "Model run: gpt2-medium (GPT-2 Medium)." in paper_md
    assert "**Smoke scale.**" in smoke_md and "**Paper scale.**" not in smoke_md

    mini_md, mini_frame = tables["mini"]
    assert not paper_only & set(mini_frame.columns)
    assert "reproduced (mini: models/gpt2-mini, not GPT-2 Medium) mean" in mini_frame.columns
    assert row_of(mini_frame, metric="BLEU")["mini − published ACL 2021"] == pytest.approx(62.0 - 70.3)
    assert "mini − published ACL 2021" in mini_md and "mini scale" in mini_md.splitlines()[0]


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
    prefix = next(line for line in markdown.splitlines() if line.startswith("| PREFIX(0.1%) | — (62.9)"))
    assert "| 30.00 | 40.0 (46.4) | — (0.38) |" in prefix  # WebNLG test-x, then DART BLEU and METEOR

    for dataset in ("E2E", "WebNLG"):
        absent = row_of(frame, dataset=dataset)
        assert math.isnan(absent["published ACL 2021 Table 2"]) and math.isnan(absent["published arXiv v1 Table 1"])
        assert math.isnan(absent["mini − published ACL 2021"]) and absent["source"] == ""
    # GPT-2 Large ran E2E only, GPT-2 Medium DART and WebNLG: disjoint datasets, two tables; the
    # GPT-2 Large row has no published value, so its cell has no parentheses
    assert "| PREFIX(0.1%) | 50.00 |" in markdown
    assert "Model run: models/gpt2-mini-large, standing in for GPT-2 Large." in markdown
    # two stand-ins: the long table's reproduced column names both
    assert "models/gpt2-mini-large, not GPT-2 Large; models/gpt2-mini, not GPT-2 Medium" in " ".join(frame.columns)
    assert "WebNLG BLEU test-x" in markdown  # a split the paper does not have keeps its name


def test_null_scores_are_left_out_and_named(tmp_path):
    write_run(tmp_path, "paper", "dart", 101, {"dataset": "DART", "model": "GPT-2 Medium", "method": "PREFIX(0.1%)"},
              [("test", "BLEU", 45.0), ("test", "BLEURT", None)])
    markdown, frame = report.aggregate(tmp_path, REPRO, "paper", SPEC)
    assert list(frame["metric"]) == ["BLEU"]
    assert "shown as —: DART test GPT-2 Medium PREFIX(0.1%) BLEURT" in markdown
    assert "— (0.39)" in markdown  # BLEURT not computed: the published value alone


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
    assert "Finished runs: 23." in markdown  # the derived rows are not counted as runs


# ---------------------------------------------------------------------------------------------
# The paper's layout (table.md); table.csv stays the long record
# ---------------------------------------------------------------------------------------------

TABLE2_METHODS = ["FINE-TUNE (full)", "FT-TOP2", "ADAPTER(3%)", "ADAPTER(0.1%)", "PREFIX(0.1%)"]
TABLE2_COLUMNS = (["E2E BLEU", "E2E NIST", "E2E METEOR", "E2E ROUGE-L", "E2E CIDEr"]
                  + [f"WebNLG {m} {s}" for m in ("BLEU", "METEOR", "TER↓") for s in "SUA"]
                  + ["DART BLEU", "DART METEOR", "DART TER↓", "DART MoverScore", "DART BERTScore", "DART BLEURT"])
SCORES = {"E2E": [("test", m) for m in ("BLEU", "NIST", "METEOR", "ROUGE-L", "CIDEr")],
          "WebNLG": [(s, m) for s in ("test-seen", "test-unseen", "test-all")
                     for m in ("BLEU", "METEOR", "TER(lower better)")],
          "DART": [("test", m) for m in ("BLEU", "METEOR", "TER(lower better)")]}  # no DART BLEURT etc. (null)


def table2_runs(results, scale="mini", control=False):
    """Every (dataset, method) of Table 2's GPT-2 Medium rows, seeds 101 and 102, written in an order
    unlike the paper's (reversed); value = 10 * method index + seed offset; optional random-init control."""
    for seed, offset in ((101, 0.0), (102, 2.0)):
        for dataset, scores in reversed(SCORES.items()):
            for k, method in reversed(list(enumerate(TABLE2_METHODS))):
                write_run(results, scale, f"{dataset}-{k}-{seed}", seed, {"dataset": dataset, "model": "GPT-2 Medium",
                          "method": method}, [(s, m, 10.0 * k + offset) for s, m in scores])
            if control and dataset == "E2E":
                for method in ("FINE-TUNE (full)", "PREFIX(0.1%)"):
                    write_run(results, scale, f"control-{method[:6]}-{seed}", seed,
                              {"dataset": "E2E", "model": "random-init control", "method": method},
                              [(s, m, 1.0 + offset) for s, m in SCORES["E2E"]], model_name="scratch:models/gpt2-mini")


def _cells(row: list[str]) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def test_table2_is_one_row_per_method_with_the_papers_column_groups(tmp_path):
    table2_runs(tmp_path)
    markdown, frame = report.aggregate(tmp_path, REPRO, "mini", SPEC)
    assert len(frame) == 5 * (5 + 9 + 3)  # the long record: one row per (dataset, split, method, metric)
    (table,) = report.paper_tables(frame, SPEC)
    assert table.title == "Prefix-Tuning, ACL 2021 Table 2"
    assert table.header == ["method", *TABLE2_COLUMNS]
    assert [row[0] for row in table.rows] == TABLE2_METHODS  # the paper's order, not the runs'
    lines = table.markdown().splitlines()
    body = [line for line in lines if line.startswith("| ") and not line.startswith("| method")]
    assert len(body) == 5 and all(len(_cells(line)) == 1 + len(TABLE2_COLUMNS) for line in body)
    # every cell: reproduced mean ± std (published), the published value the registry holds for that cell
    registry = report.published.load_registry()
    for k, row in enumerate(table.rows):
        for (dataset, split, metric), text in zip(table.columns, row[1:]):
            printed = report.published.lookup(registry, paper=SPEC["paper"], version="ACL 2021", table="Table 2",
                                              dataset=dataset, split=split, model="GPT-2 Medium",
                                              method=TABLE2_METHODS[k], metric=metric).value
            assert text.endswith(f"({printed})"), (row[0], dataset, split, metric, text)
            if (split, metric) in SCORES[dataset]:
                decimals = len(printed.split(".")[1]) if "." in printed else 0
                mean, std = 10.0 * k + 1.0, 2 ** 0.5  # seeds: 10k and 10k + 2
                assert text.startswith(f"{mean:.{decimals}f} ± {std:.{decimals}f} ("), text
            else:
                assert text.startswith("— ("), text  # DART MoverScore, BERTScore, BLEURT: not run
    # below the table, once: scale, model run, n seeds and the sources
    assert "**Mini scale.** Model run: models/gpt2-mini, standing in for GPT-2 Medium." in markdown
    assert "n = 2 seeds per cell (101, 102)." in markdown
    assert markdown.count("https://aclanthology.org/2021.acl-long.353.pdf") == 1
    assert "ACL 2021 Table 2 [https://aclanthology.org/2021.acl-long.353.pdf]" in markdown


def test_a_control_not_in_the_paper_gets_its_own_table_without_published_values(tmp_path):
    table2_runs(tmp_path, control=True)
    _, frame = report.aggregate(tmp_path, REPRO, "mini", SPEC)
    main, control = report.paper_tables(frame, SPEC)
    assert [row[0] for row in main.rows] == TABLE2_METHODS and main.header == ["method", *TABLE2_COLUMNS]
    assert control.title == "random-init control (not in the paper)"
    assert control.header == ["method", "E2E BLEU", "E2E NIST", "E2E METEOR", "E2E ROUGE-L", "E2E CIDEr"]
    assert [row[0] for row in control.rows] == ["FINE-TUNE (full)", "PREFIX(0.1%)"]
    assert all("(" not in cell for row in control.rows for cell in row[1:])  # no published value
    assert "scratch:models/gpt2-mini, standing in for random-init control" in " ".join(control.caption)


def test_the_table_md_is_the_paper_tables_and_table_csv_gives_the_same(tmp_path):
    table2_runs(tmp_path, control=True)
    md_path, csv_path = report.write_table(tmp_path, REPRO, "mini", SPEC)
    markdown = md_path.read_text()
    from_runs = report.paper_tables(report.aggregate(tmp_path, REPRO, "mini", SPEC)[1], SPEC)
    from_csv = report.paper_tables(pd.read_csv(csv_path), SPEC)  # what `repro readme` reads
    assert [t.markdown() for t in from_csv] == [t.markdown() for t in from_runs]
    for table in from_runs:
        assert table.markdown(level=2) in markdown
    assert markdown.count("\n| ") < 20  # 7 rows in two tables, not one row per metric (≈ 100)


def test_lester_table3_has_a_row_per_task_metric_and_a_column_per_prompt_set(tmp_path):
    from repro.metrics.superglue import SCORE_METRICS

    repro = "prompt_ensembling"
    spec = {"paper": "Prompt Tuning (Lester et al. 2021)", "versions": ["EMNLP 2021"], "table": "Table 3"}
    model = "T5-XXL (T5.1.1 LM-adapted, frozen)"
    methods = ["single prompt average (5 prompts)", "best single prompt", "5-prompt ensemble (majority vote)"]
    for seed in (1, 2):
        for k, method in reversed(list(enumerate(methods))):
            for task, metrics in SCORE_METRICS.items():
                run_dir = tmp_path / repro / "mini" / f"{task}-{k}-{seed}"
                run_dir.mkdir(parents=True)
                (run_dir / "metrics.json").write_text(json.dumps({
                    "reproduction": repro, "scale": "mini", "seed": seed, "model_name": "models/bart-mini",
                    "row": {"dataset": task, "model": model, "method": method},
                    "scores": [{"split": "dev", "metric": m, "value": 50.0 + k + seed} for m in metrics]}))
    markdown, frame = report.aggregate(tmp_path, repro, "mini", spec)
    (table,) = report.paper_tables(frame, spec)
    assert table.header == ["dataset", "metric", *methods]
    registry = report.published.load_registry()
    expected = [(r.dataset, r.metric) for r in registry if r.paper == spec["paper"] and r.table == "Table 3"
                and r.method == methods[0]]
    assert [(row[0], row[1]) for row in table.rows] == expected  # BoolQ acc, CB acc, CB F1, ..., SuperGLUE score
    assert expected[-1] == ("SuperGLUE", "score")
    boolq = table.rows[0]
    assert boolq[2:] == ["51.5 ± 0.7 (91.1)", "52.5 ± 0.7 (91.3)", "53.5 ± 0.7 (91.7)"]
    assert "GPT" not in " ".join(table.header) and "T5" not in " ".join(table.header)
    assert "Model run: models/bart-mini, standing in for T5-XXL (T5.1.1 LM-adapted, frozen)." in markdown


def test_disjoint_datasets_give_the_papers_separate_tables(tmp_path):
    """extrapolation compares with Table 2 (WebNLG, GPT-2) and Table 4 (XSUM, BART): two tables."""
    repro = "extrapolation"
    spec = {"paper": "Prefix-Tuning (Li & Liang 2021)", "versions": ["ACL 2021"], "table": {"ACL 2021": ["Table 2", "Table 4"]}}
    for seed in (101, 102):
        for method, model, dataset, split, metric in (
                ("FINE-TUNE (full)", "GPT-2 Medium", "WebNLG", "test-unseen", "BLEU"),
                ("PREFIX(0.1%)", "GPT-2 Medium", "WebNLG", "test-unseen", "BLEU"),
                ("PREFIX", "BART-large", "XSUM", "news-to-sports", "ROUGE-2")):
            run_dir = tmp_path / repro / "paper" / f"{dataset}-{method[:6]}-{seed}"
            run_dir.mkdir(parents=True)
            (run_dir / "metrics.json").write_text(json.dumps({
                "reproduction": repro, "scale": "paper", "seed": seed, "model_name": model.lower(),
                "row": {"dataset": dataset, "model": model, "method": method},
                "scores": [{"split": split, "metric": metric, "value": 20.0}]}))
    _, frame = report.aggregate(tmp_path, repro, "paper", spec)
    webnlg, xsum = report.paper_tables(frame, spec)
    assert webnlg.title == "Prefix-Tuning, ACL 2021 Table 2" and xsum.title == "Prefix-Tuning, ACL 2021 Table 4"
    assert [r[0] for r in webnlg.rows] == ["FINE-TUNE (full)", "PREFIX(0.1%)"] and [r[0] for r in xsum.rows] == ["PREFIX"]
    assert all(c[0] == "WebNLG" for c in webnlg.columns) and all(c[0] == "XSUM" for c in xsum.columns)
    # Table 4's column groups: news-to-sports (R-1, R-2, R-L), then within-news
    assert xsum.header[1:4] == ["XSUM ROUGE-1 news-to-sports", "XSUM ROUGE-2 news-to-sports",
                                "XSUM ROUGE-L news-to-sports"]
    printed = report.published.lookup(paper=spec["paper"], version="ACL 2021", table="Table 4", dataset="XSUM",
                                      split="news-to-sports", model="BART-large", method="PREFIX", metric="ROUGE-2")
    assert xsum.rows[0][2] == f"20.00 ± 0.00 ({printed.value})" and printed.value == "16.74"


def test_unpublished_rows_follow_the_configs_order(tmp_path):
    """init_strategy's rows have no published value (Figure 5 is a plot): they follow the config,
    which lists them in the figure's order, not the alphabet."""
    config = report.config_of("init_strategy")
    declared = [method for method in config["models"]["GPT-2 Medium"]]
    spec = config["compare_to"]
    for seed in (101, 102):
        for method in sorted(declared):
            run_dir = tmp_path / "init_strategy" / "mini" / f"{method}-{seed}".replace(" ", "").replace(":", "")
            run_dir.mkdir(parents=True)
            (run_dir / "metrics.json").write_text(json.dumps({
                "reproduction": "init_strategy", "scale": "mini", "seed": seed, "model_name": "models/gpt2-mini",
                "row": {"dataset": "E2E (n=100)", "model": "GPT-2 Medium", "method": method},
                "scores": [{"split": "test", "metric": "BLEU", "value": 1.0}, {"split": "test", "metric": "NIST", "value": 1.0}]}))
    markdown, frame = report.aggregate(tmp_path, "init_strategy", "mini", spec)
    assert list(dict.fromkeys(frame["method"])) == declared
    assert list(frame["metric"][:2]) == ["BLEU", "NIST"]  # the scorer's order, not the alphabet's
    (table,) = report.paper_tables(frame, spec)
    assert [row[0] for row in table.rows] == declared and declared[0] == "random init"
    assert "has no value for these rows in its text (it shows them only as a plot)" in markdown
