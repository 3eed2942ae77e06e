"""`repro doctor`: offline it finishes in seconds, says which items need internet, and exits 1 when
anything blocks; each check on its own (bare model ids, GPU memory, Java, writable results)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import needs_data
from repro import doctor
from repro.config import load_reproduction

SHARED = Path(os.environ["REPRO_DATA_DIR"])


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("NO_PROXY", "*")


@needs_data
def test_offline_paper_preflight_is_fast_names_what_needs_internet_and_blocks(tmp_path, capsys, monkeypatch):
    from repro.cli import main

    monkeypatch.setenv("REPRO_DATA_DIR", str(SHARED))
    start = time.monotonic()
    code = main(["doctor", "--reproduction", "table2_table_to_text", "--scale", "paper",
                 "--results-dir", str(tmp_path / "results")])
    assert time.monotonic() - start < 60  # seconds, not minutes (CI machines are slow and shared)
    out, err = capsys.readouterr()
    assert code == 1 and "block the runs" in err and "only need internet" in err
    assert "✓ data e2e/train" in out and "✓ data webnlg/test" in out  # local
    assert "✗ data dart/train" in out and "needs internet" in out and "fix: repro data fetch dart --split train" in out
    assert "✗ model openai-community/gpt2-medium" in out and "✗ model openai-community/gpt2-large" in out
    assert "read-only shared copy" in out  # missing splits could not be fetched into REPRO_DATA_DIR
    for item in ("GPU", "disk (results)", "disk (HF cache)", "Java", "results dir"):
        assert f" {item} " in out, item


@needs_data
def test_a_smoke_scale_that_needs_nothing_online_passes(tmp_path, monkeypatch, capsys):
    from repro.cli import main

    monkeypatch.setenv("REPRO_DATA_DIR", str(SHARED))
    assert main(["doctor", "--reproduction", "table2_table_to_text", "--scale", "smoke",
                 "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "✗" not in out and "model tiny:gpt2" in out and out.rstrip().endswith("ready")


def spec_like(model: str, method: str = "finetune", dataset: str = "e2e", **options):
    return SimpleNamespace(model_name=model, method=method, options=options, dataset=dataset,
                           run_id=f"{dataset}-{model.split('/')[-1]}-{method}")


def test_a_bare_model_id_is_refused_with_the_namespaced_fix():
    rows, _ = doctor.check_models([spec_like("gpt2-medium")], doctor.Network(offline=True))
    assert rows[0].status == doctor.FAIL and "namespace/name" in rows[0].detail
    assert "openai-community/gpt2-medium" in rows[0].fix


def test_gpu_memory_is_checked_against_the_largest_run(monkeypatch):
    import torch

    params = {"openai-community/gpt2-large": doctor.PARAMETERS["openai-community/gpt2-large"],
              "openai-community/gpt2-medium": doctor.PARAMETERS["openai-community/gpt2-medium"]}
    specs = [spec_like("openai-community/gpt2-medium", "prefix", mid_dim=512),
             spec_like("openai-community/gpt2-large", "finetune")]
    need = doctor.memory_need(params["openai-community/gpt2-large"], specs[1])
    assert 15 * doctor.GIB < need < 25 * doctor.GIB  # 774M parameters x 16 B, + activations
    assert doctor.memory_need(params["openai-community/gpt2-medium"], specs[0]) < 5 * doctor.GIB
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    for total, status in ((16 * doctor.GIB, doctor.FAIL), (80 * doctor.GIB, doctor.OK)):
        monkeypatch.setattr(torch.cuda, "get_device_properties",
                            lambda i, t=total: SimpleNamespace(name="NVIDIA Test GPU", total_memory=t))
        row = doctor.check_gpu(specs, params, "paper")[0]
        assert row.status == status, row
        assert "largest run e2e-gpt2-large-finetune" in row.detail
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert doctor.check_gpu(specs, params, "paper")[0].status == doctor.FAIL
    assert doctor.check_gpu(specs, params, "smoke")[0].status == doctor.OK  # no GPU needed there


def test_java_is_required_only_for_the_java_scorers(monkeypatch):
    monkeypatch.setenv("JAVA", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    row = doctor.check_java([spec_like("m", dataset="e2e")])[0]
    assert row.status == doctor.FAIL and "Java" in row.detail and "default-jre" in row.fix
    assert doctor.check_java([spec_like("m", dataset="boolq")])[0].status == doctor.OK


def test_an_unwritable_results_dir_blocks(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    row = doctor.check_results(blocker / "results")[0]
    assert row.status == doctor.FAIL and "not writable" in row.detail
    assert doctor.check_results(tmp_path / "ok")[0].status == doctor.OK


def test_offline_network_checks_ask_nothing():
    net = doctor.Network(offline=True)
    assert "needs internet" in net.why_not("https://raw.githubusercontent.com/x/y/z")
    assert net.hosts == {}


@needs_data
def test_the_data_rows_cover_the_selection_split_too(monkeypatch):
    monkeypatch.setenv("REPRO_DATA_DIR", str(SHARED))
    specs = load_reproduction("table3_xsum").runs("paper")
    items = [r.item for r in doctor.check_data(specs, doctor.Network(offline=True))]
    assert {"data xsum/train", "data xsum/test", "data xsum/dev"} <= set(items)  # dev: ROUGE-2 selection
