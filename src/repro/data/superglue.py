"""SuperGLUE as text-to-text, as in Prompt Tuning (Lester et al. 2021).

Format: T5's SuperGLUE text-to-text format with the task-name token removed (Lester section 3;
prompt-tuning's ``taskless_super_glue_*`` tasks apply ``remove_first_text_token`` to T5's
``glue`` preprocessor output; implementation_notes.md section 8). T5's ``glue`` preprocessor
(t5/data/preprocessors.py in google-research/text-to-text-transfer-transformer)
writes ``"<task> key1: value1 key2: value2 ..."`` with the keys in sorted order (MultiRC and
WiC use fixed orders) and maps the label to its class name. Dropping the first token gives the
templates below - the one place where templates and label words are defined:

* boolq:   ``passage: {passage} question: {question}``  ->  False | True
* cb:      ``hypothesis: {hypothesis} premise: {premise}``  ->  entailment | contradiction | neutral
* copa:    ``choice1: {choice1} choice2: {choice2} premise: {premise} question: {question}``
  ->  choice1 | choice2
* rte:     ``hypothesis: {hypothesis} premise: {premise}``  ->  entailment | not_entailment
* wic:     ``sentence1: {sentence1} sentence2: {sentence2} word: {word}``  ->  False | True
* multirc: ``question: {question} answer: {answer} paragraph: {paragraph}``  ->  False | True

(label words listed by class index; they are the TFDS/HF class names T5 emits.)

(MultiRC: T5 also strips ``<br>`` and ``<b>``/``</b>`` markup from the input; one example per
answer.)

* record:  ``query: {query} entities: {entity, entity, ...} passage: {passage}``  ->  the answer
  entity (T5's ``record`` preprocessor without its task token: "@highlight" lines joined into
  sentences; one example per query, every gold answer a reference - training pairs one per
  answer, as T5 repeats the example per answer; a query without answers gets ``<unk>``). No
  label words: scored by max-over-answers EM / token F1. Read from the hub, or from
  ``superglue/ReCoRD/{train,val}.jsonl`` if someone adds them (entities are the sorted distinct
  entity spans, as the hub's).
* wsc:     the text with the pronoun marked ``*like this*``  ->  the candidate referent (T5's
  ``wsc_simple`` preprocessor on ``super_glue/wsc.fixed`` without its "wsc:" token, including its
  two special cases). Training splits keep only the examples whose candidate *is* the referent
  (T5's ``correct_referent_only`` for ``super_glue_wsc_v102_simple_train``); evaluation splits keep
  all, and a prediction counts as "is the referent" by T5's ``wsc_simple`` postprocessor
  (`repro.metrics.superglue.wsc_predicted_referent`), compared with the label. Not offline: read
  from the hub's parquet, or from ``superglue/WSC/{train,val}.jsonl`` if someone adds them. (T5's own
  WSC training also mixed in DPR data; Lester trains on SuperGLUE alone.)

Files (relative to the data dir; MANIFEST.md "SuperGLUE"): ``superglue/<Task>/train.jsonl``
(full train: CB 250, COPA 400, RTE 2,490, WiC 5,428; BoolQ's 9,427-example train is NOT
available offline) and ``superglue/<Task>/val.jsonl`` (full validation: BoolQ 3,270, CB 56,
COPA 100, RTE 277, WiC 638); FewGLUE ``superglue/fewglue_32dev/<Task>/train.jsonl`` (32,
split ``fewglue_train``) and P-tuning's ``dev32.jsonl`` (32, split ``fewglue_dev32``). MultiRC
is read from ``superglue/MultiRC/{train,val}.jsonl`` if someone adds it. SuperGLUE test sets
are unlabelled and were not copied. Where no JSONL is there (BoolQ train, MultiRC, ReCoRD, WSC,
or any split on a machine without shared/data), a split is read from the hub's parquet of
``aps/super_glue`` that `repro data fetch <task>` puts in ``superglue/parquet/<config>/<split>/``
(config ``wsc.fixed`` for WSC).

Local label encodings (SuperGLUE JSONL): BoolQ/WiC/MultiRC booleans (or 0/1), CB/RTE strings,
COPA 0/1. Hub schema (``aps/super_glue`` parquet, one config per task): the same text columns,
``idx`` (int32; MultiRC a struct of paragraph/question/answer indices, ReCoRD of passage/query),
``label`` as a ClassLabel index (stored as an integer) whose names are the label words above;
ReCoRD has ``entities`` / ``answers`` (lists of strings) and ``entity_spans`` instead of a label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .catalog import hub_path
from .common import (
    iter_jsonl,
    Example,
    rows_of,
    malformed,
    missing_split,
    normalize_split,
    parquet_rows,
    resolve_data_dir,
)

SPLITS = ("train", "dev", "fewglue_train", "fewglue_dev32")


@dataclass(frozen=True)
class TaskFormat:
    folder: str  # folder under superglue/
    fields: tuple[str, ...]  # input keys, in template order
    labels: tuple[str, ...]  # label words, by class index


#: The single definition of templates and label words (see module docstring).
TASKS: dict[str, TaskFormat] = {
    "boolq": TaskFormat("BoolQ", ("passage", "question"), ("False", "True")),
    "cb": TaskFormat("CB", ("hypothesis", "premise"), ("entailment", "contradiction", "neutral")),
    "copa": TaskFormat("COPA", ("choice1", "choice2", "premise", "question"), ("choice1", "choice2")),
    "rte": TaskFormat("RTE", ("hypothesis", "premise"), ("entailment", "not_entailment")),
    "wic": TaskFormat("WiC", ("sentence1", "sentence2", "word"), ("False", "True")),
    "multirc": TaskFormat("MultiRC", ("question", "answer", "paragraph"), ("False", "True")),
}

FILES = {
    "train": "superglue/{folder}/train.jsonl",
    "dev": "superglue/{folder}/val.jsonl",
    "fewglue_train": "superglue/fewglue_32dev/{folder}/train.jsonl",
    "fewglue_dev32": "superglue/fewglue_32dev/{folder}/dev32.jsonl",
}

_MARKUP = re.compile(r"<br>|</?b>")


def format_input(task: str, fields: Mapping[str, Any]) -> str:
    """T5 text-to-text input without the task-name token. Pure function."""
    fmt = TASKS[task]
    text = " ".join(f"{key}: {fields[key]}" for key in fmt.fields)
    if task == "multirc":
        # T5 glue preprocessor: remove HTML markup from MultiRC inputs.
        text = _MARKUP.sub(lambda m: " " if m.group(0) == "<br>" else "", text)
    return text


def label_word(task: str, label: Any) -> str:
    """Label word for a local (bool / int / str) or hub (ClassLabel index) label. Pure."""
    labels = TASKS[task].labels
    if isinstance(label, bool):
        return labels[int(label)]
    if isinstance(label, int):
        if not 0 <= label < len(labels):
            raise ValueError(f"label index {label} out of range for {task}: {labels}")
        return labels[label]
    if isinstance(label, str) and label in labels:
        return label
    raise ValueError(f"unknown {task} label {label!r}; expected one of {labels}")


def make_example(task: str, split: str, idx: Any, fields: Mapping[str, Any], label: Any) -> Example:
    word = label_word(task, label)
    return Example(
        id=f"{task}-{split}-{idx}",
        source=format_input(task, fields),
        references=(word,),
        meta={"task": task, "label": word, "label_index": TASKS[task].labels.index(word), "idx": idx},
    )


def _multirc_rows(row: Mapping[str, Any]) -> Iterable[tuple[Any, dict, Any]]:
    """Flatten one SuperGLUE MultiRC JSONL row into (idx, fields, label) per answer."""
    passage = row["passage"]
    for q in passage["questions"]:
        for a in q["answers"]:
            idx = f"{row['idx']}-{q['idx']}-{a['idx']}"
            fields = {"question": q["question"], "answer": a["text"], "paragraph": passage["text"]}
            yield idx, fields, a["label"]


def read_jsonl(task: str, path: Path, split: str) -> list[Example]:
    """Examples of one SuperGLUE-format JSONL file; a bad row names file and line."""
    fmt = TASKS[task]
    examples = []
    for n, row in iter_jsonl(path):
        try:
            if task == "multirc":
                for idx, fields, label in _multirc_rows(row):
                    examples.append(make_example(task, split, idx, fields, label))
                continue
            missing = [k for k in fmt.fields + ("label",) if k not in row]
            if missing:
                raise ValueError(f"missing field(s) {missing}")
            examples.append(make_example(task, split, row.get("idx", n - 1), row, row["label"]))
        except (KeyError, TypeError, ValueError) as e:
            raise malformed(path, n, str(e)) from None
    return examples


RECORD = "record"
WSC = "wsc"
WSC_HUB_CONFIG = "wsc.fixed"  # the version T5 (and so Lester) used: tfds super_glue/wsc.fixed
ALL_TASKS = (*TASKS, RECORD, WSC)
_HIGHLIGHT_AFTER_PUNCTUATION = re.compile(r"([.?!\"'])\n@highlight\n")
_HIGHLIGHT = re.compile(r"\n@highlight\n")


def record_example(split: str, idx: str, passage: str, query: str, entities, answers) -> Example:
    """One ReCoRD query as text-to-text (T5's ``record`` preprocessor, task token dropped). Pure."""
    passage = _HIGHLIGHT.sub(". ", _HIGHLIGHT_AFTER_PUNCTUATION.sub(r"\1 ", passage))
    return Example(id=f"record-{split}-{idx}",
                   source=f"query: {query} entities: {', '.join(entities)} passage: {passage}",
                   references=tuple(answers) or ("<unk>",), meta={"task": RECORD, "idx": idx})


def read_record_jsonl(path: Path, split: str) -> list[Example]:
    """SuperGLUE's ReCoRD JSONL (passage text + entity spans, end inclusive; qas with answers)."""
    examples = []
    for n, row in iter_jsonl(path):
        try:
            text = row["passage"]["text"]
            entities = sorted({text[e["start"]:e["end"] + 1] for e in row["passage"]["entities"]})
            for qa in row["qas"]:
                answers = sorted({a["text"] for a in qa.get("answers", [])})
                examples.append(record_example(split, f"{row['idx']}-{qa['idx']}", text, qa["query"], entities, answers))
        except (KeyError, TypeError) as e:
            raise malformed(path, n, f"not a ReCoRD row ({e!r})") from None
    return examples


# T5 `_wsc_inputs`: two texts whose span2_index does not point at the pronoun, blanked by hand
_WSC_SPECIAL = {
    'The boy continued to whip the pony , and eventually the pony threw him over. John laughed out quite loud. '
    '"Good for him," he said. ':
        'The boy continued to whip the pony , and eventually the pony threw him over. John laughed out quite loud. '
        '"Good for X ," he said.',
    'When they had eventually calmed down a bit , and had gotten home, Mr. Farley put the magic pebble in an iron '
    'safe . Some day they might want to use it , but really for now, what more could they wish for?':
        'When they had eventually calmed down a bit , and had gotten home, Mr. Farley put the magic pebble in an iron '
        'safe . Some day they might want to use X , but really for now, what more could they wish for?',
}
WSC_TRAIN_SPLITS = ("train", "fewglue_train")  # correct_referent_only


def wsc_input(text: str, span2_index: int, span2_text: str) -> str:
    """T5 `wsc_simple` input without "wsc:": the word at span2_index replaced by X, then every
    " X " by " *<pronoun>* ". Pure."""
    blanked = _WSC_SPECIAL.get(text)
    if blanked is None:
        words = text.split(" ")
        if not 0 < span2_index < len(words) or words[span2_index] != span2_text:
            raise ValueError(f"span2_index {span2_index} does not point at {span2_text!r} in {text!r}")
        blanked = " ".join([" ".join(words[:span2_index]), "X", " ".join(words[span2_index + 1:])])
    return blanked.replace(" X ", f" *{span2_text}* ")


def wsc_examples(split: str, rows: Iterable[tuple[Any, Mapping[str, Any], Any]]) -> list[Example]:
    """WSC examples from (idx, span fields, label) rows; training splits keep true referents only."""
    examples = []
    for idx, span, label in rows:
        if split in WSC_TRAIN_SPLITS and not label:
            continue
        examples.append(Example(id=f"wsc-{split}-{idx}",
                                source=wsc_input(span["text"], int(span["span2_index"]), span["span2_text"]),
                                references=(span["span1_text"],),
                                meta={"task": WSC, "idx": idx, "label": bool(label), "referent": span["span1_text"]}))
    return examples


def read_wsc_jsonl(path: Path, split: str) -> list[Example]:
    """SuperGLUE's WSC JSONL (text, target{span1_text, span2_index, span2_text}, label)."""
    rows = []
    for n, row in iter_jsonl(path):
        try:
            rows.append((row.get("idx", n - 1), {"text": row["text"], **row["target"]}, row["label"]))
            wsc_examples(split, rows[-1:])  # checks the row, naming its line
        except (KeyError, TypeError, ValueError) as e:
            raise malformed(path, n, f"not a WSC row ({e!r})") from None
    return wsc_examples(split, rows)


def load_superglue(task: str, split: str, data_dir: str | Path | None = None) -> list[Example]:
    """One SuperGLUE task: the local JSONL when present, else the hub's parquet fetched by
    `repro data fetch` (see module docstring for splits)."""
    if task not in ALL_TASKS:
        raise ValueError(f"unknown SuperGLUE task {task!r}; valid: {', '.join(ALL_TASKS)}")
    split = normalize_split(split, ("train", "dev") if task == RECORD else SPLITS, task)
    root = resolve_data_dir(data_dir, task)
    folder = {RECORD: "ReCoRD", WSC: "WSC"}.get(task) or TASKS[task].folder
    path = root / FILES[split].format(folder=folder)
    if path.is_file():
        if task == RECORD:
            return read_record_jsonl(path, split)
        if task == WSC:
            return read_wsc_jsonl(path, split)
        return read_jsonl(task, path, split)
    parquet = hub_path(task, split)
    rows = parquet_rows(root, parquet) if parquet else None
    if rows is None:
        looked = [str(path.relative_to(root))] + ([f"{parquet}/MANIFEST.json"] if parquet else [])
        note = "" if parquet else " (FewGLUE has no such split for this task)" if split.startswith("fewglue") else ""
        raise missing_split(task, split, root, looked, note)
    return examples_from_hub(task, rows, split)


def examples_from_hub(task: str, rows: Iterable[Mapping[str, Any]], split: str) -> list[Example]:
    """Convert rows in the hub schema (text columns, idx, ClassLabel label; ReCoRD and WSC their own)."""
    split = normalize_split(split, ("train", "dev") if task == RECORD else SPLITS, task)
    rows = rows_of(rows)
    if task == RECORD:
        return [record_example(split, f"{row['idx']['passage']}-{row['idx']['query']}", row["passage"],
                               row["query"], row["entities"], row["answers"]) for row in rows]
    if task == WSC:
        return wsc_examples(split, ((row["idx"], row, row["label"]) for row in rows))
    examples = []
    for row in rows:
        idx = row["idx"]
        if isinstance(idx, Mapping):  # MultiRC
            idx = f"{idx['paragraph']}-{idx['question']}-{idx['answer']}"
        examples.append(make_example(task, split, idx, row, row["label"]))
    return examples
