"""``python -m sim compare BASE.toml OTHER.toml [...]``: scenarios on common random numbers.

Every scenario runs replications 0..N-1 on one seed (the base's ``run.seed``, or ``--seed``), so
replication r of each scenario has the same patients and toxicity draws; the paired differences
from the base are in ``comparison.csv`` (see :mod:`sim.analysis.compare`). When a scenario is a centre,
each programme's own KPIs are compared too, paired by replication and programme, against the base's
programme of the same name (``comparison_by_programme.csv``; printed with ``--by-programme``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.cli.common import (
    add_executor_args,
    add_save_args,
    executor_of,
    kpi_list,
    positive_int,
    progress_bar,
    seed,
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="run scenarios on the same seeds and report paired differences from the first",
        description="Run BASE and each OTHER on the same seed and replications (common random numbers) and "
                    "write comparison.csv: per scenario and KPI the mean, the paired difference from BASE "
                    "with its t-based 95%% CI, and whether that CI excludes 0.")
    p.add_argument("base", help="base scenario TOML")
    p.add_argument("others", nargs="+", metavar="other", help="scenario TOML(s) compared with the base")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field in every scenario, e.g. --set capacity.observation_beds=5 (repeatable)")
    p.add_argument("--reps", type=positive_int, default=100, help="replications per scenario (default 100)")
    p.add_argument("--seed", type=seed, default=None, help="seed for all scenarios (default: the base's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/compare-BASE_NAME)")
    p.add_argument("--kpis", default=None, metavar="A,B", help="only these KPIs (default: all)")
    p.add_argument("--by-programme", action="store_true",
                   help="also print each programme's paired differences (from comparison_by_programme.csv, "
                        "written whenever a scenario is a centre; default printed KPIs: the run command's "
                        "per-programme headlines)")
    add_executor_args(p)
    add_save_args(p)
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.analysis import compare
    from sim.analysis.stats import check_kpis
    from sim.config import loader
    from sim.storage import runs
    from sim.storage.output import preflight

    executor = executor_of(args)
    kpis = kpi_list(args.kpis) or None
    if kpis:
        check_kpis(kpis)
    scenarios = [loader.load(p, args.overrides) for p in [args.base, *args.others]]   # all validated before any run
    out = args.out or Path("results") / f"compare-{scenarios[0].name}"
    # every output path is checked before the first replication, not after the work
    preflight(out, scenarios[0], args.reps, runs_dir=args.runs_dir if args.save else None, keep_occupancy=False,
              scenarios=len(scenarios))
    started = runs.utc_now()
    with progress_bar(args.quiet, args.reps * len(scenarios)) as update:
        result = compare.compare_scenarios(scenarios, args.reps, seed=args.seed, kpis=kpis, executor=executor,
                                           workers=args.workers, scheduler=args.scheduler, progress=update)
    finished = runs.utc_now()
    by_programme = result.by_programme(kpis) if args.by_programme or _has_centre(result) else None
    written = _write(out, result, by_programme)
    others = [f"{n} ({r.scenario.run.seed})" for n, r in result.runs.items()
              if n != result.base and r.scenario.run.seed != result.seed]
    print(f"{len(result.runs)} scenarios x {args.reps} replications on seed {result.seed} (common random numbers)"
          + (f"; run.seed of {', '.join(others)} replaced by the common seed" if others else ""))
    for note in programme_notes(result):
        print(f"note: {note}")
    currency = scenarios[0].costs.currency
    print(format_comparison(result.table, result.base, currency))
    if args.by_programme:
        print(format_by_programme(by_programme, result.base, kpis, currency))
    elif by_programme is not None:
        print("\neach programme's own differences: comparison_by_programme.csv (print them with --by-programme)")
    print(f"\nwrote {out}/{', '.join(written)}")
    if args.save:
        _save(result, by_programme, args, executor, started, finished)
    return 0


def format_comparison(table: pd.DataFrame, base: str, currency: str = "USD") -> str:
    """The comparison as text, as the dashboard writes it: one block per non-base scenario, one line per
    KPI with the means in the KPI's unit (shares in %, money with its currency), the difference in
    percentage points for a share, and both verdicts (:func:`sim.analysis.compare.judge`: distinguishable,
    and whether it matters against the default minimum difference); no number in scientific notation.

    Parameters
    ----------
    table : DataFrame
        :func:`sim.analysis.compare.compare`: scenario, kpi, mean, diff_mean, diff_ci_low, diff_ci_high,
        distinguishable.
    base : str
        The base scenario's name.
    currency : str
        The scenarios' currency.
    """
    from sim.analysis.compare import judge
    from sim.metrics import formats

    blocks = []
    for name, part in judge(table, base).groupby("scenario", sort=False):
        lines = [f"{name} vs {base} (paired difference, 95% CI; * = CI excludes 0; pp = percentage points; "
                 "matters: against the minimum difference in sim/config/matters.toml)",
                 f"{'KPI':36s} {'base':>14s} {'other':>14s} {'difference':>14s}   {'95% CI':>30s}    matters?"]
        for r in part.itertuples(index=False):
            ci = formats.format_diff_ci(r.kpi, r.diff_ci_low, r.diff_ci_high, currency)
            lines.append(f"{r.kpi:36s} {formats.format_value(r.kpi, r.base_mean, currency):>14s} "
                         f"{formats.format_value(r.kpi, r.mean, currency):>14s} "
                         f"{formats.format_diff(r.kpi, r.diff_mean, currency):>14s}   "
                         f"{'' if ci == 'n/a' else ci:>30s}{' *' if r.distinguishable else '  '}  {r.matters}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _has_centre(result) -> bool:
    return any(r.scenario.programmes for r in result.runs.values())


def programme_notes(result) -> list[str]:
    """What a reader of a comparison involving a centre must know: programmes with no partner (not compared)
    and single-drug scenarios paired with a centre (their patients come from other streams)."""
    if not _has_centre(result):
        return []
    base = result.runs[result.base]
    notes = []
    for name, r in result.runs.items():
        if name == result.base:
            continue
        unpaired = [p for p in (*base.programmes, *r.programmes) if (p in base.programmes) != (p in r.programmes)]
        if unpaired:
            notes.append(f"{', '.join(unpaired)}: in only one of {result.base} and {name}, so not compared "
                         "programme by programme")
        if bool(r.scenario.programmes) != bool(base.scenario.programmes):
            single = name if not r.scenario.programmes else result.base
            notes.append(f"{single} is a single-drug scenario: its patients come from other random streams than "
                         "a centre's programmes, so the pairing removes less noise; write it as a centre of one "
                         "programme for common random numbers")
    return notes


def format_by_programme(table: pd.DataFrame, base: str, kpis: list[str] | None, currency: str = "USD") -> str:
    """:func:`format_comparison` of each programme's rows of ``comparison_by_programme.csv`` under its name;
    without ``kpis``, only the run command's per-programme headlines."""
    from sim.cli.common import PROGRAMME_HEADLINES

    if table.empty:
        return "\nnothing to compare programme by programme: none of --kpis is a programme's own KPI"
    shown = table if kpis else table[table["kpi"].isin(PROGRAMME_HEADLINES)]
    blocks = [f"\n== programme {name} ==\n" + format_comparison(part.drop(columns="programme"), base, currency)
              for name, part in shown.groupby("programme", sort=False)
              if (part["scenario"] != base).any()]
    if not blocks:
        return "\nnothing to compare programme by programme: no programme is in both the base and another scenario"
    return "\n".join(blocks)


