"""SuperGLUE text-to-text tests. Expected strings were written from the raw JSONL lines; counts
are from shared/data/MANIFEST.md."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from repro.data import DataMissingError, MalformedDataError, load
from repro.data import superglue

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("REPRO_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"no data dir at {DATA_DIR}")
S = DATA_DIR / "superglue"

COUNTS = {
    ("boolq", "dev"): 3270, ("cb", "dev"): 56, ("copa", "dev"): 100, ("rte", "dev"): 277, ("wic", "dev"): 638,
    ("cb", "train"): 250, ("copa", "train"): 400, ("rte", "train"): 2490, ("wic", "train"): 5428,
}


@pytest.mark.parametrize("task, split", sorted(COUNTS))
def test_counts(task, split):
    ex = load(task, split, data_dir=DATA_DIR)
    assert len(ex) == COUNTS[task, split]
    assert {e.references[0] for e in ex} == set(superglue.TASKS[task].labels)
    assert len({e.id for e in ex}) == len(ex)


@pytest.mark.parametrize("task", ["boolq", "cb", "copa", "rte", "wic"])
def test_fewglue_splits(task):
    train = load(task, "fewglue_train", data_dir=DATA_DIR)
    dev32 = load(task, "fewglue_dev32", data_dir=DATA_DIR)
    assert len(train) == len(dev32) == 32
    assert not {e.source for e in train} & {e.source for e in dev32}
    if task != "boolq":  # MANIFEST: FewGLUE train is contained in the full train set
        full = {(e.source, e.references) for e in load(task, "train", data_dir=DATA_DIR)}
        assert {(e.source, e.references) for e in train} <= full


def test_known_templates():
    # val.jsonl first lines of each task
    cb = load("cb", "dev", data_dir=DATA_DIR)[0]
    assert cb.source == (
        "hypothesis: Valence was helping premise: Valence the void-brain, Valence the virtuous valet. "
        "Why couldn't the figger choose his own portion of titanic anatomy to shaft? Did he think he was helping?"
    )
    assert cb.references == ("contradiction",)
    copa = load("copa", "dev", data_dir=DATA_DIR)[0]
    assert copa.source == (
        "choice1: The toilet filled with water. choice2: Water flowed from the spout. "
        "premise: The man turned on the faucet. question: effect"
    )
    assert copa.references == ("choice2",)
    wic = load("wic", "dev", data_dir=DATA_DIR)[0]
    assert wic.source == (
        "sentence1: An emerging professional class. sentence2: Apologizing for losing your temper, "
        "even though you were badly provoked, showed real class. word: class"
    )
    assert wic.references == ("False",)
    rte = load("rte", "dev", data_dir=DATA_DIR)[0]
    assert rte.source == (
        "hypothesis: Christopher Reeve had an accident. premise: Dana Reeve, the widow of the actor "
        "Christopher Reeve, has died of lung cancer at age 44, according to the Christopher Reeve Foundation."
    )
    assert rte.references == ("not_entailment",)
    boolq = load("boolq", "dev", data_dir=DATA_DIR)[0]
    assert boolq.source.startswith("passage: Ethanol fuel -- All biomass goes through")
    assert boolq.source.endswith(" question: does ethanol take more energy make that produces")
    assert boolq.references == ("False",)


def test_multirc_flattening_and_markup(tmp_path):
    d = tmp_path / "superglue" / "MultiRC"
    d.mkdir(parents=True)
    row = {
        "idx": 0,
        "passage": {
            "text": "<b>Sent 1: </b>Tom ran.<br><b>Sent 2: </b>He won.<br>",
            "questions": [
                {"question": "Who ran?", "idx": 0,
                 "answers": [{"text": "Tom", "idx": 0, "label": 1}, {"text": "Ann", "idx": 1, "label": 0}]}
            ],
        },
    }
    (d / "val.jsonl").write_text(json.dumps(row) + "\n")
    ex = load("multirc", "dev", data_dir=tmp_path)
    assert [(e.id, e.source, e.references) for e in ex] == [
        ("multirc-dev-0-0-0", "question: Who ran? answer: Tom paragraph: Sent 1: Tom ran. Sent 2: He won. ", ("True",)),
        ("multirc-dev-0-0-1", "question: Who ran? answer: Ann paragraph: Sent 1: Tom ran. Sent 2: He won. ", ("False",)),
    ]


# hand-written label-name orders of the hub's ClassLabel features
HUB_LABELS = {
    "boolq": ["False", "True"],
    "cb": ["entailment", "contradiction", "neutral"],
    "copa": ["choice1", "choice2"],
    "rte": ["entailment", "not_entailment"],
    "wic": ["False", "True"],
}


@pytest.mark.parametrize("task", sorted(HUB_LABELS))
def test_hub_parquet_gives_identical_records(task, tmp_path):
    """The validation JSONL rewritten as the hub's parquet (its exact features: ClassLabel labels,
    int32 idx) and read back through `load` equals the JSONL records."""
    from hubfakes import FEATURES, write_fetched_split

    folder = superglue.TASKS[task].folder
    rows = [json.loads(line) for line in (S / folder / "val.jsonl").open(encoding="utf-8")]
    names = HUB_LABELS[task]
    features = FEATURES[task]
    for r in rows:
        label = r["label"]
        r["label"] = names.index(label) if isinstance(label, str) else int(label)
        for key in list(r):
            if key not in features:
                r.pop(key)  # e.g. "version"
    write_fetched_split(tmp_path, f"superglue/parquet/{task}/validation", rows, features, shards=2)
    assert load(task, "dev", data_dir=tmp_path) == load(task, "dev", data_dir=DATA_DIR)


def test_label_word_rejects_unknown():
    with pytest.raises(ValueError):
        superglue.label_word("cb", "maybe")
    with pytest.raises(ValueError):
        superglue.label_word("rte", 2)


def test_missing_boolq_train_is_explained():
    with pytest.raises(DataMissingError) as err:
        load("boolq", "train", data_dir=DATA_DIR)
    msg = str(err.value)
    assert str(S / "BoolQ/train.jsonl") in msg and str(S / "parquet/boolq/train/MANIFEST.json") in msg
    assert msg.endswith("Fix: `repro data fetch boolq --split train`")


def test_malformed_row_names_file_and_line(tmp_path):
    d = tmp_path / "superglue" / "CB"
    d.mkdir(parents=True)
    bad = d / "val.jsonl"
    bad.write_text(
        '{"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 0}\n'
        '{"premise": "p", "hypothesis": "h", "label": "unsure", "idx": 1}\n'
    )
    with pytest.raises(MalformedDataError) as err:
        load("cb", "dev", data_dir=tmp_path)
    assert f"{bad}:2" in str(err.value)


RECORD_TEXT = "Tom Smith won the race in Leeds.\n@highlight\nSmith wins\n@highlight\nLeeds cheers!\n@highlight\nA day out"
RECORD_SOURCE = ("query: @placeholder won in Leeds entities: Leeds, Smith, Tom Smith passage: Tom Smith won the race "
                 "in Leeds. Smith wins. Leeds cheers! A day out")


def test_record_follows_t5s_preprocessor_locally_and_from_the_hub_parquet(tmp_path):
    """T5's `record`: '@highlight' lines become sentences ('. ' unless the line already ends in
    punctuation), entities are the distinct entity strings (sorted), task token dropped; every
    gold answer is a reference (one training pair each)."""
    from repro.data import training_pairs

    def span(word, start=0):
        s = RECORD_TEXT.index(word, start)
        return {"start": s, "end": s + len(word) - 1}  # ReCoRD spans include their last character

    row = {"idx": 7, "passage": {"text": RECORD_TEXT, "entities": [span("Tom Smith"), span("Smith", 10), span("Leeds"),
                                                                   span("Leeds", 40)]},
           "qas": [{"idx": 3, "query": "@placeholder won in Leeds",
                    "answers": [{"text": "Tom Smith", **span("Tom Smith")}, {"text": "Smith", **span("Smith", 10)}]}]}
    d = tmp_path / "superglue" / "ReCoRD"
    d.mkdir(parents=True)
    (d / "val.jsonl").write_text(json.dumps(row) + "\n")
    local = load("record", "dev", data_dir=tmp_path)
    assert [(e.id, e.source, e.references) for e in local] == [("record-dev-7-3", RECORD_SOURCE, ("Smith", "Tom Smith"))]
    assert training_pairs(local) == [(RECORD_SOURCE, "Smith"), (RECORD_SOURCE, "Tom Smith")]

    from hubfakes import FEATURES, write_fetched_split

    listed = [{"text": w, **span(w, k)} for w, k in (("Tom Smith", 0), ("Smith", 10), ("Leeds", 0), ("Leeds", 40))]
    spans = {key: [s[key] for s in listed] for key in ("text", "start", "end")}  # Sequence({...}): a dict of lists
    hub_row = {"passage": RECORD_TEXT, "query": "@placeholder won in Leeds", "entities": ["Leeds", "Smith", "Tom Smith"],
               "entity_spans": spans, "answers": ["Smith", "Tom Smith"], "idx": {"passage": 7, "query": 3}}
    write_fetched_split(tmp_path / "hub", "superglue/parquet/record/validation", [hub_row], FEATURES["record"])
    assert load("record", "dev", data_dir=tmp_path / "hub") == local
    with pytest.raises(DataMissingError, match="ReCoRD"):
        load("record", "train", data_dir=tmp_path)


WSC_ROWS = [  # SuperGLUE WSC JSONL shape; the text and spans follow T5's docstring example
    {"idx": 0, "label": True, "text": "Mitchell asked Tom if he could lend some money.",
     "target": {"span1_text": "Tom", "span1_index": 2, "span2_text": "he", "span2_index": 4}},
    {"idx": 1, "label": False, "text": "Mitchell asked Tom if he could lend some money.",
     "target": {"span1_text": "Mitchell", "span1_index": 0, "span2_text": "he", "span2_index": 4}},
]


def test_wsc_follows_t5s_wsc_simple_locally_and_from_the_hub_parquet(tmp_path):
    """T5 `wsc_simple` without "wsc:": the pronoun marked with asterisks, the candidate as target;
    training keeps true referents only (correct_referent_only), evaluation keeps every example."""
    from repro.data import training_pairs

    d = tmp_path / "superglue" / "WSC"
    d.mkdir(parents=True)
    for name in ("train.jsonl", "val.jsonl"):
        (d / name).write_text("".join(json.dumps(r) + "\n" for r in WSC_ROWS))
    marked = "Mitchell asked Tom if *he* could lend some money."
    dev = load("wsc", "dev", data_dir=tmp_path)
    assert [(e.source, e.references, e.meta["label"]) for e in dev] == [(marked, ("Tom",), True),
                                                                       (marked, ("Mitchell",), False)]
    assert training_pairs(load("wsc", "train", data_dir=tmp_path)) == [(marked, "Tom")]

    from hubfakes import FEATURES, write_fetched_split

    hub = [{"text": r["text"], **r["target"], "idx": r["idx"], "label": int(r["label"])} for r in WSC_ROWS]
    for split in ("train", "validation"):  # the wsc.fixed config: the WSC version T5 used
        write_fetched_split(tmp_path / "hub", f"superglue/parquet/wsc.fixed/{split}", hub, FEATURES["wsc.fixed"])
    assert load("wsc", "dev", data_dir=tmp_path / "hub") == dev
    assert training_pairs(load("wsc", "train", data_dir=tmp_path / "hub")) == [(marked, "Tom")]


def test_wsc_special_cases_and_bad_spans():
    # T5's hand-blanked text: span2_index points at "use", not at "it"
    text = ("When they had eventually calmed down a bit , and had gotten home, Mr. Farley put the magic pebble in an "
            "iron safe . Some day they might want to use it , but really for now, what more could they wish for?")
    assert "might want to use *it* , but" in superglue.wsc_input(text, 30, "it")
    with pytest.raises(ValueError, match="does not point at 'she'"):
        superglue.wsc_input("Mitchell asked Tom if he could lend some money.", 4, "she")


def test_wsc_row_with_a_wrong_span_names_file_and_line(tmp_path):
    d = tmp_path / "superglue" / "WSC"
    d.mkdir(parents=True)
    bad = dict(WSC_ROWS[0], target=dict(WSC_ROWS[0]["target"], span2_index=3))
    (d / "val.jsonl").write_text(json.dumps(WSC_ROWS[0]) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(MalformedDataError, match=f"{d / 'val.jsonl'}:2"):
        load("wsc", "dev", data_dir=tmp_path)
    with pytest.raises(DataMissingError, match="WSC"):
        load("wsc", "train", data_dir=tmp_path)
