"""XSUM loader and extrapolation-split tests. Real data: the 50 human-evaluation test documents,
the 10 HF fixture pairs and the official split ids (shared/data/xsum). The URL file is absent
offline, so the extrapolation splits are tested on a hand-made URL list written here, with the
expected split membership worked out by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from repro.data import (
    DataMissingError,
    MalformedDataError,
    UrlTopic,
    extrapolation_split,
    load,
    load_extrapolation_split,
    parse_bbc_url,
)
from repro.data import xsum

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("REPRO_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"no data dir at {DATA_DIR}")
X = DATA_DIR / "xsum"

# --- real local articles --------------------------------------------------------------------


def test_human_eval_documents():
    ex = load("xsum", "human_eval", data_dir=DATA_DIR)
    assert len(ex) == 50
    first = ex[0]  # block ==4867== of xsum-human-evaluation-data.txt
    assert first.meta["gold_line"] == 4867
    assert first.source.splitlines()[0] == (
        "West Berkshire Council is setting up an emotional health academy to train psychology "
        "graduates and health professionals ."
    )
    assert first.references == (
        "a council plans to employ its own staff to help young people with mental health problems .",
    )
    # every reference is the gold test summary on line `gold_line` (0-based)
    gold = (X / "model_predictions/gold-test-sentences.txt").read_text(encoding="utf-8").split("\n")
    assert all(gold[e.meta["gold_line"]].strip() == e.references[0] for e in ex)
    assert len({e.id for e in ex}) == 50


def test_hf_fixture_pairs():
    ex = load("xsum", "hf_fixture", data_dir=DATA_DIR)
    assert len(ex) == 10
    assert ex[0].references == ("The Met Office has issued a yellow weather warning for ice across most of Wales.",)
    assert ex[0].source.startswith("The warning begins at 22:00 GMT on Saturday and ends at 10:00 on Sunday.\n")


def test_official_split_ids():
    split = xsum.read_official_split(X / "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json")
    assert {k: len(v) for k, v in split.items()} == {"train": 204045, "validation": 11332, "test": 11334}
    tr, va, te = (set(split[k]) for k in ("train", "validation", "test"))
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert split["test"][:2] == ["40453444", "36000053"]


def test_article_splits_missing_offline_is_explained():
    with pytest.raises(DataMissingError) as err:
        load("xsum", "train", data_dir=DATA_DIR)
    msg = str(err.value)
    assert str(X / "parquet/default/train/MANIFEST.json") in msg and "EdinburghNLP/xsum" in msg
    assert msg.endswith("Fix: `repro data fetch xsum --split train`")


def test_hub_parquet_articles_keep_their_order_across_shards(tmp_path):
    """Rows with the hub's features (document, summary, id: strings), in two parquet shards, as
    `repro data fetch xsum` leaves them: read back in order, one example per article."""
    from hubfakes import FEATURES, write_fetched_split

    fixture = [json.loads(line) for line in (X / "samples/hf_transformers_fixture_sample.json").open(encoding="utf-8")]
    rows = [{"document": r["document"], "summary": r["summary"], "id": str(1000 + i)} for i, r in enumerate(fixture)]
    write_fetched_split(tmp_path, "xsum/parquet/default/test", rows, FEATURES["xsum"], shards=3)
    local = load("xsum", "test", data_dir=tmp_path)
    assert xsum.examples_from_hub(rows, "test") == local
    assert [e.id for e in local] == [str(1000 + i) for i in range(10)]
    assert local[0].references == (fixture[0]["summary"],) and local[0].source == fixture[0]["document"]


def test_malformed_jsonl_names_file_and_line(tmp_path):
    (tmp_path / "xsum" / "samples").mkdir(parents=True)
    bad = tmp_path / "xsum" / "samples" / "hf_transformers_fixture_sample.json"
    bad.write_text('{"document": "a", "summary": "b"}\n{"document": "a"}\n')
    with pytest.raises(MalformedDataError) as err:
        load("xsum", "hf_fixture", data_dir=tmp_path)
    assert f"{bad}:2" in str(err.value) and "summary" in str(err.value)


# --- URL topics -----------------------------------------------------------------------------

ARCHIVE = "http://web.archive.org/web/20161001000000/"


@pytest.mark.parametrize(
    "url, expected",
    [
        (ARCHIVE + "http://www.bbc.com/news/uk-wales-10000001", UrlTopic("10000001", "news", "uk")),
        (ARCHIVE + "http://www.bbc.com/news/world-asia-10000002", UrlTopic("10000002", "news", "world")),
        (ARCHIVE + "http://www.bbc.com/news/business-10000003", UrlTopic("10000003", "news", "business")),
        (ARCHIVE + "http://www.bbc.co.uk/news/entertainment-arts-10000005",
         UrlTopic("10000005", "news", "entertainment-arts")),
        (ARCHIVE + "http://www.bbc.com/news/science-environment-10000008",
         UrlTopic("10000008", "news", "science-environment")),
        (ARCHIVE + "http://www.bbc.com/sport/football/10000006", UrlTopic("10000006", "sport", "football")),
        (ARCHIVE + "http://www.bbc.co.uk/sport/0/cricket/10000007", UrlTopic("10000007", "sport", "cricket")),
        (ARCHIVE + "http://www.bbc.com/news/10000010", UrlTopic("10000010", "news", None)),
        ("http://www.bbc.com/sport/rugby-union/10000014", UrlTopic("10000014", "sport", "rugby-union")),
    ],
)
def test_parse_bbc_url(url, expected):
    assert parse_bbc_url(url) == expected


def test_parse_bbc_url_rejects_urls_without_id():
    with pytest.raises(ValueError):
        parse_bbc_url(ARCHIVE + "http://www.bbc.com/news/uk-wales")


URLS = """\
{a}http://www.bbc.com/news/uk-wales-10000001
{a}http://www.bbc.com/news/world-asia-10000002
{a}http://www.bbc.com/news/business-10000003
{a}http://www.bbc.com/news/health-10000004
{a}http://www.bbc.co.uk/news/entertainment-arts-10000005
{a}http://www.bbc.com/sport/football/10000006
{a}http://www.bbc.co.uk/sport/0/cricket/10000007
{a}http://www.bbc.com/news/science-environment-10000008

