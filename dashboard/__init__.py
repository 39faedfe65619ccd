"""Streamlit pages and sidebar of the capacity planner (``streamlit run app.py``); the model is in ``sim/``."""
