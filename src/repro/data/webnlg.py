"""WebNLG 2017 challenge (Gardent et al. 2017): train / dev / test (+ seen / unseen test).

Files (relative to the data dir; MANIFEST.md "WebNLG 2017"):

* train: ``webnlg_challenge_2017/train/{1..7}triples/*.xml`` (52 files, 6,940 entries,
  18,102 lexicalisations of which 18,025 have comment="good")
* dev  : ``webnlg_challenge_2017/dev/{1..7}triples/*.xml`` (52 files, 872 entries, 2,268 lex)
* test : ``webnlg_challenge_2017/test/testdata_with_lex.xml`` (1,862 entries, 4,928 lex), kept
  in the official file order (the order of the official references / submissions).
  ``test_seen`` (971 entries) / ``test_unseen`` (891 entries, categories `UNSEEN_CATEGORIES`)
  are its subsets by category, the paper's S / U columns (A = ``test``). The unseen subset equals
  ``testdata_unseen_with_lex.xml`` entry by entry (checked in tests).

Train/dev files are read in sorted path order (size folder, then category): this is exactly
the entry order of PT's ``dev.json`` (checked in tests against ``webnlg_challenge_2017/dev.json``).

Linearization follows the reference code (PT ``LineByLineWebNLGTextDataset``,
implementation_notes.md section 7.2): it uses the ``modifiedtripleset``; each triple contributes
``' | ' + 'subj : prop : obj'`` (so the string starts with ``' | '``); entities keep their
underscores and properties stay camelCase. `linearize_triples(..., leading_separator=False)`
gives the variant without the leading separator (``'a : b : c | d : e : f'``). Note PT's decode
script drops the separators for the very first test entry (a bug, notes section 7.2); we do not
reproduce that.

References: ``references`` holds every lexicalisation (evaluation uses all of them);
``meta['train_references']`` holds only those with comment == 'good', which is what PT trains
on and what `repro.data.common.training_pairs` uses.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .common import (
    DataMissingError,
    Example,
    malformed,
    missing_split,
    normalize_split,
    resolve_data_dir,
)

DATASET = "webnlg"
SPLITS = ("train", "dev", "test", "test_seen", "test_unseen")

ROOT = "webnlg_challenge_2017"
TEST_FILE = f"{ROOT}/test/testdata_with_lex.xml"
UNSEEN_TEST_FILE = f"{ROOT}/test/testdata_unseen_with_lex.xml"
PT_DEV_JSON = f"{ROOT}/dev.json"

#: The 5 test-only categories (paper's "unseen"; implementation_notes.md section 6).
UNSEEN_CATEGORIES = ("Artist", "Athlete", "CelestialBody", "MeanOfTransportation", "Politician")

Triple = tuple[str, str, str]


# ---------------------------------------------------------------------------------------------
# Pure functions


def parse_triple(text: str) -> Triple:
    """``'Aarhus | leaderName | Jacob_Bundsgaard'`` -> ('Aarhus', 'leaderName', 'Jacob_Bundsgaard').

    Raises ValueError unless the text has exactly three ``' | '``-separated parts.
    """
    parts = text.strip().split(" | ")
    if len(parts) != 3:
        raise ValueError(f"expected 'subject | property | object', got {text!r}")
    return (parts[0], parts[1], parts[2])


def linearize_triples(triples: Iterable[Triple], leading_separator: bool = True) -> str:
    """PT's WebNLG source string. Pure function.

    leading_separator=True (default, PT training format): ``' | s : p : o | s2 : p2 : o2'``.
    leading_separator=False: ``'s : p : o | s2 : p2 : o2'``.
    """
    parts = [f"{s} : {p} : {o}" for s, p, o in triples]
    if leading_separator:
        return "".join(" | " + part for part in parts)
    return " | ".join(parts)


def make_example(
    split: str,
    category: str,
    size: int,
    eid: str,
    triples: Sequence[Triple],
    lexes: Sequence[tuple[str, str]],
    leading_separator: bool = True,
) -> Example:
    """Build the record for one entry. `lexes` are (comment, text) pairs in file order."""
    if split.startswith("test"):
        ex_id = f"webnlg-test-{eid}"
    else:
        ex_id = f"webnlg-{split}-{size}-{category}-{eid}"
    refs = tuple(text for _, text in lexes if text.strip())
    good = tuple(text for comment, text in lexes if comment == "good" and text.strip())
    return Example(
        id=ex_id,
        source=linearize_triples(triples, leading_separator),
        references=refs,
        meta={
            "category": category,
            "size": int(size),
            "eid": eid,
            "seen": category not in UNSEEN_CATEGORIES,
            "triples": tuple(triples),
            "comments": tuple(c for c, t in lexes if t.strip()),
            "train_references": good,
        },
    )


# ---------------------------------------------------------------------------------------------
# XML


def read_xml(path: Path, split: str, leading_separator: bool = True) -> list[Example]:
    """All entries of one WebNLG challenge XML file, in file order."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise malformed(path, line, f"XML parse error: {e}") from None
    examples = []
    for entry in root.iter("entry"):
        where = f"entry eid={entry.get('eid')!r}"
        mset = entry.find("modifiedtripleset")
        if mset is None or entry.get("category") is None or entry.get("eid") is None:
            raise malformed(path, None, f"{where}: missing category/eid/modifiedtripleset")
        try:
            triples = [parse_triple(m.text or "") for m in mset.findall("mtriple")]
        except ValueError as e:
            raise malformed(path, None, f"{where}: {e}") from None
        lexes = [(lex.get("comment", ""), lex.text or "") for lex in entry.findall("lex")]
        examples.append(
            make_example(
                split,
                entry.get("category"),
                int(entry.get("size", len(triples))),
                entry.get("eid"),
                triples,
                lexes,
                leading_separator,
            )
        )
    return examples


