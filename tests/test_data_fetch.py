"""`repro data fetch`, offline: against ``file://`` / local-HTTP mirrors built from ../shared/data and a
fake hub with the hub's metadata calls. Hashes are checked, a truncated file is refused and fetched
again, an interrupted download resumes (HTTP Range), and each split is counted after it lands."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import needs_data
from hubfakes import FEATURES, FakeHub, RangeServer, sha256, write_parquet
from repro.data import DataMissingError, catalog, fetch, load
from repro.data.catalog import Archive, File, HubSplit, Remote, Repo

SHARED = Path(os.environ["REPRO_DATA_DIR"])
E2E_FILES = ("e2e/original/devset.csv", "e2e/original/testset_w_refs.csv")
CB_FILES = ("superglue/CB/train.jsonl", "superglue/CB/val.jsonl", "superglue/fewglue_32dev/CB/train.jsonl",
            "superglue/fewglue_32dev/CB/dev32.jsonl")


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Nothing here may reach the internet: upstream GitHub is an empty local folder, the hub a fake."""
    monkeypatch.setattr(catalog, "RAW_BASE", f"file://{tmp_path / 'no-github'}")
    monkeypatch.setattr(fetch, "hub_api", lambda: pytest.fail("the hub must not be asked in this test"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def make_mirror(root: Path, paths) -> Path:
    """A mirror in the data-dir layout, copied from the shared copy."""
    for rel in paths:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED / rel, root / rel)
    return root


def lines(results) -> str:
    return "\n".join(line for r in results for line in r.lines)


@needs_data
def test_fetch_from_a_file_mirror_checks_hashes_and_skips_what_is_there(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", E2E_FILES + CB_FILES)
    data = tmp_path / "data"
    results = fetch.fetch(["cb"], root=data, mirrors=[f"file://{mirror}"], progress=False, report=lambda s: None)
    results += fetch.fetch(["e2e"], ["dev", "test"], root=data, mirrors=[f"file://{mirror}"], progress=False,
                           report=lambda s: None)
    assert all(r.ok for r in results), lines(results)
    for rel in E2E_FILES + CB_FILES:
        assert sha256(data / rel) == catalog.FILES[rel].sha256
        assert not (data / (rel + ".part")).exists()
    assert "✓ cb/train: 250 examples" in lines(results) and "✓ e2e/test: 630 examples" in lines(results)
    assert load("cb", "dev", data_dir=data) == load("cb", "dev", data_dir=SHARED)
    # a second fetch finds everything in place: nothing is copied again
    stamp = (data / E2E_FILES[0]).stat().st_mtime_ns
    again = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[f"file://{mirror}"], progress=False, report=lambda s: None)
    assert again[0].ok and "↓" not in lines(again) and "✓ e2e/original/devset.csv" in lines(again)
    assert (data / E2E_FILES[0]).stat().st_mtime_ns == stamp


@needs_data
def test_a_truncated_file_is_refused_and_fetched_again(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", E2E_FILES)
    data = make_mirror(tmp_path / "data", E2E_FILES[:1])
    target = data / E2E_FILES[0]
    target.write_bytes(target.read_bytes()[:100_000])  # a copy cut short
    results = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[str(mirror)], progress=False, report=lambda s: None)
    assert results[0].ok
    assert "refused: 100,000 bytes, expected 1,161,305" in lines(results)
    assert sha256(target) == catalog.FILES[E2E_FILES[0]].sha256
    # the same length with other bytes: the sha256 refuses it
    target.write_bytes(b"x" * target.stat().st_size)
    results = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[str(mirror)], progress=False, report=lambda s: None)
    assert results[0].ok and "sha256" in lines(results) and sha256(target) == catalog.FILES[E2E_FILES[0]].sha256


