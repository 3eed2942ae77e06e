"""`make bench` wiring on tiny models (the benchmark itself is not a timed test)."""
import json

import pytest

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
