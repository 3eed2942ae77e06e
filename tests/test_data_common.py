"""Registry, record type, data-dir resolution and package-weight tests for repro.data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import repro.data as data
from repro.data import DataMissingError, Example, load, merge_identical_sources, training_pairs
from repro.data.common import as_records, resolve_data_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("REPRO_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError) as err:
        load("e2e_nlg", "test", data_dir=DATA_DIR)
    for name in ("e2e", "webnlg", "dart", "xsum", "boolq", "cb", "copa", "rte", "wic"):
        assert name in str(err.value)


def test_unknown_split_lists_choices():
    with pytest.raises(ValueError) as err:
        load("webnlg", "testing", data_dir=DATA_DIR)
    assert "train, dev, test, test_seen, test_unseen" in str(err.value)
    with pytest.raises(ValueError) as err:
        load("cb", "test", data_dir=DATA_DIR)
    assert "fewglue_train" in str(err.value)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="no data dir")
def test_validation_alias_and_env_var(monkeypatch):
    monkeypatch.setenv("REPRO_DATA_DIR", str(DATA_DIR))
    assert load("cb", "validation") == load("cb", "dev", data_dir=DATA_DIR)


def test_missing_data_dir_messages(monkeypatch, tmp_path):
    monkeypatch.delenv("REPRO_DATA_DIR", raising=False)  # the default: data/ in the clone (absent here)
    monkeypatch.setattr("repro.data.fetch.default_data_dir", lambda: tmp_path / "clone" / "data")
    with pytest.raises(DataMissingError) as err:
        load("e2e", "dev")
    message = str(err.value)
    assert "[e2e]" in message and "REPRO_DATA_DIR" in message and "`repro data fetch e2e`" in message
    assert str(tmp_path / "clone" / "data") in message and "\n" not in message
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("REPRO_DATA_DIR", str(missing))
    with pytest.raises(DataMissingError) as err:
        load("webnlg", "train")
    assert str(missing) in str(err.value) and "[webnlg]" in str(err.value)
    assert resolve_data_dir(tmp_path) == tmp_path


def test_training_pairs_and_train_references():
    a = Example("a", "src a", ("r1", "r2"), {})
    b = Example("b", "src b", ("g", "bad"), {"train_references": ("g",)})
    assert training_pairs([a, b]) == [("src a", "r1"), ("src a", "r2"), ("src b", "g")]


def test_merge_identical_sources():
    exs = [Example("1", "x", ("a",)), Example("2", "y", ("b",)), Example("3", "x", ("c", "d"))]
    merged = merge_identical_sources(exs)
    assert [(e.id, e.source, e.references) for e in merged] == [("1", "x", ("a", "c", "d")), ("2", "y", ("b",))]
    assert merged[0].meta["merged_ids"] == ("1", "3")


def test_as_records_accepts_both_nested_layouts():
    assert as_records({"t": ["x", "y"], "c": [1, 2]}) == [{"t": "x", "c": 1}, {"t": "y", "c": 2}]
    assert as_records([{"t": "x"}]) == [{"t": "x"}]


def test_exports():
    for name in ("load", "training_pairs", "sample_lowdata", "lowdata_runs", "extrapolation_split",
                 "load_extrapolation_split", "parse_bbc_url", "Example"):
        assert hasattr(data, name)


def test_no_torch_or_datasets_on_import():
    code = "import sys, repro.data; print('torch' in sys.modules, 'datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
