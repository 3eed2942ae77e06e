"""XSUM (Narayan et al. 2018): loaders and the Prefix-Tuning extrapolation splits.

What exists offline (MANIFEST.md "XSum"):

* ``xsum/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json``: the official split ids
  (train 204,045 / validation 11,332 / test 11,334 BBC ids).
* ``xsum/human_evaluation/xsum-human-evaluation-data.txt``: 50 real TEST documents with their
  reference summary (split ``human_eval``). Documents are tokenized (and carry the release's
  mojibake, e.g. ``Â #`` for ``£``); references are lower-cased and tokenized. Each block is
  headed ``==N==`` where N is the 0-based line of ``model_predictions/gold-test-sentences.txt``
  holding its reference (checked in tests); N is kept in ``meta['gold_line']``. Mapping N to a
  BBC id would assume that file follows the split-file order, which we cannot verify offline,
  so no BBC id is given.
* ``xsum/samples/hf_transformers_fixture_sample.json``: 10 real (document, summary) pairs in
  JSON lines without ids (split ``hf_fixture``).

What does NOT exist offline: the article texts of train/validation/test (never on GitHub; built
by the XSum download scripts) and ``XSum-WebArxiveUrls.txt`` (URL <-> BBC id, >= 4 MiB), which
carries the BBC section needed for the extrapolation splits. `repro data fetch xsum` gets the
articles as the hub's parquet conversion of ``EdinburghNLP/xsum`` (``xsum/parquet/default/<split>``;
no original file of the texts is published), and `repro data fetch xsum_news_to_sports` (or
``xsum_within_news``) also the URL file from EdinburghNLP/XSum, checked against its git blob id.

Hub schema (``EdinburghNLP/xsum`` parquet): string columns ``document``, ``summary``, ``id``;
splits train / validation / test (204,045 / 11,332 / 11,334 rows, the official split).

Extrapolation splits (paper section 6.4; the split code was never released, so this follows the
construction recommended in implementation_notes.md section 6): the topic of an article is read
from its URL. The first path segment gives ``news`` vs ``sport``; for news, the first
dash-token of the slug gives the sub-section (``/news/uk-wales-12345678`` -> ``uk``,
``/news/world-asia-...`` -> ``world``, ``/news/business-...`` -> ``business``), except the two
compound BBC section names ``entertainment-arts`` and ``science-environment``, which are kept
whole. The trailing number of the URL is the BBC id.

* ``news-to-sports``: train on news, test on sport.
* ``within-news``: train on news from world, uk, business; test on the other news
  sub-sections (news articles whose URL has no sub-section slug are left out).

Both keep the official split membership: train = training-domain ids of the official train
split, dev = training-domain ids of the official validation split ("dev taken from the training
domain"), test = test-domain ids of the official test split (``test_from='test'``, default) or of
all three official splits (``test_from='all'``). The paper gives no sizes; `ExtrapolationSplit`
records them (``sizes``). Truncation of articles to 512 BPE tokens happens later, in the model
pipeline.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlparse

from .catalog import hub_path
from .common import (
    iter_jsonl,
    DataMissingError,
    Example,
    rows_of,
    malformed,
    missing_split,
    normalize_split,
    parquet_rows,
    require_file,
    resolve_data_dir,
)

DATASET = "xsum"
SPLITS = ("train", "dev", "test", "human_eval", "hf_fixture")
ARTICLE_SPLITS = ("train", "dev", "test")
SPLIT_FILE = "xsum/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json"
OFFICIAL_SPLIT_KEYS = {"train": "train", "dev": "validation", "test": "test"}
HUMAN_EVAL_FILE = "xsum/human_evaluation/xsum-human-evaluation-data.txt"
GOLD_TEST_FILE = "xsum/model_predictions/gold-test-sentences.txt"
FIXTURE_FILE = "xsum/samples/hf_transformers_fixture_sample.json"
URL_FILE = "xsum/XSum-WebArxiveUrls.txt"

#: within-news: training sub-sections (paper: "world, UK, business").
WITHIN_NEWS_TRAIN = ("world", "uk", "business")
#: BBC news section names that contain a dash and must not be cut at the first dash.
COMPOUND_SECTIONS = ("entertainment-arts", "science-environment")
EXTRAPOLATION_KINDS = ("news-to-sports", "within-news")
#: extrapolation setting -> its dataset name in repro.data (and `repro data fetch`)
EXTRAPOLATION_DATASETS = {"news-to-sports": "xsum_news_to_sports", "within-news": "xsum_within_news"}


def make_example(doc_id: str, document: str, summary: str, extra: Mapping[str, Any] | None = None) -> Example:
    return Example(id=str(doc_id), source=document, references=(summary,), meta=dict(extra or {}))


# ---------------------------------------------------------------------------------------------
# Local files


def read_jsonl(path: Path, require_id: bool = True) -> list[Example]:
    """JSON lines with fields ``document``, ``summary`` and ``id`` (HF schema).

    require_id=False allows rows without ``id`` (the HF fixture); they get ``<file name>:<line>``.
    A malformed row raises MalformedDataError naming file and line.
    """
    examples = []
    for n, row in iter_jsonl(path):
        missing = [k for k in ("document", "summary") if not isinstance(row.get(k), str)]
        if require_id and "id" not in row:
            missing.append("id")
        if missing:
            raise malformed(path, n, f"missing or non-string field(s) {missing}")
        doc_id = str(row["id"]) if "id" in row else f"{path.name}:{n}"
        examples.append(make_example(doc_id, row["document"], row["summary"]))
    return examples


_BLOCK_HEADER = re.compile(r"^==(\d+)==\s*$", re.M)


def read_human_eval(path: Path) -> list[Example]:
    """The 50 documents of the XSum human-evaluation release (Document-Full + Reference)."""
    text = path.read_text(encoding="utf-8")
    parts = _BLOCK_HEADER.split(text)
    examples = []
    line_of = {}
    for m in _BLOCK_HEADER.finditer(text):
        line_of[m.group(1)] = text.count("\n", 0, m.start()) + 1
    for number, block in zip(parts[1::2], parts[2::2]):
        sections = _sections(block)
        if "Document-Full" not in sections or "Reference" not in sections:
            raise malformed(path, line_of.get(number), f"block =={number}== lacks Document-Full/Reference")
        document = "\n".join(ln.strip() for ln in sections["Document-Full"].splitlines() if ln.strip())
        reference = " ".join(sections["Reference"].split())
        examples.append(
            make_example(
                f"xsum-human-eval-{number}",
                document,
                reference,
                {"gold_line": int(number), "tokenized": True},
            )
        )
    return examples


_SECTION_NAMES = (
    "Document-400", "Document-Full", "LEAD", "Ext-Oracle", "Pointer-Generator", "ConvS2S",
    "Topic-ConvS2S", "Reference", "Questions-Answers",
)


def _sections(block: str) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current = None
    for line in block.splitlines():
        if line.strip() in _SECTION_NAMES:
            current = line.strip()
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def read_official_split(path: Path) -> dict[str, list[str]]:
    """{'train': [...], 'validation': [...], 'test': [...]} BBC ids (strings)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise malformed(path, e.lineno, f"JSON error: {e.msg}") from None
    return {k: [str(x) for x in v] for k, v in data.items()}


