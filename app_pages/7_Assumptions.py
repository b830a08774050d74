"""Assumptions: what learning rewards from preferences assumes, how each assumption breaks in
preference data, and which page of the lab shows it. The text lives in causalpref/ui/lessons/text/assumptions.md."""

import streamlit as st

import appkit
from causalpref.ui import lessons as lx

appkit.page("Assumptions", "")


def render():
    book = lx.load_lessons()
    content = lx.load_assumptions(lesson_count=len(book))
    st.header(content.title)
    st.markdown(content.intro)
    for item in content.items:
        with st.container(border=True):
            st.subheader(item.name)
            st.markdown(f"**What it asks.** {item.says}")
            st.markdown(f"**How it breaks in preference data.** {item.breaks}")
            appkit.page_link(item.shown.page, item.shown.label, item.shown.params, icon=":material/open_in_new:")
            if item.lesson is not None:
                appkit.page_link(
                    "Lessons",
                    f"Lesson {item.lesson}: {book[item.lesson - 1].title}",
                    {"lesson": str(item.lesson)},
                    icon=":material/school:",
                )


appkit.guard(render)
