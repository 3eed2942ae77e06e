"""Shared record type, data-directory resolution and error types for `repro.data`.

Every loader returns a list of `Example`: one record per *input* (E2E meaning
representation, WebNLG/DART triple set, XSUM article, SuperGLUE instance) with all of its
references grouped in `references`. Training code turns them into (source, target) pairs with
`training_pairs`, which yields one pair per usable reference, i.e. one pair per line of the
line-based files the reference code (XiangLi1999/PrefixTuning, "PT") trains on.

Where the data lives: `REPRO_DATA_DIR` (or the `data_dir=` argument; default ``data/`` in the
clone) holds the files in the layout of `shared/data/` (its `MANIFEST.md` gives their provenance);
`repro data fetch` (`repro.data.fetch`) puts them there, and the error for a missing split names
the fetch command for it.

This module (and the whole `repro.data` package) never imports torch; pyarrow is imported lazily,
only to read the hub parquet splits (`parquet_rows`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

DATA_DIR_ENV = "REPRO_DATA_DIR"


@dataclass(frozen=True)
class Example:
    """One input with all of its references.

    id: stable identifier, unique within (dataset, split).
    source: the linearized model input (e.g. ``name : The Vaults | Type : pub``).
    references: every reference text for this input, in file order (used for evaluation).
    meta: dataset-specific extras (category, seen/unseen, label, raw triples, ...).
        A ``train_references`` entry, when present, restricts what `training_pairs` uses
        (WebNLG: only lexicalisations with comment == 'good', as PT does for training).
    """

    id: str
    source: str
    references: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict, hash=False)


def training_pairs(examples: Iterable[Example]) -> list[tuple[str, str]]:
    """One (source, target) pair per usable reference, in order.

    Uses ``meta['train_references']`` when an example has it, else all ``references``.
    """
    pairs: list[tuple[str, str]] = []
    for ex in examples:
        refs = ex.meta.get("train_references", ex.references)
        pairs.extend((ex.source, ref) for ref in refs)
    return pairs


def merge_identical_sources(examples: Sequence[Example]) -> list[Example]:
    """Merge examples whose `source` strings are identical, pooling their references.

    This is what PT's GPT-2 decoding does (one generation per unique source, references pooled;
    implementation_notes.md section 7.3, e.g. DART dev). Order: first occurrence. The merged
    example keeps the first example's id and meta, plus ``meta['merged_ids']``.
    """
    order: list[str] = []
    groups: dict[str, list[Example]] = {}
    for ex in examples:
        if ex.source not in groups:
            groups[ex.source] = []
            order.append(ex.source)
        groups[ex.source].append(ex)
    merged = []
    for src in order:
        group = groups[src]
        if len(group) == 1:
            merged.append(group[0])
            continue
        refs = tuple(r for ex in group for r in ex.references)
        meta = dict(group[0].meta)
        meta["merged_ids"] = tuple(ex.id for ex in group)
        merged.append(Example(group[0].id, src, refs, meta))
    return merged


# ---------------------------------------------------------------------------------------------
# Errors


class DataMissingError(FileNotFoundError):
    """A data directory or file is absent. The message names the dataset, the expected path
    and how to fix it."""


class MalformedDataError(ValueError):
    """A file exists but a row/entry cannot be parsed. The message names file and line."""


def malformed(path: Path | str, line: int | None, problem: str) -> MalformedDataError:
    where = f"{path}:{line}" if line is not None else str(path)
    return MalformedDataError(f"{where}: {problem}")


# ---------------------------------------------------------------------------------------------
# Data directory


def iter_jsonl(path: Path):
    """(line number, parsed row) for each non-blank line of a JSON-lines file; invalid JSON raises
    MalformedDataError naming the file and line."""
    import json

    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as e:
                raise malformed(path, n, f"invalid JSON: {e.msg}") from None


def resolve_data_dir(data_dir: str | os.PathLike | None = None, dataset: str = "data") -> Path:
    """The data root: `data_dir` if given, else `$REPRO_DATA_DIR`, else ``data/`` in the clone (where
    `repro data fetch` writes).

    Raises DataMissingError (naming the dataset and the fetch command) if that directory does not exist.
    """
    from .fetch import default_data_dir, fetch_command

    if data_dir is not None:
        root, origin = Path(data_dir).expanduser(), "data_dir argument"
    elif os.environ.get(DATA_DIR_ENV):
        root, origin = Path(os.environ[DATA_DIR_ENV]).expanduser(), f"${DATA_DIR_ENV}"
    else:
        root, origin = default_data_dir(), f"the default; ${DATA_DIR_ENV} is not set"
    if not root.is_dir():
        name = dataset if dataset in _dataset_names() else "all"
        raise DataMissingError(
            f"[{dataset}] data directory {root} ({origin}) does not exist. Fix: `{fetch_command(name)}` "
            f"(writes to ${DATA_DIR_ENV}, default data/ in the clone), or set {DATA_DIR_ENV} to a copy of "
            f"shared/data/."
        )
    return root


def _dataset_names() -> tuple[str, ...]:
    from . import DATASETS

    return tuple(DATASETS)


def require_file(path: Path, dataset: str, how_to_get: str = "") -> Path:
    """Return `path` if it is a file, else raise DataMissingError naming it and the fix."""
    if path.is_file():
        return path
    hint = how_to_get or f"`repro data fetch {dataset}` (see shared/data/MANIFEST.md for where it comes from)"
    raise DataMissingError(f"[{dataset}] expected file not found: {path}. Fix: {hint}")


def missing_split(dataset: str, split: str, root: Path, paths: Sequence[str], note: str = "") -> DataMissingError:
    """The one-line error for a split whose files are absent: what was looked for, and the fetch command."""
    from .catalog import options
    from .fetch import fetch_command

    looked = " or ".join(str(root / p) for p in paths)
    fix = (f"`{fetch_command(dataset, split)}`" if options(dataset, split) else
           "none: no source publishes this split (`repro data status` lists the splits that can be fetched)")
    return DataMissingError(f"[{dataset}] {split}: not in the data directory (looked for {looked}){note}. Fix: {fix}")


def parquet_rows(root: Path, folder: str) -> list[dict[str, Any]] | None:
    """Rows of a hub parquet split fetched by `repro data fetch` (``<folder>/MANIFEST.json`` lists its
    files, in order), as dicts in the hub's schema; None when the folder is not complete."""
    import json

    base = root / folder
    try:
        manifest = json.loads((base / "MANIFEST.json").read_text())
    except (OSError, ValueError):
        return None
    import pyarrow.parquet as pq  # lazy: only the parquet path needs it

    rows: list[dict[str, Any]] = []
    for f in manifest["files"]:
        path = base / f["name"]
        if not path.is_file():
            return None
        try:
            rows.extend(pq.read_table(path).to_pylist())
        except Exception as err:  # noqa: BLE001 - pyarrow's errors for a damaged file
            raise malformed(path, None, f"unreadable parquet ({err.__class__.__name__}); run "
                                        f"`repro data fetch` again to re-check it") from None
    return rows


