"""What every command shares: argument types, the scenario and executor options, the progress bar,
CSV writing and the KPI summary as text. Commands parse strings here and call the library (:mod:`sim`)."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from sim.analysis import runner
from sim.config import loader
from sim.config.errors import UsageError
from sim.storage.output import check_out_folder, write_csv  # noqa: F401  (the commands write through these)


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def seed(text: str) -> int:
    """argparse type: a seed, 0 to 2^63 - 1."""
    value = _whole_number(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{value} is outside 0 to 2^63 - 1")
    return value


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value} is outside (0, 1); e.g. 0.05 for 5%")
    return value


def kpi_list(text: str | None) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]`` (checking the names is the library's job)."""
    return [k.strip() for k in text.split(",") if k.strip()] if text else []


def add_scenario_args(p: argparse.ArgumentParser) -> None:
    """The positional SCENARIO (default: the reference scenario) and repeatable ``--set KEY=VALUE``."""
    p.add_argument("scenario", nargs="?", default=str(loader.DEFAULT_SCENARIO),
                   help="scenario TOML file (default: the tarlatamab outpatient reference scenario)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set capacity.observation_beds=5 (repeatable)")


def load_scenario(args: argparse.Namespace):
    """The scenario named by SCENARIO with its ``--set`` overrides, validated."""
    return loader.load(args.scenario, args.overrides)


def programme_names(scenario) -> list[str]:
    """The scenario's programmes, in the file's order (a single-drug scenario's one is named after its drug)."""
    from sim.config.scenario import programmes

    return [name for name, _ in programmes(scenario)]


def check_programme(scenario, name: str | None, option: str = "--programme") -> str | None:
    """``name`` if it is one of the scenario's programmes (None stays None), else a :class:`UsageError`
    naming the option, the value and the programmes allowed."""
    names = programme_names(scenario)
    if name is not None and name not in names:
        whose = (f"the programmes of {scenario.name}" if scenario.programmes
                 else f"{scenario.name} is a single-drug scenario: its one programme is named after its drug")
        raise UsageError(f"{option} = {name!r}; allowed: {', '.join(names)} ({whose})")
    return name


def centre_note(scenario) -> str:
    """For a centre, what its figures cover, e.g. ``"; a centre of 3 programmes (a, b, c): the figures are
    its totals"``; empty for a single-drug scenario."""
    if not scenario.programmes:
        return ""
    names = programme_names(scenario)
    return f"; a centre of {len(names)} programmes ({', '.join(names)}): the figures are its totals"


def add_executor_args(p: argparse.ArgumentParser) -> None:
    """``--executor``, ``--workers``, ``--scheduler``, ``--quiet`` and ``--uncertainty``, shared by run-like
    commands."""
    p.add_argument("--executor", choices=runner.EXECUTORS, default=None,
                   help="where replications run (default: processes, one per core; "
                        "dask when --scheduler is given)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes (default: cores; also the LocalCluster size for dask)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default with --executor dask: a local cluster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--uncertainty", action="store_true",
                   help="draw CRS/ICANS incidence (Beta) and grade mix (Dirichlet) from the published counts in "
                        "every replication; summary.csv then splits the variance into parameter uncertainty "
                        "and run-to-run noise (runs the replications twice)")


def executor_of(args: argparse.Namespace) -> str:
    """The executor asked for: explicit, else dask when a scheduler is named, else processes."""
    if args.executor is None:
        return "dask" if args.scheduler else "processes"
    if args.scheduler and args.executor != "dask":
        raise UsageError(f"--scheduler needs --executor dask (got --executor {args.executor})")
    return args.executor


def add_save_args(p: argparse.ArgumentParser) -> None:
    """``--save`` and ``--runs-dir``."""
    from sim.storage.runs import DEFAULT_RUNS_DIR

    p.add_argument("--save", action="store_true", help="also store the run (Parquet + manifest) under --runs-dir")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR,
                   help=f"folder of saved runs (default: {DEFAULT_RUNS_DIR}/)")


@contextmanager
def progress_bar(quiet: bool, total: int):
    """Yield a progress callback for the library's ``progress`` (None when quiet); the bar closes on exit."""
    if quiet:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="rep", file=sys.stderr, disable=None, dynamic_ncols=True)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def format_summary(summary, currency: str = "USD") -> str:
    """A KPI summary (``RunResult.summary()``) as text: mean and 95% CI per KPI, each in its unit (shares
    in %, money with its currency) and never in scientific notation, as the dashboard writes them;
    summary.csv keeps the raw numbers."""
    from sim.metrics import formats

    lines = [f"{'KPI':36s} {'mean':>16s}   {'95% CI':>33s}"]
    for row in summary.itertuples(index=False):
        ci = "" if row.ci_low != row.ci_low else formats.format_ci(row.kpi, row.ci_low, row.ci_high, currency)
        lines.append(f"{row.kpi:36s} {formats.format_value(row.kpi, row.mean, currency):>16s}   {ci:>33s}")
    return "\n".join(lines)


# What the run command prints per programme of a centre (every KPI is in summary_by_programme.csv).
PROGRAMME_HEADLINES = ("patients_started", "doses_given", "doses_postponed", "p_dose_postponed", "crs_rate",
                       "ed_visits", "unplanned_ward_admissions", "observation_bed_days", "ward_bed_days",
                       "toci_mg", "cost_total")


def format_programmes(summary, currency: str = "USD") -> str:
    """A centre's per-programme summary (``RunResult.programme_summary()``) as text: the headline KPIs,
    one line per programme, mean and 95% CI in their units."""
    from sim.metrics import formats

    lines = []
    for name, rows in summary.groupby("programme", sort=False):
        lines.append(f"\n{name}")
        for row in rows[rows["kpi"].isin(PROGRAMME_HEADLINES)].itertuples(index=False):
            ci = "" if row.ci_low != row.ci_low else formats.format_ci(row.kpi, row.ci_low, row.ci_high, currency)
            lines.append(f"  {row.kpi:34s} {formats.format_value(row.kpi, row.mean, currency):>16s}   {ci:>33s}")
    return "\n".join(lines)
