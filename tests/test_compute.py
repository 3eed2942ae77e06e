"""`repro compute`: run costs summed from provenance.json files written here."""
import json

import pytest

from repro.reporting import compute


def write(results, name, run, wall, train, finished=True, load=None):
    d = results / name / "mini" / run
    d.mkdir(parents=True)
    prov = {"wall_seconds": wall, "train": {"train_seconds": train}, "torch_threads": 1}
    if load is not None:
        prov.update(load_average=[load, load, load], cpu_count=2)
    (d / "provenance.json").write_text(json.dumps(prov))
    if finished:
        (d / "metrics.json").write_text("{}")


def test_sums_estimate_and_contention(tmp_path):
    write(tmp_path, "a", "r1", 600, 300, load=1.0)
    write(tmp_path, "a", "r2", 1200, 900, load=3.5)     # ended on a shared CPU (2 cores)
    write(tmp_path, "a", "r4", 0, 0, load=2.3)          # 2 one-thread jobs on 2 cores: not contended
    write(tmp_path, "a", "r3", 6000, 10, finished=False)  # unfinished: not counted
    write(tmp_path, "b", "r1", 3000, 2000)              # old run: no load recorded
    text = compute.compute_markdown(tmp_path, "mini", jobs=2)
    # a: runs 10 + 20 min, longest 20 -> max(30 / 2, 20) = 20; b: one 50-min run -> 50
    assert "| a | 3 | 20 | 30 | 20 | 20 | 1 contended / 3 |" in text
    assert "| b | 1 | 33 | 50 | 50 | 50 | not recorded |" in text
    assert "| **all** | 4 | 53 | 80 | | **70** (1.2 h) | |" in text
    # one job: everything in sequence
    assert "| a | 3 | 20 | 30 | 20 | 30 |" in compute.compute_markdown(tmp_path, "mini", jobs=1)


def test_bad_inputs_name_the_fix(tmp_path):
    with pytest.raises(ValueError, match="choose one of smoke, mini, paper"):
        compute.run_costs(tmp_path, "big")
    with pytest.raises(ValueError, match="make reproduce"):
        compute.run_costs(tmp_path / "absent", "mini")