# ---------------------------------------------------------------------------------------------
# Splits

SPLIT_ALIASES = {"validation": "dev", "val": "dev", "valid": "dev"}


def normalize_split(split: str, valid: Sequence[str], dataset: str) -> str:
    """Map aliases (validation/val/valid -> dev) and check membership.

    Raises ValueError listing the valid splits.
    """
    canonical = SPLIT_ALIASES.get(split, split)
    if canonical not in valid:
        raise ValueError(
            f"unknown split {split!r} for dataset {dataset!r}; valid splits: {', '.join(valid)}"
        )
    return canonical


# ---------------------------------------------------------------------------------------------
# Rows in the hub's schema (parquet files fetched from the hub, or fakes in tests)


def rows_of(rows: Any) -> list[dict[str, Any]]:
    """Rows of a `datasets.Dataset` (bulk `to_list()`, much faster than iterating) or any
    iterable of mappings, as a list of dicts."""
    if hasattr(rows, "to_list"):
        return rows.to_list()
    return [dict(r) for r in rows]


def as_records(value: Any) -> list[dict[str, Any]]:
    """A nested hub field as a list of dicts, whichever way `datasets` represents it.

    A ``Sequence({...})`` feature comes back either as a dict of equal-length lists (the
    long-standing `datasets` convention, e.g. ``{'comment': [...], 'text': [...]}``) or as a list
    of dicts (newer `List({...})` features). Both are accepted.
    """
    if isinstance(value, dict):
        keys = list(value)
        columns = [list(value[k]) for k in keys]
        if len({len(c) for c in columns}) > 1:
            raise ValueError(f"ragged nested field with keys {keys}")
        return [dict(zip(keys, row)) for row in zip(*columns)] if columns else []
    return [dict(item) for item in value]
