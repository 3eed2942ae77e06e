"""SuperGLUE metrics on hand-worked examples and on the real validation files."""
from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import pytest

from repro.metrics import MetricInputError, superglue

DATA = Path(os.environ.get("REPRO_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
SG = DATA / "superglue"


def test_cb_macro_f1_by_hand():
    gold = ["entailment", "entailment", "contradiction", "neutral"]
    pred = ["entailment", "contradiction", "contradiction", "entailment"]
    # entailment: tp1 fp1 fn1 -> 0.5; contradiction: tp1 fp1 fn0 -> 2/3; neutral: tp0 fn1 -> 0
    got = superglue.score("CB", pred, gold)
    assert got["accuracy"] == pytest.approx(0.5)
    assert got["f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)


def test_multirc_em_and_f1a_by_hand():
    # question q1: both options right; q2: one of two wrong
    pred, gold, qids = [1, 0, 1, 1], [1, 0, 1, 0], ["q1", "q1", "q2", "q2"]
    got = superglue.multirc_scores(pred, gold, qids)
    assert got["em"] == pytest.approx(0.5)
    assert got["f1a"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 0))  # tp 2, fp 1, fn 0


def test_record_max_over_answers_with_squad_normalisation():
    got = superglue.record_scores(["The Eiffel Tower", "Paris France"], [["Eiffel Tower", "tower"], ["Paris"]])
    assert got["em"] == pytest.approx(0.5)
    assert got["f1"] == pytest.approx((1.0 + 2 * 1 * 0.5 / 1.5) / 2)


def test_matthews_by_hand():
    pred = ["entailment", "entailment", "not_entailment", "not_entailment"]
    gold = ["entailment", "not_entailment", "not_entailment", "not_entailment"]
    # tp1 fp1 tn2 fn0
    assert superglue.matthews_corrcoef(pred, gold) == pytest.approx((1 * 2 - 1 * 0) / math.sqrt(2 * 1 * 3 * 2))


@pytest.mark.skipif(not (SG / "CB" / "val.jsonl").is_file(), reason="SuperGLUE data not found")
def test_cb_files_constant_prediction(tmp_path):
    gold_rows = [json.loads(l) for l in (SG / "CB" / "val.jsonl").read_text().splitlines() if l.strip()]
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps({"idx": r["idx"], "label": "entailment"}) + "\n" for r in gold_rows))
    counts = Counter(r["label"] for r in gold_rows)
    p = counts["entailment"] / len(gold_rows)  # precision of "entailment"; its recall is 1
    got = superglue.score_files("cb", pred, SG / "CB" / "val.jsonl")
    assert got["accuracy"] == pytest.approx(p)
    assert got["f1"] == pytest.approx((2 * p / (p + 1)) / 3)


@pytest.mark.skipif(not (SG / "BoolQ" / "val.jsonl").is_file(), reason="SuperGLUE data not found")
@pytest.mark.parametrize("task", ["BoolQ", "CB", "COPA", "RTE", "WiC"])
def test_gold_as_predictions_is_perfect(tmp_path, task):
    gold = SG / task / "val.jsonl"
    rows = [json.loads(l) for l in gold.read_text().splitlines() if l.strip()]
    pred = tmp_path / "pred.jsonl"
    pred.write_text("\n".join(json.dumps({"idx": r["idx"], "label": r["label"]}) for r in reversed(rows)) + "\n")
    assert all(v == pytest.approx(1.0) for v in superglue.score_files(task, pred, gold).values())


@pytest.mark.skipif(not (SG / "RTE" / "val.jsonl").is_file(), reason="SuperGLUE data not found")
def test_missing_prediction_is_an_error_naming_counts_and_idx(tmp_path):
    rows = [json.loads(l) for l in (SG / "RTE" / "val.jsonl").read_text().splitlines() if l.strip()]
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps({"idx": r["idx"], "label": r["label"]}) + "\n" for r in rows[1:]))
    with pytest.raises(MetricInputError, match=rf"{len(rows) - 1} predictions.*{len(rows)} examples.*{rows[0]['idx']}"):
        superglue.score_files("rte", pred, SG / "RTE" / "val.jsonl")
    with pytest.raises(MetricInputError, match="nope.jsonl"):
        superglue.score_files("rte", tmp_path / "nope.jsonl", SG / "RTE" / "val.jsonl")


def test_wsc_referent_match_follows_t5s_postprocessor():
    from repro.metrics.superglue import wsc_predicted_referent, wsc_scores

    assert wsc_predicted_referent("the city councilmen", "The city councilmen") == 1  # case, determiners
    assert wsc_predicted_referent("councilmen", "the city councilmen") == 1  # a subset of the words
    assert wsc_predicted_referent("the demonstrators", "the city councilmen") == 0
    assert wsc_predicted_referent("Bob", "Bob's hat") == 0  # a possessive only matches a possessive
    assert wsc_predicted_referent("  the ", "Tom") == -1  # empty after cleaning: never a label
    # accuracy: naming the candidate is right when it is the referent, wrong when it is not
    assert wsc_scores(["Tom", "Tom", "", "Mitchell"], ["Tom", "Mitchell", "Tom", "Tom"],
                      [True, False, False, False]) == {"accuracy": 0.75}  # the empty one is wrong


def test_superglue_score_gives_lesters_published_table3_scores():
    """The score's definition checked against the paper: Lester et al.'s Table 3 per-task numbers
    (registry) give the SuperGLUE scores the table prints (to its rounding)."""
    from repro.reporting import published

    rows = published.find(paper="Prompt Tuning (Lester et al. 2021)", version="EMNLP 2021", table="Table 3")
    methods = {r.method for r in rows}
    assert len(methods) == 3
    for method in methods:
        tasks: dict[str, dict[str, float]] = {}
        for r in rows:
            if r.method == method and r.dataset != "SuperGLUE":
                tasks.setdefault(r.dataset, {})[r.metric] = r.number
        printed = next(r.number for r in rows if r.method == method and r.dataset == "SuperGLUE")
        assert superglue.superglue_score(tasks) == pytest.approx(printed, abs=0.07), method


def test_superglue_score_names_what_is_missing():
    tasks = {t: {m: 50.0 for m in ms} for t, ms in superglue.SCORE_METRICS.items()}
    assert superglue.superglue_score(tasks) == pytest.approx(50.0)
    tasks["CB"] = {"acc": 50.0}
    del tasks["WSC"]
    with pytest.raises(MetricInputError, match="missing: CB F1, WSC acc"):
        superglue.superglue_score(tasks)
