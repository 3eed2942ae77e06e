"""The published-number registry: every number of both papers that a reproduction compares against.

The registry is ``src/repro/published_numbers.csv``, one published number per row:

=============  ==============================================================================
column         meaning
=============  ==============================================================================
paper          e.g. ``Prefix-Tuning (Li & Liang 2021)``, ``Prompt Tuning (Lester et al. 2021)``
version        ``ACL 2021`` or ``arXiv v1`` (Prefix-Tuning), ``EMNLP 2021`` (Lester et al.; its
               arXiv v2 is the same text), ``arXiv v2`` (the LoRA paper's copies of Li & Liang's
               numbers), or ``-`` where the number is not located in a paper (official code,
               data-file checks, derived values, secondary quotes)
table          the location inside that version, normalised: ``Table 2``, ``Figure 4``, ``§5.3``,
               ``Footnote 7``, ``Appendix A.2``; for version ``-`` the original description
               (``official code defaults``, ``repo data check``, ...)
table_title    the original location string of the shared transcription, verbatim, e.g.
               ``arXiv v1 Table 2 = ACL Table 3 (XSUM)``
dataset, split, model, method, metric
               the row's keys, spelled as the paper prints them (``PREFIX(0.1%)``,
               ``TER(lower better)``, ``test-unseen``); ``-`` where a key does not apply
value          the value as printed, verbatim (a string: some values are ranges, lists or
               ``mean ±std``); :func:`parse_number` / :attr:`PublishedNumber.number` give a float
               where the value is one plain number
source         where it was transcribed from (a URL, or repository@commit + file)
confidence     ``exact``, ``exact-1src``, ``code``, ``derived``, ``approximate-from-figure``,
               ``secondary-quote`` (see ``../shared/reference/README.md``)
=============  ==============================================================================

Prefix-Tuning's two versions number their tables differently (ACL 2021 Table 2 = arXiv v1
Table 1, table-to-text; ACL Table 3 = arXiv Table 2, XSUM; see :data:`PREFIX_TUNING_TABLES`)
and differ in some GPT-2 Medium values (FT-full, Adapter 3%, Prefix); the registry holds both
versions' values, and :func:`version_differences` lists where they differ. A number the shared
transcription marks as identical in both versions (``arXiv v1 + ACL identical``) is one row
per version.

The CSV is generated, never edited by hand: ``python -m repro.reporting.published --import
../shared/reference/published_numbers.csv`` rewrites it deterministically from the shared
transcription (every shared row is kept), and ``tests/test_published.py`` checks the result.
This module imports neither torch nor pandas.
"""
from __future__ import annotations

import argparse
import csv
import difflib
import io
import re
import sys
from dataclasses import astuple, dataclass, fields
from functools import lru_cache
from pathlib import Path

REGISTRY_PATH = Path(__file__).resolve().parents[1] / "published_numbers.csv"  # src/repro/, beside the package
SHARED_REGISTRY_PATH = Path(__file__).resolve().parents[4] / "shared" / "reference" / "published_numbers.csv"

PREFIX_TUNING = "Prefix-Tuning (Li & Liang 2021)"
PROMPT_TUNING = "Prompt Tuning (Lester et al. 2021)"
ACL = "ACL 2021"
ARXIV_V1 = "arXiv v1"
EMNLP = "EMNLP 2021"
LORA_VERSION = "arXiv v2"
NOT_A_PAPER = "-"
VERSIONS = (ACL, ARXIV_V1, EMNLP, LORA_VERSION, NOT_A_PAPER)

# Prefix-Tuning: ACL 2021 table -> the arXiv v1 table with the same content.
PREFIX_TUNING_TABLES = {
    "Table 2": "Table 1",  # table-to-text (E2E, WebNLG, DART)
    "Table 3": "Table 2",  # XSUM
    "Table 4": "Table 3",  # XSUM extrapolation
    "Table 5": "Table 4",  # intrinsic ablation (embedding-only, infix)
    "Table 6": "Table 5",  # hyperparameters
}

