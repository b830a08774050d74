"""Teacher links: composing and reading `?settings&hide=...` without streamlit, and on the pages:
hidden controls are left out (no hole, no caption for the student), `hide` holds for the whole
session, and only a teacher (`?teacher=1` or the sidebar toggle) sees the link maker."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import appkit
from causalpref.errors import CausalPrefError
from causalpref.ui.links import hidden_keys, teacher_flag, teacher_link

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
CONTROLS = ("rho", "scale", "remedy")
TOY = str(ROOT / "app_pages" / "4_Analytic_toy.py")


def test_link_keeps_settings_in_order_and_replaces_hide_and_teacher():
    link = teacher_link(
        "http://h:8501/Correlation_shift?old=1",
        {"rho": "0.9", "arch": ["base", "base+ipw"], "hide": "scale", "teacher": "1"},
        ["rho", "scale", "rho"],
    )
    assert link == "http://h:8501/Correlation_shift?rho=0.9&arch=base&arch=base%2Bipw&hide=rho,scale"
    assert teacher_link("/Toy", {}) == "/Toy"


def test_hidden_keys_split_commas_keep_page_order_and_report_unknown_names():
    assert hidden_keys(["scale, rho", "nope"], CONTROLS) == (("rho", "scale"), ("nope",))
    assert hidden_keys("all", CONTROLS) == (CONTROLS, ())
    assert hidden_keys([], CONTROLS) == ((), ())


def test_teacher_flag_reads_yes_no_and_ignores_the_rest():
    assert teacher_flag(["1"]) is True and teacher_flag("true") is True and teacher_flag(["0"]) is False
    assert teacher_flag([]) is None and teacher_flag(["maybe"]) is None


def test_bad_setting_names_are_refused():
    with pytest.raises(CausalPrefError, match="letters, digits"):
        teacher_link("/x", {"a b": 1})
    with pytest.raises(CausalPrefError, match="letters, digits"):
        teacher_link("/x", {}, ["rho} body {display:none"])


def sidebar_texts(at):
    return [e.value for e in at.sidebar.caption] + [e.value for e in at.sidebar.code]


def test_a_student_link_leaves_the_hidden_controls_out_and_shows_no_link_maker():
    at = AppTest.from_file(TOY, default_timeout=60)
    at.query_params["rho"] = "0.5"
    at.query_params["hide"] = "rho,a_hat,bogus"
    at.run()
    assert not at.exception and not at.error
    keys = {s.key for s in at.slider}
    assert "rho" not in keys and "a_hat" not in keys and {"a", "n", "repeats"} <= keys  # no widget at all
    assert any(m.label == "Quadrant-2/4 mass" and m.value == "0.333" for m in at.metric)  # ρ = 0.5 holds
    captions = " ".join(c.value for c in at.caption)
    assert "hide" not in captions and "bogus" not in captions  # nothing for the student
    assert not at.sidebar.toggle and not at.sidebar.code  # no teacher tools either
    assert at.query_params["rho"] == "0.5" and at.query_params["hide"] == "rho,a_hat,bogus"
    at.slider(key="a").set_value(1.0).run()  # a visible control still works
    assert at.query_params["a"] == "1" and at.query_params["hide"] == "rho,a_hat,bogus"
    assert "rho" not in {s.key for s in at.slider}


def test_teacher_param_opens_the_maker_which_says_what_the_link_hides():
    at = AppTest.from_file(TOY, default_timeout=60)
    at.query_params.update({"rho": "0.5", "hide": "rho,a_hat,bogus", "teacher": "1"})
    at.run()
    assert not at.exception and not at.error
    assert at.sidebar.toggle(key="_teacher_tools").value
    texts = " ".join(sidebar_texts(at))
    assert "Hidden here by the link you opened: ρ, Fitted weight â." in texts and "bogus" in texts
    assert at.multiselect(key="teacher_hide").value == ["rho", "a_hat"]
    assert at.sidebar.code[0].value.endswith("?rho=0.5&hide=rho,a_hat")  # no teacher=1 for students


def test_the_sidebar_toggle_opens_the_maker_which_writes_the_current_settings():
    at = AppTest.from_file(TOY, default_timeout=60)
    at.query_params["rho"] = "0.5"
    at.run()
    assert not at.sidebar.code  # closed until a teacher asks
    at.sidebar.toggle(key="_teacher_tools").set_value(True).run()
    at.multiselect(key="teacher_hide").set_value(["rho", "seed"]).run()
    at.slider(key="a").set_value(0.75).run()
    link = at.sidebar.code[0].value
    assert link == "?rho=0.5&a=0.75&hide=rho,seed"  # short values, defaults left out
    at.sidebar.toggle(key="_teacher_tools").set_value(False).run()
    assert not at.sidebar.code


def test_hide_survives_switching_pages_and_goes_along_on_page_links(monkeypatch):
    monkeypatch.setattr(appkit, "sweep", lambda *args, **kwargs: None)  # no training: only the controls
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/4_Analytic_toy.py")
    at.query_params.update({"hide": "rho,scale", "rho": "0.5"})
    at.run()
    assert not at.exception and "rho" not in {s.key for s in at.slider}
    at.switch_page("app_pages/2_Correlation_shift.py")  # e.g. the sidebar: the URL arrives bare
    at.query_params.clear()
    at.run()
    assert not at.exception and not at.error
    assert not at.select_slider and not any(s.key == "scale" for s in at.selectbox)  # hidden here too
    assert at.query_params["hide"] == "rho,scale"  # and written back into the URL
    assert at.toggle(key="remedy")  # what the link does not name stays
    at.switch_page("app_pages/0_Home.py")
    at.query_params.clear()
    at.run()
    assert all("hide=rho%2Cscale" in link.proto.query_string for link in at.get("page_link"))
    at.button[0].click().run()  # "Show me the failure": st.switch_page
    assert not at.exception and at.title[0].value == "Correlation shift"
    assert at.query_params["hide"] == "rho,scale" and at.query_params["rho"] == "0.9"
    assert not at.select_slider
