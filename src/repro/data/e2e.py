"""E2E NLG challenge (Novikova et al. 2017): train / dev / test.

Files (paths relative to the data dir; provenance in shared/data/MANIFEST.md):

* dev  : ``e2e/original/devset.csv`` (official, columns mr,ref; 547 MRs / 4,672 references)
* test : ``e2e/original/testset_w_refs.csv`` (official; 630 MRs / 4,693 references)
* train: the official ``e2e/original/trainset.csv`` (42,061 rows; `repro data fetch e2e` gets it
  from tuetschek/e2e-dataset, checked against its git blob id) when present. The offline copy
  (shared/data) lacks it (MANIFEST: every copy found is >= 4 MiB); there the only full train copy is
  the harvardnlp tokenized/aligned derivative ``e2e/harvardnlp_aligned/src_train.txt`` +
  ``train.txt`` (42,061 lines each; same row order as the official CSV, verified by the MANIFEST
  for dev), which is read and detokenized (`detokenize`) when the CSV is absent. **That training
  text differs in spacing from the official CSV**: the original spacing cannot be recovered
  exactly (MANIFEST, "Verification done").

Detokenizer quality, measured on dev (where both the aligned-tokenized ``valid.txt`` and the
official ``devset.csv`` exist, row-aligned; see tests/test_data_e2e.py, which recomputes it):
``detokenize(valid.txt)`` equals the official reference exactly for 3,878 / 4,672 rows (83.0%),
and for 4,580 / 4,672 rows (98.0%) once runs of whitespace in the official text are collapsed
(most misses are double spaces or stray spaces before punctuation in the crowd-sourced
originals, which tokenization erased). The rules were written while looking at dev, so these
numbers are optimistic for train. The MR values of train are recovered exactly (the detokenized
price values equal the six official ones, e.g. ``£ 20 - 25`` -> ``£20-25``).

Linearization (paper, and PT's ``src1_*.txt`` files, implementation_notes.md section 7.2):
``name : The Vaults | Type : pub | price : more than £30 | ...`` with the renames
eatType->``Type``, priceRange->``price``, familyFriendly->``family friendly`` and the order
name, Type, food, price, customer rating, area, family friendly, near. Values are kept as in the
official CSV (PT's own files additionally PTB-tokenize them, e.g. ``£ 20 - 25``; tests check that
our strings equal PT's src1_valid/src1_test MRs up to whitespace).
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .common import (
    Example,
    MalformedDataError,
    malformed,
    missing_split,
    normalize_split,
    resolve_data_dir,
)

DATASET = "e2e"
SPLITS = ("train", "dev", "test")

FILES = {
    "train": "e2e/original/trainset.csv",
    "dev": "e2e/original/devset.csv",
    "test": "e2e/original/testset_w_refs.csv",
    "train_src": "e2e/harvardnlp_aligned/src_train.txt",
    "train_tgt": "e2e/harvardnlp_aligned/train.txt",
    "dev_aligned_src": "e2e/harvardnlp_aligned/src_valid.txt",
    "dev_aligned_tgt": "e2e/harvardnlp_aligned/valid.txt",
}

#: Official attribute names, in the linearization order of the paper / PT.
ATTRIBUTE_ORDER = (
    "name",
    "eatType",
    "food",
    "priceRange",
    "customer rating",
    "area",
    "familyFriendly",
    "near",
)
#: Official CSV attribute -> name used in the linearized source (PT data format).
RENAMES = {"eatType": "Type", "priceRange": "price", "familyFriendly": "family friendly"}
#: harvardnlp slot names that differ from the official ones.
_ALIGNED_SLOT_NAMES = {"customerrating": "customer rating"}

_MR_ITEM = re.compile(r"\s*([^\[\],]+?)\s*\[([^\]]*)\]\s*(?:,|$)")
_ALIGNED_ITEM = re.compile(r"__start_(\w+)__ (.*?) __end_\1__")


# ---------------------------------------------------------------------------------------------
# Pure functions


def parse_mr(mr: str) -> tuple[tuple[str, str], ...]:
    """Parse an official MR string ``name[The Vaults], eatType[pub]`` into (attr, value) pairs.

    Raises ValueError if the string is not a comma-separated list of ``attr[value]`` items or
    uses an attribute outside `ATTRIBUTE_ORDER`.
    """
    items = []
    pos = 0
    text = mr.strip()
    while pos < len(text):
        m = _MR_ITEM.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot parse MR {mr!r} at character {pos}")
        items.append((m.group(1), m.group(2)))
        pos = m.end()
    if not items:
        raise ValueError(f"empty MR {mr!r}")
    for attr, _ in items:
        if attr not in ATTRIBUTE_ORDER:
            raise ValueError(f"unknown E2E attribute {attr!r} in MR {mr!r}")
    return tuple(items)


def linearize_mr(attrs: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """``name : X | Type : Y | ...`` in the paper's attribute order, with PT's renames.

    `attrs` uses the official attribute names (as in the CSV). Pure function.
    """
    pairs = list(attrs.items()) if isinstance(attrs, Mapping) else list(attrs)
    rank = {a: i for i, a in enumerate(ATTRIBUTE_ORDER)}
    for attr, _ in pairs:
        if attr not in rank:
            raise ValueError(f"unknown E2E attribute {attr!r}; known: {ATTRIBUTE_ORDER}")
    pairs.sort(key=lambda p: rank[p[0]])
    return " | ".join(f"{RENAMES.get(a, a)} : {v}" for a, v in pairs)


_CLITICS = {"n't", "'s", "'t", "'re", "'ve", "'ll", "'d", "'m"}
_ATTACH_LEFT = {".", ",", "!", "?", ";", ":", "%", ")", "]", "..", "..."}
_ATTACH_RIGHT = {"(", "[", "£", "$"}


def detokenize(text: str) -> str:
    """Undo the harvardnlp E2E tokenization as well as can be done. Pure function.

    Rules (each checked against dev, see module docstring for the recovery rate):
    punctuation ``. , ! ? ; : % ) ]`` attaches to the left; ``( [ £ $`` attach to the right;
    clitics ``n't 's 't 're 've 'll 'd 'm`` attach to the left (``isn 't`` and PTB-style
    ``is n't`` -> ``isn't``);
    a lone ``-`` joins its neighbours (``family - friendly`` -> ``family-friendly``; right for
    987 of 1,007 dev hyphens); a token ending in ``-`` joins a following ``£`` (``£ 20- £ 25`` ->
    ``£20-£25``); lone quote tokens ``'`` / ``"`` are paired (open quote attaches right, close
    quote left); an unpaired ``'`` after a word ending in s is a possessive (``Wrestlers '`` ->
    ``Wrestlers'``).
    """
    toks = text.split()
    n = len(toks)
    glue_left = [False] * n  # True: no space before token i
    open_quote = {"'": False, '"': False}
    for i, tok in enumerate(toks):
        if tok.isalnum():
            continue  # plain words need no decision of their own
        if tok in _ATTACH_LEFT or tok.lower() in _CLITICS:
            glue_left[i] = True
        elif tok == "-":
            glue_left[i] = True
            if i + 1 < n:
                glue_left[i + 1] = True
        elif tok in ("'", '"'):
            if open_quote[tok]:
                glue_left[i] = True  # closing quote
                open_quote[tok] = False
            elif tok in toks[i + 1 :]:
                open_quote[tok] = True  # opening quote
                if i + 1 < n:
                    glue_left[i + 1] = True
            elif tok == "'" and i and toks[i - 1].endswith("s"):
                glue_left[i] = True  # possessive s'
        if i + 1 < n and (
            tok in _ATTACH_RIGHT or (tok.endswith("-") and toks[i + 1].startswith("£"))
        ):
            glue_left[i + 1] = True
    out = []
    for i, tok in enumerate(toks):
        if i and not glue_left[i]:
            out.append(" ")
        out.append(tok)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _detokenize_value(value: str) -> str:
    return detokenize(value)  # MR values repeat a lot (a few dozen distinct ones)


@functools.lru_cache(maxsize=None)
def parse_aligned_source(line: str) -> tuple[tuple[str, str], ...]:
    """Parse a harvardnlp source line ``__start_name__ The Vaults __end_name__ ...`` into
    official (attr, detokenized value) pairs. Raises ValueError on leftovers/unknown slots."""
    items = []
    for slot, value in _ALIGNED_ITEM.findall(line):
        attr = _ALIGNED_SLOT_NAMES.get(slot, slot)
        if attr not in ATTRIBUTE_ORDER:
            raise ValueError(f"unknown slot {slot!r}")
        items.append((attr, _detokenize_value(value)))
    rest = _ALIGNED_ITEM.sub("", line).strip()
    if rest or not items:
        raise ValueError(f"cannot parse aligned source line {line.strip()!r}")
    return tuple(items)


def aligned_target_text(line: str) -> str:
    """The tokenized reference of a harvardnlp target line (text before `` <eos>|||``)."""
    text, sep, _ = line.rstrip("\n").partition(" <eos>|||")
    if not sep:
        raise ValueError("missing ' <eos>|||' separator")
    return text


def group_rows(
    rows: Iterable[tuple[tuple[tuple[str, str], ...], str]], split: str
) -> list[Example]:
    """Group (parsed MR, reference) rows by MR, in order of first appearance."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for mr, ref in rows:
        key = tuple(sorted(mr, key=lambda p: ATTRIBUTE_ORDER.index(p[0])))
        groups.setdefault(key, []).append(ref)
    return [
        Example(
            id=f"e2e-{split}-{i}",
            source=linearize_mr(mr),
            references=tuple(refs),
            meta={"mr": mr},
        )
        for i, (mr, refs) in enumerate(groups.items())
    ]


# ---------------------------------------------------------------------------------------------
# File readers


def read_official_csv(path: Path) -> list[tuple[tuple[tuple[str, str], ...], str]]:
    """Rows (parsed MR, reference) of an official E2E CSV (header ``mr,ref``)."""
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header][:2] != ["mr", "ref"]:
            raise malformed(path, 1, f"expected header 'mr,ref', got {header!r}")
        for row in reader:
            if not row:
                continue
            if len(row) != 2:
                raise malformed(path, reader.line_num, f"expected 2 columns, got {len(row)}")
            try:
                mr = parse_mr(row[0])
            except ValueError as e:
                raise malformed(path, reader.line_num, str(e)) from None
            rows.append((mr, row[1]))
    return rows


