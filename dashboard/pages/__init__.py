"""The dashboard's pages, one module each; :data:`PAGES` maps the title a user picks to the page.

A new page is one module here with a ``render(scenario)``-style function and one entry below.
"""

from __future__ import annotations

from dashboard.glossary import glossary_page
from dashboard.pages.about import about_page
from dashboard.pages.capacity import capacity_page
from dashboard.pages.centre import centre_page
from dashboard.pages.compare import compare_page
from dashboard.pages.drugs import drug_page
from dashboard.pages.pairs import pair_page
from dashboard.pages.precision import precision_page
from dashboard.pages.sensitivity import sensitivity_page
from dashboard.pages.stock import toci_page

PAGES = {
    "Capacity": capacity_page,
    "Centre": centre_page,
    "Tocilizumab stock": toci_page,
    "Compare strategies": compare_page,
    "Sensitivity": sensitivity_page,
    "Cheapest pair": pair_page,
    "Replications": precision_page,
    "Drug library": drug_page,
    "Glossary": glossary_page,
    "About the model": about_page,
}

# What the page bar shows: the full titles wrapped onto two lines at 1280 px, so the bar shows short
# names; the full title is each page's key (session state, tests) and its header.
SHORT_TITLES = {"Tocilizumab stock": "Stock", "Compare strategies": "Compare", "Cheapest pair": "Pairs",
                "Replications": "Precision", "Drug library": "Drugs", "About the model": "About"}


def short_title(page: str) -> str:
    """The page bar's name for ``page`` (a key of :data:`PAGES`)."""
    return SHORT_TITLES.get(page, page)


__all__ = ["PAGES", "about_page", "capacity_page", "centre_page", "compare_page", "drug_page", "glossary_page",
           "pair_page", "precision_page", "sensitivity_page", "toci_page"]
