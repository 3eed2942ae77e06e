"""`repro data fetch NAME|all`: put the original data files in place, checked, resumable.

    repro data fetch e2e                  # every split of E2E
    repro data fetch dart --split train   # one split
    repro data fetch all                  # everything any run can read
    repro data fetch --reproduction table2_table_to_text --scale paper   # what those runs read
    repro data status                     # what is there, what is missing, and the command for it

Files go to ``$REPRO_DATA_DIR`` (default: ``data/`` in the clone, git-ignored) in the layout of
shared/data/ (its MANIFEST.md names every file's repository, path, commit and sha256); the catalog
(`repro.data.catalog`) says where each split comes from. For every file, sources are tried in order:
the mirrors (``--mirror``, ``$REPRO_DATA_MIRROR`` (os.pathsep-separated), default the read-only
``../shared/data`` beside the clone when it exists: a folder, ``file://`` or ``http(s)://`` URL in
the same layout), then the pinned upstream URL. A download is written to ``<file>.part``, resumed
with an HTTP Range request (or a seek, for a local mirror) when a ``.part`` is already there, checked
(size, sha256 or git blob id) and only then renamed into place, so a file at its final path is
always complete. A file already in place is checked and skipped; one that fails its check (a
truncated copy, say) is fetched again. After a split is fetched it is loaded once and its number
of examples compared with the catalog's.

Hub parquet splits are listed through the hub API at the pinned revision (the commit it resolves
to, the files, their LFS sha256), then downloaded from ``/resolve/<commit>/`` the same way; a
``MANIFEST.json`` written last marks the folder complete (a ``.pending.json`` keeps an interrupted
listing, so a resumed fetch downloads exactly the same files).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote, unquote, urlparse

from . import catalog
from .catalog import File, HubSplit, Option
from .common import DATA_DIR_ENV, DataMissingError, MalformedDataError

MIRROR_ENV = "REPRO_DATA_MIRROR"
CLONE = Path(__file__).resolve().parents[3]
CHUNK = 1 << 20
NET_CHUNK = 1 << 16
TIMEOUT = (10, 60)  # connect, read (seconds)
FETCH_DIR = ".fetch"  # under the data directory: archives, the verification cache
USER_AGENT = "repro-data-fetch (Prefix-Tuning / Prompt Tuning reproduction)"

#: every name `repro data fetch` accepts, besides "all" (a group name fetches each of its datasets)
GROUPS = {"superglue": ("boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc"),
          "xsum_extrapolation": ("xsum_news_to_sports", "xsum_within_news")}


def clone_root() -> Path:
    """The clone this package runs from (editable install), else the working directory."""
    return CLONE if (CLONE / "pyproject.toml").is_file() and (CLONE / "src" / "repro").is_dir() else Path.cwd()


def default_data_dir() -> Path:
    return clone_root() / "data"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Where fetched files go and runs read: `path`, else $REPRO_DATA_DIR, else data/ in the clone."""
    return Path(path or os.environ.get(DATA_DIR_ENV) or default_data_dir()).expanduser()


def default_mirrors() -> list[str]:
    env = os.environ.get(MIRROR_ENV)
    if env is not None:
        return [m for m in env.split(os.pathsep) if m]
    shared = clone_root().parent / "shared" / "data"
    return [str(shared)] if shared.is_dir() else []


def read_only_reason(root: Path, mirrors: list[str] | None = None) -> str | None:
    """Why `root` must not be written to (the shared read-only copy, a mirror, no write permission), or None."""
    resolved = root.resolve()
    shared = (clone_root().parent / "shared" / "data").resolve()
    mirrors = default_mirrors() if mirrors is None else mirrors
    if resolved == shared or any(_local_path(m) is not None and _local_path(m).resolve() == resolved
                                 for m in mirrors):
        return f"{root} is the read-only shared copy (a mirror to copy from, not a place to write)"
    probe = _existing_parent(resolved)
    if not (probe.stat().st_mode & 0o222) or not os.access(probe, os.W_OK):
        return f"{probe} is not writable"
    return None


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def fetch_command(name: str, split: str | None = None) -> str:
    """The one command that fetches a dataset (or one split of it)."""
    return f"repro data fetch {name}" + (f" --split {split}" if split else "")


