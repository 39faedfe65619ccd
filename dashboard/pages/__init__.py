"""The dashboard's pages, one module each; :data:`PAGES` maps the title a user picks to the page.

A new page is one module here with a ``render(scenario)``-style function and one entry below.
"""

from __future__ import annotations

from dashboard.pages.about import about_page
from dashboard.pages.capacity import capacity_page
from dashboard.pages.compare import compare_page
from dashboard.pages.drugs import drug_page
from dashboard.pages.stock import toci_page

PAGES = {
    "Capacity": capacity_page,
    "Tocilizumab stock": toci_page,
    "Compare strategies": compare_page,
    "Drug library": drug_page,
    "About the model": about_page,
}

__all__ = ["PAGES", "about_page", "capacity_page", "compare_page", "drug_page", "toci_page"]
