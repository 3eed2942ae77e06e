"""WebNLG 2017 loader tests. Expected strings were written from the raw XML; counts are from
shared/data/MANIFEST.md or from grep on the raw files (noted inline)."""

from __future__ import annotations

import difflib
import os
import random
import shutil
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from repro.data import DataMissingError, MalformedDataError, load, training_pairs
from repro.data import webnlg

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("REPRO_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"no data dir at {DATA_DIR}")
W = DATA_DIR / "webnlg_challenge_2017"


@pytest.fixture(scope="module")
def splits():
    return {s: load("webnlg", s, data_dir=DATA_DIR) for s in ("train", "dev", "test")}


def test_counts(splits):
    counts = {s: (len(x), sum(len(e.references) for e in x)) for s, x in splits.items()}
    assert counts == {"train": (6940, 18102), "dev": (872, 2268), "test": (1862, 4928)}
    # comment="good" lexicalisations: `grep -c 'comment="good"' train/*/*.xml` summed
    assert len(training_pairs(splits["train"])) == 18025
    assert len(training_pairs(splits["dev"])) == 2258


def test_seen_unseen_split():
    seen = load("webnlg", "test_seen", data_dir=DATA_DIR)
    unseen = load("webnlg", "test_unseen", data_dir=DATA_DIR)
    assert (len(seen), len(unseen)) == (971, 891)
    assert sum(len(e.references) for e in unseen) == 2433  # MANIFEST: unseen file 891 / 2,433
    assert {e.meta["category"] for e in unseen} == set(webnlg.UNSEEN_CATEGORIES)
    assert not {e.meta["category"] for e in seen} & set(webnlg.UNSEEN_CATEGORIES)
    # the unseen subset is exactly testdata_unseen_with_lex.xml, entry by entry
    official = webnlg.read_xml(W / "test/testdata_unseen_with_lex.xml", "test")
    assert [(e.source, e.references) for e in unseen] == [(e.source, e.references) for e in official]


def test_train_categories_are_seen(splits):
    cats = {e.meta["category"] for e in splits["train"]}
    assert len(cats) == 10 and not cats & set(webnlg.UNSEEN_CATEGORIES)


def test_linearization_known_examples(splits):
    # test/testdata_with_lex.xml, first entry
    assert splits["test"][0].source == " | Abilene_Regional_Airport : cityServed : Abilene,_Texas"
    # train/2triples/2triples_Airport_train_challenge.xml Id1: mtriple says cityServed
    # (the otriple says city) -> the modified triple set is used
    ex = next(e for e in splits["train"] if e.id == "webnlg-train-2-Airport-Id1")
    assert ex.source == " | Aarhus : leaderName : Jacob_Bundsgaard | Aarhus_Airport : cityServed : Aarhus"
    assert ex.references[0] == "Aarhus airport serves the city of Aarhus who's leader is Jacob Bundsgaard."
    assert len(ex.references) == 3


def test_leading_separator_option():
    triples = [("Aarhus", "leaderName", "Jacob_Bundsgaard"), ("Aarhus_Airport", "cityServed", "Aarhus")]
    assert webnlg.linearize_triples(triples) == (
        " | Aarhus : leaderName : Jacob_Bundsgaard | Aarhus_Airport : cityServed : Aarhus"
    )
    assert webnlg.linearize_triples(triples, leading_separator=False) == (
        "Aarhus : leaderName : Jacob_Bundsgaard | Aarhus_Airport : cityServed : Aarhus"
    )
    test = load("webnlg", "test", data_dir=DATA_DIR)
    plain = webnlg.load_webnlg("test", DATA_DIR, leading_separator=False)
    assert all(a.source == " | " + b.source for a, b in zip(test, plain))


def test_test_order_is_official(splits):
    test = splits["test"]
    assert [e.meta["eid"] for e in test] == [f"Id{i}" for i in range(1, 1863)]
    # first reference of every entry matches line i of the official-script reference file
    # (lower-cased, tokenized, accents folded), so the order is the official one
    gold = (W / "system_outputs/references/gold-all-cat-reference0.lex").read_text(encoding="utf-8").splitlines()

    def norm(s):
        s = unicodedata.normalize("NFKD", s.lower())
        return re.sub(r"[^a-z0-9]", "", "".join(c for c in s if not unicodedata.combining(c)))

    assert len(gold) == len(test)
    ratios = [difflib.SequenceMatcher(None, norm(e.references[0]), norm(g)).ratio() for e, g in zip(test, gold)]
    assert min(ratios) > 0.9
    assert sum(r == 1.0 for r in ratios) > 1800


def test_good_only_training_references():
    # train/1triples/... has comment="toFix" lexicalisations; find one in the raw XML
    for path in sorted((W / "train").glob("*triples/*.xml")):
        root = ET.parse(path).getroot()
        for entry in root.iter("entry"):
            comments = [lex.get("comment") for lex in entry.findall("lex")]
            if "toFix" in comments and "good" in comments:
                texts = [lex.text for lex in entry.findall("lex")]
                good = [lex.text for lex in entry.findall("lex") if lex.get("comment") == "good"]
                ex = next(e for e in webnlg.read_xml(path, "train") if e.meta["eid"] == entry.get("eid"))
                assert list(ex.references) == texts
                assert list(ex.meta["train_references"]) == good
                assert training_pairs([ex]) == [(ex.source, t) for t in good]
                return
    pytest.fail("no entry with both good and toFix lexicalisations found")


def test_dev_equals_prefix_tuning_dev_json(splits):
    """PT's dev.json (the format its code reads) gives the same records, in the same order."""
    pt = webnlg.read_prefix_tuning_json(W / "dev.json", "dev")
    assert pt == splits["dev"]


# --- bad input ------------------------------------------------------------------------------


def test_missing_folder_names_path(tmp_path):
    with pytest.raises(DataMissingError) as err:
        load("webnlg", "train", data_dir=tmp_path)
    assert str(tmp_path / "webnlg_challenge_2017" / "train") in str(err.value)
    assert "`repro data fetch webnlg --split train`" in str(err.value)
    with pytest.raises(DataMissingError) as err:
        load("webnlg", "test", data_dir=tmp_path)
    assert "testdata_with_lex.xml" in str(err.value) and "[webnlg]" in str(err.value)


def test_a_partial_folder_is_refused_not_read(tmp_path):
    """An interrupted fetch leaves some of the 52 files: reading them would drop categories silently."""
    shutil.copytree(W / "dev", tmp_path / "webnlg_challenge_2017" / "dev")
    gone = tmp_path / "webnlg_challenge_2017/dev/3triples/3triples_Food_dev_challenge.xml"
    gone.unlink()
    with pytest.raises(DataMissingError) as err:
        load("webnlg", "dev", data_dir=tmp_path)
    assert "1 of the 52" in str(err.value) and "3triples_Food_dev_challenge.xml" in str(err.value)


def test_malformed_xml_and_triple(tmp_path):
    shutil.copytree(W / "dev", tmp_path / "webnlg_challenge_2017" / "dev")
    d = tmp_path / "webnlg_challenge_2017" / "dev" / "1triples"
    bad = d / "bad.xml"
    bad.write_text("<benchmark>\n<entries>\n<entry category='A' eid='Id1' size='1'>\n</entries>\n")
    with pytest.raises(MalformedDataError) as err:
        load("webnlg", "dev", data_dir=tmp_path)
    assert str(bad) in str(err.value)
    bad.write_text(
        "<benchmark><entries><entry category='A' eid='Id1' size='1'><modifiedtripleset>"
        "<mtriple>only | two</mtriple></modifiedtripleset></entry></entries></benchmark>"
    )
    with pytest.raises(MalformedDataError) as err:
        load("webnlg", "dev", data_dir=tmp_path)
    assert str(bad) in str(err.value) and "Id1" in str(err.value)
