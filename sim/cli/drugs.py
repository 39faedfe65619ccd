"""``python -m sim drugs [NAME]``: list the drug library, or show one drug with every value's source."""

from __future__ import annotations

import argparse

from sim.config import library


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``drugs`` sub-command."""
    p = subparsers.add_parser("drugs", help="list the drug library, or show one drug with the source of every value")
    p.add_argument("name", nargs="?", default=None,
                   help="drug file name, e.g. teclistamab or talquetamab_biweekly (default: list all)")
    p.add_argument("--profile", default=None, help="show only this toxicity profile (default: all profiles)")
    p.set_defaults(func=cmd_drugs)


def cmd_drugs(args: argparse.Namespace) -> int:
    """List the library, or describe one drug.

    An unknown NAME raises :class:`sim.config.errors.ScenarioError`, which the CLI turns into exit status 2
    with a message listing the available drugs.
    """
    if args.name is None:
        print(library.format_library(library.list_library()))
    else:
        print(library.describe(args.name, args.profile))
    return 0
