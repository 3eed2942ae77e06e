"""E2E loader tests. Expected strings were written by reading the raw files
(shared/data/e2e/...), counts come from shared/data/MANIFEST.md or from shell commands on the
raw files (noted inline)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from repro.data import DataMissingError, MalformedDataError, load, training_pairs
from repro.data import e2e

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("REPRO_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"no data dir at {DATA_DIR}")


@pytest.fixture(scope="module")
def train():
    return load("e2e", "train", data_dir=DATA_DIR)


@pytest.fixture(scope="module")
def dev():
    return load("e2e", "dev", data_dir=DATA_DIR)


@pytest.fixture(scope="module")
def test():
    return load("e2e", "test", data_dir=DATA_DIR)


def _csv_rows(name):
    with open(DATA_DIR / "e2e" / "original" / name, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


# --- counts ---------------------------------------------------------------------------------


def test_counts_dev_test_match_manifest(dev, test):
    assert len(dev) == 547 and sum(len(e.references) for e in dev) == 4672
    assert len(test) == 630 and sum(len(e.references) for e in test) == 4693


def test_counts_train(train):
    # 42,061 rows (MANIFEST); 4,862 distinct MRs (`sort -u src_train.txt | wc -l`).
    assert sum(len(e.references) for e in train) == 42061
    assert len(training_pairs(train)) == 42061
    assert len(train) == 4862


def test_test_mrs_match_testset_csv(test):
    # testset.csv holds the 630 MRs given to participants.
    with open(DATA_DIR / "e2e/original/testset.csv", encoding="utf-8", newline="") as f:
        mrs = [row[0] for row in list(csv.reader(f))[1:]]
    assert len(mrs) == 630
    assert sorted(e2e.linearize_mr(e2e.parse_mr(m)) for m in mrs) == sorted(x.source for x in test)


# --- linearization --------------------------------------------------------------------------


def test_linearize_known_examples(test, train):
    # testset_w_refs.csv row 1: name[Blue Spice], eatType[coffee shop], area[city centre]
    assert test[0].source == "name : Blue Spice | Type : coffee shop | area : city centre"
    assert test[0].references[:2] == (
        "A coffee shop in the city centre area called Blue Spice.",
        "Blue Spice is a coffee shop in city centre.",
    )
    # devset.csv line 2454: all eight attributes
    mr = (
        "name[The Eagle], eatType[coffee shop], food[Chinese], priceRange[£20-25], "
        "customer rating[high], area[city centre], familyFriendly[no], near[Burger King]"
    )
    assert e2e.linearize_mr(e2e.parse_mr(mr)) == (
        "name : The Eagle | Type : coffee shop | food : Chinese | price : £20-25 | "
        "customer rating : high | area : city centre | family friendly : no | near : Burger King"
    )
    # src_train.txt line 1 (tokenized MR "more than £ 30")
    assert train[0].source == (
        "name : The Vaults | Type : pub | price : more than £30 | "
        "customer rating : 5 out of 5 | near : Café Adriatic"
    )


def test_linearize_orders_and_renames():
    shuffled = [("near", "X"), ("familyFriendly", "yes"), ("name", "N"), ("priceRange", "cheap")]
    assert e2e.linearize_mr(shuffled) == "name : N | price : cheap | family friendly : yes | near : X"
    with pytest.raises(ValueError):
        e2e.linearize_mr([("colour", "red")])


@pytest.mark.parametrize(
    "csv_name, pt_name", [("devset.csv", "src1_valid.txt"), ("testset_w_refs.csv", "src1_test.txt")]
)
def test_linearization_equals_prefix_tuning_files_up_to_spacing(csv_name, pt_name):
    # PT's files are the same rows, with MR values PTB-tokenized ("£ 20 - 25").
    rows = _csv_rows(csv_name)
    with open(DATA_DIR / "e2e/prefix_tuning_format" / pt_name, encoding="utf-8") as f:
        pt = [line.split("||")[0] for line in f.read().splitlines()]
    assert len(rows) == len(pt)
    for (mr, _), pt_mr in zip(rows, pt):
        ours = e2e.linearize_mr(e2e.parse_mr(mr))
        assert ours.replace(" ", "") == pt_mr.replace(" ", "")


def test_aligned_dev_sources_equal_official_mrs():
    rows = _csv_rows("devset.csv")
    with open(DATA_DIR / "e2e/harvardnlp_aligned/src_valid.txt", encoding="utf-8") as f:
        src = f.read().splitlines()
    for (mr, _), line in zip(rows, src):
        assert sorted(e2e.parse_aligned_source(line)) == sorted(e2e.parse_mr(mr))


def test_train_mr_values_are_official_values(train, dev, test):
    vocab = e2e.mr_vocabulary(train)
    assert vocab["priceRange"] == {
        "cheap", "moderate", "high", "less than £20", "£20-25", "more than £30"
    }
    assert vocab["customer rating"] == {
        "low", "average", "high", "1 out of 5", "3 out of 5", "5 out of 5"
    }
    assert set(vocab) == set(e2e.ATTRIBUTE_ORDER)


def test_train_dev_test_mrs_disjoint(train, dev, test):
    tr, dv, te = ({e.source for e in s} for s in (train, dev, test))
    assert not (tr & dv) and not (tr & te) and not (dv & te)


# --- detokenizer ----------------------------------------------------------------------------


def test_detokenize_known_cases():
    # first train row, official text quoted in MANIFEST.md
    assert (
        e2e.detokenize("The Vaults pub near Café Adriatic has a 5 star rating . Prices start at £ 30 .")
        == "The Vaults pub near Café Adriatic has a 5 star rating. Prices start at £30."
    )
    assert e2e.detokenize("It is n't , is it ? It isn 't family - friendly .") == (
        "It isn't, is it? It isn't family-friendly."
    )
    assert e2e.detokenize("It 's £ 20 - 25 .") == "It's £20-25."
    assert e2e.detokenize("food for £ 20- £ 25 .") == "food for £20-£25."
    assert e2e.detokenize("called ' The Rice Boat ' .") == "called 'The Rice Boat'."
    assert e2e.detokenize("The Wrestlers ' food") == "The Wrestlers' food"


def test_detokenizer_recovery_rate_on_dev():
    """dev exists both tokenized (harvardnlp valid.txt) and official (devset.csv), row-aligned."""
    rows = _csv_rows("devset.csv")
    with open(DATA_DIR / "e2e/harvardnlp_aligned/valid.txt", encoding="utf-8") as f:
        tok = [e2e.aligned_target_text(line) for line in f.read().splitlines()]
    assert len(rows) == len(tok) == 4672
    exact = sum(e2e.detokenize(t) == ref for (_, ref), t in zip(rows, tok))
    spaced = sum(e2e.detokenize(t) == " ".join(ref.split()) for (_, ref), t in zip(rows, tok))
    # documented in repro.data.e2e: 3,878 exact (83.0%), 4,580 modulo whitespace runs (98.0%)
    assert exact / len(rows) > 0.80
    assert spaced / len(rows) > 0.97
    # the tokenized text itself matches far less often
    assert sum(t == ref for (_, ref), t in zip(rows, tok)) / len(rows) < 0.2


def test_train_without_detokenization_is_the_raw_tokenized_text():
    raw = e2e.load_e2e("train", DATA_DIR, detokenize_train=False)
    assert raw[0].references[0] == (
        "The Vaults pub near Café Adriatic has a 5 star rating . Prices start at £ 30 ."
    )


# --- official train CSV -------------------------------------------------------------------


def test_official_trainset_csv_is_read_and_preferred_to_the_aligned_copy(tmp_path):
    """`repro data fetch e2e` puts the official trainset.csv in place where it can; the loader then
    reads it (original text) instead of the detokenized harvardnlp copy. Stand-in: the dev CSV."""
    import shutil

    (tmp_path / "e2e" / "original").mkdir(parents=True)
    shutil.copy(DATA_DIR / "e2e/original/devset.csv", tmp_path / "e2e/original/trainset.csv")
    shutil.copytree(DATA_DIR / "e2e/harvardnlp_aligned", tmp_path / "e2e/harvardnlp_aligned")
    train = load("e2e", "train", data_dir=tmp_path)
    dev = load("e2e", "dev", data_dir=DATA_DIR)
    assert [(e.source, e.references) for e in train] == [(e.source, e.references) for e in dev]
    assert train[0].id == "e2e-train-0"
    (tmp_path / "e2e/original/trainset.csv").unlink()  # without it: the aligned copy, detokenized
    assert len(load("e2e", "train", data_dir=tmp_path)) == 4862


# --- bad input ------------------------------------------------------------------------------


def test_missing_file_names_path_and_fix(tmp_path):
    with pytest.raises(DataMissingError) as err:
        load("e2e", "dev", data_dir=tmp_path)
    msg = str(err.value)
    assert "[e2e]" in msg and str(tmp_path / "e2e/original/devset.csv") in msg
    assert "`repro data fetch e2e --split dev`" in msg
    with pytest.raises(DataMissingError) as err:
        load("e2e", "train", data_dir=tmp_path)
    assert "harvardnlp_aligned" in str(err.value) and "trainset.csv" in str(err.value)
    assert "`repro data fetch e2e --split train`" in str(err.value)


def test_malformed_row_names_file_and_line(tmp_path):
    bad = tmp_path / "e2e" / "original" / "devset.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        'mr,ref\n"name[A], area[riverside]","A is by the river."\n"name[B] area riverside","B."\n',
        encoding="utf-8",
    )
    with pytest.raises(MalformedDataError) as err:
        load("e2e", "dev", data_dir=tmp_path)
    assert f"{bad}:3" in str(err.value)


def test_malformed_aligned_line(tmp_path):
    d = tmp_path / "e2e" / "harvardnlp_aligned"
    d.mkdir(parents=True)
    (d / "src_train.txt").write_text("__start_name__ A __end_name__\n__start_name__ B __end_name__\n")
    (d / "train.txt").write_text("A is here . <eos>|||0,1,0\nB is here .\n")
    with pytest.raises(MalformedDataError) as err:
        load("e2e", "train", data_dir=tmp_path)
    assert f"{d / 'train.txt'}:2" in str(err.value)