@needs_data
def test_a_bad_mirror_copy_is_refused_and_the_next_source_used(tmp_path):
    bad = make_mirror(tmp_path / "bad", E2E_FILES[:1])
    (bad / E2E_FILES[0]).write_bytes((bad / E2E_FILES[0]).read_bytes()[:-10])
    good = make_mirror(tmp_path / "good", E2E_FILES[:1])
    data = tmp_path / "data"
    results = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[str(bad), str(good)], progress=False,
                          report=lambda s: None)
    assert results[0].ok and f"from {good / E2E_FILES[0]}" in lines(results)
    # with the bad copy only, the fetch fails and says why; nothing is left at the final path
    shutil.rmtree(data)
    results = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[str(bad)], progress=False, report=lambda s: None)
    assert not results[0].ok and "expected 1,161,305" in lines(results)
    assert not (data / E2E_FILES[0]).exists() and not (data / (E2E_FILES[0] + ".part")).exists()


@needs_data
def test_an_interrupted_http_download_resumes_with_a_range_request(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", E2E_FILES[:1])
    data = tmp_path / "data"
    rel = E2E_FILES[0]
    with RangeServer(mirror) as server:
        server.cut_next(after=300_000)  # the connection dies after 300,000 bytes
        first = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[server.url], progress=False, report=lambda s: None)
        assert not first[0].ok
        part = data / (rel + ".part")
        kept = part.stat().st_size  # what arrived before the cut (less the last read's 64 KiB at most)
        assert 300_000 - (1 << 16) <= kept <= 300_000 and not (data / rel).exists()
        second = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[server.url], progress=False, report=lambda s: None)
        assert second[0].ok, lines(second)
        assert server.requests[-1] == (f"/{rel}", f"bytes={kept}-")
    assert sha256(data / rel) == catalog.FILES[rel].sha256 and not part.exists()