def load_xsum(split: str, data_dir: str | Path | None = None) -> list[Example]:
    """XSUM examples (source = document, references = (summary,)) from local files."""
    split = normalize_split(split, SPLITS, DATASET)
    root = resolve_data_dir(data_dir, DATASET)
    if split == "human_eval":
        return read_human_eval(require_file(root / HUMAN_EVAL_FILE, DATASET, f"`repro data fetch xsum --split {split}`"))
    if split == "hf_fixture":
        return read_jsonl(require_file(root / FIXTURE_FILE, DATASET, f"`repro data fetch xsum --split {split}`"),
                          require_id=False)
    rows = parquet_rows(root, hub_path(DATASET, split))
    if rows is None:
        raise missing_split(DATASET, split, root, [f"{hub_path(DATASET, split)}/MANIFEST.json"],
                            " (the article texts are published only as the hub's parquet of EdinburghNLP/xsum)")
    return examples_from_hub(rows, split)


def examples_from_hub(rows: Iterable[Mapping[str, Any]], split: str) -> list[Example]:
    """Convert rows in the hub schema (document, summary, id)."""
    normalize_split(split, SPLITS, DATASET)
    return [make_example(r["id"], r["document"], r["summary"]) for r in rows_of(rows)]


# ---------------------------------------------------------------------------------------------
# Topics from URLs and extrapolation splits