KEY_FIELDS = ("paper", "version", "table", "dataset", "split", "model", "method", "metric")


@dataclass(frozen=True)
class PublishedNumber:
    """One registry row (all fields are strings, as in the CSV)."""

    paper: str
    version: str
    table: str
    table_title: str
    dataset: str
    split: str
    model: str
    method: str
    metric: str
    value: str
    source: str
    confidence: str

    @property
    def number(self) -> float | None:
        """The value as a float, or None when it is not one plain number (a range, a list, ...)."""
        return parse_number(self.value)

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(getattr(self, f) for f in KEY_FIELDS)

    @property
    def citation(self) -> str:
        """E.g. ``Prefix-Tuning (Li & Liang 2021), ACL 2021 Table 2 [https://...]``."""
        where = self.table if self.version == NOT_A_PAPER else f"{self.version} {self.table}"
        return f"{self.paper}, {where} [{self.source}]"


COLUMNS = tuple(f.name for f in fields(PublishedNumber))
SHARED_COLUMNS = ("paper", "table", "dataset", "split", "model", "method", "metric", "value", "source", "confidence")

_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_number(text: str) -> float | None:
    """``"70.3"`` -> 70.3, ``"8e-05"`` -> 8e-05, ``"3,668"`` -> 3668.0, ``"+12.5"`` -> 12.5;
    None for anything else (``"50K"``, ``"94.9 ±0.2"``, ``"0.001-0.5"``, ``"1;5;10"``)."""
    text = text.strip()
    return float(text.replace(",", "")) if _NUMBER.fullmatch(text) else None


# ---------------------------------------------------------------------------------------------
# Import from the shared transcription
# ---------------------------------------------------------------------------------------------

# Location strings the general rule cannot read, rewritten into its "A = B (title)" form.
_LOCATION_ALIASES = {
    "hyperparameters (arXiv T5 / ACL T6)": "arXiv v1 Table 5 = ACL Table 6 (hyperparameters)",
}
# A location part's prefix -> the version it belongs to.
_PART_PREFIX = re.compile(r"^(arXiv v1|arXiv|ACL|LoRA) (?=\S)")
_PREFIX_VERSION = {"arXiv v1": ARXIV_V1, "arXiv": ARXIV_V1, "ACL": ACL, "LoRA": LORA_VERSION}


def versions_of_source(source: str) -> list[str]:
    """The paper version(s) a shared row's ``source`` names, in a fixed order."""
    if "arXiv v1 + ACL identical" in source:
        return [ARXIV_V1, ACL]
    if "aclanthology.org/2021.acl-long.353" in source:
        return [ACL]
    if "arxiv.org/abs/2101.00190v1" in source:
        return [ARXIV_V1]
    if "aclanthology.org/2021.emnlp-main.243" in source:
        return [EMNLP]
    if "arXiv 2106.09685v2" in source:  # LoRA (Hu et al. 2021)
        return [LORA_VERSION]
    return [NOT_A_PAPER]  # official code, data-file checks, derived values, secondary quotes


def _normalise_part(part: str) -> str:
    part = re.sub(r"\bFig\.? (?=\d)", "Figure ", part)
    part = re.sub(r"^(?:fn|footnote) (?=\d)", "Footnote ", part)
    return re.sub(r"^App\.? (?=[A-Z]\.?\d)", "Appendix ", part)


