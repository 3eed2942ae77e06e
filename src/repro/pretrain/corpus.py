"""The pretraining corpus: paragraphs of plain English, split 99% / 1% deterministically.

Two sources:
  * a local directory of `*.txt` files, one paragraph per line (offline default:
    `$REPRO_CORPUS_DIR`, e.g. ../shared/corpus with its MANIFEST.md, ~4.3M words);
  * `wikitext-103` from the Hugging Face hub (`datasets` is imported only then), for online users.

Holdout rule: a paragraph is validation text iff the first 8 bytes of SHA-256(paragraph), read as
a big-endian integer, are 0 mod 100. This depends on the text only (not on file order, file names
or a RNG), so it is identical on every machine and for every subset of files, and exact
duplicates always land on the same side (no train/validation leakage through duplicates).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import PretrainError

CORPUS_ENV = "REPRO_CORPUS_DIR"
HUB_SOURCES = {"wikitext-103": ("Salesforce/wikitext", "wikitext-103-raw-v1")}
HOLDOUT_MODULUS = 100  # 1 in 100 paragraphs -> validation


def is_heldout(paragraph: str) -> bool:
    """True iff `paragraph` belongs to the 1% validation split (see module docstring)."""
    digest = hashlib.sha256(paragraph.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % HOLDOUT_MODULUS == 0


@dataclass
class Corpus:
    """Training and validation paragraphs, in corpus order, plus a manifest describing them."""

    train: list[str]
    valid: list[str]
    manifest: dict = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Identifies the corpus content (used to refuse resuming on a different corpus)."""
        return self.manifest["fingerprint"]


def split_paragraphs(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Split into (train, valid) with `is_heldout`, keeping the original order within each."""
    train, valid = [], []
    for p in paragraphs:
        (valid if is_heldout(p) else train).append(p)
    return train, valid


def _read_paragraphs(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def load_corpus_dir(directory: str | os.PathLike) -> Corpus:
    """Read every `*.txt` file of `directory` (sorted by name), one paragraph per non-empty line."""
    directory = Path(directory)
    fix = (f"Point {CORPUS_ENV} (or --corpus) at a folder of plain-text *.txt files with one paragraph "
           f"per line (offline: ../shared/corpus), or use --corpus wikitext-103 when online.")
    if not directory.is_dir():
        raise PretrainError(f"Corpus directory {str(directory)!r} does not exist. {fix}")
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise PretrainError(f"Corpus directory {str(directory)!r} holds no *.txt files. {fix}")

    train, valid, entries = [], [], []
    for path in files:
        paragraphs = _read_paragraphs(path)
        t, v = split_paragraphs(paragraphs)
        train += t
        valid += v
        entries.append({
            "file": path.name,
            "bytes": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "paragraphs": len(paragraphs),
            "valid_paragraphs": len(v),
            "words": sum(len(p.split()) for p in paragraphs),
        })
    if not train or not valid:
        raise PretrainError(
            f"Corpus directory {str(directory)!r} has {len(train)} training and {len(valid)} validation "
            f"paragraphs; both must be non-empty (1 paragraph in {HOLDOUT_MODULUS} is held out, so give it "
            f"at least a few hundred non-empty lines). {fix}")
    source = {"kind": "directory", "path": str(directory)}
    for readme in ("MANIFEST.md", "README.md"):  # provenance of the corpus itself: recorded by hash, not copied
        if (directory / readme).is_file():
            source[readme] = {"sha256": hashlib.sha256((directory / readme).read_bytes()).hexdigest()}
    return Corpus(train, valid, _manifest(source, entries, train, valid))


def load_hub_corpus(name: str = "wikitext-103") -> Corpus:
    """WikiText-103 (raw) train split from the hub; the same 1% holdout rule as for a directory.

    Lines are WikiText paragraphs; empty lines and section headings (" = Title = ") are dropped.
    The official WikiText validation split is not used, so both sources follow one rule.
    """
    try:
        import datasets  # lazy: only online users need it
    except ImportError as err:  # pragma: no cover - datasets is a dependency
        raise PretrainError("--corpus wikitext-103 needs the `datasets` package (pip install datasets).") from err
    path, config = HUB_SOURCES[name]
    try:
        rows = datasets.load_dataset(path, config, split="train")
    except Exception as err:  # offline, hub down, ...
        raise PretrainError(
            f"Could not load {path}/{config} from the hub ({type(err).__name__}: {err}). Offline, use a local "
            f"corpus instead: --corpus DIR or {CORPUS_ENV}=DIR.") from err
    paragraphs = [t.strip() for t in rows["text"] if t.strip() and not t.strip().startswith("=")]
    train, valid = split_paragraphs(paragraphs)
    entry = {"file": f"{path}/{config}:train", "paragraphs": len(paragraphs), "valid_paragraphs": len(valid),
             "words": sum(len(p.split()) for p in paragraphs),
             "sha256": hashlib.sha256("\n".join(paragraphs).encode("utf-8")).hexdigest()}
    return Corpus(train, valid, _manifest({"kind": "hub", "dataset": path, "config": config}, [entry], train, valid))


def load_corpus(source: str | os.PathLike | None = None) -> Corpus:
    """`source`: a directory, `"wikitext-103"`, or None for `$REPRO_CORPUS_DIR`."""
    if source is None:
        source = os.environ.get(CORPUS_ENV)
        if not source:
            raise PretrainError(
                f"No corpus given. Set {CORPUS_ENV} to a folder of *.txt files (offline: ../shared/corpus), "
                f"or pass --corpus DIR, or --corpus wikitext-103 when online.")
    if str(source) in HUB_SOURCES:
        return load_hub_corpus(str(source))
    return load_corpus_dir(source)


def _manifest(source: dict, entries: list[dict], train: list[str], valid: list[str]) -> dict:
    fingerprint = hashlib.sha256("".join(e["sha256"] for e in entries).encode()).hexdigest()
    return {
        "source": source,
        "holdout_rule": f"sha256(paragraph)[:8] as big-endian int % {HOLDOUT_MODULUS} == 0 -> validation",
        "files": entries,
        "train_paragraphs": len(train),
        "valid_paragraphs": len(valid),
        "train_words": sum(len(p.split()) for p in train),
        "valid_words": sum(len(p.split()) for p in valid),
        "fingerprint": fingerprint,
    }
