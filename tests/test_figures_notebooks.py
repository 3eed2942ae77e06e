"""`repro figures` (PNG + PDF from aggregated tables) and `repro notebooks` (the notebooks run
top to bottom against a results directory). Run directories are written here with made-up
scores, as in test_report; CI also executes the notebooks against real smoke results."""
import json
import shutil

import nbformat
import pytest

from repro.reporting import figures, notebooks, report
from test_report import E2E_PREFIX, REPRO, SPEC, three_seeds, write_run


@pytest.fixture
def mini_results(tmp_path):
    results = tmp_path / "results"
    three_seeds(results, "mini")  # E2E PREFIX(0.1%) BLEU 60, 62, 64
    write_run(results, "mini", "e2e-ft-seed101", 101, {**E2E_PREFIX, "method": "FINE-TUNE (full)"},
              [("test", "BLEU", 55.0)])
    report.write_table(results, REPRO, "mini", SPEC)
    return results


def test_figures_from_aggregated_tables(mini_results, tmp_path):
    out = tmp_path / "figures"
    written = figures.make_figures(mini_results, out, models_dir=None)
    assert sorted(p.name for p in written) == [f"{REPRO}-mini.pdf", f"{REPRO}-mini.png"]
    assert (out / f"{REPRO}-mini.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / f"{REPRO}-mini.pdf").read_bytes()[:5] == b"%PDF-"
    # regenerating from the same table gives the same bytes (no creation date in the files)
    first = {p.name: p.read_bytes() for p in written}
    again = figures.make_figures(mini_results, out, models_dir=None)
    assert {p.name: p.read_bytes() for p in again} == first
    assert b"CreationDate" not in first[f"{REPRO}-mini.pdf"]


def test_a_scale_whose_runs_are_all_gone_loses_its_stale_figure(mini_results, tmp_path):
    out = tmp_path / "figures"
    figures.make_figures(mini_results, out, models_dir=None)
    assert (out / f"{REPRO}-mini.png").exists()
    for run in (mini_results / REPRO / "mini").iterdir():
        if run.is_dir():
            shutil.rmtree(run)
    report.write_table(mini_results, REPRO, "mini", SPEC)  # a table with no rows
    assert figures.make_figures(mini_results, out, models_dir=None) == []
    assert not (out / f"{REPRO}-mini.png").exists() and not (out / f"{REPRO}-mini.pdf").exists()


def test_figure_refuses_a_missing_metric(mini_results, tmp_path):
    with pytest.raises(ValueError, match="no 'ROUGE-L' rows; metrics present: \\['BLEU', 'NIST'\\]"):
        figures.table_figure(mini_results / REPRO / "mini" / "table.csv", tmp_path / "x", "ROUGE-L")


def test_legend_names_a_published_series_only_where_it_has_values(mini_results):
    import pandas as pd
    frame = pd.read_csv(mini_results / REPRO / "mini" / "table.csv")
    published = [c for c in frame.columns if c.startswith("published ")]
    assert published and frame.loc[frame["metric"] == "BLEU", published[0]].notna().any()

    def legend_and_notes(table):
        fig = figures.draw_table(table, "BLEU", title="t", spec=SPEC)
        return [t.get_text() for t in fig.legends[0].get_texts()], [t.get_text() for t in fig.texts]

    names, notes = legend_and_notes(frame)
    assert published[0] in names and not any("no value" in n for n in notes)
    assert "mini: models/gpt2-mini, not GPT-2 Medium" in names  # the model run, never the paper's model alone
    # the same table for a figure printed only as a plot: no published numbers in text
    names, notes = legend_and_notes(frame.assign(**{c: float("nan") for c in published}))
    assert not [n for n in names if n.startswith("published ")]
    assert any(published[0] in n and "no value" in n for n in notes)


def _table2_frame(tmp_path):
    from test_report import table2_runs

    table2_runs(tmp_path, control=True)
    return report.aggregate(tmp_path, REPRO, "mini", SPEC)[1]


def test_table2_bars_are_grouped_by_method_and_their_labels_do_not_overlap(tmp_path):
    from test_report import TABLE2_METHODS

    fig = figures.draw_table(_table2_frame(tmp_path), "BLEU", title="table2", spec=SPEC)
    fig.draw_without_rendering()  # lays out the text (constrained layout included)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["E2E test", "WebNLG test-seen", "WebNLG test-unseen",
                                               "WebNLG test-all", "DART test"]
    boxes = []
    for ax in axes:
        labels = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
        assert labels == TABLE2_METHODS
        boxes += [t.get_window_extent() for t in ax.get_xticklabels()]
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    assert not overlapping, f"{len(overlapping)} pairs of tick labels overlap"
    # E2E: per method the published bar and the stand-in's; the control's only where it ran
    e2e = axes[0]
    assert len(e2e.patches) == 5 + 5 + 2
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert names == ["published ACL 2021 Table 2", "mini: models/gpt2-mini, not GPT-2 Medium",
                     "mini: scratch:models/gpt2-mini, not random-init control"]