def locate(location: str, source: str) -> list[tuple[str, str]]:
    """``[(version, normalised table), ...]`` for one shared row's ``table`` and ``source``.

    The location is split into parts on `` = `` and `` / ``; a part may name its version
    (``ACL Table 3``, ``arXiv Fig 7``). A version gets the parts that name it plus the parts
    that name no version, e.g. ``arXiv v1 Table 2 = ACL Table 3 (XSUM)`` gives ``arXiv v1:
    Table 2`` and ``ACL 2021: Table 3``. Raises ValueError where a part names a version that
    the source does not, or where a version of the source gets no part.
    """
    versions = versions_of_source(source)
    if versions == [NOT_A_PAPER]:
        return [(NOT_A_PAPER, location)]
    text = _LOCATION_ALIASES.get(location, location)
    text = re.sub(r"\s*\([^()]*\)$", "", text)  # the trailing "(title)" stays in table_title only
    parts = []
    for raw in re.split(r" = | / ", text):
        m = _PART_PREFIX.match(raw)
        parts.append((_PREFIX_VERSION[m.group(1)] if m else None, _normalise_part(raw[m.end():] if m else raw)))
    foreign = sorted({v for v, _ in parts if v and v not in versions})
    if foreign:
        raise ValueError(f"location {location!r} names {foreign}, which its source does not: {source!r}")
    located = []
    for version in versions:
        chosen = [p for v, p in parts if v in (None, version)]
        if not chosen:
            raise ValueError(f"location {location!r} has no part for {version} (source: {source!r})")
        located.append((version, " / ".join(chosen)))
    return located