# ---------------------------------------------------------------------------------------------
# Checks


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def git_blob_of(path: Path) -> str:
    """The git blob id of a file: sha1 of ``b"blob <size>\\0"`` + its bytes."""
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Check:
    """What a file must be: its size (if known) and its sha256 or git blob id."""

    size: int | None = None
    sha256: str | None = None
    git_blob: str | None = None

    def problem(self, path: Path, cache: "VerifiedCache | None" = None) -> str | None:
        """None if `path` passes, else what is wrong with it (one phrase)."""
        if not path.is_file():
            return "missing"
        size = path.stat().st_size
        if self.size is not None and size != self.size:
            return f"{size:,} bytes, expected {self.size:,} (truncated or a different file)"
        key = self.sha256 or self.git_blob
        if cache is not None and cache.known(path, key):
            return None
        digest = sha256_of(path) if self.sha256 else git_blob_of(path)
        if digest != key:
            kind = "sha256" if self.sha256 else "git blob id"
            return f"{kind} {digest[:12]}..., expected {key[:12]}... (truncated or a different file)"
        if cache is not None:
            cache.remember(path, key)
        return None


class VerifiedCache:
    """(size, mtime) of files already checked, so a second fetch does not hash everything again."""

    def __init__(self, root: Path):
        self.path = root / FETCH_DIR / "verified.json"
        try:
            self.entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def _stamp(path: Path, key: str) -> list:
        st = path.stat()
        return [st.st_size, st.st_mtime_ns, key]

    def known(self, path: Path, key: str) -> bool:
        return self.entries.get(str(path.resolve())) == self._stamp(path, key)

    def remember(self, path: Path, key: str) -> None:
        self.entries[str(path.resolve())] = self._stamp(path, key)
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.entries))
            os.replace(tmp, self.path)


# ---------------------------------------------------------------------------------------------
# Transfers: http(s) with Range, file:// and plain paths with a seek


class TransferError(Exception):
    """One source could not deliver a file (the next source is tried)."""


def _local_path(url: str) -> Path | None:
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    if "://" not in url:
        return Path(url)
    return None


def _http_headers(url: str) -> dict:
    headers = {"User-Agent": USER_AGENT}
    if urlparse(url).hostname and urlparse(url).hostname.endswith("huggingface.co"):
        with contextlib.suppress(Exception):  # a token (HF_TOKEN / hf auth login) if there is one
            from huggingface_hub.utils import build_hf_headers

            headers.update(build_hf_headers(library_name="repro"))
    return headers


def _progress(total: int | None, initial: int, label: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=label, disable=not enabled, leave=False, file=sys.stderr)


def transfer(url: str, part: Path, progress: bool = True, label: str = "") -> None:
    """Append the rest of `url` to `part` (resuming from its current size)."""
    part.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    local = _local_path(url)
    if local is not None:
        if not local.is_file():
            raise TransferError(f"{local}: no such file")
        total = local.stat().st_size
        if offset > total:
            offset = 0
            part.unlink()
        with open(local, "rb") as src, open(part, "ab") as dst, _progress(total, offset, label, progress) as bar:
            src.seek(offset)
            for block in iter(lambda: src.read(CHUNK), b""):
                dst.write(block)
                bar.update(len(block))
        return
    import requests

    headers = _http_headers(url)
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT, allow_redirects=True) as r:
            if r.status_code == 416:  # nothing left to send: the .part is complete (or too long: the check says)
                return
            if r.status_code == 404:
                raise TransferError(f"{url}: 404 not found")
            r.raise_for_status()
            mode = "ab"
            if offset and r.status_code != 206:  # the server ignored the range: start over
                offset, mode = 0, "wb"
            length = r.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else None
            with open(part, mode) as dst, _progress(total, offset, label, progress) as bar:
                for block in r.iter_content(NET_CHUNK):  # small: a cut connection loses at most this much
                    dst.write(block)
                    bar.update(len(block))
    except requests.HTTPError as err:
        raise TransferError(f"{url}: HTTP {err.response.status_code if err.response is not None else '?'}") from None
    except requests.ConnectionError:
        raise TransferError(f"{url}: cannot connect (no network?)") from None
    except requests.RequestException as err:
        raise TransferError(f"{url}: {err.__class__.__name__}") from None