def _line_runs(results, reproduction, rows):
    """rows: (dataset, model, method, sample or None, seed, {metric: value}); split "test"."""
    for dataset, model, method, sample, seed, scores in rows:
        run_dir = results / reproduction / "mini" / f"{dataset}-{model}-{method}-{sample}-{seed}".replace(" ", "")
        run_dir.mkdir(parents=True)
        (run_dir / "metrics.json").write_text(json.dumps({
            "reproduction": reproduction, "scale": "mini", "seed": seed, "sample": sample,
            "model_name": "models/gpt2-mini", "row": {"dataset": dataset, "model": model, "method": method},
            "scores": [{"split": "test", "metric": m, "value": v} for m, v in scores.items()]}))


def test_low_data_is_lines_over_the_training_size_one_per_method(tmp_path):
    sizes = (50, 100, 200, 500)
    rows = [(f"E2E (n={n})", "GPT-2 Medium", method, sample, 101, {"BLEU": base + n / 100 + sample, "ROUGE-L": 1.0})
            for n in sizes for method, base in (("PREFIX", 10.0), ("FINE-TUNE", 5.0)) for sample in (0, 1)]
    _line_runs(tmp_path, "low_data", rows)
    spec = report.load_table_spec("low_data")
    _, frame = report.aggregate(tmp_path, "low_data", "mini", spec)
    fig = figures.draw_table(frame, ["BLEU"], title="low data", spec=spec)
    # a panel per dataset and metric the paper's Figure 3 plots for it (E2E: BLEU, ROUGE-L)
    assert [(ax.get_title(), ax.get_ylabel()) for ax in fig.axes] == [("E2E test", "BLEU"), ("E2E test", "ROUGE-L")]
    bleu = fig.axes[0]
    assert bleu.get_xscale() == "log"
    lines = {line.get_label(): line for line in bleu.get_lines()}
    assert sorted(lines) == ["FINE-TUNE", "PREFIX"]  # one line per method
    assert list(lines["PREFIX"].get_xdata()) == list(sizes)
    assert list(lines["PREFIX"].get_ydata()) == pytest.approx([10.0 + n / 100 + 0.5 for n in sizes])
    assert len(bleu.collections) == 2  # a mean ± std band per method (two sampled sets per size)
    notes = " ".join(t.get_text() for t in fig.texts)
    assert "ACL 2021 Figure 3: no value in the paper's text" in notes and "models/gpt2-mini, not GPT-2 Medium" in notes


