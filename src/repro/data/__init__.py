"""Datasets of the Prefix-Tuning and Prompt Tuning reproductions, read from their original files.

    from repro.data import load, training_pairs
    test = load("e2e", "test")                    # list[Example], references grouped per MR
    pairs = training_pairs(load("webnlg", "train"))

``load(name, split, data_dir=None)`` reads the original formats from ``data_dir`` or
``$REPRO_DATA_DIR`` (default ``data/`` in the clone), laid out as shared/data/ (see its MANIFEST.md).
`repro data fetch NAME|all` (`repro.data.fetch`) puts the files there - the original release files
where they are published, pinned by commit and checked by hash, and the hub's parquet only where no
original file exists (`repro.data.catalog`); a missing split raises DataMissingError naming that
command. Names and splits (``validation``/``val``/``valid`` are accepted for ``dev``):

* ``e2e``: train, dev, test                              (`repro.data.e2e`)
* ``webnlg``: train, dev, test, test_seen, test_unseen    (`repro.data.webnlg`)
* ``dart``: train, dev, test                              (`repro.data.dart`)
* ``xsum``: train, dev, test (article texts: hub parquet), human_eval, hf_fixture  (`repro.data.xsum`)
* ``xsum_news_to_sports``, ``xsum_within_news``: train, dev, test (the XSum URL file, the official
  split and the article texts; `repro.data.xsum`)
* ``boolq``, ``cb``, ``copa``, ``rte``, ``wic``, ``multirc``, ``record``, ``wsc``: train, dev,
  fewglue_train, fewglue_dev32 where FewGLUE has them (`repro.data.superglue`; templates and
  label words are defined there)

Also exported: the low-data sampler (`sample_lowdata`, `lowdata_runs`) and the XSUM
extrapolation split functions (`extrapolation_split`, `load_extrapolation_split`,
`parse_bbc_url`). No torch import anywhere in this package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from . import dart, e2e, superglue, webnlg, xsum
from .common import (
    DataMissingError,
    Example,
    MalformedDataError,
    merge_identical_sources,
    normalize_split,
    resolve_data_dir,
    training_pairs,
)
from .lowdata import LOWDATA_SIZES, LowDataSample, dev_size, lowdata_runs, sample_lowdata
from .xsum import (
    ExtrapolationSplit,
    UrlTopic,
    extrapolation_split,
    load_extrapolation_split,
    parse_bbc_url,
)

__all__ = [
    "DATASETS",
    "DataMissingError",
    "Example",
    "ExtrapolationSplit",
    "LOWDATA_SIZES",
    "LowDataSample",
    "MalformedDataError",
    "UrlTopic",
    "dev_size",
    "extrapolation_split",
    "load",
    "load_extrapolation_split",
    "lowdata_runs",
    "merge_identical_sources",
    "parse_bbc_url",
    "resolve_data_dir",
    "sample_lowdata",
    "splits",
    "training_pairs",
]

def _superglue(task: str) -> tuple[tuple[str, ...], Callable]:
    splits = ("train", "dev") if task == superglue.RECORD else superglue.SPLITS
    return splits, lambda split, data_dir, **kw: superglue.load_superglue(task, split, data_dir, **kw)


def _xsum_extrapolation(kind: str) -> tuple[tuple[str, ...], Callable]:
    return ("train", "dev", "test"), lambda split, data_dir, **kw: xsum.load_xsum_extrapolation(
        kind, split, data_dir, **kw)


#: name -> (valid splits, loader(split, data_dir, **options))
DATASETS: dict[str, tuple[tuple[str, ...], Callable]] = {
    "e2e": (e2e.SPLITS, e2e.load_e2e),
    "webnlg": (webnlg.SPLITS, webnlg.load_webnlg),
    "dart": (dart.SPLITS, dart.load_dart),
    "xsum": (xsum.SPLITS, xsum.load_xsum),
    "xsum_news_to_sports": _xsum_extrapolation("news-to-sports"),
    "xsum_within_news": _xsum_extrapolation("within-news"),
    **{task: _superglue(task) for task in superglue.ALL_TASKS},
}


def splits(name: str) -> tuple[str, ...]:
    """Valid split names of a dataset."""
    _check_name(name)
    return DATASETS[name][0]


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")


def load(
    name: str,
    split: str,
    data_dir: str | Path | None = None,
    **options: Any,
) -> list[Example]:
    """Load one split of one dataset as a list of `Example` (references grouped per input).

    options are passed to the dataset's loader, e.g. ``leading_separator=False`` (webnlg),
    ``detokenize_train=False`` (e2e), ``url_file=...`` / ``test_from='all'``
    (xsum_news_to_sports, xsum_within_news).

    Raises ValueError (listing the valid choices) for an unknown name or split, and
    DataMissingError (naming the expected path and the `repro data fetch` command) when files
    are absent.
    """
    _check_name(name)
    valid, loader = DATASETS[name]
    return loader(normalize_split(split, valid, name), data_dir, **options)
