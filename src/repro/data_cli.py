"""`repro data fetch` / `repro data status` on the command line (the library is `repro.data.fetch`).

Kept out of the `repro.data` package because ``--reproduction R --scale S`` reads a reproduction's
config (`repro.config`), which itself reads `repro.data`: the data package imports nothing of the
training side.
"""
from __future__ import annotations

from repro.data.common import DATA_DIR_ENV, DataMissingError
from repro.data.fetch import (
    GROUPS,
    MIRROR_ENV,
    catalog_splits,
    data_dir,
    default_mirrors,
    expand,
    fetch,
    fetch_command,
    split_status,
)


def run_data_needs(specs) -> list[tuple[str, str]]:
    """(dataset, split) pairs the runs read: training, evaluation and checkpoint-selection splits."""
    from repro.config import train_config

    pairs = []
    for spec in specs:
        pairs += [(spec.dataset, spec.train_split), (spec.dataset, spec.eval_split)]
        config = train_config(spec)
        # selection reads select_split: on a dev metric, or on the dev loss of a run that is not low-data
        # (a low-data run selects on its sampler's dev pairs, drawn from its training split)
        if config.select_metric or (config.select_every and "lowdata_size" not in spec.limits):
            pairs.append((spec.dataset, config.select_split))
    from repro.data import splits as dataset_splits
    from repro.data.common import normalize_split

    return list(dict.fromkeys((d, normalize_split(s, dataset_splits(d), d)) for d, s in pairs))


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "data", help="fetch the datasets (original release files, checked) and show what is there",
        description="Original data files in $REPRO_DATA_DIR (default data/ in the clone), in the layout of "
                    "shared/data (MANIFEST.md).")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    fetch_parser = sub.add_parser(
        "fetch", help="download (or copy from a mirror) the files of datasets / splits, checked and resumable",
        description="Fetch NAME|all (or what --reproduction/--scale reads). Skips files already in place, "
                    "re-fetches ones that fail their sha256, resumes .part files.")
    fetch_parser.add_argument("names", nargs="*", metavar="NAME",
                              help=f"all, {', '.join(GROUPS)}, or a dataset (e2e, webnlg, dart, xsum, boolq, ...)")
    fetch_parser.add_argument("--split", action="append", help="only this split (repeatable)")
    fetch_parser.add_argument("--reproduction", help="fetch what this reproduction's runs read (with --scale)")
    fetch_parser.add_argument("--scale", help="with --reproduction: smoke, mini or paper")
    fetch_parser.add_argument("--data-dir", help=f"target folder (default ${DATA_DIR_ENV}, else data/ in the clone)")
    fetch_parser.add_argument("--mirror", action="append",
                              help=f"a folder or URL in the same layout to copy from first (repeatable; default "
                                   f"${MIRROR_ENV}, else ../shared/data when present); --mirror '' for none")
    fetch_parser.add_argument("--no-progress", action="store_true")
    fetch_parser.set_defaults(func=_fetch_command)
    status_parser = sub.add_parser("status", help="which splits are in place and the command for each missing one")
    status_parser.add_argument("names", nargs="*", metavar="NAME", default=["all"])
    status_parser.add_argument("--data-dir")
    status_parser.add_argument("--verify", action="store_true", help="also check every file's hash")
    status_parser.set_defaults(func=_status_command)


def _fetch_command(args) -> int:
    if args.reproduction or args.scale:
        if not (args.reproduction and args.scale) or args.names:
            raise DataMissingError("repro data fetch: give NAME|all, or --reproduction R --scale S (both)")
        from repro.config import load_reproduction

        pairs = run_data_needs(load_reproduction(args.reproduction).runs(args.scale))
        names = []
    elif not args.names:
        raise DataMissingError("repro data fetch: name a dataset (e.g. e2e), a group (superglue) or all")
    else:
        pairs, names = None, args.names
    mirrors = None if args.mirror is None else [m for m in args.mirror if m]
    root = data_dir(args.data_dir)
    print(f"data directory: {root}" + (f" (mirrors: {', '.join(mirrors if mirrors is not None else default_mirrors())})"
                                       if (mirrors if mirrors is not None else default_mirrors()) else ""))
    results = fetch(names, args.split, root, mirrors, progress=not args.no_progress, pairs=pairs)
    failed = [r for r in results if not r.ok]
    if failed:
        raise DataMissingError(f"{len(failed)} of {len(results)} splits could not be fetched ("
                               f"{', '.join(f'{r.name}/{r.split}' for r in failed)}); the lines above say why "
                               f"(offline? pass --mirror DIR, or run again on a machine with internet: it resumes)")
    print(f"all {len(results)} splits in place under {root}")
    return 0


def _status_command(args) -> int:
    root = data_dir(args.data_dir)
    print(f"data directory: {root}")
    missing = 0
    for name in expand(args.names):
        for split in catalog_splits(name):
            option, lacking = split_status(name, split, root, verify=args.verify)
            if option is not None:
                print(f"  ✓ {name}/{split}: {option.label}")
            else:
                missing += 1
                print(f"  ✗ {name}/{split}: missing {', '.join(lacking[:2])}{' ...' if len(lacking) > 2 else ''}"
                      f" -> {fetch_command(name, split)}")
    return 1 if missing else 0
