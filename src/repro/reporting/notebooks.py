"""Execute the notebooks under ``notebooks/`` against a results directory (`make notebooks`, CI).

A notebook reads two environment variables, so the same file runs against the committed mini
results, a user's paper-scale results, or CI's throwaway smoke results:

    REPRO_RESULTS_DIR   where results/<reproduction>/<scale>/ live (default: the repository's results/)
    REPRO_SCALE         which scale to show (default: the largest scale with finished runs)

`--in-place` writes the executed notebooks (with their outputs) back into notebooks/; otherwise
they go to `--out`. A notebook that raises fails the command with the cell's error.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS_DIR = REPO / "notebooks"


def execute(path: str | Path, results_dir: str | Path, scale: str | None, out: str | Path, timeout: int = 600) -> Path:
    """Run one notebook top to bottom in a fresh kernel; returns the written copy."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in ("REPRO_RESULTS_DIR", "REPRO_SCALE", "MPLBACKEND")}
    os.environ["REPRO_RESULTS_DIR"] = str(Path(results_dir).resolve())
    os.environ["MPLBACKEND"] = "Agg"
    if scale:
        os.environ["REPRO_SCALE"] = scale
    else:
        os.environ.pop("REPRO_SCALE", None)
    try:  # the kernel inherits this process's environment; cells run with notebooks/ as working directory
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    target = Path(out) / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def _command(args) -> int:
    paths = [Path(p) for p in args.notebook] or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks under {NOTEBOOKS_DIR}", file=sys.stderr)
        return 2
    for path in paths:
        written = execute(path, args.results_dir, args.scale, path.parent if args.in_place else args.out)
        print(f"executed {path.name} -> {written}")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "notebooks", help="execute the notebooks against a results directory",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", nargs="*", help="notebooks to run (default: every notebooks/*.ipynb)")
    parser.add_argument("--results-dir", default=str(REPO / "results"))
    parser.add_argument("--scale", default=None, help="smoke, mini or paper (default: the largest with results)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--out", default="build/notebooks", help="where executed copies go (default: build/notebooks)")
    out.add_argument("--in-place", action="store_true", help="write the outputs back into notebooks/")
    parser.set_defaults(func=_command)
    return parser