@dataclass(frozen=True)
class UrlTopic:
    bbc_id: str
    section: str  # first path segment: 'news', 'sport', ...
    subsection: str | None  # news: slug sub-section ('uk', 'world', ...); sport: the sport


_TRAILING_ID = re.compile(r"(\d+)/?$")


def parse_bbc_url(url: str) -> UrlTopic:
    """Topic of an XSum URL (``http://web.archive.org/web/2016.../http://www.bbc.com/news/uk-wales-12345678``).

    Pure function. Raises ValueError if no BBC URL path with a trailing numeric id is found.
    """
    url = url.strip()
    starts = [m.start() for m in re.finditer(r"https?://", url)]
    if not starts:
        raise ValueError(f"not a URL: {url!r}")
    inner = url[starts[-1]:]  # the archived URL (after the web.archive.org prefix, if any)
    path = urlparse(inner).path
    m = _TRAILING_ID.search(path)
    if not m:
        raise ValueError(f"no trailing BBC id in {url!r}")
    segments = [s for s in path.split("/") if s]
    if not segments:
        raise ValueError(f"empty URL path in {url!r}")
    section = segments[0].lower()
    subsection: str | None = None
    if section == "news" and len(segments) >= 2:
        slug = segments[1].lower()
        head = re.sub(r"-?\d+$", "", slug)  # drop the trailing id
        if head:
            compound = [c for c in COMPOUND_SECTIONS if head == c or head.startswith(c + "-")]
            subsection = compound[0] if compound else head.split("-")[0]
    elif section == "sport":
        rest = [s.lower() for s in segments[1:] if not s.isdigit()]
        subsection = rest[0] if rest else None
    return UrlTopic(bbc_id=m.group(1), section=section, subsection=subsection)


def read_url_file(path: Path) -> dict[str, UrlTopic]:
    """BBC id -> topic for every URL line of an ``XSum-WebArxiveUrls.txt``-style file.

    Blank lines are skipped; an unparsable line raises MalformedDataError naming file and line.
    """
    topics: dict[str, UrlTopic] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                topic = parse_bbc_url(line)
            except ValueError as e:
                raise malformed(path, n, str(e)) from None
            topics[topic.bbc_id] = topic
    return topics


def in_training_domain(kind: str, topic: UrlTopic) -> bool:
    if kind == "news-to-sports":
        return topic.section == "news"
    return topic.section == "news" and topic.subsection in WITHIN_NEWS_TRAIN


def in_test_domain(kind: str, topic: UrlTopic) -> bool:
    if kind == "news-to-sports":
        return topic.section == "sport"
    return (
        topic.section == "news"
        and topic.subsection is not None
        and topic.subsection not in WITHIN_NEWS_TRAIN
    )


@dataclass(frozen=True)
class ExtrapolationSplit:
    kind: str
    train_ids: tuple[str, ...]
    dev_ids: tuple[str, ...]
    test_ids: tuple[str, ...]
    sizes: dict[str, int] = field(default_factory=dict)
    #: ids of the official splits that had no URL (cannot be assigned a topic).
    unassigned: int = 0