@contextlib.contextmanager
def _exclusive(path: Path):
    """An advisory lock (``.<name>.lock`` beside `path`, left in place: removing it would let a third
    process lock a new file while a second still holds the old one), so two fetches never write the
    same .part file."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def download(urls: Iterable[str], dest: Path, check: Check, progress: bool = True, label: str = "") -> str:
    """Fetch `dest` from the first of `urls` that delivers a file passing `check`; returns that url.

    Atomic: bytes go to ``dest.part`` (resumed if present), which is checked and renamed.
    """
    part = dest.with_name(dest.name + ".part")
    failures = []
    with _exclusive(dest):
        if check.problem(dest) is None:  # another process finished it while we waited
            return "already there"
        for url in urls:
            for attempt in (1, 2):  # a stale .part that fails its check is dropped and fetched once afresh
                try:
                    transfer(url, part, progress, label or dest.name)
                except TransferError as err:
                    failures.append(str(err))
                    break
                problem = check.problem(part)
                if problem is None:
                    os.replace(part, dest)
                    return url
                part.unlink(missing_ok=True)
                if attempt == 2:
                    failures.append(f"{url}: {problem}")
    raise TransferError("; ".join(failures) or "no source to fetch from")


# ---------------------------------------------------------------------------------------------
# Items


@dataclass
class Outcome:
    path: str
    status: str  # "present" | "fetched" | "failed"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def line(self) -> str:
        mark = {"present": "✓", "fetched": "↓", "failed": "✗"}[self.status]
        return f"  {mark} {self.path}" + (f"  ({self.detail})" if self.detail else "")


def _mirror_url(mirror: str, rel: str) -> str:
    local = _local_path(mirror)
    if local is not None:
        return str(local / rel)
    return mirror.rstrip("/") + "/" + quote(rel)


def fetch_file(item: File, root: Path, mirrors: list[str], progress: bool, cache: VerifiedCache) -> Outcome:
    dest = root / item.path
    check = Check(item.size, item.sha256, item.git_blob)
    problem = check.problem(dest, cache)
    if problem is None:
        return Outcome(item.path, "present")
    redo = "" if problem == "missing" else f"the copy there was refused: {problem}; "
    sources = [_mirror_url(m, item.path) for m in mirrors]
    if item.archive is None:
        sources += [r.url for r in item.remotes]
        try:
            used = download(sources, dest, check, progress, item.path)
        except TransferError as err:
            return Outcome(item.path, "failed", f"{redo}{err}")
        cache.remember(dest, check.sha256 or check.git_blob)
        return Outcome(item.path, "fetched", f"{redo}from {used}")
    # a member of an archive: a mirror may hold the member itself; else fetch the archive and extract it
    with contextlib.suppress(TransferError):
        if sources:
            used = download(sources, dest, check, progress, item.path)
            return Outcome(item.path, "fetched", f"{redo}from {used}")
    archive = item.archive
    archive_path = root / FETCH_DIR / "archives" / archive.cache_name
    try:
        if Check(archive.size, archive.sha256).problem(archive_path, cache) is not None:
            download([archive.remote.url], archive_path, Check(archive.size, archive.sha256), progress,
                     archive.remote.path)
        part = dest.with_name(dest.name + ".part")
        with _exclusive(dest), tarfile.open(archive_path, "r:gz") as tar:
            member = tar.extractfile(item.member)
            if member is None:
                raise TransferError(f"{archive.remote}: no member {item.member}")
            part.parent.mkdir(parents=True, exist_ok=True)
            with open(part, "wb") as out:
                shutil.copyfileobj(member, out, CHUNK)
            problem = check.problem(part)
            if problem:
                part.unlink(missing_ok=True)
                raise TransferError(f"{archive.remote}!{item.member}: {problem}")
            os.replace(part, dest)
    except (TransferError, tarfile.TarError, KeyError) as err:
        return Outcome(item.path, "failed", f"{redo}{err}")
    cache.remember(dest, check.sha256)
    return Outcome(item.path, "fetched", f"{redo}from {archive.remote}!{item.member}")


def hub_api():
    """The hub client (a function, so tests can put a fake with the same methods in its place)."""
    from huggingface_hub import HfApi

    return HfApi()


def _is_split_file(path: str, config: str, split: str) -> bool:
    """The parquet files of one split, in either layout the hub uses: ``<config>/<split>/NNNN.parquet``
    (refs/convert/parquet) or ``<config>/<split>-NNNNN-of-NNNNN.parquet`` (push_to_hub)."""
    rel = path[len(config) + 1:] if path.startswith(config + "/") else None
    if rel is None or not rel.endswith(".parquet"):
        return False
    return bool(re.fullmatch(rf"{re.escape(split)}/[^/]+\.parquet", rel)
                or re.fullmatch(rf"{re.escape(split)}-\d+-of-\d+\.parquet", rel))


def hub_listing(item: HubSplit, timeout: float = 20) -> dict:
    """{"repo", "revision", "commit", "files": [{"path", "name", "size", "sha256" | "git_blob"}]} at
    the commit the item's revision points at now (hub metadata calls only)."""
    api = hub_api()
    commit = api.dataset_info(item.repo, revision=item.revision, timeout=timeout).sha
    files = []
    for entry in api.list_repo_tree(item.repo, path_in_repo=item.config, recursive=True, revision=commit,
                                    repo_type="dataset"):
        if getattr(entry, "size", None) is None or not _is_split_file(entry.path, item.config, item.split):
            continue
        lfs = getattr(entry, "lfs", None)
        digest = {"sha256": lfs.sha256} if lfs is not None else {"git_blob": entry.blob_id}
        files.append({"path": entry.path, "name": entry.path.rsplit("/", 1)[-1], "size": entry.size, **digest})
    if not files:
        raise TransferError(f"hub {item.repo}@{item.revision}: no parquet files for config {item.config!r}, "
                            f"split {item.split!r}")
    files.sort(key=lambda f: f["path"])
    return {"repo": item.repo, "revision": item.revision, "commit": commit, "files": files}


