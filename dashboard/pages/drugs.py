"""Drug library page: every drug file with every value's source; unverified values flagged."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import fields
from sim.charts import report
from sim.config import loader
from sim.config.citations import for_display
from sim.config.errors import ScenarioError
from sim.config.params import iter_sourced
from sim.config.scenario import Scenario


def _flag(verified: bool) -> str:
    return "verified" if verified else "⚠ unverified"


def _highlight(frame: pd.DataFrame):
    return frame.style.apply(lambda row: ["background-color: #fff4d6" if str(row.get("status", "")).startswith("⚠")
                                          else "" for _ in row], axis=1)


def drug_page(scenario: Scenario | None) -> None:
    """The drug's data with sources, unverified values flagged, and every drug file in the library."""
    st.header("Drug library: the data and its sources")
    s = scenario or st.session_state["base"]
    d = s.drug
    src = list(iter_sourced(s))
    n_unv = sum(1 for _, v in src if not v.verified)
    st.subheader(f"{d.name} ({d.brand}) in the current scenario")
    st.markdown(f"{d.indication} · route {d.route} · toxicity profile **{d.profile}**: {d.profile_description}")
    if n_unv:
        st.warning(f"{n_unv} of the scenario's {len(src)} sourced values are **not verified** against their source "
                   "(recalled, derived, assumed, or changed by you). They are marked ⚠ below and in the sidebar.")
    st.markdown(f"**Step-up schedule** ({d.step_up_doses} step-up doses; median time on therapy "
                f"{d.time_on_therapy_median_days.value:g} days)")
    st.dataframe(_highlight(_schedule_table(d)), hide_index=True, width="stretch")
    st.markdown("**Toxicity**")
    st.dataframe(_highlight(_toxicity_table(d)), hide_index=True, width="stretch")
    st.markdown("**Management by grade**")
    st.dataframe(_highlight(_management_table(d)), hide_index=True, width="stretch")
    st.subheader("Every sourced number in the scenario")
    only = st.checkbox("Show only unverified values", key="only_unverified")
    table = report.sourced_table(s).assign(status=lambda f: f["unverified"].map({True: "⚠ unverified",
                                                                                  False: "verified"}))
    table = table.drop(columns=["unverified"])
    if only:
        table = table[table["status"].str.startswith("⚠")]
    st.dataframe(_highlight(table), hide_index=True, width="stretch")
    _drug_files()


def _schedule_table(d) -> pd.DataFrame:
    return pd.DataFrame([{"block": b.label, "doses": "until time on therapy ends" if b.count == 0 else str(b.count),
                          "days after previous dose": str(b.gap_days) if b.gap_max_days in (None, b.gap_days)
                          else f"{b.gap_days}-{b.gap_max_days}",
                          "monitoring (h)": f"{b.monitor_hours.value:g}"
                          + (" after the infusion" if b.monitor_from == "infusion_end" else ""),
                          "hydration": "yes" if b.hydration else "no",
                          "source": for_display(b.source), "status": _flag(b.verified and b.monitor_hours.verified)}
                         for b in d.schedule])


def _toxicity_table(d) -> pd.DataFrame:
    return pd.DataFrame([
        {"toxicity": kind, "rate": f"{100 * t.rate.value:.1f}%",
         "after dose 1, 2, ...": "" if t.by_dose is None else ", ".join(f"{x:.0%}" for x in t.by_dose.value),
         "grade 1-4 mix": ", ".join(f"{x:.1%}" for x in t.grade_mix.value),
         "onset median (h)": f"{t.onset_median_hours.value:g}",
         "duration median (h)": f"{t.duration_median_hours.value:g}",
         "source of rate": for_display(t.rate.source), "status": _flag(t.rate.verified and t.grade_mix.verified)}
        for kind, t in (("CRS", d.crs), ("ICANS", d.icans))])


def _management_table(d) -> pd.DataFrame:
    return pd.DataFrame([
        {"toxicity": kind, "grade": r.grade, "setting": r.setting, "min stay (h)": f"{r.min_stay_hours.value:g}",
         "P(tocilizumab)": f"{r.tocilizumab_probability.value:.0%}",
         "next dose monitored (h)": f"{r.next_dose_monitor_hours.value:g}", "withhold": "yes" if r.withhold else "no",
         "discontinue": "yes" if r.discontinue else ("if recurrent" if r.discontinue_if_recurrent else "no"),
         "source": for_display(r.source), "status": _flag(r.verified and r.tocilizumab_probability.verified)}
        for kind, rules in (("CRS", d.management.crs), ("ICANS", d.management.icans)) for r in rules])


def _drug_files() -> None:
    """Every drug file in the library, and the sourced values inside one of them."""
    st.subheader("All drug files")
    lib = drug_library()
    st.dataframe(lib, hide_index=True, width="stretch")
    st.caption("Drug files live in scenarios/drugs/; a scenario picks one with [drug] file = ... and a toxicity "
               "profile. Presets for each drug are in the sidebar.")
    if not len(lib):
        return
    pick = st.selectbox("Look inside a drug file", list(lib["file"]), key="drug_file")
    try:
        raw = loader.read_toml(loader.SCENARIO_DIR / "drugs" / pick)
    except ScenarioError as exc:
        st.error(str(exc))
        return
    rows = [{"field": p, "value": ", ".join(f"{x:g}" for x in v) if isinstance(v, list) else f"{v:g}",
             "source": for_display(src), "status": _flag(ok)} for p, v, src, ok in fields.sourced_in_raw(raw)]
    st.dataframe(_highlight(pd.DataFrame(rows, columns=["field", "value", "source", "status"])),
                 hide_index=True, width="stretch")


def drug_library() -> pd.DataFrame:
    """One row per drug file: name, brand, indication, route, profiles, sourced values and how many are unverified."""
    rows = []
    for path in sorted((loader.SCENARIO_DIR / "drugs").glob("*.toml")):
        try:
            data = loader.read_toml(path)
        except ScenarioError as exc:
            rows.append({"file": path.name, "drug": "", "brand": "", "indication": f"cannot be read: {exc}"})
            continue
        items = list(fields.sourced_in_raw(data))
        rows.append({"file": path.name, "drug": data.get("name", ""), "brand": data.get("brand", ""),
                     "sourced values": len(items), "unverified": sum(1 for *_, ok in items if not ok),
                     "toxicity profiles": ", ".join(sorted(data.get("toxicity", {}) or {})),
                     "route": data.get("route", ""), "indication": data.get("indication", "")})
    return pd.DataFrame(rows)
