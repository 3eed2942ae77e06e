"""Datasets of the Prefix-Tuning and Prompt Tuning reproductions, read from their original files.

    from repro.data import load, training_pairs
    test = load("e2e", "test")                    # list[Example], references grouped per MR
    pairs = training_pairs(load("webnlg", "train"))

``load(name, split, data_dir=None, source="local")``: ``source="local"`` reads the original
formats from ``data_dir`` or ``$REPRO_DATA_DIR`` (a copy of shared/data/, see its MANIFEST.md);
``source="hub"`` gets the same splits from the Hugging Face hub through `datasets` (network
needed). Names and splits (``validation``/``val``/``valid`` are accepted for ``dev``):

* ``e2e``: train, dev, test                              (`repro.data.e2e`)
* ``webnlg``: train, dev, test, test_seen, test_unseen    (`repro.data.webnlg`)
* ``dart``: train (not offline), dev, test                (`repro.data.dart`)
* ``xsum``: train, dev, test (need article JSONL), human_eval, hf_fixture  (`repro.data.xsum`)
* ``xsum_news_to_sports``, ``xsum_within_news``: train, dev, test (need the XSum URL file and
  article texts; `repro.data.xsum`)
* ``boolq``, ``cb``, ``copa``, ``rte``, ``wic``, ``multirc``: train, dev, fewglue_train,
  fewglue_dev32 (`repro.data.superglue`; templates and label words are defined there)

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

SOURCES = ("local", "hub")


def _superglue(task: str) -> tuple[tuple[str, ...], Callable, Callable]:
    return (
        superglue.SPLITS,
        lambda split, data_dir, **kw: superglue.load_superglue(task, split, data_dir, **kw),
        lambda split, data_dir, **kw: superglue.from_hub(task, split, **kw),
    )


def _xsum_extrapolation(kind: str) -> tuple[tuple[str, ...], Callable, Callable]:
    return (
        ("train", "dev", "test"),
        lambda split, data_dir, **kw: xsum.load_xsum_extrapolation(kind, split, data_dir, **kw),
        # the URL list and the official split ids are still read from data_dir
        lambda split, data_dir, **kw: xsum.load_xsum_extrapolation(
            kind, split, data_dir, source="hub", **kw
        ),
    )


def _hub(fn: Callable) -> Callable:
    return lambda split, data_dir, **kw: fn(split, **kw)


#: name -> (valid splits, local loader(split, data_dir, **options),
#:          hub loader(split, data_dir, **options))
DATASETS: dict[str, tuple[tuple[str, ...], Callable, Callable]] = {
    "e2e": (e2e.SPLITS, e2e.load_e2e, _hub(e2e.from_hub)),
    "webnlg": (webnlg.SPLITS, webnlg.load_webnlg, _hub(webnlg.from_hub)),
    "dart": (dart.SPLITS, dart.load_dart, _hub(dart.from_hub)),
    "xsum": (xsum.SPLITS, xsum.load_xsum, _hub(xsum.from_hub)),
    "xsum_news_to_sports": _xsum_extrapolation("news-to-sports"),
    "xsum_within_news": _xsum_extrapolation("within-news"),
    **{task: _superglue(task) for task in superglue.ALL_TASKS},
}

HUB_SPLITS = ("train", "dev", "test", "test_seen", "test_unseen")


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
    source: str = "local",
    **options: Any,
) -> list[Example]:
    """Load one split of one dataset as a list of `Example` (references grouped per input).

    options are passed to the dataset's loader, e.g. ``leading_separator=False`` (webnlg),
    ``detokenize_train=False`` (e2e, local), ``url_file=...`` / ``test_from='all'``
    (xsum_news_to_sports, xsum_within_news).

    Raises ValueError (listing the valid choices) for an unknown name, split or source, and
    DataMissingError (naming the expected path and the fix) when files are absent.
    """
    _check_name(name)
    valid, local_loader, hub_loader = DATASETS[name]
    split = normalize_split(split, valid, name)
    if source == "local":
        return local_loader(split, data_dir, **options)
    if source == "hub":
        if split not in HUB_SPLITS:
            raise DataMissingError(
                f"split {split!r} of {name!r} exists only in local files (a copy of shared/data/, "
                f"see its MANIFEST.md; set REPRO_DATA_DIR); hub splits: train, dev, test"
            )
        return hub_loader(split, data_dir, **options)
    raise ValueError(f"unknown source {source!r}; valid sources: {', '.join(SOURCES)}")
