"""DART loader tests. Expected strings were written from the raw JSON/XML; counts are from
shared/data/MANIFEST.md or the raw files (noted inline)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from repro.data import DataMissingError, MalformedDataError, load, merge_identical_sources, training_pairs
from repro.data import dart

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("REPRO_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"no data dir at {DATA_DIR}")
D = DATA_DIR / "dart"


@pytest.fixture(scope="module")
def dev():
    return load("dart", "dev", data_dir=DATA_DIR)


@pytest.fixture(scope="module")
def test():
    return load("dart", "test", data_dir=DATA_DIR)


def test_counts(dev, test):
    assert len(dev) == 2768 and sum(len(e.references) for e in dev) == 6980
    assert len(training_pairs(dev)) == 6980
    # 5,097 entries / 12,552 <lex> (MANIFEST); exactly one <lex> is empty and is dropped
    assert len(test) == 5097 and sum(len(e.references) for e in test) == 12551
    assert all(r.strip() for e in test for r in e.references)


def test_linearization_known_examples(dev, test):
    # dart-v1.1.1-full-dev.json item 0
    assert dev[0].source == "Mars Hill College : joined : 1973 | Mars Hill College : location : Mars Hill, North Carolina"
    assert dev[0].references == ("A school from Mars Hill, North Carolina, joined in 1973.",)
    # dart-v1.1.1-full-test.xml entry Id1: relation lower-cased, incl. [TITLE]
    assert test[0].source == (
        "Hawaii Five-O : notes : Episode: The Flight of the Jewels | "
        "[TABLECONTEXT] : [title] : Jeff Daniels | [TABLECONTEXT] : title : Hawaii Five-O"
    )
    assert dart.linearize_dart([("a", "B_C", "d")]) == "a : b_c : d"
    with pytest.raises(ValueError):
        dart.linearize_dart([("a", "b")])


def test_dev_xml_equals_dev_json(dev):
    """The XML reader (used for test) agrees with the JSON release on dev."""
    from_xml = dart.read_xml(D / "v1.1.1/dart-v1.1.1-full-dev.xml", "dev")
    key = lambda e: (e.source, e.references, e.meta["triples"], e.meta["annotation_sources"])  # noqa: E731
    assert [key(e) for e in from_xml] == [key(e) for e in dev]


def test_test_references_match_official_reference_files(test):
    refs = [
        (D / f"system_outputs/all-delex-reference{i}.lex").read_text(encoding="utf-8").split("\n")
        for i in range(3)
    ]
    norm = lambda s: re.sub(r"\W", "", s.lower())  # noqa: E731 (official files are lower-cased, tokenized)
    for k, ex in enumerate(test):
        official = [r[k] for r in refs if r[k] != ""]
        assert [norm(x) for x in ex.references[:3]] == [norm(x) for x in official]


def test_identical_inputs_merge_like_reference_decoding(dev):
    # implementation_notes.md 7.3: 47 of the 2,768 dev inputs are duplicates of another
    merged = merge_identical_sources(dev)
    assert len(merged) == 2768 - 47
    assert sum(len(e.references) for e in merged) == 6980


def test_train_missing_offline_is_explained(tmp_path):
    with pytest.raises(DataMissingError) as err:
        load("dart", "train", data_dir=DATA_DIR)
    msg = str(err.value)
    assert "dart-v1.1.1-full-train.json" in msg and "dart/parquet/default/train" in msg
    assert msg.endswith("Fix: `repro data fetch dart --split train`")


def test_train_is_read_when_present(tmp_path):
    base = tmp_path / "dart" / "v1.1.1"
    base.mkdir(parents=True)
    (base / "dart-v1.1.1-full-train.json").write_text(
        json.dumps([{"tripleset": [["A", "IS_IN", "B"]], "subtree_was_extended": False,
                     "annotations": [{"source": "x", "text": "A is in B."}]}])
    )
    ex = load("dart", "train", data_dir=tmp_path)
    assert [(e.source, e.references) for e in ex] == [("A : is_in : B", ("A is in B.",))]


def test_hub_schema_gives_identical_records_dev(dev):
    datasets = pytest.importorskip("datasets")
    with open(D / "v1.1.1/dart-v1.1.1-full-dev.json", encoding="utf-8") as f:
        items = json.load(f)
    rows = [
        {
            "tripleset": item["tripleset"],
            "subtree_was_extended": item.get("subtree_was_extended"),  # absent in some items
            "annotations": {
                "source": [a["source"] for a in item["annotations"]],
                "text": [a["text"] for a in item["annotations"]],
            },
        }
        for item in items
    ]
    features = datasets.Features(
        {
            "tripleset": datasets.List(datasets.List(datasets.Value("string"))),
            "subtree_was_extended": datasets.Value("bool"),
            "annotations": datasets.Sequence({"source": datasets.Value("string"), "text": datasets.Value("string")}),
        }
    )
    hub = datasets.Dataset.from_list(rows).cast(features)
    assert dart.examples_from_hub(hub, "validation") == dev


def test_missing_and_malformed(tmp_path):
    with pytest.raises(DataMissingError) as err:
        load("dart", "dev", data_dir=tmp_path)
    assert str(tmp_path / "dart/v1.1.1/dart-v1.1.1-full-dev.json") in str(err.value)
    base = tmp_path / "dart" / "v1.1.1"
    base.mkdir(parents=True)
    bad = base / "dart-v1.1.1-full-dev.json"
    bad.write_text('[\n  {"tripleset": [["a", "b", "c"]],\n  "annotations": [}\n]\n')
    with pytest.raises(MalformedDataError) as err:
        load("dart", "dev", data_dir=tmp_path)
    assert f"{bad}:3" in str(err.value)
