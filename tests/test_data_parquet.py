"""The parquet readers on rows with the hub's exact features (tests/hubfakes.FEATURES), for the splits
no original file publishes: DART train (fallback), MultiRC; SuperGLUE's other tasks, ReCoRD, WSC and
XSUM are covered beside their JSONL twins in test_data_superglue.py / test_data_xsum.py."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import needs_data
from hubfakes import FEATURES, write_fetched_split, write_parquet
from repro.data import DataMissingError, MalformedDataError, catalog, load
from repro.data import dart

SHARED = Path(os.environ["REPRO_DATA_DIR"])


def test_parquet_files_carry_the_hub_features_and_store_labels_as_integers(tmp_path):
    rows = [{"premise": "P", "hypothesis": "H", "idx": 0, "label": 2}]
    path = write_parquet(tmp_path, rows, FEATURES["cb"])[0]
    metadata = pq.read_schema(path).metadata
    features = json.loads(metadata[b"huggingface"])["info"]["features"]
    assert features["label"] == {"names": ["entailment", "contradiction", "neutral"], "_type": "ClassLabel"}
    assert pq.read_table(path).to_pylist() == rows  # what repro.data reads: the label is its index


@needs_data
def test_dart_train_from_the_hub_parquet_equals_the_json_records(tmp_path):
    """Yale-LILY/dart's features: tripleset Sequence(Sequence(string)); annotations Sequence({source,
    text}), which parquet stores as a struct of lists. Stand-in rows: the dev JSON."""
    items = json.loads((SHARED / "dart/v1.1.1/dart-v1.1.1-full-dev.json").read_text(encoding="utf-8"))
    rows = [{"tripleset": item["tripleset"], "subtree_was_extended": item.get("subtree_was_extended"),
             "annotations": {"source": [a["source"] for a in item["annotations"]],
                             "text": [a["text"] for a in item["annotations"]]}} for item in items]
    write_fetched_split(tmp_path, catalog.hub_path("dart", "train"), rows, FEATURES["dart"], shards=2)
    from_parquet = load("dart", "train", data_dir=tmp_path)
    from_json = dart.read_json(SHARED / "dart/v1.1.1/dart-v1.1.1-full-dev.json", "train")
    assert [(e.source, e.references) for e in from_parquet] == [(e.source, e.references) for e in from_json]
    assert [e.id for e in from_parquet] == [e.id for e in from_json]
    # the JSON, once there, is preferred (the original release file)
    (tmp_path / "dart/v1.1.1").mkdir(parents=True)
    (tmp_path / "dart/v1.1.1/dart-v1.1.1-full-train.json").write_text(
        json.dumps(items[:3]), encoding="utf-8")
    assert len(load("dart", "train", data_dir=tmp_path)) == 3


def test_multirc_from_the_hub_parquet_equals_the_superglue_jsonl(tmp_path):
    paragraph = "Sue ran.<br>She won the <b>race</b>."
    row = {"idx": 4, "passage": {"text": paragraph, "questions": [
        {"idx": 0, "question": "Did Sue win?", "answers": [{"idx": 0, "text": "yes", "label": 1},
                                                           {"idx": 1, "text": "no", "label": 0}]}]}}
    jsonl = tmp_path / "jsonl" / "superglue" / "MultiRC" / "val.jsonl"
    jsonl.parent.mkdir(parents=True)
    jsonl.write_text(json.dumps(row) + "\n")
    hub = [{"paragraph": paragraph, "question": "Did Sue win?", "answer": a, "idx": {"paragraph": 4, "question": 0,
                                                                                     "answer": k}, "label": label}
           for k, (a, label) in enumerate((("yes", 1), ("no", 0)))]
    write_fetched_split(tmp_path / "hub", "superglue/parquet/multirc/validation", hub, FEATURES["multirc"])
    from_hub = load("multirc", "dev", data_dir=tmp_path / "hub")
    assert from_hub == load("multirc", "dev", data_dir=tmp_path / "jsonl")
    assert [(e.id, e.references) for e in from_hub] == [("multirc-dev-4-0-0", ("True",)), ("multirc-dev-4-0-1", ("False",))]
    assert "<b>" not in from_hub[0].source and "Sue ran. She won the race." in from_hub[0].source


def test_a_folder_without_its_manifest_is_not_read_and_a_damaged_file_is_named(tmp_path):
    folder = catalog.hub_path("boolq", "train")
    write_parquet(tmp_path / folder, [{"question": "q", "passage": "p", "idx": 0, "label": 1}], FEATURES["boolq"])
    with pytest.raises(DataMissingError, match="MANIFEST.json"):  # files without the completion mark
        load("boolq", "train", data_dir=tmp_path)
    write_fetched_split(tmp_path, folder, [{"question": "q", "passage": "p", "idx": 0, "label": 1}], FEATURES["boolq"])
    (tmp_path / folder / "0000.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(MalformedDataError, match="unreadable parquet"):
        load("boolq", "train", data_dir=tmp_path)
