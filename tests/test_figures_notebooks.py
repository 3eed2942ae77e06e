"""`repro figures` (PNG + PDF from aggregated tables) and `repro notebooks` (the notebooks run
top to bottom against a results directory). Run directories are written here with made-up
scores, as in test_report; CI also executes the notebooks against real smoke results."""
import json

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


def test_figure_refuses_a_missing_metric(mini_results, tmp_path):
    with pytest.raises(ValueError, match="no 'ROUGE-L' rows; metrics present: \\['BLEU', 'NIST'\\]"):
        figures.table_figure(mini_results / REPRO / "mini" / "table.csv", tmp_path / "x", "ROUGE-L")


def test_legend_names_a_published_series_only_where_it_has_values(mini_results):
    import pandas as pd
    frame = pd.read_csv(mini_results / REPRO / "mini" / "table.csv")
    published = [c for c in frame.columns if c.startswith("published ")]
    assert published and frame.loc[frame["metric"] == "BLEU", published[0]].notna().any()

    def legend_and_notes(table):
        fig = figures.draw_table(table, "BLEU", title="t")
        return [t.get_text() for t in fig.legends[0].get_texts()], [t.get_text() for t in fig.texts]

    names, notes = legend_and_notes(frame)
    assert published[0] in names and not any("no value" in n for n in notes)
    # the same table for a figure printed only as a plot: no published numbers in text
    names, notes = legend_and_notes(frame.assign(**{c: float("nan") for c in published}))
    assert not [n for n in names if n.startswith("published ")]
    assert any(published[0] in n and "no value" in n for n in notes)


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
    assert "62.00 ± 2.00 (n=3)" in texts  # the seeds' mean ± std, as aggregated from the runs
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
    assert "72.00 ± 2.83 (n=2)" in texts and "Verdict at mini scale: holds" in texts  # 70, 74 vs 60, 62
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
    assert "| E2E | test | GPT-2 Medium | PREFIX(0.1%) | BLEU | 70.3 | 69.7 | 61.00 ± 1.41 (n=2) |" in first
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