@needs_data
def test_a_stale_part_file_that_fails_its_check_is_dropped_and_fetched_afresh(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", E2E_FILES[:1])
    data = tmp_path / "data"
    rel = E2E_FILES[0]
    part = data / (rel + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage" * 1000)  # not a prefix of the file
    results = fetch.fetch(["e2e"], ["dev"], root=data, mirrors=[f"file://{mirror}"], progress=False,
                          report=lambda s: None)
    assert results[0].ok and sha256(data / rel) == catalog.FILES[rel].sha256


def test_upstream_files_are_checked_by_sha256_or_git_blob_id_and_archive_members_extracted(tmp_path, monkeypatch):
    """No mirror: the pinned upstream URL (here a local copy of 'GitHub', same URL layout)."""
    github = tmp_path / "github"
    monkeypatch.setattr(catalog, "RAW_BASE", f"file://{github}")
    repo = Repo("someone/data", "a" * 40)
    content = b"mr,ref\n\"name[A]\",\"A.\"\n"
    (github / repo.name / repo.commit).mkdir(parents=True)
    (github / repo.name / repo.commit / "train.csv").write_bytes(content)
    blob = subprocess.run(["git", "hash-object", "--stdin"], input=content, capture_output=True, check=True).stdout
    blob = blob.decode().strip()
    item = File("e2e/original/trainset.csv", (Remote(repo, "train.csv"),), git_blob=blob)
    cache = fetch.VerifiedCache(tmp_path / "data")
    outcome = fetch.fetch_file(item, tmp_path / "data", [], False, cache)
    assert outcome.status == "fetched" and (tmp_path / "data/e2e/original/trainset.csv").read_bytes() == content
    wrong = File("x.csv", (Remote(repo, "train.csv"),), git_blob="0" * 40)
    outcome = fetch.fetch_file(wrong, tmp_path / "data", [], False, cache)
    assert outcome.status == "failed" and "git blob id" in outcome.detail
    # a member of a .tar.gz in the repository
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("pack/member.txt")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    (github / repo.name / repo.commit / "pack.tar.gz").write_bytes(buf.getvalue())
    archive = Archive(Remote(repo, "pack.tar.gz"), len(buf.getvalue()),
                      hashlib.sha256(buf.getvalue()).hexdigest())
    member = File("e2e/member.txt", (), len(content), hashlib.sha256(content).hexdigest(),
                  archive=archive, member="pack/member.txt")
    outcome = fetch.fetch_file(member, tmp_path / "data", [], False, cache)
    assert outcome.status == "fetched", outcome.detail
    assert (tmp_path / "data/e2e/member.txt").read_bytes() == content


def boolq_rows(n: int) -> list[dict]:
    return [{"question": f"is {i} even", "passage": f"Number {i}.", "idx": i, "label": int(i % 2 == 0)}
            for i in range(n)]


def test_hub_parquet_split_is_listed_downloaded_checked_and_counted(tmp_path, monkeypatch):
    hub = FakeHub(tmp_path / "hub")
    shards = write_parquet(tmp_path / "made", boolq_rows(7), FEATURES["boolq"], shards=2)
    for shard in shards:
        hub.add("aps/super_glue", f"boolq/train/{shard.name}", shard)
    hub.add("aps/super_glue", "boolq/validation/0000.parquet", shards[0])  # another split: not taken
    monkeypatch.setattr(fetch, "hub_api", lambda: hub)
    item = HubSplit("aps/super_glue", "refs/convert/parquet", "boolq", "train", "superglue/parquet/boolq/train", 7)
    data = tmp_path / "data"
    outcome = fetch.fetch_hub_split(item, data, [], False, fetch.VerifiedCache(data))
    assert outcome.status == "fetched", outcome.detail
    manifest = json.loads((data / item.path / "MANIFEST.json").read_text())
    assert manifest["commit"] == hub.commit and manifest["rows"] == 7
    assert [f["name"] for f in manifest["files"]] == ["0000.parquet", "0001.parquet"]
    assert all(f["sha256"] == sha256(data / item.path / f["name"]) for f in manifest["files"])
    examples = load("boolq", "train", data_dir=data)
    assert [e.references for e in examples] == [("True",), ("False",)] * 3 + [("True",)]
    assert examples[0].source == "passage: Number 0. question: is 0 even"
    # in place now: a second fetch asks nothing of the hub
    hub.calls.clear()
    assert fetch.fetch_hub_split(item, data, [], False, fetch.VerifiedCache(data)).status == "present"
    assert hub.calls == []
    # a row count that is not the hub card's split size is refused
    short = HubSplit(item.repo, item.revision, "boolq", "train", "elsewhere", 9427)
    outcome = fetch.fetch_hub_split(short, data, [], False, fetch.VerifiedCache(data))
    assert outcome.status == "failed" and "7 rows, expected 9,427" in outcome.detail


def test_an_interrupted_hub_fetch_resumes_the_same_listing(tmp_path, monkeypatch):
    hub = FakeHub(tmp_path / "hub")
    shards = write_parquet(tmp_path / "made", boolq_rows(6), FEATURES["boolq"], shards=2)
    hub.add("aps/super_glue", "boolq/train/0000.parquet", shards[0])
    late = hub.add("aps/super_glue", "boolq/train/0001.parquet", shards[1], publish=False)
    monkeypatch.setattr(fetch, "hub_api", lambda: hub)
    item = HubSplit("aps/super_glue", "refs/convert/parquet", "boolq", "train", "superglue/parquet/boolq/train", 6)
    data = tmp_path / "data"
    first = fetch.fetch_hub_split(item, data, [], False, fetch.VerifiedCache(data))
    assert first.status == "failed" and (data / item.path / ".pending.json").is_file()
    assert not (data / item.path / "MANIFEST.json").exists()
    with pytest.raises(DataMissingError, match="repro data fetch boolq --split train"):
        load("boolq", "train", data_dir=data)  # a half-fetched split is never read
    FakeHub.publish(shards[1], late)
    hub.calls.clear()
    second = fetch.fetch_hub_split(item, data, [], False, fetch.VerifiedCache(data))
    assert second.status == "fetched", second.detail
    assert hub.calls == []  # the pending listing (commit, files, hashes) was reused
    assert len(load("boolq", "train", data_dir=data)) == 6


def test_split_level_count_check_and_fallback_to_the_next_option(tmp_path, monkeypatch):
    """DART train: the JSON cannot be had here, so the hub parquet fallback is fetched and counted."""
    hub = FakeHub(tmp_path / "hub")
    rows = [{"tripleset": [["A", "IS_IN", "B"]], "subtree_was_extended": False,
             "annotations": {"source": ["x", "y"], "text": ["A is in B.", "B holds A."]}}] * 3
    shard = write_parquet(tmp_path / "made", rows, FEATURES["dart"])[0]
    hub.add("Yale-LILY/dart", "default/train/0000.parquet", shard)
    monkeypatch.setattr(fetch, "hub_api", lambda: hub)
    data = tmp_path / "data"
    results = fetch.fetch(["dart"], ["train"], root=data, mirrors=[], progress=False, report=lambda s: None)
    assert results[0].ok, lines(results)
    text = lines(results)
    assert "✗ dart/v1.1.1/dart-v1.1.1-full-train.json" in text and "dart/train: hub parquet" in text
    ex = load("dart", "train", data_dir=data)
    assert ex[0].source == "A : is_in : B" and ex[0].references == ("A is in B.", "B holds A.")
    # an option whose example count is not the catalog's is reported, not accepted silently
    option = catalog.Option("counted", catalog.options("dart", "train")[1].items, examples=30526)
    monkeypatch.setitem(catalog.SOURCES, ("dart", "train"), (option,))
    results = fetch.fetch(["dart"], ["train"], root=data, mirrors=[], progress=False, report=lambda s: None)
    assert not results[0].ok and "3 examples, expected 30,526" in lines(results)


@needs_data
def test_fetch_refuses_to_write_into_the_shared_copy_or_a_mirror(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", E2E_FILES[:1])
    with pytest.raises(DataMissingError, match="read-only shared copy"):
        fetch.fetch(["e2e"], ["dev"], root=mirror, mirrors=[str(mirror)], progress=False, report=lambda s: None)


@needs_data
def test_command_line_fetch_and_status(tmp_path, capsys, monkeypatch):
    from repro.cli import main

    mirror = make_mirror(tmp_path / "mirror", CB_FILES)
    data = tmp_path / "data"
    assert main(["data", "status", "cb", "--data-dir", str(data)]) == 1
    out = capsys.readouterr().out
    assert "✗ cb/train: missing superglue/CB/train.jsonl -> repro data fetch cb --split train" in out
    assert main(["data", "fetch", "cb", "--data-dir", str(data), "--mirror", str(mirror), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "all 4 splits in place" in out
    assert main(["data", "status", "cb", "--data-dir", str(data), "--verify"]) == 0
    assert main(["data", "fetch", "--data-dir", str(data)]) == 2  # nothing named: one-line error
    assert "name a dataset" in capsys.readouterr().err
    assert main(["data", "fetch", "wsc", "--split", "fewglue_train", "--data-dir", str(data), "--mirror", ""]) == 2
    assert "no published source" in capsys.readouterr().out


def test_every_catalog_item_is_pinned_and_checked():
    for (name, split), options in catalog.SOURCES.items():
        assert options, (name, split)
        for option in options:
            for item in option.items:
                if isinstance(item, HubSplit):
                    assert "/" in item.repo and item.revision == "refs/convert/parquet"
                    continue
                assert item.sha256 or item.git_blob
                remotes = [item.archive.remote] if item.archive else item.remotes
                assert remotes and all(len(r.repo.commit) == 40 for r in remotes), item.path
    # every split the catalog can fetch is one the loaders know
    from repro.data import splits

    for name, split in catalog.SOURCES:
        assert split in splits(name)
    # the hub is used only where no original file is published
    hub_only = {(n, s) for (n, s), opts in catalog.SOURCES.items()
                if all(isinstance(i, HubSplit) for o in opts[:1] for i in o.items)}
    assert hub_only == {("xsum", s) for s in ("train", "dev", "test")} | {
        (t, s) for t in ("boolq",) for s in ("train",)} | {(t, s) for t in ("multirc", "record", "wsc")
                                                             for s in ("train", "dev")}


@needs_data
def test_the_catalog_sha256s_are_those_of_the_shared_copy():
    """The pinned hashes match the offline copy byte for byte (so a mirror of it always passes)."""
    for rel, item in catalog.FILES.items():
        if item.sha256 and (SHARED / rel).is_file():
            assert (SHARED / rel).stat().st_size == item.size, rel
    checked = [rel for rel, item in catalog.FILES.items() if item.sha256 and (SHARED / rel).is_file()]
    assert len(checked) >= 130
    for rel in checked[:: max(1, len(checked) // 20)]:  # hash a spread of them (all: ~80 MB)
        assert sha256(SHARED / rel) == catalog.FILES[rel].sha256, rel