def _hub_url(repo: str, commit: str, path: str) -> str:
    from huggingface_hub import constants

    endpoint = getattr(hub_api(), "endpoint", None) or constants.ENDPOINT
    return f"{endpoint.rstrip('/')}/datasets/{repo}/resolve/{quote(commit, safe='')}/{quote(path)}"


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "MANIFEST.json").read_text())
    except (OSError, ValueError):
        return None


def hub_split_problem(item: HubSplit, root: Path, cache: VerifiedCache | None = None) -> str | None:
    """None if the split's folder is complete and every file passes its check."""
    folder = root / item.path
    manifest = read_manifest(folder)
    if manifest is None:
        return "missing"
    for f in manifest["files"]:
        problem = Check(f["size"], f.get("sha256"), f.get("git_blob")).problem(folder / f["name"], cache)
        if problem:
            return f"{f['name']}: {problem}"
    return None


def short_error(err: BaseException, limit: int = 160) -> str:
    """An exception as one short line (hub and HTTP client messages run over several)."""
    text = " ".join(str(err).split())
    text = f"{err.__class__.__name__}: {text}" if text else err.__class__.__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _read_remote_json(url: str) -> dict | None:
    local = _local_path(url)
    try:
        if local is not None:
            return json.loads(local.read_text())
        import requests

        r = requests.get(url, headers={"User-Agent": USER_AGENT}, timeout=TIMEOUT)
        return r.json() if r.ok else None
    except Exception:  # noqa: BLE001 - any failure means "this mirror has no copy"
        return None


