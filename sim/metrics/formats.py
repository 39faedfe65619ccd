"""How a KPI value, a difference of two values and an interval are written for a reader.

One set of rules for every place a user reads a number (dashboard tables, chart axes and tooltips,
CSV downloads, the HTML report, the command line), driven by each KPI's ``kind`` and ``unit`` in
:mod:`sim.config.registry`: a share is written in %, a difference of shares in percentage points
("-46.1 pp"), money with its currency, counts as counts, and nothing in scientific notation.

It lives here, below :mod:`sim.charts`, because the command line prints comparisons too and must
not need Altair (the dashboard extra) to do so. Pure: the standard library, the registry and the
units only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from sim.config import registry
from sim.config.units import WEEKS_PER_YEAR

PP = "pp"                       # percentage points: how a difference of two shares is written
PP_UNIT = "percentage points"   # ... and how a column header or axis title names that unit


class KpiInfo(NamedTuple):
    """How a KPI is shown: a label a planner reads, its unit, and how to format it."""

    label: str
    unit: str
    kind: str = "count"          # one of registry.KPI_KINDS: count | share | number | money | hours | days
    help: str = ""


# Every KPI of kpis.csv, as sim.config.registry declares it.
KPI_INFO: dict[str, KpiInfo] = {k.name: KpiInfo(k.label, k.unit, k.kind, k.help) for k in registry.KPIS}


def kpi_info(kpi: str, currency: str = "USD") -> KpiInfo:
    """Label, unit and kind of a KPI; a KPI not in the registry gets a readable label from its name.

    Parameters
    ----------
    kpi : str
        Column name in the KPI frame.
    currency : str
        Replaces ``{currency}`` in money units.

    Returns
    -------
    KpiInfo
    """
    info = KPI_INFO.get(kpi)
    if info is None:
        # not a registry KPI (e.g. a column a newer version added): its name is all there is to go by
        kind = "share" if kpi.startswith("p_") or kpi.endswith("_rate") else "number"
        label = kpi.replace("_", " ")
        info = KpiInfo(label[:1].upper() + label[1:], "% " if kind == "share" else "", kind)
    return info._replace(unit=info.unit.replace("{currency}", currency))


def plain(value: float, signed: bool = False) -> str:
    """A number with thousands separators and about three significant digits, never in scientific
    notation (9.557e-05 is written 0.0000956); NaN is "n/a"."""
    v = float(value)
    if not math.isfinite(v):
        return "n/a" if math.isnan(v) else f"{v}"
    sign = "+" if signed and v > 0 else ""
    a = abs(v)
    if a < 1e-9:   # float noise (e.g. -4e-19 from a sum of differences) is nothing
        return "0"
    if a >= 100:
        return f"{v:{sign},.0f}"
    if a >= 10:
        return f"{v:{sign}.1f}"
    if a >= 0.01:
        return f"{v:{sign}.2f}"
    decimals = 2 - math.floor(math.log10(a))   # three significant digits
    return f"{v:{sign}.{decimals}f}".rstrip("0").rstrip(".")


def _percent(share: float, signed: bool = False) -> str:
    """A share as a number of percent (or percentage points): one decimal, two below 0.1."""
    pct = 100 * float(share)
    sign = "+" if signed and pct > 0 else ""
    decimals = 1 if abs(pct) >= 0.1 or pct == 0 else 2
    text = f"{pct:{sign}.{decimals}f}"
    return "0.0" if text.lstrip("+-") in ("0.0", "0.00") else text   # no "-0.0": -4e-19 is 0


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(kpi: str, value: float, currency: str = "USD") -> str:
    """A KPI value as a planner reads it: shares in %, money with its currency, counts and times plainly.

    Examples: ``p_dose_postponed`` 0.0234 is "2.3%", ``cost_total`` 1234567.8 is "USD 1,234,568",
    ``patients_diverted`` 3.0 is "3"; a missing value is "n/a".
    """
    return _format(kpi, value, currency, signed=False)


def format_ci(kpi: str, low: float, high: float, currency: str = "USD") -> str:
    """"a to b" for a 95% CI. Every KPI is a count, share, time or cost, never negative, so a t-interval
    reaching below 0 (few replications, rare events) is shown from 0."""
    if _missing(low) or _missing(high):
        return "n/a"
    return f"{format_value(kpi, max(low, 0.0), currency)} to {format_value(kpi, high, currency)}"


def diff_unit(kpi: str, currency: str = "USD") -> str:
    """The unit of a difference of two values of ``kpi``: percentage points for a share, else its unit."""
    info = kpi_info(kpi, currency)
    return PP_UNIT if info.kind == "share" else info.unit


def diff_scale(kpi: str) -> float:
    """What a raw value of ``kpi`` is multiplied by to read in its shown unit: 100 for a share (% or pp)."""
    return 100.0 if kpi_info(kpi).kind == "share" else 1.0


def format_diff(kpi: str, value: float, currency: str = "USD") -> str:
    """A signed difference of two values of ``kpi``: "-46.1 pp" for a share, "+USD 1,234" for money,
    "+2" or "+2.50" for a count or time (its unit is the KPI's)."""
    return _format(kpi, value, currency, signed=True)


def _format(kpi: str, value: float, currency: str, signed: bool) -> str:
    """A value (``signed``: a difference, with its sign and a share in pp) in the unit its kind says."""
    if _missing(value):
        return "n/a"
    kind = kpi_info(kpi, currency).kind
    if kind == "share":
        return f"{_percent(value, signed)} {PP}" if signed else f"{_percent(value)}%"
    if kind == "money":
        whole = round(float(value))
        sign = "-" if whole < 0 else "+" if signed and whole > 0 else ""
        return f"{sign}{currency} {abs(whole):,}"
    if kind == "count" and float(value).is_integer():
        value = float(value) + 0.0   # -0.0 is 0
        return f"{value:{'+' if signed and value else ''},.0f}"
    return plain(value, signed)


def format_diff_ci(kpi: str, low: float, high: float, currency: str = "USD") -> str:
    """The 95% CI of a difference, "-50.2 pp to -42.0 pp" (a difference may be negative: not clipped)."""
    if _missing(low) or _missing(high):
        return "n/a"
    return f"{format_diff(kpi, low, currency)} to {format_diff(kpi, high, currency)}"


def in_shown_unit(kpi: str, value: float) -> str:
    """A raw value of ``kpi`` as a plain number in the unit it is shown in (a share in %, a difference
    of shares in pp), for a CSV a spreadsheet reads: no thousands separator, no scientific notation
    (a float would be written 9.56e-05 by ``to_csv``, so the number is written here as text)."""
    if _missing(value):
        return ""
    return plain(float(value) * diff_scale(kpi)).replace(",", "")


def per_year(per_week: float) -> float:
    """A weekly rate as the yearly figure a planner reads (3.846 a week is 200 a year), to one decimal."""
    return round(float(per_week) * WEEKS_PER_YEAR, 1)


def yearly_rate(per_week: float, what: str = "") -> str:
    """A weekly rate written per year with the weekly figure in brackets: "200 a year (3.85 a week)"."""
    what = f" {what}" if what else ""
    return f"{plain(per_year(per_week))}{what} a year ({plain(per_week)} a week)"
