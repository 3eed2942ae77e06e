"""The published-number registry (src/repro/published_numbers.csv): schema, values typed from the
papers, the ACL 2021 / arXiv v1 differences, lookups, and that it is generated from the shared
transcription."""
import collections
import csv
import re
from pathlib import Path

import pytest

from repro.reporting import published
from repro.reporting.published import lookup, parse_number

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "src" / "repro" / "published_numbers.csv"
SHARED = REPO.parent / "shared" / "reference" / "published_numbers.csv"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason=f"no shared transcription at {SHARED}")

PT = "Prefix-Tuning (Li & Liang 2021)"
LESTER = "Prompt Tuning (Lester et al. 2021)"
LORA = "LoRA (copy of Li & Liang arXiv v1)"
ACL, ARXIV = "ACL 2021", "arXiv v1"


def _raw_rows():
    with open(REGISTRY, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_schema_columns_and_no_empty_fields():
    header, *rows = _raw_rows()
    assert header == ["paper", "version", "table", "table_title", "dataset", "split", "model", "method",
                      "metric", "value", "source", "confidence"]
    assert len(rows) > 900
    for i, row in enumerate(rows, start=2):
        assert len(row) == len(header), f"line {i}: {row}"
        assert all(field.strip() for field in row), f"line {i} has an empty field: {row}"


def test_vocabularies():
    rows = published.load_registry()
    assert {r.paper for r in rows} == {PT, LESTER, LORA, "P-Tuning v2 (Liu et al. 2021/2022)"}
    assert {r.version for r in rows} <= {ACL, ARXIV, "EMNLP 2021", "arXiv v2", "-"}
    assert {r.confidence for r in rows} <= {"exact", "exact-1src", "code", "derived", "approximate-from-figure",
                                            "secondary-quote"}
    for r in rows:
        if r.version != "-" and "Table" in r.table_title:
            assert re.fullmatch(r"Table \d+", r.table), r
    # non-paper sources carry no version
    assert {r.version for r in rows if r.confidence in ("code", "secondary-quote")} == {"-"}


def test_registry_keys_are_unique():
    counts = collections.Counter(r.key for r in published.load_registry())
    assert [k for k, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("paper,version,table,n_rows", [
    # table-to-text: 7 method rows x 20 metric columns + the SOTA row's 11 published values
    (PT, ACL, "Table 2", 151), (PT, ARXIV, "Table 1", 151),
    (PT, ACL, "Table 3", 9), (PT, ARXIV, "Table 2", 9),  # XSUM: 3 rows x R-1/R-2/R-L
    (PT, ACL, "Table 4", 12), (PT, ARXIV, "Table 3", 12),  # XSUM extrapolation: 2 splits x 2 rows x 3
    (PT, ACL, "Table 5", 35), (PT, ARXIV, "Table 4", 35),  # ablation: 7 rows x 5 E2E metrics
    (PT, ACL, "Table 7", 6), (PT, ACL, "Table 9", 98),
    (LESTER, "EMNLP 2021", "Table 3", 36), (LORA, "arXiv v2", "Table 3", 20),
])
def test_result_tables_are_complete_and_numeric(paper, version, table, n_rows):
    rows = published.find(paper=paper, version=version, table=table)
    assert len(rows) == n_rows
    assert [r for r in rows if r.number is None] == []


@pytest.mark.parametrize("text,number", [
    ("70.3", 70.3), ("0.46", 0.46), ("8e-05", 8e-05), ("5e-5", 5e-05), ("3,668", 3668.0),
    ("76,961,664", 76961664.0), ("+12.5", 12.5), ("-0.1", -0.1), ("100.00", 100.0),
    ("50K", None), ("94.9 ±0.2", None), ("0.001-0.5", None), ("1;5;10", None), ("2^16", None),
    ("0.00067%", None), ("-", None), ("", None),
])
def test_parse_number(text, number):
    assert parse_number(text) == number


# Values typed from the papers' tables (ACL 2021 camera-ready; arXiv 2101.00190v1; Lester et al.).
@pytest.mark.parametrize("version,table,dataset,split,model,method,metric,value", [
    (ACL, "Table 2", "E2E", "test", "GPT-2 Medium", "PREFIX(0.1%)", "BLEU", 70.3),
    (ARXIV, "Table 1", "E2E", "test", "GPT-2 Medium", "PREFIX(0.1%)", "BLEU", 69.7),
    (ACL, "Table 2", "E2E", "test", "GPT-2 Medium", "FINE-TUNE (full)", "BLEU", 68.8),
    (ARXIV, "Table 1", "E2E", "test", "GPT-2 Medium", "FINE-TUNE (full)", "BLEU", 68.2),
    (ACL, "Table 2", "WebNLG", "test-unseen", "GPT-2 Medium", "FINE-TUNE (full)", "BLEU", 26.7),
    (ARXIV, "Table 1", "WebNLG", "test-unseen", "GPT-2 Medium", "FINE-TUNE (full)", "BLEU", 27.7),
    (ACL, "Table 2", "WebNLG", "test-unseen", "GPT-2 Medium", "ADAPTER(3%)", "BLEU", 47.9),
    (ARXIV, "Table 1", "WebNLG", "test-unseen", "GPT-2 Medium", "ADAPTER(3%)", "BLEU", 48.3),
    (ACL, "Table 2", "DART", "test", "GPT-2 Medium", "ADAPTER(0.1%)", "BLEU", 42.4),
    (ACL, "Table 2", "WebNLG", "test-seen", "GPT-2 Medium", "FT-TOP2", "TER(lower better)", 0.49),
    (ACL, "Table 2", "E2E", "test", "GPT-2 Large", "PREFIX", "BLEU", 70.3),
    (ARXIV, "Table 1", "E2E", "test", "GPT-2 Large", "PREFIX", "BLEU", 70.3),
    (ACL, "Table 3", "XSUM", "test", "BART-large", "PREFIX(2%)", "ROUGE-2", 20.93),
    (ARXIV, "Table 2", "XSUM", "test", "BART-large", "PREFIX(2%)", "ROUGE-2", 20.93),
    (ACL, "Table 5", "E2E", "test", "GPT-2 Medium", "INFIX-1", "BLEU", 67.9),
])
def test_known_prefix_tuning_values(version, table, dataset, split, model, method, metric, value):
    row = lookup(paper=PT, version=version, table=table, dataset=dataset, split=split, model=model,
                 method=method, metric=metric)
    assert row.number == pytest.approx(value)


def test_known_prompt_tuning_value():
    row = lookup(paper=LESTER, version="EMNLP 2021", table="Table 3", dataset="SuperGLUE",
                 method="5-prompt ensemble (majority vote)", metric="score")
    assert row.number == pytest.approx(91.3)


def test_acl_and_arxiv_differ_for_gpt2_medium_ft_adapter3_and_prefix():
    diffs = published.version_differences()
    table_to_text = {(acl.model, acl.method) for acl, arxiv in diffs if acl.table == "Table 2"}
    assert table_to_text == {("GPT-2 Medium", "FINE-TUNE (full)"), ("GPT-2 Medium", "ADAPTER(3%)"),
                             ("GPT-2 Medium", "PREFIX(0.1%)")}
    for acl, arxiv in diffs:
        assert arxiv.table == published.PREFIX_TUNING_TABLES[acl.table]
        assert acl.number != arxiv.number
    pair = {(acl.dataset, acl.split, acl.method, acl.metric): (acl.number, arxiv.number) for acl, arxiv in diffs}
    assert pair[("E2E", "test", "FINE-TUNE (full)", "BLEU")] == (68.8, 68.2)
    assert pair[("E2E", "test", "PREFIX(0.1%)", "BLEU")] == (70.3, 69.7)
    assert pair[("E2E", "test", "PREFIX", "BLEU")] == (70.3, 69.7)  # the ablation table's PREFIX row
    # the XSUM tables and the GPT-2 Large rows are the same in both versions
    assert not [d for d in diffs if d[0].table in ("Table 3", "Table 4") or d[0].model == "GPT-2 Large"]


def test_table_correspondence_holds_in_the_registry():
    rows = published.load_registry()
    for acl_table, arxiv_table in published.PREFIX_TUNING_TABLES.items():
        acl = {r.key[3:] for r in published.find(rows, paper=PT, version=ACL, table=acl_table)}
        arxiv = {r.key[3:] for r in published.find(rows, paper=PT, version=ARXIV, table=arxiv_table)}
        assert arxiv and arxiv <= acl, (acl_table, arxiv_table)


def test_lora_copies_the_arxiv_v1_numbers():
    # LoRA's Table 3 quotes Li & Liang's arXiv v1 E2E numbers (FT*), not the ACL ones
    for metric in ("BLEU", "NIST", "METEOR", "ROUGE-L", "CIDEr"):
        lora = lookup(paper=LORA, table="Table 3", model="GPT-2 Medium", method="FT*", metric=metric)
        arxiv = lookup(paper=PT, version=ARXIV, table="Table 1", dataset="E2E", model="GPT-2 Medium",
                       method="FINE-TUNE (full)", metric=metric)
        assert lora.number == arxiv.number


def test_lookup_error_lists_near_matches():
    with pytest.raises(KeyError) as err:
        lookup(paper=PT, version=ACL, table="Table 2", dataset="E2E", split="test", model="GPT-2 Medium",
               method="PREFIX", metric="BLEU")
    assert "PREFIX(0.1%)" in str(err.value)
    with pytest.raises(KeyError) as err:  # the arXiv table number with the ACL version
        lookup(paper=PT, version=ACL, table="Table 1", dataset="E2E", split="test", model="GPT-2 Medium",
               method="PREFIX(0.1%)", metric="BLEU")
    assert "'Table 2'" in str(err.value)


def test_lookup_needs_enough_keys_and_known_fields():
    with pytest.raises(ValueError, match="match"):
        lookup(paper=PT, version=ACL, table="Table 2", dataset="E2E")
    with pytest.raises(TypeError, match="unknown registry field"):
        lookup(paper=PT, row="x")


def test_locate_reads_both_numberings():
    both = "arXiv v1 + ACL identical: https://arxiv.org/abs/2101.00190v1 ; https://aclanthology.org/2021.acl-long.353.pdf"
    assert published.locate("arXiv v1 Table 2 = ACL Table 3 (XSUM)", both) == [(ARXIV, "Table 2"), (ACL, "Table 3")]
    assert published.locate("ACL Table 2 (table-to-text)", "https://aclanthology.org/2021.acl-long.353.pdf") \
        == [(ACL, "Table 2")]
    assert published.locate("hyperparameters (arXiv T5 / ACL T6)", "arXiv v1 Table 5 = ACL Table 6: " + both) \
        == [(ARXIV, "Table 5"), (ACL, "Table 6")]
    assert published.locate("official code defaults", "github.com/x/y@abc file.py") == [("-", "official code defaults")]
    with pytest.raises(ValueError, match="source"):
        published.locate("ACL Table 2 (table-to-text)", "https://arxiv.org/abs/2101.00190v1")


@needs_shared
def test_every_shared_row_is_kept():
    with open(SHARED, newline="", encoding="utf-8") as f:
        shared = list(csv.DictReader(f))
    fields = ("paper", "dataset", "split", "model", "method", "metric", "value", "source", "confidence")
    mine = published.load_registry()
    assert {tuple(r[k] for k in fields) + (r["table"],) for r in shared} == \
        {tuple(getattr(r, k) for k in fields) + (r.table_title,) for r in mine}
    # a number both versions print identically is one row per version
    identical = sum("arXiv v1 + ACL identical" in r["source"] for r in shared)
    assert len(mine) == len(shared) + identical


@needs_shared
def test_repository_csv_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "registry.csv"
    assert published.main(["--import", str(SHARED), "--out", str(out)]) == 0
    assert out.read_bytes() == REGISTRY.read_bytes(), \
        "regenerate with: python -m repro.reporting.published --import ../shared/reference/published_numbers.csv"
