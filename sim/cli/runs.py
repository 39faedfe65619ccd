"""``python -m sim runs list`` and ``python -m sim runs show ID``: read saved runs back (see :mod:`sim.storage.runs`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    from sim.storage.runs import DEFAULT_RUNS_DIR

    p = subparsers.add_parser("runs", help="list or show runs saved with --save")
    sub = p.add_subparsers(dest="runs_command", required=True)
    q = sub.add_parser("list", help="one line per saved run, oldest first")
    q.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR, help=f"default: {DEFAULT_RUNS_DIR}/")
    q.set_defaults(func=cmd_list)
    q = sub.add_parser("show", help="manifest and KPI summary of one saved run")
    q.add_argument("id", help="run ID (or a prefix matching one run) from 'runs list'")
    q.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR, help=f"default: {DEFAULT_RUNS_DIR}/")
    q.add_argument("--scenario-toml", action="store_true", help="also print each resolved scenario TOML")
    q.set_defaults(func=cmd_show)


def cmd_list(args: argparse.Namespace) -> int:
    from sim.storage import runs

    manifests, unreadable = runs.scan_runs(args.runs_dir)
    for name, reason in unreadable:     # named, with the reason; the readable runs are still listed
        print(f"unreadable run {name}: {reason}", file=sys.stderr)
    if not manifests:
        print(f"no {'readable ' if unreadable else ''}saved runs in {args.runs_dir}")
        return 0
    print(f"{'id':32s} {'kind':8s} {'reps':>6s} {'seed':>10s} {'executor':10s} {'commit':8s} scenarios")
    for m in manifests:
        git = m.get("git") or {}
        commit = (git.get("commit") or "-")[:7] + ("+" if git.get("dirty") else "")
        names = ", ".join(s["name"] for s in m.get("scenarios", []))
        print(f"{m.get('id', '?'):32s} {m.get('kind', '?'):8s} {m.get('replications', 0):>6d} "
              f"{m.get('seed', 0):>10d} {m.get('executor', '?'):10s} {commit:8s} {names}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from sim.cli.common import format_summary
    from sim.storage import runs

    folder = runs.find(args.runs_dir, args.id)
    m = runs.read_manifest(folder)
    summary = runs.load_table(folder, "summary")
    git = m.get("git") or {}
    print(f"run {m['id']} ({m['kind']}) in {folder}")
    print(f"  package {m['package_version']}, git {git.get('commit') or 'none'}"
          f"{' (uncommitted changes)' if git.get('dirty') else ''}")
    print(f"  seed {m['seed']}, replications {m['first_replication']}..{m['first_replication'] + m['replications'] - 1}, "
          f"executor {m['executor']}")
    print(f"  started {m['started_utc']}, finished {m['finished_utc']}")
    for s in m["scenarios"]:
        print(f"  scenario {s['name']}: sha256 {s['sha256']}")
    if m.get("precision"):
        p = m["precision"]
        print(f"  precision {p['target']} on {', '.join(p['kpis'])}: needed {p['replications_needed']}")
    print(f"  files: {', '.join(m.get('files', []))}")
    if "scenario" in summary.columns:
        for name, part in summary.groupby("scenario", sort=False):
            print(f"\n{name}")
            print(format_summary(part))
    else:
        print()
        print(format_summary(summary))
    if args.scenario_toml:
        for s in m["scenarios"]:
            print(f"\n# ---- {s['name']} (sha256 {s['sha256']})\n{s['toml']}")
    return 0
