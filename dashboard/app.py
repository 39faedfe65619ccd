"""Dashboard entry script: ``btce-sim app`` runs this file with ``streamlit run`` (so does the repository's
``app.py``, for ``streamlit run app.py``). Streamlit executes it afresh on every interaction.

A capacity planner for bispecific T-cell engager step-up dosing: choose or upload a scenario, edit any
input in the sidebar, run the simulation, and read capacity, tocilizumab stock and strategy
comparisons with their confidence intervals. The model lives in ``sim/`` (which never imports
streamlit); the pages live in ``dashboard/``. Everything a user does stays in their own session.
"""

from __future__ import annotations

# A worker of the shared pool is a spawned process, and spawning re-runs the parent's main script in it
# (as ``__mp_main__``): under Streamlit that is this script, so each worker imported Streamlit and Altair
# and drew the whole page (seconds of CPU on 2 cores, while the first run waited). It does nothing there.
WORKER = __name__ == "__mp_main__"


def main() -> None:
    """Draw the page: sidebar, page bar, the run (when Run was pressed) and the chosen page."""
    import streamlit as st

    from dashboard import glossary, inputs, links, pages, running, saved, state

    st.set_page_config(page_title="BTCE step-up dosing: capacity planner", page_icon="🏥", layout="wide")
    # Streamlit's own "Download as PNG" on each chart names every file "<time>_chart.png"; each chart has
    # its own download, named after the scenario and the chart (dashboard.pages.common.chart), instead.
    st.html("<style>button[aria-label='Download as PNG']{display:none}"
            # the page bar: its short names on one row at 1280 px (Streamlit's own spacing wrapped the last)
            ".st-key-page [role='radiogroup']{column-gap:0.5rem !important}"
            ".st-key-page [role='radiogroup'] label{margin-right:0 !important}</style>")
    state.init()
    if "base" not in st.session_state:
        st.error(f"The reference scenario cannot be loaded, so there is nothing to start from:  \n"
                 f"{st.session_state.get('startup_error')}")
        st.stop()
    links.restore_once()   # a shared link's preset and edits, on the session's first run
    glossary.sidebar_glossary()   # first in the sidebar: one click away from every page
    saved_slot = st.sidebar.container()   # the saved runs, filled once this rerun's run (if any) is done
    running.warm_server()
    if running.executor() == "processes":
        running.warm_pool()
    run_clicked = inputs.sidebar()
    scenario, _errors = state.current()

    st.title("BTCE step-up dosing: capacity planner")
    page = st.radio("Page", list(pages.PAGES), horizontal=True, key="page", label_visibility="collapsed",
                    format_func=pages.short_title)
    links.publish()        # the URL follows the scenario, so a reload or a shared link reopens it
    # One slot, drawn on every rerun, holds the run's progress bar and messages: the page below keeps its
    # place in the layout whether or not a run just happened, so a panel the user opened stays open and is
    # not drawn twice on the next rerun (issue 16, bug 2).
    with st.container():
        running.show_cancelled()
        if run_clicked and scenario is not None:
            running.run_main(scenario, int(st.session_state["reps"]))
    saved.saved_panel(saved_slot)

    pages.PAGES[page](scenario)
    st.session_state.pop(running.CARDS_FIRST, None)   # the page drawn showed no cards: no pause on a later rerun


if not WORKER:
    main()