def _split_files(root: Path, split: str) -> list[Path]:
    from .catalog import options

    folder = root / ROOT / split
    files = sorted(folder.glob("*triples/*.xml"))
    expected = [item.path for item in options(DATASET, split)[0].items]
    lacking = [p for p in expected if not (root / p).is_file()]
    if lacking:  # all 52 files or none: a partial folder would silently drop categories
        note = f" ({len(lacking)} of the {len(expected)} challenge XML files are absent, e.g. {lacking[0]})"
        raise missing_split(DATASET, split, root, [f"{ROOT}/{split}/*triples/*.xml"], note)
    return files


def load_webnlg(
    split: str, data_dir: str | Path | None = None, leading_separator: bool = True
) -> list[Example]:
    """WebNLG 2017 examples (one per entry, references grouped) from the challenge XML."""
    split = normalize_split(split, SPLITS, DATASET)
    root = resolve_data_dir(data_dir, DATASET)
    if split in ("train", "dev"):
        return [
            ex
            for path in _split_files(root, split)
            for ex in read_xml(path, split, leading_separator)
        ]
    path = root / TEST_FILE
    if not path.is_file():
        raise missing_split(DATASET, split, root, [TEST_FILE])
    examples = read_xml(path, "test", leading_separator)
    if split == "test_seen":
        return [ex for ex in examples if ex.meta["seen"]]
    if split == "test_unseen":
        return [ex for ex in examples if not ex.meta["seen"]]
    return examples


# ---------------------------------------------------------------------------------------------
# PT's JSON format (dev.json; train.json/test.json are not available offline)


def read_prefix_tuning_json(
    path: Path, split: str, leading_separator: bool = True
) -> list[Example]:
    """Entries of PT's WebNLG JSON (``{'entries': [{'1': {...}}, {'2': {...}}, ...]}``)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise malformed(path, e.lineno, f"JSON error: {e.msg}") from None
    examples = []
    for i, wrapper in enumerate(data["entries"]):
        entry = wrapper[str(i + 1)]
        triples = [
            (t["subject"], t["property"], t["object"]) for t in entry["modifiedtripleset"]
        ]
        lexes = [(lex["comment"], lex["lex"]) for lex in entry["lexicalisations"]]
        examples.append(
            make_example(
                split,
                entry["category"],
                int(entry["size"]),
                entry["xml_id"],
                triples,
                lexes,
                leading_separator,
            )
        )
    return examples