def import_rows(shared_csv: str | Path) -> list[PublishedNumber]:
    """Registry rows from the shared transcription, in its order, one row per version."""
    with open(shared_csv, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != SHARED_COLUMNS:
            raise ValueError(f"{shared_csv}: expected columns {SHARED_COLUMNS}, found {reader.fieldnames}")
        shared = list(reader)
    rows = []
    for r in shared:
        for version, table in locate(r["table"], r["source"]):
            rows.append(PublishedNumber(
                paper=r["paper"], version=version, table=table, table_title=r["table"], dataset=r["dataset"],
                split=r["split"], model=r["model"], method=r["method"], metric=r["metric"], value=r["value"],
                source=r["source"], confidence=r["confidence"]))
    return rows


def registry_text(rows: list[PublishedNumber]) -> str:
    """The registry CSV text for ``rows`` (deterministic: fixed columns, ``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(r) for r in rows)
    return out.getvalue()


def write_registry(shared_csv: str | Path, out: str | Path = REGISTRY_PATH) -> int:
    """Regenerate the registry from the shared transcription; returns the number of rows."""
    rows = import_rows(shared_csv)
    Path(out).write_text(registry_text(rows), encoding="utf-8")
    _load.cache_clear()
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Reading and looking up
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _load(path: str) -> tuple[PublishedNumber, ...]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: expected columns {COLUMNS}, found {reader.fieldnames}")
        return tuple(PublishedNumber(**r) for r in reader)


def load_registry(path: str | Path | None = None) -> list[PublishedNumber]:
    """All registry rows, in file order."""
    return list(_load(str(path or REGISTRY_PATH)))



class RegistryKeyError(KeyError):
    """No registry row matches a lookup; the message lists the nearest rows."""

    def __str__(self) -> str:  # KeyError would print the message repr()-quoted
        return str(self.args[0])


def find(rows: list[PublishedNumber] | None = None, **keys: str) -> list[PublishedNumber]:
    """Every row whose fields equal all the given ``keys`` (any of :data:`COLUMNS`)."""
    unknown = sorted(set(keys) - set(COLUMNS))
    if unknown:
        raise TypeError(f"unknown registry field(s) {unknown}; fields: {list(COLUMNS)}")
    rows = load_registry() if rows is None else rows
    return [r for r in rows if all(getattr(r, k) == v for k, v in keys.items())]


def near_matches(keys: dict[str, str], rows: list[PublishedNumber] | None = None, n: int = 5) -> list[PublishedNumber]:
    """The ``n`` rows closest to ``keys``: most fields equal, then most similar spelling."""
    rows = load_registry() if rows is None else rows

    def closeness(r: PublishedNumber) -> tuple[int, float]:
        equal = sum(getattr(r, k) == v for k, v in keys.items())
        similar = sum(difflib.SequenceMatcher(None, getattr(r, k).lower(), v.lower()).ratio() for k, v in keys.items())
        return equal, similar

    return sorted(rows, key=closeness, reverse=True)[:n]


def lookup(rows: list[PublishedNumber] | None = None, **keys: str) -> PublishedNumber:
    """The one row matching ``keys`` (e.g. paper=, version=, table=, dataset=, split=, model=,
    method=, metric=). Raises :class:`RegistryKeyError` (a KeyError) listing the nearest rows
    when none matches, and ValueError when several do."""
    found = find(rows, **keys)
    if len(found) == 1:
        return found[0]
    given = ", ".join(f"{k}={v!r}" for k, v in keys.items())
    if not found:
        near = near_matches(keys, rows)
        lines = [f"no published number with {given}; nearest registry rows:"]
        lines += ["  " + ", ".join(f"{k}={getattr(r, k)!r}" for k in KEY_FIELDS) + f" -> {r.value}" for r in near]
        raise RegistryKeyError("\n".join(lines))
    tables = sorted({f"{r.paper} | {r.version} {r.table} | {r.method} | {r.metric}" for r in found})[:8]
    raise ValueError(f"{len(found)} published numbers match {given}; add keys to choose one, e.g. {tables}")


def version_differences(rows: list[PublishedNumber] | None = None, tables: dict[str, str] | None = None,
                        ) -> list[tuple[PublishedNumber, PublishedNumber]]:
    """``(ACL 2021 row, arXiv v1 row)`` pairs of Prefix-Tuning whose values differ, for the tables
    that correspond (``tables``: ACL table -> arXiv v1 table, default :data:`PREFIX_TUNING_TABLES`)."""
    rows = load_registry() if rows is None else rows
    tables = PREFIX_TUNING_TABLES if tables is None else tables
    arxiv = {(r.table, r.dataset, r.split, r.model, r.method, r.metric): r
             for r in rows if r.paper == PREFIX_TUNING and r.version == ARXIV_V1}
    pairs = []
    for r in rows:
        if r.paper != PREFIX_TUNING or r.version != ACL or r.table not in tables:
            continue
        other = arxiv.get((tables[r.table], r.dataset, r.split, r.model, r.method, r.metric))
        if other is not None and values_differ(r, other):
            pairs.append((r, other))
    return pairs


def values_differ(a: PublishedNumber, b: PublishedNumber) -> bool:
    """Different values: as numbers where both parse (``0.40`` equals ``0.4``), else as text."""
    x, y = a.number, b.number
    if x is not None and y is not None:
        return x != y
    return a.value.strip() != b.value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.reporting.published", description=__doc__.split("\n\n")[0])
    parser.add_argument("--import", dest="shared", metavar="SHARED_CSV",
                        help=f"regenerate {REGISTRY_PATH.name} from the shared transcription "
                             f"(e.g. {SHARED_REGISTRY_PATH})")
    parser.add_argument("--out", default=str(REGISTRY_PATH), help="where to write (default: the package's registry)")
    parser.add_argument("--differences", action="store_true", help="list Prefix-Tuning values that differ between "
                                                                   "ACL 2021 and arXiv v1")
    args = parser.parse_args(argv)
    if not args.shared and not args.differences:
        parser.print_help()
        return 2
    if args.shared:
        n = write_registry(args.shared, args.out)
        print(f"wrote {n} rows to {args.out}", file=sys.stderr)
    if args.differences:
        for acl, arxiv in version_differences(load_registry(args.out if args.shared else None)):
            print(f"{acl.dataset} {acl.split} | {acl.model} | {acl.method} | {acl.metric}: "
                  f"ACL 2021 {acl.table} {acl.value}  vs  arXiv v1 {arxiv.table} {arxiv.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
