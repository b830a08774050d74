"""Assumptions: what learning rewards from preferences assumes, how each assumption breaks in
preference data, and which page of the lab shows it. The text lives in causalpref/ui/lessons/text/assumptions.md.

The assumptions are cards two to a row, each with what it asks; how it breaks opens below it,
so that the seven fit in about two screens."""

import streamlit as st

import appkit
from causalpref.ui import lessons as lx

appkit.page("Assumptions", "")


def card(item, book) -> None:
    with st.container(border=True):
        st.subheader(item.name)
        st.markdown(f"**What it asks.** {item.says}")
        with st.expander("How it breaks in preference data"):
            st.markdown(item.breaks)
        appkit.page_link(item.shown.page, item.shown.label, item.shown.params, icon=":material/open_in_new:")
        if item.lesson is not None:
            appkit.page_link(
                "Lessons",
                f"Lesson {item.lesson}: {book[item.lesson - 1].title}",
                {"lesson": str(item.lesson)},
                icon=":material/school:",
            )


def render():
    book = lx.load_lessons()
    content = lx.load_assumptions(lesson_count=len(book))
    st.markdown(content.intro)
    items = list(content.items)
    for start in range(0, len(items), 2):
        for column, item in zip(st.columns(2), items[start : start + 2]):
            with column:
                card(item, book)


appkit.guard(render)
