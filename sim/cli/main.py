"""Command line: ``python -m sim COMMAND ...``. This module only builds the parser and maps errors.

Each command lives in its own module of :mod:`sim.cli` (listed in :data:`COMMANDS`) that registers
its sub-command with ``add_parser(subparsers)`` and sets ``func`` (a callable taking the parsed
arguments and returning the exit status). Bad input, whether a scenario problem
(:class:`~sim.config.errors.ScenarioError`) or a bad argument (:class:`~sim.config.errors.UsageError`),
exits with status 2 and one line; any other exception is a bug and surfaces with its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from sim import __version__
from sim.cli import exits
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError

EXIT_BAD_INPUT = 2

COMMANDS = ("run", "validate", "app", "compare", "drugs", "level", "runs", "sensitivity", "size", "stock", "trace",
            "warmup")
"""Modules of :mod:`sim.cli`, one per command, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = exits.OneLineParser(prog="python -m sim", description=(
        "Capacity simulation of bispecific T-cell engager step-up dosing."))
    parser.add_argument("--version", action="version", version=f"btce-sim {__version__}")  # the package, however invoked
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"sim.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with exits.sigterm_as_interrupt():
            return args.func(args)
    except (ScenarioError, ScenarioErrors, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:    # Ctrl-C, or SIGTERM (exits.Terminated)
        return exits.interrupted(exc)
    except BrokenPipeError:
        # the reader went away (``python -m sim trace ... | head``): stop quietly, as Unix tools do; stdout
        # goes to /dev/null so the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
