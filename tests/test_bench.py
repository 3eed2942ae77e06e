"""`make bench` wiring on tiny models (the benchmark itself is not a timed test)."""
import json

import pytest

from conftest import needs_data
from repro import bench


@pytest.mark.parametrize("size", ["tiny-llama"])  # a GPT-2 size runs the same code
def test_bench_writes_the_documented_schema_with_interleaved_rounds(tmp_path, size):
    assert bench.main(["--out", str(tmp_path), "--size", size, "--batch", "2", "--length", "16",
                       "--repeats", "1", "--warmup", "0", "--rounds", "2"]) == 0
    result = json.loads((tmp_path / f"{size}-train_step.json").read_text())
    assert set(result["variants"]) == {"ours_prefix", "peft_prefix", "full_finetune", "frozen_floor"}
    for v in result["variants"].values():
        assert v["tokens_per_s"] > 0 and v["peak_mem_mb"] > 0 and len(v["tokens_per_s_per_round"]) == 2
    assert len(result["raw_rounds"]) == 2
    ratio = result["ratios"]["ours / peft throughput"]
    # the median over rounds of per-round ratios, not a ratio of medians
    per_round = [r["ours_prefix"]["tokens_per_s"] / r["peft_prefix"]["tokens_per_s"] for r in result["raw_rounds"]]
    assert ratio["per_round"] == pytest.approx(per_round) and ratio["min"] <= ratio["median"] <= ratio["max"]
    md = (tmp_path / f"{size}-train_step.md").read_text()
    assert result["device"] in md and "interleaved rounds" in md and "random weights" in md


@needs_data
def test_batching_bench_trains_the_same_pairs_both_ways_and_grouping_pads_less(tmp_path):
    assert bench.main(["--out", str(tmp_path), "--batching", "--model", "tiny:gpt2", "--datasets", "e2e",
                       "--batch", "3", "--groups", "4", "--chunks", "3", "--pairs", "60", "--compile"]) == 0
    result = json.loads((tmp_path / "batching.json").read_text())
    e2e = result["datasets"]["e2e"]
    for chunk in e2e["chunks"]:  # the same pairs (the same real tokens) in both variants
        assert chunk["random"]["real_tokens"] == chunk["grouped"]["real_tokens"] == chunk["grouped_compiled"]["real_tokens"] > 0
        assert chunk["grouped"]["positions"] == chunk["grouped_compiled"]["positions"] <= chunk["random"]["positions"]
    grouped, random = e2e["variants"]["grouped"], e2e["variants"]["random"]
    assert 1.0 <= grouped["positions_per_real_token"] < random["positions_per_real_token"]
    low, high = e2e["speedup_range"]
    assert low <= e2e["speedup_median"] <= high
    assert e2e["compile_seconds"] > 0
    low, high = e2e["compiled_speedup_range"]
    assert low <= e2e["compiled_speedup_median"] <= high
    assert "grouped is" in (tmp_path / "batching.md").read_text()
    assert "grouped under torch.compile is" in (tmp_path / "batching.md").read_text()
