"""Teacher links: composing and reading `?settings&hide=...` without streamlit, and on a page."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from causalpref.errors import CausalPrefError
from causalpref.ui.links import hidden_keys, hiding_css, teacher_link

CONTROLS = ("rho", "scale", "remedy")
TOY = str(Path(__file__).resolve().parents[1] / "pages" / "4_Analytic_toy.py")


def test_link_keeps_settings_in_order_and_replaces_hide():
    link = teacher_link("http://h:8501/Correlation_shift?old=1", {"rho": "0.9", "arch": ["base", "multihead"],
                                                                  "hide": "scale"}, ["rho", "scale", "rho"])
    assert link == "http://h:8501/Correlation_shift?rho=0.9&arch=base&arch=multihead&hide=rho%2Cscale"
    assert teacher_link("/Toy", {}) == "/Toy"


def test_hidden_keys_split_commas_keep_page_order_and_report_unknown_names():
    assert hidden_keys(["scale, rho", "nope"], CONTROLS) == (("rho", "scale"), ("nope",))
    assert hidden_keys("all", CONTROLS) == (CONTROLS, ())
    assert hidden_keys([], CONTROLS) == ((), ())


def test_css_hides_exactly_the_named_keys_and_refuses_anything_else():
    css = hiding_css(["rho", "a_hat"])
    assert ".st-key-rho, .st-key-a_hat" in css and "display: none" in css
    assert hiding_css([]) == ""
    with pytest.raises(CausalPrefError, match="letters, digits"):
        hiding_css(["rho} body {display:none"])
    with pytest.raises(CausalPrefError, match="letters, digits"):
        teacher_link("/x", {"a b": 1})


def test_a_page_opened_with_hide_hides_those_controls_and_says_so():
    at = AppTest.from_file(TOY, default_timeout=60)
    at.query_params["rho"] = "0.5"
    at.query_params["hide"] = "rho,a_hat,bogus"
    at.run()
    assert not at.exception and not at.error
    assert at.slider(key="rho").value == 0.5                     # the setting holds, the knob is hidden
    styles = " ".join(str(element.proto) for element in at.get("html"))
    assert ".st-key-rho, .st-key-a_hat" in styles and "st-key-a " not in styles
    captions = " ".join(c.value for c in at.caption)
    assert "fixes some settings" in captions and "ρ, Fitted weight â" in captions
    assert "bogus" in captions
    assert at.multiselect(key="teacher_hide").value == ["rho", "a_hat"]


def test_the_link_maker_writes_the_current_settings_and_the_chosen_hides():
    at = AppTest.from_file(TOY, default_timeout=60)
    at.query_params["rho"] = "0.5"
    at.run()
    assert not at.get("html")                                    # nothing hidden without `hide`
    at.multiselect(key="teacher_hide").set_value(["rho", "seed"]).run()
    link = at.code[0].value
    assert "rho=0.5" in link and link.endswith("hide=rho%2Cseed")