def read_aligned(
    src_path: Path, tgt_path: Path, detok: bool = True
) -> list[tuple[tuple[tuple[str, str], ...], str]]:
    """Rows (parsed MR, reference) of the harvardnlp aligned files (line i of each file)."""
    with open(src_path, encoding="utf-8") as f:
        src_lines = f.read().splitlines()
    with open(tgt_path, encoding="utf-8") as f:
        tgt_lines = f.read().splitlines()
    if len(src_lines) != len(tgt_lines):
        raise MalformedDataError(
            f"{src_path} has {len(src_lines)} lines but {tgt_path} has {len(tgt_lines)}"
        )
    rows = []
    for n, (s, t) in enumerate(zip(src_lines, tgt_lines), start=1):
        try:
            mr = parse_aligned_source(s)
        except ValueError as e:
            raise malformed(src_path, n, str(e)) from None
        try:
            text = aligned_target_text(t)
        except ValueError as e:
            raise malformed(tgt_path, n, str(e)) from None
        rows.append((mr, detokenize(text) if detok else text))
    return rows


def load_e2e(
    split: str, data_dir: str | Path | None = None, detokenize_train: bool = True
) -> list[Example]:
    """E2E examples (one per MR, references grouped) from the original files.

    train: the official trainset.csv when present, else the harvardnlp aligned copy, which
    detokenize_train (default) passes through `detokenize`; False keeps the harvardnlp
    tokenization (also the tokenization of PT's own E2E files).
    """
    split = normalize_split(split, SPLITS, DATASET)
    root = resolve_data_dir(data_dir, DATASET)
    if (root / FILES[split]).is_file():
        return group_rows(read_official_csv(root / FILES[split]), split)
    if split == "train":
        src, tgt = root / FILES["train_src"], root / FILES["train_tgt"]
        if src.is_file() and tgt.is_file():
            return group_rows(read_aligned(src, tgt, detok=detokenize_train), split)
        raise missing_split(DATASET, split, root, [FILES["train"], f"{FILES['train_src']} + train.txt"])
    raise missing_split(DATASET, split, root, [FILES[split]])


def mr_vocabulary(examples: Sequence[Example]) -> dict[str, set[str]]:
    """attribute -> set of values seen in `examples` (for sanity checks)."""
    vocab: dict[str, set[str]] = {}
    for ex in examples:
        for attr, value in ex.meta["mr"]:
            vocab.setdefault(attr, set()).add(value)
    return vocab
