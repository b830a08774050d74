"""Page layout, headless with AppTest: each page's first screen holds its controls, headline
numbers and main figure, its details wait in expanders (or later tabs), and every page carries
the narrow-screen CSS (causalpref/ui/style.py) without a visible block."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from causalpref.ui import style

ROOT = Path(__file__).resolve().parents[1]


def open_page(name: str) -> AppTest:
    """The page as the app serves it (through app.py's navigation, which page links need)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    if name != "0_Home.py":
        at.switch_page(f"app_pages/{name}").run()
    assert not at.exception and not at.error
    return at


def placed(at) -> list[tuple[str, str, bool]]:
    """(type, label, folded) for every element of the main area, in page order; folded when an
    expander or a tab after the first holds it (the reader has to open it)."""
    out = []

    def walk(node, folded):
        kind = getattr(node, "type", None)
        if kind in ("expander", "expandable"):
            folded = True
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            tabs = kind == "tab_container"
            for i, child in enumerate(children.values()):
                walk(child, folded or (tabs and i > 0))
            if children:
                return
        label = getattr(node, "label", None) or getattr(node, "value", None)
        out.append((kind, label if isinstance(label, str) else "", folded))

    walk(at.main, False)
    return out


def shown(at, kind: str) -> list[str]:
    return [label for k, label, folded in placed(at) if k == kind and not folded]


def folded(at, kind: str) -> list[str]:
    return [label for k, label, f in placed(at) if k == kind and f]


# --------------------------------------------------------------------------- the CSS


def test_the_css_lets_metric_text_wrap_instead_of_ending_in_an_ellipsis():
    css = style.CSS
    for testid in ("stMetricLabel", "stMetricValue", "stMetricDeltaDescription", "stMarkdownContainer"):
        assert f'[data-testid="{testid}"]' in css
    assert "white-space: normal !important" in css and "text-overflow: clip !important" in css
    assert "overflow: visible !important" in css
    assert "clamp(" in css  # values shrink on narrow windows rather than being cut


def test_the_css_narrows_the_sidebar_where_streamlit_keeps_it_open_and_stacks_keyed_rows():
    css = style.CSS
    # Streamlit collapses the sidebar at <= 768 px itself; above that, up to NARROW, it is held narrow
    assert f"@media (min-width: 769px) and (max-width: {style.NARROW}px)" in css
    assert 'section[data-testid="stSidebar"][data-collapsed="false"]' in css and "max-width: 12.5rem" in css
    assert f'[class*="st-key-{style.STACK}"]' in css and style.stack_key("x") == style.STACK + "x"


def test_style_tag_is_style_only_so_streamlit_puts_it_in_the_event_container():
    tag = style.style_tag()
    assert tag.startswith("<style>") and tag.endswith("</style>") and tag.count("<style>") == 1


@pytest.mark.parametrize("page", ["0_Home.py", "4_Analytic_toy.py", "7_Assumptions.py"])
def test_every_page_gets_the_css_and_no_visible_block_for_it(page):
    at = open_page(page)
    assert [element.proto.body for element in at.get("html")] == [style.style_tag()]
    assert not any(kind == "html" for kind, _, _ in placed(at))  # not in the main area


# --------------------------------------------------------------------------- first screen vs details


def test_latent_overlap_shows_figure_and_numbers_and_folds_the_diagnostics():
    at = open_page("1_Latent_overlap.py")
    assert len(shown(at, "plotly_chart")) == 1
    assert shown(at, "metric") == [
        "Achieved training ρ",
        "Training pairs in quadrants 2/4",
        "Quadrants 2/4 among pairs without ties",
        "OOD test pairs poorly covered",
    ]
    assert {"select_slider", "selectbox", "number_input"} <= {k for k, _, f in placed(at) if not f}
    assert not shown(at, "dataframe") and len(folded(at, "dataframe")) == 2  # balance, quadrant masses
    assert folded(at, "metric") == [
        "Effective training pairs for the OOD test",
        "OOD test pairs no reweighting reaches",
        "Data kept by balancing the quadrants",
    ]
    assert folded(at, "download_button") and not shown(at, "download_button")
    captions = [label for kind, label, f in placed(at) if kind == "caption" and not f]
    assert all(len(c) <= 260 for c in captions), captions  # one or two lines


def test_analytic_toy_shows_both_panels_and_numbers_and_folds_table_and_refits():
    at = open_page("4_Analytic_toy.py")
    assert len(shown(at, "plotly_chart")) == 2  # rho = 0 and the chosen rho
    assert len(folded(at, "plotly_chart")) == 1  # the spread of refitted a_hat
    assert len(shown(at, "metric")) == 4
    assert not shown(at, "dataframe") and len(folded(at, "dataframe")) == 2
    assert {"n", "repeats"} <= {s.key for s in at.slider}  # the refit knobs, inside their expander
    assert all(len(label) <= 260 for kind, label, f in placed(at) if kind == "caption" and not f)


def test_home_shows_the_links_and_the_first_diagram_and_tabs_the_rest():
    at = open_page("0_Home.py")
    kinds = [(k, f) for k, _, f in placed(at) if k == "graphviz_chart"]
    assert kinds == [("graphviz_chart", False)] + [("graphviz_chart", True)] * 3
    assert len(shown(at, "page_link")) == 8


def test_assumptions_show_what_each_asks_and_fold_how_it_breaks():
    from causalpref.ui import lessons as lx

    at = open_page("7_Assumptions.py")
    content = lx.load_assumptions(lesson_count=len(lx.load_lessons()))
    assert shown(at, "subheader") == [item.name for item in content.items]
    assert [e.label for e in at.expander] == ["How it breaks in preference data"] * len(content.items)
    hidden = " ".join(folded(at, "markdown"))
    assert all(item.breaks[:40] in hidden for item in content.items)
    assert all(link for link in shown(at, "page_link"))