{a}http://www.bbc.com/news/technology-10000009
{a}http://www.bbc.com/news/10000010
{a}http://www.bbc.com/news/uk-politics-10000011
{a}http://www.bbc.com/news/education-10000012
http://www.bbc.com/sport/rugby-union/10000014
""".format(a=ARCHIVE)

# 10000013 has no URL; 10000010 is news without a sub-section slug
OFFICIAL = {
    "train": ["10000001", "10000002", "10000003", "10000004", "10000006", "10000010"],
    "validation": ["10000005", "10000007", "10000011"],
    "test": ["10000008", "10000009", "10000012", "10000013", "10000014"],
}


@pytest.fixture()
def fake_xsum(tmp_path):
    root = tmp_path / "data"
    (root / "xsum").mkdir(parents=True)
    (root / "xsum" / "XSum-WebArxiveUrls.txt").write_text(URLS)
    (root / "xsum" / "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json").write_text(json.dumps(OFFICIAL))
    from hubfakes import FEATURES, write_fetched_split

    for split in ("train", "validation", "test"):  # the articles as `repro data fetch xsum` leaves them
        rows = [{"document": f"article {i}", "summary": f"summary {i}", "id": i} for i in OFFICIAL[split]]
        write_fetched_split(root, f"xsum/parquet/default/{split}", rows, FEATURES["xsum"])
    return root


def test_news_to_sports_split(fake_xsum):
    plan = load_extrapolation_split("news-to-sports", data_dir=fake_xsum)
    assert plan.train_ids == ("10000001", "10000002", "10000003", "10000004", "10000010")
    assert plan.dev_ids == ("10000005", "10000011")
    assert plan.test_ids == ("10000014",)
    assert plan.sizes == {"train": 5, "dev": 2, "test": 1}
    assert plan.unassigned == 1
    wide = load_extrapolation_split("news-to-sports", data_dir=fake_xsum, test_from="all")
    assert wide.test_ids == ("10000006", "10000007", "10000014")


def test_within_news_split(fake_xsum):
    plan = load_extrapolation_split("within-news", data_dir=fake_xsum)
    assert plan.train_ids == ("10000001", "10000002", "10000003")
    assert plan.dev_ids == ("10000011",)
    assert plan.test_ids == ("10000008", "10000009", "10000012")
    wide = load_extrapolation_split("within-news", data_dir=fake_xsum, test_from="all")
    assert wide.test_ids == ("10000004", "10000005", "10000008", "10000009", "10000012")


def test_extrapolation_splits_are_disjoint_and_domain_pure(fake_xsum):
    topics = xsum.read_url_file(fake_xsum / "xsum" / "XSum-WebArxiveUrls.txt")
    for kind in xsum.EXTRAPOLATION_KINDS:
        plan = extrapolation_split(kind, topics, OFFICIAL, test_from="all")
        assert not set(plan.train_ids) & set(plan.test_ids)
        assert not set(plan.dev_ids) & set(plan.test_ids)
        assert all(xsum.in_training_domain(kind, topics[i]) for i in plan.train_ids + plan.dev_ids)
        assert all(not xsum.in_training_domain(kind, topics[i]) for i in plan.test_ids)


def test_extrapolation_loader_end_to_end(fake_xsum):
    ex = load("xsum_within_news", "test", data_dir=fake_xsum)
    assert [(e.id, e.source, e.references) for e in ex] == [
        ("10000008", "article 10000008", ("summary 10000008",)),
        ("10000009", "article 10000009", ("summary 10000009",)),
        ("10000012", "article 10000012", ("summary 10000012",)),
    ]
    assert [e.id for e in load("xsum_news_to_sports", "dev", data_dir=fake_xsum)] == ["10000005", "10000011"]
    urls = fake_xsum / "xsum" / "XSum-WebArxiveUrls.txt"
    moved = fake_xsum.parent / "urls.txt"
    urls.rename(moved)
    wide = load("xsum_news_to_sports", "test", data_dir=fake_xsum, url_file=moved, test_from="all")
    assert [e.id for e in wide] == ["10000006", "10000007", "10000014"]


def test_extrapolation_without_url_file_is_explained(tmp_path):
    with pytest.raises(DataMissingError) as err:
        load("xsum_news_to_sports", "train", data_dir=DATA_DIR)
    msg = str(err.value)
    assert str(X / "XSum-WebArxiveUrls.txt") in msg and msg.endswith("Fix: `repro data fetch xsum_news_to_sports`")


def test_malformed_url_line_names_file_and_line(tmp_path):
    bad = tmp_path / "urls.txt"
    bad.write_text(ARCHIVE + "http://www.bbc.com/news/uk-1\nnot a url\n")
    with pytest.raises(MalformedDataError) as err:
        xsum.read_url_file(bad)
    assert f"{bad}:2" in str(err.value)
