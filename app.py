"""``streamlit run app.py`` from the repository: runs the dashboard's entry script, ``dashboard/app.py``.

The installed package starts that same script with ``btce-sim app``; this file only keeps the
repository's command working. Streamlit executes it on every interaction, so the dashboard script is
run afresh each time (``run_module``), not imported once.
"""

import runpy

# A spawned worker of the dashboard's pool re-runs this file as ``__mp_main__``: it must not draw the page.
if __name__ != "__mp_main__":
    runpy.run_module("dashboard.app", run_name="__main__")