def fetch_hub_split(item: HubSplit, root: Path, mirrors: list[str], progress: bool,
                    cache: VerifiedCache) -> Outcome:
    folder = root / item.path
    problem = hub_split_problem(item, root, cache)
    if problem is None:
        return Outcome(item.path, "present")
    redo = "" if problem == "missing" else f"the copy there was refused: {problem}; "
    pending = folder / ".pending.json"
    listing, bases = None, []
    for mirror in mirrors:  # a mirror holding a complete copy of this folder (the same layout)
        found = _read_remote_json(_mirror_url(mirror, f"{item.path}/MANIFEST.json"))
        if found and found.get("files"):
            listing, bases = found, [lambda f, m=mirror: _mirror_url(m, f"{item.path}/{f['name']}")]
            break
    if listing is None:
        try:
            listing = json.loads(pending.read_text())  # an interrupted fetch: the same commit and files
        except (OSError, ValueError):
            try:
                listing = hub_listing(item)
            except TransferError as err:
                return Outcome(item.path, "failed", f"{redo}{err}")
            except Exception as err:  # noqa: BLE001 - the hub client's own errors (offline, not found, ...)
                return Outcome(item.path, "failed", f"{redo}hub {item.repo}@{item.revision}: {short_error(err)}")
            folder.mkdir(parents=True, exist_ok=True)
            pending.write_text(json.dumps(listing, indent=1))
        bases = [lambda f: _hub_url(listing["repo"], listing["commit"], f["path"])]
    folder.mkdir(parents=True, exist_ok=True)
    rows = 0
    for f in listing["files"]:
        check = Check(f["size"], f.get("sha256"), f.get("git_blob"))
        dest = folder / f["name"]
        if check.problem(dest, cache) is not None:
            try:
                download([base(f) for base in bases], dest, check, progress, f"{item.path}/{f['name']}")
            except TransferError as err:
                return Outcome(item.path, "failed", f"{redo}{err}")
        cache.remember(dest, check.sha256 or check.git_blob)
        f["rows"] = parquet_rows(dest)
        rows += f["rows"]
    if item.rows is not None and rows != item.rows:
        return Outcome(item.path, "failed", f"{rows:,} rows, expected {item.rows:,} (the hub's split size); "
                                            f"files kept in {folder} for inspection")
    manifest = {**{k: listing[k] for k in ("repo", "revision", "commit")}, "config": item.config,
                "split": item.split, "rows": rows, "files": listing["files"]}
    tmp = folder / "MANIFEST.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, folder / "MANIFEST.json")
    pending.unlink(missing_ok=True)
    return Outcome(item.path, "fetched", f"{redo}{rows:,} rows, {listing['repo']}@{listing['commit'][:10]}")


def item_problem(item: catalog.Item, root: Path, cache: VerifiedCache | None = None, verify: bool = True) -> str | None:
    """None if the item is in place (and, with verify, passes its check)."""
    if isinstance(item, HubSplit):
        if not verify:
            return None if read_manifest(root / item.path) is not None else "missing"
        return hub_split_problem(item, root, cache)
    if not verify:
        return None if (root / item.path).is_file() else "missing"
    return Check(item.size, item.sha256, item.git_blob).problem(root / item.path, cache)


def fetch_item(item: catalog.Item, root: Path, mirrors: list[str], progress: bool, cache: VerifiedCache) -> Outcome:
    if isinstance(item, HubSplit):
        return fetch_hub_split(item, root, mirrors, progress, cache)
    return fetch_file(item, root, mirrors, progress, cache)


# ---------------------------------------------------------------------------------------------
# Datasets and splits


def catalog_splits(name: str) -> list[str]:
    """Splits of `name` that the catalog can fetch, in the dataset's split order."""
    from . import splits as dataset_splits

    return [s for s in dataset_splits(name) if catalog.options(name, s)]


def expand(names: Iterable[str]) -> list[str]:
    """Dataset names from command-line names: "all", a group ("superglue") or a dataset."""
    from . import DATASETS

    out: list[str] = []
    for name in names:
        if name == "all":
            out += list(DATASETS)
        elif name in GROUPS:
            out += GROUPS[name]
        elif name in DATASETS:
            out.append(name)
        else:
            raise DataMissingError(f"unknown dataset {name!r}; choose all, {', '.join(GROUPS)} or one of "
                                   f"{', '.join(DATASETS)}")
    return list(dict.fromkeys(out))


