"""About page: assumptions, limitations, version and how to cite."""

from __future__ import annotations

import streamlit as st

from dashboard import state
from sim import __version__
from sim.charts import report
from sim.config.scenario import Scenario


def about_page(scenario: Scenario | None) -> None:
    """Assumptions, limitations, version and how to cite."""
    st.header("About the model")
    st.markdown(
        f"**btce-sim {__version__}** is a discrete-event simulation (Python, SimPy) of the operations behind "
        "step-up dosing of bispecific T-cell engagers: patients are referred, booked, dosed on the drug's step-up "
        "schedule, monitored where the strategy says (ward bed, 22-24 h observation bed, infusion chair, or home), "
        "and drawn with cytokine release syndrome (CRS) and neurotoxicity (ICANS) from published rates; an onset "
        "at home is managed at home, in an oncology urgent-care bay, in the ED or by direct admission, as the "
        "strategy says for its toxicity and grade, and a toxicity admission lasts until the grade allows "
        "discharge. Each "
        "replication is one simulated period of the same centre with new random patients; results are means "
        "over replications with 95% confidence intervals.")
    st.markdown("| who | question | page |\n|---|---|---|\n"
                "| administrator | how many observation beds, chairs, ward and ICU beds, and what service level? | Capacity |\n"
                "| pharmacy planner | how much tocilizumab to hold so that no patient waits? | Tocilizumab stock |\n"
                "| quality team | is outpatient (or prophylactic tocilizumab) as safe, and cheaper? | Compare strategies |")
    s = scenario or st.session_state["base"]
    view = state.recall("results", st.session_state.get("last_run_key"))
    st.subheader("Assumptions")
    st.caption(f"As they hold for **{(view.scenario if view else s).name}**"
               + (" (the last run)." if view else " (the scenario in the sidebar)."))
    st.markdown("\n".join(f"- {a}" for a in report.assumptions(view.scenario if view else s)))
    st.subheader("Limitations")
    st.markdown("\n".join(f"- {a}" for a in report.LIMITATIONS))
    st.subheader("Version and how to cite")
    cite = report.citation(view.scenario, view.seed, view.reps) if view else report.citation(s)
    st.code(cite, language=None, wrap_lines=True)
    st.markdown("To reproduce a result: download the scenario as TOML (sidebar, or *Export* under the results) "
                "and run `python -m sim run FILE --reps N --seed S`; the same seed gives the same numbers, "
                "serial or parallel.")
    st.caption(f"Package version {__version__}. All data shown here stay in this browser session: nothing is "
               "written to the server's disk, and other users of the dashboard do not see your inputs or results.")