def extrapolation_split(
    kind: str,
    topics: Mapping[str, UrlTopic],
    official: Mapping[str, Sequence[str]],
    test_from: str = "test",
) -> ExtrapolationSplit:
    """Build ``news-to-sports`` or ``within-news`` from topics and the official split ids.

    topics: BBC id -> UrlTopic (`read_url_file`); official: {'train','validation','test'} -> ids.
    Order of ids follows the official split file.
    """
    if kind not in EXTRAPOLATION_KINDS:
        raise ValueError(f"unknown extrapolation split {kind!r}; valid: {', '.join(EXTRAPOLATION_KINDS)}")
    if test_from not in ("test", "all"):
        raise ValueError("test_from must be 'test' or 'all'")
    unassigned = sum(1 for ids in official.values() for i in ids if i not in topics)

    def pick(ids: Iterable[str], pred) -> tuple[str, ...]:
        return tuple(i for i in ids if i in topics and pred(kind, topics[i]))

    train = pick(official["train"], in_training_domain)
    dev = pick(official["validation"], in_training_domain)
    test_pool = (
        list(official["test"])
        if test_from == "test"
        else [i for k in ("train", "validation", "test") for i in official[k]]
    )
    test = pick(test_pool, in_test_domain)
    sizes = {"train": len(train), "dev": len(dev), "test": len(test)}
    return ExtrapolationSplit(kind, train, dev, test, sizes, unassigned)


def load_extrapolation_split(
    kind: str,
    data_dir: str | Path | None = None,
    url_file: str | Path | None = None,
    test_from: str = "test",
) -> ExtrapolationSplit:
    """`extrapolation_split` from the files in the data dir (URL file + official split ids).

    url_file defaults to ``<data_dir>/xsum/XSum-WebArxiveUrls.txt``, which is absent offline.
    """
    if kind not in EXTRAPOLATION_KINDS:
        raise ValueError(f"unknown extrapolation split {kind!r}; valid: {', '.join(EXTRAPOLATION_KINDS)}")
    name = EXTRAPOLATION_DATASETS[kind]
    root = resolve_data_dir(data_dir, name)
    url_path = Path(url_file) if url_file is not None else root / URL_FILE
    for path in (url_path, root / SPLIT_FILE):
        if not path.is_file():
            raise DataMissingError(f"[{name}] expected file not found: {path} (the BBC URL list gives each "
                                   f"article's section). Fix: `repro data fetch {name}`")
    official = read_official_split(root / SPLIT_FILE)
    return extrapolation_split(kind, read_url_file(url_path), official, test_from)


def select_examples(examples: Iterable[Example], ids: Iterable[str]) -> list[Example]:
    """The examples whose id is in `ids`, in the order of `ids`; missing ids raise KeyError."""
    by_id = {ex.id: ex for ex in examples}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise KeyError(f"{len(missing)} ids have no article text, e.g. {missing[:3]}")
    return [by_id[i] for i in ids]


def load_xsum_extrapolation(
    kind: str,
    split: str,
    data_dir: str | Path | None = None,
    url_file: str | Path | None = None,
    test_from: str = "test",
) -> list[Example]:
    """Articles of one split (train/dev/test) of an extrapolation setting.

    Needs the URL file (see `load_extrapolation_split`) and the article texts of the official
    split(s) involved (`load_xsum`); `repro data fetch xsum_news_to_sports --split S` gets them.
    """
    split = normalize_split(split, ("train", "dev", "test"), f"{DATASET} {kind}")
    plan = load_extrapolation_split(kind, data_dir, url_file, test_from)
    ids = {"train": plan.train_ids, "dev": plan.dev_ids, "test": plan.test_ids}[split]
    if split == "test" and test_from == "all":
        official_splits = ["train", "dev", "test"]
    else:
        official_splits = [split]
    pool: list[Example] = []
    for s in official_splits:
        pool.extend(load_xsum(s, data_dir))
    return select_examples(pool, ids)
