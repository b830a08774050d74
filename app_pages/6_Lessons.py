"""Lessons: six short guided tours of the paper, each built on the lab's own pages.

The text lives in causalpref/ui/lessons/text/*.md (causalpref.ui.lessons reads it); every number in a reveal is
computed by the engine when the reader asks for it.
"""

import streamlit as st

import appkit
from causalpref.ui import lessons as lx
from causalpref.ui.diagrams import DIAGRAMS
from causalpref.ui.state import LESSONS as S

appkit.page(
    "Lessons",
    "Six short lessons on why a reward model can learn the wrong thing from preference data, in "
    "order. Predict first, then reveal: the engine computes the result as you read, and each lesson "
    "ends with a link to the full page at its settings.",
    S,
)

GUESSES = "_lesson_guesses"  # lesson number -> the prediction the reader revealed with
PREDICTIONS = ("guess", "answer")  # the slider's and the options' prediction controls


def lock_in(number: int, key: str) -> None:
    st.session_state[GUESSES][number] = st.session_state[key]


def predict_again(number: int) -> None:
    st.session_state[GUESSES].pop(number, None)


def fresh_prediction() -> None:
    """Another lesson: its prediction starts from its own default, in the page and in the URL."""
    for key in PREDICTIONS:
        st.session_state.pop(key, None)
        if key in st.query_params:
            del st.query_params[key]


def go_to(number: int) -> None:
    st.session_state["lesson"] = number
    fresh_prediction()


def render():
    book = lx.load_lessons()
    numbers = [lesson.number for lesson in book]
    number = appkit.control(
        S["lesson"],
        options=tuple(numbers),
        captions=[lesson.title for lesson in book],
        horizontal=True,
        on_change=fresh_prediction,
    )
    lesson = book[numbers.index(number)]
    guesses = st.session_state.setdefault(GUESSES, {})
    revealed = number in guesses

    st.header(f"{lesson.number}. {lesson.title}")
    st.markdown(lesson.text("Intro"))
    if lesson.diagrams:
        for column, name in zip(st.columns(len(lesson.diagrams)), lesson.diagrams):
            dot, caption = DIAGRAMS[name]
            column.markdown(f"**{name}**")
            column.graphviz_chart(dot)
            column.caption(caption)

    st.subheader("Predict")
    st.markdown(lesson.text("Question"))
    locked = {"value": guesses[number]} if revealed else {}
    if lesson.slider is not None:
        s = lesson.slider
        key = "guess"
        appkit.control(
            S[key], range=(s.min, s.max, s.step), default=s.start, format=s.sprintf, disabled=revealed, **locked
        )
        ready = True
    else:
        key = "answer"
        chosen = appkit.control(
            S[key],
            options=tuple(option.id for option in lesson.options),
            labels=lesson.option_text,
            disabled=revealed,
            **locked,
        )
        ready = chosen is not None
    jobs = [(need.kind, need.spec, need.what) for need in lx.sweeps_for(lesson)]
    if not revealed:
        st.button("Reveal the result", type="primary", disabled=not ready, on_click=lock_in, args=(number, key))
        if not ready:
            st.caption("Choose an answer to reveal the result.")
        cost = appkit.training_estimate(jobs)
        if cost:  # said before the reader commits to a long wait
            st.caption(f"The first reveal of this lesson trains {cost}; later reveals are instant.")
        return

    sweeps = appkit.sweeps(jobs, f"lesson {number}") if jobs else []
    if sweeps is None:
        return
    shown = lx.reveal(lesson, sweeps, guesses[number])

    st.subheader("What happened")
    (st.success if shown.verdict.hit else st.info)(shown.verdict.message)
    if lesson.slider is not None:
        left, right = st.columns(2)
        left.metric("Your guess", shown.verdict.guess)
        right.metric("Measured by the engine", shown.verdict.result)
    st.markdown(shown.reveal)
    for name, figure in shown.figures:
        st.plotly_chart(figure, key=f"lesson-{number}-{name}")
    for name, table in shown.tables:
        st.dataframe(table, hide_index=True, key=f"lesson-{number}-table-{name}")

    st.subheader("Why")
    st.markdown(shown.why)

    for link in lesson.links:
        appkit.page_link(link.page, link.label, link.params, icon=":material/open_in_new:")
    left, right = st.columns(2)
    left.button("Hide the result and predict again", on_click=predict_again, args=(number,))
    if number < numbers[-1] and not appkit.hidden("lesson"):  # a teacher link may pin the lesson
        right.button(f"Next: lesson {number + 1}", type="primary", on_click=go_to, args=(number + 1,))


appkit.guard(render)
