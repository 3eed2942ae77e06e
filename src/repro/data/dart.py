"""DART v1.1.1 (Nan et al. 2021): train / dev / test.

Files (relative to the data dir; MANIFEST.md "DART"):

* dev : ``dart/v1.1.1/dart-v1.1.1-full-dev.json`` (2,768 triple sets / 6,980 annotations; the
  same data as PT's copy). ``dart-v1.1.1-full-dev.xml`` holds the same entries (checked in
  tests), which is how the XML reader used for test is validated.
* test: ``dart/v1.1.1/dart-v1.1.1-full-test.xml`` (5,097 entries / 12,552 ``<lex>``; one of
  them is empty and is dropped, leaving 12,551 references). Only the XML exists offline, and it
  is the newer Yale-LILY release, not the older test file PT used (MANIFEST). Its first three
  references per entry match the official reference files
  ``dart/system_outputs/all-delex-reference{0,1,2}.lex`` (checked in tests).
* train: ``dart/v1.1.1/dart-v1.1.1-full-train.json``, not in the offline copy (>= 4 MiB everywhere;
  MANIFEST "Missing"): `repro data fetch dart --split train` gets v1.1.1 as first released (July
  2020, the blob Prefix-Tuning's repository holds: the data PT trained on; 30,526 triple sets),
  checked against its git blob id. Failing that, the fetch falls back to the hub's parquet
  conversion of ``Yale-LILY/dart`` (``dart/parquet/default/train``), read in the hub schema below.

Linearization (PT ``LineByLineTriplesTextDataset``, implementation_notes.md section 7.2):
``'subj : relation : obj | subj2 : relation2 : obj2'`` - ``' | '`` only *between* triples and the
relation lower-cased; subjects/objects untouched. All annotations are references and all are
used for training. (PT's decoding additionally merges identical inputs:
`repro.data.common.merge_identical_sources`.)

Hub schema (``Yale-LILY/dart`` parquet, features of its loading script): ``tripleset``
(Sequence(Sequence(string))), ``subtree_was_extended`` (bool), ``annotations`` =
Sequence({``source``: string, ``text``: string}), which parquet stores as a struct of lists
({'source': [...], 'text': [...]}); the records of the v1.1.1 JSON, so both agree (tested on dev).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .catalog import hub_path
from .common import (
    Example,
    as_records,
    malformed,
    missing_split,
    normalize_split,
    parquet_rows,
    resolve_data_dir,
    rows_of,
)

DATASET = "dart"
SPLITS = ("train", "dev", "test")
PARQUET_TRAIN = hub_path(DATASET, "train")  # the hub fallback for train: dart/parquet/default/train

BASE = "dart/v1.1.1"
JSON_FILES = {s: f"{BASE}/dart-v1.1.1-full-{s}.json" for s in SPLITS}
XML_FILES = {s: f"{BASE}/dart-v1.1.1-full-{s}.xml" for s in SPLITS}

Triple = tuple[str, str, str]


def linearize_dart(triples: Iterable[Sequence[str]]) -> str:
    """PT's DART source: ``'s : rel : o | s2 : rel2 : o2'`` with rel lower-cased. Pure."""
    parts = []
    for t in triples:
        if len(t) != 3:
            raise ValueError(f"expected a (subject, relation, object) triple, got {t!r}")
        s, r, o = t
        parts.append(f"{s} : {r.lower()} : {o}")
    return " | ".join(parts)


def make_example(
    split: str, index: int, triples: Sequence[Sequence[str]], annotations: Sequence[tuple[str, str]],
    extra: Mapping[str, Any] | None = None,
) -> Example:
    """One DART record; `annotations` are (source, text) pairs; empty texts are dropped."""
    kept = [(src, text) for src, text in annotations if text and text.strip()]
    meta = {
        "triples": tuple(tuple(t) for t in triples),
        "annotation_sources": tuple(src for src, _ in kept),
    }
    if extra:
        meta.update(extra)
    return Example(
        id=f"dart-{split}-{index}",
        source=linearize_dart(triples),
        references=tuple(text for _, text in kept),
        meta=meta,
    )


def read_json(path: Path, split: str) -> list[Example]:
    """DART JSON: a list of {tripleset, subtree_was_extended, annotations[{source, text}]}."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise malformed(path, e.lineno, f"JSON error: {e.msg}") from None
    examples = []
    for i, item in enumerate(data):
        try:
            triples = item["tripleset"]
            anns = [(a.get("source", ""), a["text"]) for a in item["annotations"]]
            examples.append(
                make_example(
                    split, i, triples, anns,
                    {"subtree_was_extended": item.get("subtree_was_extended")},
                )
            )
        except (KeyError, TypeError, ValueError) as e:
            raise malformed(path, None, f"item {i}: {e!r}") from None
    return examples


def read_xml(path: Path, split: str) -> list[Example]:
    """DART XML (WebNLG-style): entries with modifiedtripleset/mtriple and lex elements."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise malformed(path, line, f"XML parse error: {e}") from None
    examples = []
    for i, entry in enumerate(root.iter("entry")):
        triples = []
        for m in entry.iter("mtriple"):
            parts = (m.text or "").split(" | ")
            if len(parts) != 3:
                raise malformed(
                    path, None, f"entry eid={entry.get('eid')!r}: bad mtriple {m.text!r}"
                )
            triples.append(tuple(parts))
        anns = [(lex.get("comment", ""), lex.text or "") for lex in entry.findall("lex")]
        examples.append(make_example(split, i, triples, anns, {"eid": entry.get("eid")}))
    return examples


def load_dart(split: str, data_dir: str | Path | None = None) -> list[Example]:
    """DART examples (one per triple set, references grouped) from the original files (train: or
    the hub's parquet, when the JSON could not be fetched)."""
    split = normalize_split(split, SPLITS, DATASET)
    root = resolve_data_dir(data_dir, DATASET)
    json_path, xml_path = root / JSON_FILES[split], root / XML_FILES[split]
    # test: only the XML release exists offline (MANIFEST); prefer it for a stable order
    for path in ((xml_path, json_path) if split == "test" else (json_path, xml_path)):
        if path.is_file():
            return read_xml(path, split) if path.suffix == ".xml" else read_json(path, split)
    if split == "train":
        rows = parquet_rows(root, PARQUET_TRAIN)
        if rows is not None:
            return examples_from_hub(rows, split)
        raise missing_split(DATASET, split, root, [JSON_FILES[split], f"{PARQUET_TRAIN}/MANIFEST.json"])
    raise missing_split(DATASET, split, root, [JSON_FILES[split] if split == "dev" else XML_FILES[split]])


def examples_from_hub(rows: Iterable[Mapping[str, Any]], split: str) -> list[Example]:
    """Convert rows in the hub schema (tripleset, subtree_was_extended, annotations)."""
    split = normalize_split(split, SPLITS, DATASET)
    examples = []
    for i, row in enumerate(rows_of(rows)):
        anns = [(a["source"], a["text"]) for a in as_records(row["annotations"])]
        examples.append(
            make_example(
                split, i, row["tripleset"], anns,
                {"subtree_was_extended": row.get("subtree_was_extended")},
            )
        )
    return examples