def _long_kpis(result) -> pd.DataFrame:
    return pd.concat([r.kpis.assign(scenario=n) for n, r in result.runs.items()], ignore_index=True)


def _save(result, by_programme: pd.DataFrame | None, args: argparse.Namespace, executor: str, started: str,
          finished: str) -> None:
    from sim.storage import runs
    from sim.storage.output import resolved_toml

    summary = pd.concat([r.summary().assign(scenario=n) for n, r in result.runs.items()], ignore_index=True)
    manifest = runs.new_manifest(
        kind="compare", scenarios={n: resolved_toml(r) for n, r in result.runs.items()}, seed=result.seed,
        replications=args.reps, executor=executor, started=started, finished=finished,
        extra={"base": result.base, "workers": args.workers, "scheduler": args.scheduler})
    tables = {"kpis": _long_kpis(result), "summary": summary, "comparison": result.table}
    if by_programme is not None:
        tables["comparison_by_programme"] = by_programme
    path = runs.save(args.runs_dir, manifest, tables)
    print(f"saved run {path.name} in {path.parent}")


def _write(out: Path, result, by_programme: pd.DataFrame | None) -> list[str]:
    """comparison.csv and kpis.csv (long, with a scenario column), and with ``by_programme``
    comparison_by_programme.csv and kpis_by_programme.csv (scenario, replication, programme, kpi, value):
    all or none. Returns the names written."""
    from sim.storage.output import atomic_folder, programme_kpis_frame

    with atomic_folder(out) as tmp:
        result.table.to_csv(tmp / "comparison.csv", index=False)
        _long_kpis(result).to_csv(tmp / "kpis.csv", index=False)
        if by_programme is None:
            return ["comparison.csv", "kpis.csv"]
        by_programme.to_csv(tmp / "comparison_by_programme.csv", index=False)
        pd.concat([programme_kpis_frame(r).assign(scenario=n) for n, r in result.runs.items()], ignore_index=True
                  )[["scenario", "replication", "programme", "kpi", "value"]].to_csv(tmp / "kpis_by_programme.csv",
                                                                                     index=False)
    return ["comparison.csv", "kpis.csv", "comparison_by_programme.csv", "kpis_by_programme.csv"]