def test_prefix_length_is_lines_over_the_length(tmp_path):
    lengths = (1, 5, 10, 20, 40)
    rows = [("DART", "GPT-2 Medium", f"PREFIX-{n}", None, seed, {"BLEU": n + seed - 101, "TER(lower better)": 0.5})
            for n in lengths for seed in (101, 102)]
    rows += [("XSUM", "BART-large", f"PREFIX-{n} (k=800)", None, 101, {"ROUGE-2": float(n)}) for n in (10, 200)]
    _line_runs(tmp_path, "prefix_length", rows)
    spec = report.load_table_spec("prefix_length")
    _, frame = report.aggregate(tmp_path, "prefix_length", "mini", spec)
    fig = figures.draw_table(frame, ["BLEU", "ROUGE-2"], title="prefix length", spec=spec)
    panels = [(ax.get_title(), ax.get_ylabel()) for ax in fig.axes]
    assert panels == [("DART test", "BLEU"), ("DART test", "TER(lower better)"), ("XSUM test", "ROUGE-2")]
    (dart,) = fig.axes[0].get_lines()
    assert dart.get_label() == "PREFIX" and list(dart.get_xdata()) == list(lengths)
    assert list(dart.get_ydata()) == pytest.approx([n + 0.5 for n in lengths]) and fig.axes[0].get_xscale() == "linear"
    (xsum,) = fig.axes[2].get_lines()
    assert xsum.get_label() == "PREFIX (k=800)" and list(xsum.get_xdata()) == [10, 200]


