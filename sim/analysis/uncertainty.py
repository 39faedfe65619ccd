"""Parameter uncertainty versus run-to-run noise.

Under ``run.parameter_uncertainty`` every replication draws its own incidence and grade mix from
the published counts, so the spread of a KPI across replications is parameter uncertainty plus
simulation noise. Running the same seeds with the parameters fixed measures the noise alone; the
difference of the variances is the part the published sample sizes leave open.
"""

from __future__ import annotations

import pandas as pd

from sim.analysis.stats import mean_ci


def decompose(uncertain: pd.DataFrame, fixed: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per KPI: the total interval (from the uncertain run) and the share of variance from parameters.

    Parameters
    ----------
    uncertain, fixed : DataFrame
        KPI tables (one row per replication) of the same scenario and seeds, with and without
        parameter uncertainty.

    Returns
    -------
    DataFrame
        kpi, mean, sd, ci_low, ci_high, n, var_total, var_noise, share_parameter (0 to 1; 0 when the
        noise alone explains the spread).
    """
    rows = []
    for col in uncertain.columns:
        if col == "replication":
            continue
        mean, sd, lo, hi, n = mean_ci(uncertain[col].to_numpy(), level)
        var_total = sd * sd if sd == sd else float("nan")
        _, sd_fixed, _, _, _ = mean_ci(fixed[col].to_numpy(), level)
        var_noise = sd_fixed * sd_fixed if sd_fixed == sd_fixed else float("nan")
        share = max(0.0, 1.0 - var_noise / var_total) if var_total and var_total == var_total else 0.0
        rows.append({"kpi": col, "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi, "n": n,
                     "var_total": var_total, "var_noise": var_noise, "share_parameter": min(1.0, share)})
    return pd.DataFrame(rows)
