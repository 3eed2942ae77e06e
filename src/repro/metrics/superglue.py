"""SuperGLUE metrics, as each task defines them (Wang et al. 2019, Table 1; the leaderboard).

=========  ===============================================================================
task       metrics
=========  ===============================================================================
BoolQ      accuracy
CB         accuracy and F1 = unweighted mean of the per-class F1 over the 3 classes
COPA       accuracy
MultiRC    F1a (binary F1 over all answer options) and EM (a question counts only if all
           of its answer options are labelled correctly)
ReCoRD     token F1 and EM, each the max over the gold answers, SQuAD answer normalisation
RTE        accuracy
WiC        accuracy
WSC        accuracy
AX-b       Matthews correlation
=========  ===============================================================================

The **SuperGLUE score** (the leaderboard's, T5's "average", Lester et al.'s Table 3 and Figure 3
y-axis; ``superglue_score``) is the mean over the eight tasks of each task's mean metric (CB: acc
and F1; MultiRC: F1a and EM; ReCoRD: F1 and EM); AX-b is a diagnostic and not part of it. From
Lester et al.'s own per-task Table 3 numbers it gives their published scores (tests/test_metrics_superglue.py).

Written here (a few lines each) rather than pulling scikit-learn; the definitions follow
jiant's SuperGLUE evaluation and T5's ``t5.evaluation.metrics`` (``mean_3class_f1``,
``multirc_f1_over_all_answers``, ``mean_group_metric(exact_match)``, ``squad``).

File formats (``score_files``): gold = the task's SuperGLUE ``val.jsonl``; predictions = the
leaderboard submission format (one JSON object per line with ``idx`` and ``label``; for
MultiRC the nested ``passage.questions[].answers[]`` layout, for ReCoRD ``idx`` is the query
id).  Predictions are matched to gold by ``idx``; a missing or extra ``idx`` is an error.
"""
from __future__ import annotations

import json
import math
import os
import re
import string
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence

from .errors import MetricInputError
from .textio import check_file, read_lines

TASKS = ("boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc", "axb")
CB_CLASSES = ("entailment", "contradiction", "neutral")

# the metrics each task contributes to the SuperGLUE score, by registry names (as in metrics.json)
SCORE_METRICS = {"BoolQ": ("acc",), "CB": ("acc", "F1"), "COPA": ("acc",), "MultiRC": ("F1a", "EM"),
                 "ReCoRD": ("F1", "EM"), "RTE": ("acc",), "WiC": ("acc",), "WSC": ("acc",)}


