"""The glossary of clinical and planning terms (its text in ``glossary.toml``), as a page and as an expander
at the top of the sidebar, so it is one click away from every page."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

FILE = Path(__file__).with_name("glossary.toml")
KINDS = ("clinical", "planning")


@dataclass(frozen=True)
class Term:
    """One glossary entry: the term, what it means, clinical or planning, and its publication ('' if none)."""

    name: str
    definition: str
    kind: str
    source: str


def parse(text: str, where: str = "glossary.toml") -> list[Term]:
    """The terms of glossary TOML text, checked: each has a name, a definition and a known kind (a source
    is given where a publication defines the term).

    Raises
    ------
    ValueError
        Naming the entry, the field and what is allowed.
    """
    entries = tomllib.loads(text).get("term", [])
    terms = []
    for i, e in enumerate(entries, start=1):
        unknown = set(e) - {"name", "definition", "kind", "source"}
        if unknown:
            raise ValueError(f"{where}: term {i}: unknown field {sorted(unknown)[0]!r}; allowed: name, definition, "
                             "kind, source")
        for field in ("name", "definition"):
            if not str(e.get(field, "")).strip():
                raise ValueError(f"{where}: term {i}: {field} is empty; allowed: text")
        if e.get("kind") not in KINDS:
            raise ValueError(f"{where}: term {i} ({e['name']}): kind = {e.get('kind')!r}; allowed: {', '.join(KINDS)}")
        terms.append(Term(e["name"], e["definition"], e["kind"], e.get("source", "")))
    return terms


@st.cache_data(show_spinner=False)
def terms() -> list[Term]:
    """The glossary, read once per server."""
    return parse(FILE.read_text(encoding="utf-8"), FILE.name)


def _markdown(term: Term, with_source: bool) -> str:
    text = f"**{term.name}**: {term.definition}"
    if with_source and term.source:
        text += f"  \n*Source:* {term.source}"
    return text


def glossary_page(_scenario=None) -> None:
    """Every term, clinical first, each with its source."""
    st.header("Glossary")
    st.caption("The clinical and planning terms used on these pages; clinical terms with the publication they "
               "come from.")
    for kind, title in (("clinical", "Clinical terms"), ("planning", "Planning and statistics")):
        st.subheader(title)
        for term in terms():
            if term.kind == kind:
                st.markdown(_markdown(term, with_source=True))


def sidebar_glossary() -> None:
    """A collapsed expander at the top of the sidebar: each term in a line or two, sources on the page."""
    with st.sidebar.expander("Glossary: CRS, ICANS, C1D1, step-up dose …"):
        for term in terms():
            st.markdown(_markdown(term, with_source=False))
        st.caption("Sources: the Glossary page.")
