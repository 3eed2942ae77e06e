"""The committed results are what the current configs would run: every finished run under
results/<reproduction>/<scale>/ was made from the RunSpec its reproduction's config gives today
(same fingerprint), so `make reproduce-<name>` repeats it instead of finding a stale number."""
import json
from pathlib import Path

import pytest

from repro.config import load_reproduction

RESULTS = Path(__file__).resolve().parents[1] / "results"
RUN_DIRS = sorted(p.parent for p in RESULTS.glob("*/*/*/metrics.json") if (p.parent / "config.json").exists())


@pytest.mark.skipif(not RUN_DIRS, reason="no committed runs")
def test_every_committed_run_matches_its_config_today():
    specs: dict[tuple[str, str], dict[str, str]] = {}
    stale = []
    for run_dir in RUN_DIRS:
        reproduction, scale = run_dir.parents[1].name, run_dir.parent.name
        if (reproduction, scale) not in specs:
            specs[reproduction, scale] = {s.run_id: s.fingerprint()
                                          for s in load_reproduction(reproduction).runs(scale)}
        saved = json.loads((run_dir / "config.json").read_text())
        if specs[reproduction, scale].get(run_dir.name) != saved.get("fingerprint"):
            stale.append(str(run_dir.relative_to(RESULTS)))
    assert not stale, f"committed runs whose config changed since (rerun them): {stale}"


def test_a_source_prefix_changes_the_fingerprint_only_where_set():
    low = {s.run_id: s for s in load_reproduction("low_data").runs("paper")}
    ft = [s for s in low.values() if s.row == "FINE-TUNE"]
    assert {s.dataset: s.source_prefix for s in ft} == {"e2e": "table-to-text:", "xsum": ""}
    assert all(s.source_prefix == "" for s in low.values() if s.row == "PREFIX")
    # written to config.json where set; left out where empty (older runs keep their fingerprint)
    assert [("source_prefix" in s.to_dict()) for s in sorted(ft, key=lambda s: s.dataset)][:1] == [True]
    assert not any("source_prefix" in s.to_dict() for s in low.values() if s.row == "PREFIX")


def test_every_local_scale_fits_its_models_positions():
    """Each smoke and mini run's longest sequence fits the model's learned positions (the runner
    refuses it otherwise, `repro.runner.check_positions`); P from the row's options (a prefix whose
    length comes from its init words: the word count is far below 10, so 10 is an upper bound)."""
    from repro.methods import METHODS
    from repro.models import SCRATCH_PREFIX, TINY_POSITIONS, TINY_PREFIX
    from repro.runner import positions_needed

    repo = Path(__file__).resolve().parents[1]
    too_long, missing = [], set()
    for config in sorted((repo / "reproductions").glob("*/config.yaml")):
        reproduction = load_reproduction(config.parent.name)
        for scale in ("smoke", "mini"):
            for spec in reproduction.runs(scale):
                name = spec.model_name.removeprefix(SCRATCH_PREFIX)
                if name.startswith(TINY_PREFIX):
                    limit = TINY_POSITIONS
                elif not (repo / name / "config.json").is_file():
                    missing.add(name)  # a model `make setup` makes (models/smollm2-135m): checked once it exists
                    continue
                else:
                    model_config = json.loads((repo / name / "config.json").read_text())
                    limit = model_config.get("n_positions") or model_config["max_position_embeddings"]
                options = METHODS[spec.method].config_class.from_dict(spec.options)
                extra = next((getattr(options, k) or 10 for k in ("prefix_length", "prompt_length", "infix_length")
                              if hasattr(options, k)), 0)
                needed = positions_needed(spec, extra, encoder_decoder="bart" in name or name == "tiny:t5")
                if needed and needed[0] > limit:
                    too_long.append(f"{spec.reproduction}/{scale}/{spec.run_id}: {needed[1]} > {limit}")
    assert not too_long, too_long


TABLES = sorted(p.parent for p in RESULTS.glob("*/*/table.md"))


@pytest.mark.skipif(not TABLES, reason="no committed tables")
def test_committed_tables_readme_blocks_claims_and_costs_are_what_the_code_writes_today():
    """Every generated file under results/ (and each README's generated block) equals what the
    code writes from the committed runs now: none was edited by hand or left stale."""
    from repro.reporting import claims, compute, readme, report

    repo = RESULTS.parent
    stale = []
    for out in TABLES:
        name, scale = out.parent.name, out.name
        markdown, _ = report.aggregate(RESULTS, name, scale, report.load_table_spec(name))
        if (out / "table.md").read_text(encoding="utf-8") != markdown:
            stale.append(f"results/{name}/{scale}/table.md")
        if scale in readme.README_SCALES:
            block = readme.results_block(name, scale, RESULTS, repo / "figures", repo / "reproductions" / name)
            if block not in (repo / "reproductions" / name / "README.md").read_text():
                stale.append(f"reproductions/{name}/README.md ({scale} block)")
    if claims.results_page(RESULTS) != (RESULTS / "README.md").read_text():
        stale.append("results/README.md")
    for costs in RESULTS.glob("compute-*.md"):
        scale = costs.stem.removeprefix("compute-")
        if compute.compute_markdown(RESULTS, scale, jobs=2) != costs.read_text():
            stale.append(costs.name)
    assert not stale, f"generated files that differ from a regeneration (make reproduce-<name> rewrites them): {stale}"