def missing_score_metrics(task_scores: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The "task metric" pairs the SuperGLUE score needs that `task_scores` lacks (empty: complete)."""
    return [f"{task} {metric}" for task, metrics in SCORE_METRICS.items() for metric in metrics
            if task_scores.get(task, {}).get(metric) is None]


def superglue_score(task_scores: Mapping[str, Mapping[str, float]]) -> float:
    """The SuperGLUE score from ``{registry task: {registry metric: value}}`` (all eight tasks)."""
    missing = missing_score_metrics(task_scores)
    if missing:
        raise MetricInputError(f"the SuperGLUE score needs all eight tasks; missing: {', '.join(missing)}")
    return sum(sum(task_scores[task][m] for m in metrics) / len(metrics)
               for task, metrics in SCORE_METRICS.items()) / len(SCORE_METRICS)


def _norm_label(label) -> str:
    return str(label).strip().lower()


def _check(preds: Sequence, labels: Sequence) -> None:
    if len(preds) != len(labels):
        raise MetricInputError(f"{len(preds)} predictions but {len(labels)} gold labels")
    if not labels:
        raise MetricInputError("no examples to score")


def accuracy(preds: Sequence, labels: Sequence) -> float:
    """Fraction of predictions equal to the gold label (labels compared as lowercase strings)."""
    _check(preds, labels)
    return sum(_norm_label(p) == _norm_label(g) for p, g in zip(preds, labels)) / len(labels)


def f1_for_class(preds: Sequence, labels: Sequence, positive: Hashable) -> float:
    """F1 of one class: 2TP / (2TP + FP + FN), 0 when the class is never predicted nor gold."""
    _check(preds, labels)
    pos = _norm_label(positive)
    tp = sum(_norm_label(p) == pos and _norm_label(g) == pos for p, g in zip(preds, labels))
    fp = sum(_norm_label(p) == pos and _norm_label(g) != pos for p, g in zip(preds, labels))
    fn = sum(_norm_label(p) != pos and _norm_label(g) == pos for p, g in zip(preds, labels))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def macro_f1(preds: Sequence, labels: Sequence, classes: Sequence[Hashable]) -> float:
    """Unweighted mean of the per-class F1 over ``classes`` (CB: its 3 classes)."""
    return sum(f1_for_class(preds, labels, c) for c in classes) / len(classes)


def matthews_corrcoef(preds: Sequence, labels: Sequence, positive: Hashable = "entailment") -> float:
    """Matthews correlation of a binary labelling (AX-b: entailment vs not_entailment)."""
    _check(preds, labels)
    pos = _norm_label(positive)
    p = [_norm_label(x) == pos for x in preds]
    g = [_norm_label(x) == pos for x in labels]
    tp = sum(a and b for a, b in zip(p, g))
    tn = sum(not a and not b for a, b in zip(p, g))
    fp = sum(a and not b for a, b in zip(p, g))
    fn = sum(not a and b for a, b in zip(p, g))
    denom = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denom if denom else 0.0


def multirc_scores(preds: Sequence, labels: Sequence, question_ids: Sequence[Hashable]) -> dict[str, float]:
    """MultiRC: ``f1a`` over all answer options (label 1 positive) and per-question ``em``."""
    _check(preds, labels)
    if len(question_ids) != len(labels):
        raise MetricInputError(f"{len(question_ids)} question ids for {len(labels)} answer options")
    per_question: dict[Hashable, bool] = {}
    for p, g, q in zip(preds, labels, question_ids):
        per_question[q] = per_question.get(q, True) and _norm_label(p) == _norm_label(g)
    return {"em": sum(per_question.values()) / len(per_question), "f1a": f1_for_class(preds, labels, 1)}


def _normalize_answer(text: str) -> str:
    """SQuAD v1.1 answer normalisation (lowercase, no punctuation, no articles, single spaces)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _token_f1(prediction: str, gold: str) -> float:
    pred, ref = _normalize_answer(prediction).split(), _normalize_answer(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def record_scores(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> dict[str, float]:
    """ReCoRD: mean over queries of the max (over gold answers) token ``f1`` and ``em``."""
    _check(predictions, answers)
    if any(not a for a in answers):
        raise MetricInputError("every ReCoRD query needs at least one gold answer")
    em = sum(max(_normalize_answer(p) == _normalize_answer(a) for a in golds) for p, golds in zip(predictions, answers))
    f1 = sum(max(_token_f1(p, a) for a in golds) for p, golds in zip(predictions, answers))
    return {"em": em / len(answers), "f1": f1 / len(answers)}


WSC_DETERMINERS = {"a", "an", "few", "her", "his", "each", "every", "many", "much", "my", "our", "some", "that",
                   "the", "their", "these", "this", "those", "which", "whose", "your"}


def wsc_predicted_referent(prediction: str, referent: str) -> int:
    """T5's `wsc_simple` postprocessor: 1 if the generated text names the candidate (ignoring case
    and determiners, either word set containing the other, a possessive only matching a possessive),
    0 if not, -1 for an empty prediction (never equal to a label)."""
    def clean(text: str) -> str:
        return " ".join(w for w in text.strip().lower().split(" ") if w not in WSC_DETERMINERS)

    prediction, referent = clean(prediction), clean(referent)
    if not prediction:
        return -1
    if ("'" in prediction) != ("'" in referent):
        return 0
    said, named = set(prediction.split(" ")), set(referent.split(" "))
    return int(said <= named or named <= said)


def wsc_scores(predictions: Sequence[str], referents: Sequence[str], labels: Sequence[bool]) -> dict[str, float]:
    """WSC accuracy: does "the output names the candidate" agree with "the candidate is the referent"."""
    _check(predictions, labels)
    _check(referents, labels)
    said = [wsc_predicted_referent(p, r) for p, r in zip(predictions, referents)]
    return {"accuracy": accuracy(said, [int(bool(label)) for label in labels])}


def score(task: str, preds: Sequence, labels: Sequence) -> dict[str, float]:
    """The task's metrics for aligned single-label predictions (all tasks but MultiRC/ReCoRD)."""
    task = task.lower().replace("-", "")
    if task in ("boolq", "copa", "rte", "wic", "wsc"):
        return {"accuracy": accuracy(preds, labels)}
    if task == "cb":
        return {"accuracy": accuracy(preds, labels), "f1": macro_f1(preds, labels, CB_CLASSES)}
    if task == "axb":
        return {"mcc": matthews_corrcoef(preds, labels)}
    if task in ("multirc", "record"):
        raise ValueError(f"{task}: use multirc_scores / record_scores or score_files")
    raise ValueError(f"unknown SuperGLUE task {task!r}; one of {TASKS}")


def _read_jsonl(path: str | os.PathLike, what: str) -> list[dict]:
    rows = []
    for n, line in enumerate(read_lines(check_file(path, what)), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise MetricInputError(f"{path}:{n}: not JSON ({err})") from err
    return rows


def _by_idx(rows: list[dict], path, key=lambda r: r["idx"]) -> dict:
    out = {}
    for r in rows:
        k = json.dumps(key(r))
        if k in out:
            raise MetricInputError(f"{path}: idx {k} appears twice")
        out[k] = r
    return out


def _match(gold: dict, pred: dict, gold_path, pred_path) -> None:
    if gold.keys() != pred.keys():
        missing = sorted(set(gold) - set(pred))
        extra = sorted(set(pred) - set(gold))
        raise MetricInputError(
            f"{pred_path} has {len(pred)} predictions, {gold_path} has {len(gold)} examples; "
            f"first idx without a prediction: {missing[0] if missing else None}, "
            f"first predicted idx not in gold: {extra[0] if extra else None}")


def score_files(task: str, predictions_path: str | os.PathLike, gold_path: str | os.PathLike) -> dict[str, float]:
    """Score a SuperGLUE predictions file against the task's gold ``val.jsonl`` (see module doc)."""
    task = task.lower().replace("-", "")
    gold_rows, pred_rows = _read_jsonl(gold_path, "gold file"), _read_jsonl(predictions_path, "predictions file")
    if task == "multirc":
        def options(rows):
            return {json.dumps([r["idx"], q["idx"], a["idx"]]): (q["idx"], a.get("label"))
                    for r in rows for q in r["passage"]["questions"] for a in q["answers"]}
        gold, pred = options(gold_rows), options(pred_rows)
        _match(gold, pred, gold_path, predictions_path)
        keys = sorted(gold)
        return multirc_scores([pred[k][1] for k in keys], [gold[k][1] for k in keys],
                              [json.dumps([json.loads(k)[0], gold[k][0]]) for k in keys])
    if task == "record":
        gold = {json.dumps(q["idx"]): [a["text"] for a in q["answers"]] for r in gold_rows for q in r["qas"]}
        pred = _by_idx(pred_rows, predictions_path)
        _match(gold, pred, gold_path, predictions_path)
        keys = sorted(gold)
        return record_scores([str(pred[k]["label"]) for k in keys], [gold[k] for k in keys])
    gold, pred = _by_idx(gold_rows, gold_path), _by_idx(pred_rows, predictions_path)
    _match(gold, pred, gold_path, predictions_path)
    keys = sorted(gold)
    if any("label" not in gold[k] for k in keys):
        raise MetricInputError(f"{gold_path} has examples without a 'label' (a test file?)")
    return score(task, [pred[k]["label"] for k in keys], [gold[k]["label"] for k in keys])
