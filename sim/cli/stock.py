"""``python -m sim stock``: the stock-out curve over stock levels, for pharmacy planners."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import (
    add_scenario_args,
    check_out_folder,
    load_scenario,
    progress_bar,
    write_csv,
)


def _values(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: allowed: numbers separated by commas, e.g. 800,1600,2400") from None
    if not values:
        raise argparse.ArgumentTypeError("allowed: at least one number")
    return values


def add_parser(sub) -> None:
    p = sub.add_parser("stock", help="tocilizumab stock-out probability, delays, expiry and cost over stock levels")
    add_scenario_args(p)
    p.add_argument("--param", default="pharmacy.order_up_to",
                   help="stock parameter to vary (default pharmacy.order_up_to, mg)")
    p.add_argument("--values", type=_values, required=True, help="comma-separated values, e.g. 800,1600,2400,3200")
    p.add_argument("--reps", type=int, default=100, help="replications per value (default 100)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--target", type=float, default=0.05,
                   help="stock-out probability to meet (default 0.05): reports the smallest value whose upper "
                        "95%% bound meets it")
    p.add_argument("--out", type=Path, default=None, help="folder for stock.csv (default results/NAME-stock)")
    p.add_argument("--executor", choices=("serial", "processes"), default="processes")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.analysis.stock import check_pharmacy, smallest_meeting, stock_curve

    scenario = load_scenario(args)
    check_pharmacy(scenario)             # before the progress bar appears
    out = check_out_folder(args.out or Path("results") / f"{scenario.name}-stock")   # before the work
    with progress_bar(args.quiet, args.reps * len(args.values)) as update:
        curve = stock_curve(scenario, args.values, args.param, args.reps, args.seed, args.executor, progress=update)
    write_csv(curve, out / "stock.csv")
    print(f"{scenario.name}: {args.reps} replications per value, same seeds for every value"
          + (f"; one stock for the centre's {len(scenario.programmes)} programmes" if scenario.programmes else ""))
    print(format_curve(curve, args.param, scenario.costs.currency))
    best = smallest_meeting(curve, args.param, args.target)
    print(f"\nsmallest {args.param} with P(stock-out) <= {args.target} (upper 95% bound): "
          f"{best:g}" if best is not None else
          f"\nno value tried meets P(stock-out) <= {args.target} at the upper 95% bound; try larger values")
    print(f"wrote {out}/stock.csv")
    return 0


def format_curve(curve, param: str, currency: str = "USD") -> str:
    """One line per stock level: P(stock-out) with its Wilson interval in %, delays, expiry and cost with
    its currency (stock.csv keeps the raw numbers)."""
    from sim.metrics.formats import format_ci, format_value

    lines = [f"{param:>22s}  {'P(stock-out)':>12s} {'95% CI':>17s}  {'doses delayed':>13s}  "
             f"{'delay h':>7s}  {'vials expired':>13s}  {'tocilizumab cost':>16s}"]
    for r in curve.to_dict("records"):
        ci = format_ci("p_stockout", r["p_stockout_ci_low"], r["p_stockout_ci_high"])
        lines.append(f"{r[param]:>22,.0f}  {format_value('p_stockout', r['p_stockout']):>12s} {ci:>17s}  "
                     f"{r['toci_doses_delayed']:>13.2f}  {r['toci_delay_hours_mean']:>7.1f}  "
                     f"{r['toci_vials_expired']:>13.2f}  {format_value('toci_cost', r['toci_cost'], currency):>16s}")
    return "\n".join(lines)