def test_lester_figure3_is_lines_over_model_size_of_the_superglue_score(tmp_path):
    from repro.metrics.superglue import SCORE_METRICS

    rows = [(task, model, method, None, seed, {m: value + seed for m in metrics})
            for model, value in (("T5-Small", 50.0), ("T5-Base", 60.0))
            for method in ("PROMPT-1", "PROMPT-20") for seed in (1, 2) for task, metrics in SCORE_METRICS.items()]
    _line_runs(tmp_path, "prompt_length", rows)
    spec = report.load_table_spec("prompt_length")
    _, frame = report.aggregate(tmp_path, "prompt_length", "mini", spec)
    fig = figures.draw_table(frame, ["acc", "score"], title="prompt length", spec=spec)
    (ax,) = fig.axes  # the SuperGLUE score, the y-axis of Lester et al.'s Figure 3
    assert ax.get_title() == "SuperGLUE test" and ax.get_ylabel() == "score"
    assert sorted(line.get_label() for line in ax.get_lines()) == ["PROMPT-1", "PROMPT-20"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["models/gpt2-mini\n(not T5-Small)",
                                                            "models/gpt2-mini\n(not T5-Base)"]
    # one model size only: bars per method, a panel per task
    one = frame[frame["model"] == "T5-Small"]
    fig = figures.draw_table(one, ["acc"], title="one size", spec=spec)
    with_acc = [task for task, metrics in SCORE_METRICS.items() if "acc" in metrics]
    assert sorted(ax.get_title() for ax in fig.axes) == sorted(f"{t} test" for t in with_acc)
    assert all(len(ax.patches) == 2 for ax in fig.axes)  # a bar per method in each task's panel
    assert not [line for ax in fig.axes for line in ax.get_lines() if line.get_label().startswith("PROMPT")]


def test_init_strategy_bars_follow_figure5s_order(tmp_path):
    config = report.config_of("init_strategy")
    declared = config["models"]["GPT-2 Medium"]
    rows = [("E2E (n=100)", "GPT-2 Medium", method, 0, seed, {"BLEU": float(k)})
            for k, method in enumerate(sorted(declared)) for seed in (101, 102)]
    _line_runs(tmp_path, "init_strategy", rows)
    _, frame = report.aggregate(tmp_path, "init_strategy", "mini", config["compare_to"])
    fig = figures.draw_table(frame, "BLEU", title="init", spec=config["compare_to"])
    (ax,) = fig.axes
    assert [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()] == [
        figures._wrap(m).replace("\n", " ") for m in declared]


def test_pretraining_curves_in_both_formats(tmp_path):
    models = tmp_path / "models" / "toy-lm"
    models.mkdir(parents=True)
    log = [{"event": "train", "step": s, "tokens": 4096 * s, "loss": 9.0 - s} for s in range(1, 5)]
    log.append({"event": "eval", "step": 4, "val_loss": 5.5})
    (models / "training_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    written = figures.make_figures(tmp_path / "no-results", tmp_path / "figures", tmp_path / "models")
    assert sorted(p.name for p in written) == ["pretrain-toy-lm.pdf", "pretrain-toy-lm.png"]
    first = {p.name: p.read_bytes() for p in written}
    again = figures.make_figures(tmp_path / "no-results", tmp_path / "figures", tmp_path / "models")
    assert {p.name: p.read_bytes() for p in again} == first


def test_prefix_tuning_notebook_runs_against_results(mini_results, tmp_path):
    executed = notebooks.execute(notebooks.NOTEBOOKS_DIR / "prefix_tuning.ipynb", mini_results, "mini", tmp_path)
    cells = nbformat.read(executed, as_version=4).cells
    outputs = [o for c in cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    texts = " ".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "table2_table_to_text: mini scale" in texts
    assert "| PREFIX(0.1%) | 62.0 ± 2.0 (70.3) |" in texts  # the seeds' mean ± std (published), from the runs
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_prompt_tuning_notebook_shows_the_ensembling_rows(tmp_path):
    results = tmp_path / "results"
    model = "T5-XXL (T5.1.1 LM-adapted, frozen)"
    for group, (average, vote) in enumerate(((60.0, 70.0), (62.0, 74.0)), 1):
        for method, value in (("single prompt average (5 prompts)", average), ("5-prompt ensemble (majority vote)", vote)):
            run = results / "prompt_ensembling" / "mini" / f"rte-{method[:6]}-{group}"
            run.mkdir(parents=True)
            (run / "metrics.json").write_text(json.dumps({
                "reproduction": "prompt_ensembling", "scale": "mini", "seed": group, "model_name": "models/bart-mini",
                "row": {"dataset": "RTE", "model": model, "method": method},
                "scores": [{"split": "dev", "metric": "acc", "value": value}]}))
    executed = notebooks.execute(notebooks.NOTEBOOKS_DIR / "prompt_tuning.ipynb", results, "mini", tmp_path)
    outputs = [o for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    texts = " ".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "| RTE | acc | 61.0 ± 1.4 (92.6) | 72.0 ± 2.8 (93.5) |" in texts  # Lester Table 3's layout
    assert "Verdict at mini scale: holds" in texts  # 70, 74 vs 60, 62
    assert "No finished runs of `prompt_length`" in texts
    assert "mini scale is a known failure: the mini models cannot be prompt-tuned" in texts  # its config's reason


def test_readme_block_is_generated_from_the_runs_and_replaced_in_place(tmp_path):
    from repro.reporting import readme
    from test_claims import runs

    results = tmp_path / "results"
    runs(results, {"PREFIX(0.1%)": [60, 62], "ADAPTER(0.1%)": [50, 52], "FT-TOP2": [40, 41]})
    report.write_table(results, REPRO, "mini", SPEC)
    figures.make_figures(results, tmp_path / "figures", models_dir=None)
    page = tmp_path / "README.md"
    page.write_text("# Table 2\n\nHand-written text.\n")
    assert readme.update_readme(REPRO, "smoke", results, tmp_path / "figures", page) is None  # never smoke
    readme.update_readme(REPRO, "mini", results, tmp_path / "figures", page)
    first = page.read_text()
    assert first.startswith("# Table 2\n\nHand-written text.\n\n## Results (generated)\n\n<!-- results:mini -->")
    assert "| method | E2E BLEU |" in first and "| PREFIX(0.1%) | 61.0 ± 1.4 (70.3) |" in first
    assert "`prefix-beats-lightweight-baselines`: **holds**" in first
    assert f"![{REPRO}, mini scale](figures/{REPRO}-mini.png)" in first
    import shutil

    for run in (results / REPRO / "mini").glob("*FT-TOP2*"):
        shutil.rmtree(run)
    runs(results, {"FT-TOP2": [70, 71]})  # new numbers: the block is rewritten, not appended
    report.write_table(results, REPRO, "mini", SPEC)
    readme.update_readme(REPRO, "mini", results, tmp_path / "figures", page)
    second = page.read_text()
    assert second.count("<!-- results:mini -->") == 1 and "**does not hold**" in second
