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
    with pytest.raises(ValueError):
        load("e2e", "dev", data_dir=DATA_DIR, source="ftp")


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="no data dir")
def test_validation_alias_and_env_var(monkeypatch):
    monkeypatch.setenv("REPRO_DATA_DIR", str(DATA_DIR))
    assert load("cb", "validation") == load("cb", "dev", data_dir=DATA_DIR)


def test_missing_data_dir_messages(monkeypatch, tmp_path):
    monkeypatch.delenv("REPRO_DATA_DIR", raising=False)
    with pytest.raises(DataMissingError) as err:
        load("e2e", "dev")
    assert "[e2e]" in str(err.value) and "REPRO_DATA_DIR" in str(err.value)
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


def test_hub_source_wiring(monkeypatch):
    """source='hub' asks `datasets` for the right dataset/config/split (rows faked here)."""
    calls = []
    fake_rows = {
        "e2e_nlg": [{"meaning_representation": "name[A], eatType[pub]", "human_reference": "A is a pub."}],
        "web_nlg": [{
            "category": "Airport", "size": 1, "eid": "Id1", "test_category": "testdata_with_lex",
            "modified_triple_sets": {"mtriple_set": [["A | cityServed | B"]]},
            "lex": {"comment": ["good"], "lid": ["Id1"], "text": ["A serves B."], "lang": [""]},
        }],
        "dart": [{"tripleset": [["A", "X", "B"]], "subtree_was_extended": False,
                  "annotations": {"source": ["e2e"], "text": ["A x B."]}}],
        "xsum": [{"document": "D", "summary": "S", "id": "1"}],
        "super_glue": [{"premise": "P", "hypothesis": "H", "idx": 0, "label": 2}],
    }

    def fake_hub_rows(path, name, split):
        calls.append((path, name, split))
        return fake_rows[path]

    for mod in ("e2e", "webnlg", "dart", "xsum", "superglue"):
        monkeypatch.setattr(f"repro.data.{mod}.hub_rows", fake_hub_rows)
    assert load("e2e", "dev", source="hub")[0].source == "name : A | Type : pub"
    assert load("webnlg", "test", source="hub")[0].source == " | A : cityServed : B"
    assert load("webnlg", "test", source="hub", leading_separator=False)[0].source == "A : cityServed : B"
    assert load("dart", "validation", source="hub")[0].source == "A : x : B"
    assert load("xsum", "test", source="hub")[0].references == ("S",)
    cb = load("cb", "dev", source="hub")[0]
    assert (cb.source, cb.references) == ("hypothesis: H premise: P", ("neutral",))
    assert calls == [
        ("e2e_nlg", None, "validation"),
        ("web_nlg", "webnlg_challenge_2017", "test"),
        ("web_nlg", "webnlg_challenge_2017", "test"),
        ("dart", None, "validation"),
        ("xsum", None, "test"),
        ("super_glue", "cb", "validation"),
    ]
    with pytest.raises(DataMissingError, match="only in local files"):  # so reproduce-all skips, not fails
        load("xsum", "human_eval", source="hub")