def split_status(name: str, split: str, root: Path | None = None, verify: bool = False) -> tuple[Option | None, list[str]]:
    """(the option that is in place, or None; the paths of what the first option still lacks)."""
    root = data_dir(root)
    opts = catalog.options(name, split)
    for option in opts:
        if all(item_problem(i, root, verify=verify) is None for i in option.items):
            return option, []
    lacking = [i.path for i in opts[0].items if item_problem(i, root, verify=verify) is not None] if opts else []
    return None, lacking


def count_examples(name: str, split: str, root: Path) -> int:
    from . import load

    return len(load(name, split, data_dir=root))


@dataclass
class SplitResult:
    name: str
    split: str
    ok: bool
    lines: list[str]


def fetch_split(name: str, split: str, root: Path, mirrors: list[str], progress: bool = True,
                cache: VerifiedCache | None = None, count: bool = True,
                report: Callable[[str], None] = print) -> SplitResult:
    """Fetch one split: the first option whose items can all be had; then load it and count."""
    cache = cache or VerifiedCache(root)
    opts = catalog.options(name, split)
    if not opts:
        line = f"✗ {name}/{split}: no published source for this split"
        report(line)
        return SplitResult(name, split, False, [line])
    lines: list[str] = []
    present = next((o for o in opts if all(item_problem(i, root, cache) is None for i in o.items)), None)
    if present is not None:  # already there (checked): nothing to fetch, and no other source is tried
        opts = (present,)
    for k, option in enumerate(opts):
        header = f"{name}/{split}: {option.label}"
        report(header)
        outcomes = []
        for item in option.items:
            outcome = fetch_item(item, root, mirrors, progress, cache)
            report(outcome.line())
            outcomes.append(outcome)
            if not outcome.ok:
                break
        lines += [header] + [o.line() for o in outcomes]
        if all(o.ok for o in outcomes) and len(outcomes) == len(option.items):
            if count and option.examples is not None:
                try:
                    n = count_examples(name, split, root)
                except (DataMissingError, MalformedDataError) as err:
                    line = f"  ✗ {name}/{split} does not load: {err}"
                    report(line)
                    return SplitResult(name, split, False, lines + [line])
                if n != option.examples:
                    line = f"  ✗ {name}/{split}: {n:,} examples, expected {option.examples:,}"
                    report(line)
                    return SplitResult(name, split, False, lines + [line])
                line = f"  ✓ {name}/{split}: {n:,} examples"
                report(line)
                lines.append(line)
            return SplitResult(name, split, True, lines)
        if k + 1 < len(opts):
            report(f"  -> trying the next source for {name}/{split}")
    return SplitResult(name, split, False, lines)


def fetch(names: Iterable[str], splits: Iterable[str] | None = None, root: str | os.PathLike | None = None,
          mirrors: list[str] | None = None, progress: bool = True, report: Callable[[str], None] = print,
          pairs: Iterable[tuple[str, str]] | None = None) -> list[SplitResult]:
    """Fetch every split (or the given ones) of the named datasets, or exactly `pairs`."""
    root = data_dir(root)
    mirrors = default_mirrors() if mirrors is None else mirrors
    reason = read_only_reason(root, mirrors)
    if reason:
        raise DataMissingError(f"cannot fetch into {root}: {reason}. Fix: set {DATA_DIR_ENV} (or --data-dir) to a "
                               f"writable folder, e.g. data/ in the clone (the default); a read-only copy "
                               f"can be passed as --mirror")
    root.mkdir(parents=True, exist_ok=True)
    if pairs is None:
        wanted = list(splits or [])
        pairs = []
        for name in expand(names):
            available = catalog_splits(name)
            if wanted:
                from . import splits as dataset_splits
                from .common import normalize_split

                for s in wanted:
                    pairs.append((name, normalize_split(s, dataset_splits(name), name)))
            else:
                pairs += [(name, s) for s in available]
    cache = VerifiedCache(root)
    return [fetch_split(n, s, root, mirrors, progress, cache, report=report) for n, s in dict.fromkeys(pairs)]
