"""The `repro` command. Argument parsing only: every subcommand calls into the library.

Each subcommand lives with the code it drives and registers itself through an
`add_parser(subparsers)` function listed in SUBCOMMANDS.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# module path -> registers one or more subcommands via add_parser(subparsers)
SUBCOMMANDS = [
    "repro.runner",
    "repro.ensemble",
    "repro.reporting.report",
    "repro.metrics.cli",
    "repro.pretrain.cli",
    "repro.reporting.figures",
    "repro.reporting.claims",
    "repro.reporting.notebooks",
    "repro.reporting.readme",
    "repro.probe",
    "repro.reporting.compute",
    "repro.data_cli",
    "repro.doctor",
    "repro.export",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repro",
        description="Reproduce Prefix-Tuning and Prompt Tuning: run experiments, aggregate tables, score outputs.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:  # a subcommand whose module is not written yet
            if err.name == module_name:
                continue
            raise
        module.add_parser(subparsers)
    return parser


def user_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "your input is wrong": printed as one line that names the fix, no traceback."""
    from repro.reporting.claims import ClaimError
    from repro.data.common import DataMissingError, MalformedDataError
    from repro.methods.base import ConfigError
    from repro.metrics.errors import MetricInputError
    from repro.families import UnsupportedModelError
    from repro.models import ModelLoadError
    from repro.pretrain import PretrainError
    from repro.smollm2 import SetupError

    return (ClaimError, ConfigError, DataMissingError, MalformedDataError, MetricInputError, ModelLoadError,
            PretrainError, SetupError, UnsupportedModelError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except user_errors() as err:
        print(f"repro {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
