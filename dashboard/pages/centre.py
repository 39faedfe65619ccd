"""Centre page (administrators of a centre with several programmes): each programme's service level, and
who uses the beds (occupancy stacked by programme and other services against the capacity)."""

from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.pages.common import chart, page_view
from sim.charts import centre as centre_charts
from sim.config.registry import RESOURCE_NAMES, RESOURCES
from sim.config.scenario import Scenario


def centre_page(scenario: Scenario | None) -> None:
    """Per-programme service levels and who uses each bed resource, from the main run of a centre."""
    st.header("Centre: programmes sharing the places")
    if scenario is not None and not scenario.programmes:
        st.info(f"**{scenario.name}** is a single-drug scenario: a centre of one programme ({scenario.drug.name}), "
                "so the Capacity page shows all of it. Add a programme under **Programmes** in the sidebar to "
                "see several share the same beds.")
        return
    view = page_view(scenario)
    if view is None:
        return
    got = state.recall("centres", st.session_state.get("last_run_key"))
    if got is None or not view.scenario.programmes:
        st.info("The last run is not a centre's. Run a centre (e.g. the preset centre_myeloma) to see its programmes.")
        return
    currency = view.currency
    st.subheader("Service level by programme")
    # a plain table: a few rows, every cell readable (and printable) without scrolling a grid
    st.table(centre_charts.programme_table(got["summary"], currency).set_index("Programme"))
    st.caption("Means over replications; each programme's doses, postponements, ED visits and bed-days are its "
               "own patients'. The centre's totals are on the Capacity page.")
    st.subheader("Who uses the beds")
    cap = view.scenario.capacity
    offered = [r for r in RESOURCES if getattr(cap, r.name, 0)]
    default = next((i for i, r in enumerate(offered) if r.name in ("observation_beds", "ward_beds")
                    and got["occupancy"][..., RESOURCE_NAMES.index(r.name)].sum() > 0), 0)
    resource = st.selectbox("Resource", offered, index=default, format_func=lambda r: r.title, key="centre_resource")
    frame = centre_charts.users_frame(got["occupancy"], got["users"], resource.name)
    chart(centre_charts.users_chart(frame, resource.name, int(getattr(cap, resource.name))), view.scenario.name)
