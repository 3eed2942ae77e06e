"""Offline stand-ins for the Hugging Face hub, for the fetch and parquet tests.

* `FEATURES`: the hub's exact `datasets.Features` of every parquet split the catalog reads
  (aps/super_glue's eight configs, EdinburghNLP/xsum, Yale-LILY/dart), as their loading scripts
  declare them (ClassLabel labels, int32 indices, Sequence-of-dict fields).
* `write_parquet(folder, rows, features, shards)`: parquet files written by `datasets` (which stores
  the features in the schema metadata, as the hub's parquet converter does).
* `FakeHub`: a folder laid out as the hub's ``/datasets/<repo>/resolve/<commit>/<path>`` URLs, with
  the two metadata calls `repro.data.fetch` makes (`dataset_info`, `list_repo_tree`) and a
  ``file://`` endpoint, so downloads go through the real transfer code.
* `RangeServer`: a local HTTP server that honours ``Range`` requests (and can cut a response short),
  to test resumed downloads over HTTP.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import datasets
from datasets import ClassLabel, Features, Sequence, Value

S, I32 = Value("string"), Value("int32")
BOOL = ClassLabel(names=["False", "True"])

FEATURES = {
    "boolq": Features({"question": S, "passage": S, "idx": I32, "label": BOOL}),
    "cb": Features({"premise": S, "hypothesis": S, "idx": I32,
                    "label": ClassLabel(names=["entailment", "contradiction", "neutral"])}),
    "copa": Features({"premise": S, "choice1": S, "choice2": S, "question": S, "idx": I32,
                      "label": ClassLabel(names=["choice1", "choice2"])}),
    "multirc": Features({"paragraph": S, "question": S, "answer": S,
                         "idx": {"paragraph": I32, "question": I32, "answer": I32}, "label": BOOL}),
    "record": Features({"passage": S, "query": S, "entities": Sequence(S),
                        "entity_spans": Sequence({"text": S, "start": I32, "end": I32}),
                        "answers": Sequence(S), "idx": {"passage": I32, "query": I32}}),
    "rte": Features({"premise": S, "hypothesis": S, "idx": I32,
                     "label": ClassLabel(names=["entailment", "not_entailment"])}),
    "wic": Features({"word": S, "sentence1": S, "sentence2": S, "start1": I32, "start2": I32, "end1": I32,
                     "end2": I32, "idx": I32, "label": BOOL}),
    "wsc.fixed": Features({"text": S, "span1_index": I32, "span2_index": I32, "span1_text": S, "span2_text": S,
                           "idx": I32, "label": BOOL}),
    "xsum": Features({"document": S, "summary": S, "id": S}),
    "dart": Features({"tripleset": Sequence(Sequence(S)), "subtree_was_extended": Value("bool"),
                      "annotations": Sequence({"source": S, "text": S})}),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_parquet(folder: Path, rows: list[dict], features: Features, shards: int = 1,
                  names: list[str] | None = None) -> list[Path]:
    """`rows` as `shards` parquet files (NNNN.parquet, in order) with the hub's features."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = datasets.Dataset.from_list(rows, features=features)
    paths = []
    for k in range(shards):
        path = folder / (names[k] if names else f"{k:04d}.parquet")
        ds.shard(shards, k, contiguous=True).to_parquet(str(path))
        paths.append(path)
    return paths


def write_fetched_split(root: Path, folder: str, rows: list[dict], features: Features, shards: int = 1) -> None:
    """A split as `repro data fetch` leaves it: parquet files plus the MANIFEST.json marking it complete."""
    base = root / folder
    paths = write_parquet(base, rows, features, shards)
    import pyarrow.parquet as pq

    files = [{"path": p.name, "name": p.name, "size": p.stat().st_size, "sha256": sha256(p),
              "rows": pq.ParquetFile(p).metadata.num_rows} for p in paths]
    (base / "MANIFEST.json").write_text(json.dumps({"repo": "test/fake", "revision": "refs/convert/parquet",
                                                    "commit": "0" * 40, "rows": len(rows), "files": files}))


class FakeHub:
    """Serves `add`ed files at ``<root>/datasets/<repo>/resolve/<commit>/<path>`` (endpoint file://root)."""

    def __init__(self, root: Path, commit: str = "c0ffee" * 6 + "beef"):
        self.root, self.commit = Path(root), commit
        self.endpoint = f"file://{self.root}"
        self.files: dict[str, list[tuple[str, int, str]]] = {}
        self.calls: list[tuple] = []

    def add(self, repo: str, path: str, source: Path, publish: bool = True) -> Path:
        """Register `source` as `path` in `repo` (listed with its sha256); `publish=False` lists it
        but leaves it unservable (a download that fails), until `publish` is called."""
        self.files.setdefault(repo, []).append((path, source.stat().st_size, sha256(source)))
        dest = self.root / "datasets" / repo / "resolve" / self.commit / path
        if publish:
            self.publish(source, dest)
        return dest

    @staticmethod
    def publish(source: Path, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(source.read_bytes())

    # the two HfApi methods repro.data.fetch calls
    def dataset_info(self, repo_id, revision=None, timeout=None, **kw):
        self.calls.append(("dataset_info", repo_id, revision))
        if repo_id not in self.files:
            raise FileNotFoundError(f"RepositoryNotFound: {repo_id}")
        return SimpleNamespace(id=repo_id, sha=self.commit)

    def list_repo_tree(self, repo_id, path_in_repo=None, recursive=False, revision=None, repo_type=None, **kw):
        self.calls.append(("list_repo_tree", repo_id, path_in_repo, revision))
        assert revision == self.commit and repo_type == "dataset"
        for path, size, digest in self.files.get(repo_id, []):
            if path_in_repo is None or path.startswith(path_in_repo + "/"):
                yield SimpleNamespace(path=path, size=size, blob_id="0" * 40,
                                      lfs=SimpleNamespace(sha256=digest, size=size))


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """GET with ``Range: bytes=N-`` support; `server.cut` bytes after which the first response dies."""

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        self.server.requests.append((self.path, self.headers.get("Range")))
        path = Path(self.server.directory) / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        if self.server.cut is not None:  # die mid-transfer once
            self.wfile.write(body[:self.server.cut])
            self.wfile.flush()
            self.server.cut = None
            self.close_connection = True
            return
        self.wfile.write(body)


class RangeServer:
    def __init__(self, directory: Path):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
        self.httpd.directory = str(directory)
        self.httpd.requests = []
        self.httpd.cut = None
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def requests(self) -> list:
        return self.httpd.requests

    def cut_next(self, after: int) -> None:
        self.httpd.cut = after

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
