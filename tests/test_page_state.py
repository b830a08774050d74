"""The pages' state tables (causalpref.ui.state): every control of every page is in the URL,
with a short value, because appkit draws and binds it from its table; the pages draw no
input widget of their own."""

import gzip
import re
from pathlib import Path

import pytest
from apptest_helpers import FLAT_MAPPING, flat_pairs, tiny_truthfulqa, widget
from streamlit.testing.v1 import AppTest

import appkit
from causalpref.interventions.strategies import strategy_names
from causalpref.ui import pages
from causalpref.ui.state import MISSING, OBJECTIVES, OVERLAP, TABLES, TOY, Control, canonical_params
from causalpref.ui.views import data as dv
from causalpref.ui.views import objectives as ov

ROOT = Path(__file__).resolve().parents[1]
CASES = [(page, control.key) for page, table in TABLES.items() for control in table]


# --------------------------------------------------------------------------- the tables


def test_every_table_belongs_to_a_page_and_no_page_draws_a_widget_itself():
    assert set(TABLES) <= set(pages.page_keys())
    drawn = re.compile(
        r"\.(slider|select_slider|selectbox|multiselect|radio|toggle|checkbox|number_input|"
        r"text_input|text_area|pills|segmented_control|date_input|time_input|color_picker)\("
    )
    for page in pages.PAGES:
        source = (ROOT / page.file).read_text(encoding="utf-8")
        assert not drawn.search(source), f"{page.file} draws a widget outside its state table"
        assert "bind=" not in source
    for key in TABLES:
        source = (ROOT / pages.file_of(key)).read_text(encoding="utf-8")
        assert re.search(r"^from causalpref\.ui\.state import .*\b\w+ as S\b", source, re.M), key
        assert re.search(r"^    S,\n\)", source, re.M), f"{key}: appkit.page(...) without its table"


def test_url_values_are_short_keys_and_labels_are_still_read():
    scale = OVERLAP["scale"]
    assert scale.serialize("continuous") == ["continuous"] and scale.label_of("continuous") == "continuous (Gaussian)"
    assert scale.parse(["continuous (Gaussian)"]) == "continuous" == scale.parse(["CONTINUOUS"])
    arch = OBJECTIVES["arch"]
    assert arch.parse(["base", ov.label("base+ipw"), "base ipw", "nope"]) == ["base", "base+ipw"]
    assert arch.serialize(["base", "base+ipw"]) == ["base", "base+ipw"] and arch.serialize([]) == [""]
    assert arch.parse([""]) == [] and arch.parse(["nope"]) is MISSING
    assert OVERLAP["world"].parse(["User objectives (Experiment 2)"]) == "objectives"
    assert OBJECTIVES["rho"].parse(["1.0"]) == 1.0 and OBJECTIVES["rho"].serialize(1.0) == ["1"]


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.5", 0.5),
        ("-0.95", -0.95),
        ("0.3000000001", 0.3),
        ("1.0", MISSING),
        ("0.52", MISSING),
        ("nan", MISSING),
        ("abc", MISSING),
        ("", MISSING),
    ],
)
def test_sliders_take_values_on_their_grid_only(text, value):
    assert TOY["rho"].parse([text]) == value


def test_every_option_round_trips_and_every_hideable_control_can_be_set_by_a_link():
    for table in TABLES.values():
        for c in table:
            for option in c.options:
                value = [option] if c.kind == "multiselect" else option
                assert c.parse(c.serialize(value)) == value, (c.key, option)
                assert c.parse([c.label_of(option)]) == value, (c.key, option)
            if c.hideable:
                assert c.default is None or c.parse(c.serialize(c.default)) == c.default, c.key


def test_a_control_refuses_a_bad_description():
    with pytest.raises(Exception, match="kind"):
        Control("x", "dial", "X")
    with pytest.raises(Exception, match="range"):
        Control("x", "slider", "X", default=1)
    with pytest.raises(Exception, match="default"):
        Control("x", "selectbox", "X", default="c", options=("a", "b"))


def test_links_to_a_page_carry_short_keys():
    assert canonical_params("Latent_overlap", {"scale": "continuous (Gaussian)", "rho": "0.90", "x": "y"}) == {
        "scale": "continuous",
        "rho": "0.9",
        "x": "y",
    }
    assert canonical_params("User_objectives", {"arch": ["Base", "Multihead"]}) == {"arch": ["base", "multihead"]}
    assert canonical_params("Home", {"a": "b"}) == {"a": "b"}


def test_links_leave_out_controls_at_their_default_as_the_pages_url_does():
    """Otherwise the page drops them on arrival, and that rewrite is a second history entry:
    one browser Back would not leave the page."""
    rho = OBJECTIVES["rho"]
    assert canonical_params("User_objectives", {"rho": str(rho.default), "arch": "base"}) == {"arch": "base"}


# --------------------------------------------------------------------------- every control, on its page


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A tiny data file, an example folder holding it, a data world in the session, no training."""
    monkeypatch.setattr(appkit, "sweep", lambda *args, **kwargs: None)
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", str(tmp_path))  # the Data page reads the files below
    tqa = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    examples = tmp_path / "shared"
    (examples / "truthfulqa").mkdir(parents=True)
    with gzip.open(examples / "truthfulqa" / "truthfulqa_dual_labels.jsonl.gz", "wt") as out:
        out.write(tqa.read_text())
    monkeypatch.setattr(dv, "shared_data_root", lambda: examples)
    factor_world = dv.choice_params("truthfulqa", tqa)
    objective_world = dv.choice_params("pairs", tmp_path / "pairs.csv")
    flat = flat_pairs(tmp_path / "flat.csv", prompts=4, per=2)
    pairs_world = dv.choice_params("pairs", flat, columns=FLAT_MAPPING)
    return {
        "tqa": str(tqa),
        "flat": str(flat),
        "dir": str(tmp_path),
        "factor_world": factor_world,
        "objective_world": objective_world,
        "pairs_world": pairs_world,
    }


# a column of the flat file (tests/apptest_helpers.flat_pairs) and a value map, per mapped field
MAPPED = {
    "label": ("winner", "1=a,2=b,0=drop"),
    "label_other": ("winner", "1=a,2=b"),
    "objective": ("goal", "h=helpful,s=harmless"),
    "prompt_type": ("ptype", "helpful=helpful,harmless=harmless"),
}


def case(page: str, key: str, w: dict) -> tuple[dict, dict, object]:
    """(session state, other URL parameters, the value to set) that make the page draw the control
    with a value other than its default."""
    factor, objective = {"real_world": w["factor_world"]}, {"real_world": w["objective_world"]}
    labelled = {"real_world": w["pairs_world"]}
    special = {
        ("Correlation_shift", "world"): (factor, {}, "data"),
        ("Correlation_shift", "rho_real"): (factor, {"world": "data"}, 0.6),
        ("Correlation_shift", "prefer"): (factor, {"world": "data"}, "second"),
        ("Correlation_shift", "a_real"): (factor, {"world": "data", "prefer": "weights"}, 1.0),
        ("Correlation_shift", "measure"): (labelled, {"world": "data"}, "formatting"),
        ("User_objectives", "world"): (objective, {}, "data"),
        ("Latent_overlap", "factor_a"): ({}, {}, "tone"),
        ("Latent_overlap", "factor_b"): ({}, {}, "length"),
        ("Data", "example"): ({}, {}, "truthfulqa"),
        ("Data", "path"): ({}, {}, w["tqa"]),
        ("Data", "kind"): ({}, {"path": w["tqa"]}, "pairs"),
        ("Data", "model_dir"): ({}, {"path": w["tqa"]}, w["dir"]),
        ("Data", "factors"): ({}, {"path": w["tqa"], "kind": "responses"}, "helpful, honest"),
        ("Lessons", "guess"): ({}, {"lesson": "3"}, 65.0),
        ("Lessons", "answer"): ({}, {"lesson": "1"}, "b"),
    }
    if (page, key) in special:
        return special[(page, key)]
    if page == "Interventions" and key in set(strategy_names("exp2")) - set(strategy_names("exp1")):
        return {}, {"experiment": "exp2"}, False  # a strategy of Experiment 2 only: drawn there
    if page == "Data" and key.startswith(dv.MAP_PREFIX):  # the mapping form: a column of the flat file
        return {}, {"path": w["flat"]}, "out1"
    if page == "Data" and key.startswith(dv.VALUES_PREFIX):  # a value map, with its field's column
        target = key.removeprefix(dv.VALUES_PREFIX)
        column, values = MAPPED[target]
        return {}, {"path": w["flat"], dv.MAP_KEYS[target]: column}, values
    c = TABLES[page][key]
    if c.kind == "multiselect":
        return {}, {}, [c.options[-1]]
    if c.kind in ("slider", "number"):
        lo, hi, _ = c.range
        return {}, {}, lo if c.is_default(hi) else hi
    if c.kind == "toggle":
        return {}, {}, not c.default
    return {}, {}, next(option for option in c.options if not c.is_default(option))


def url_values(value) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("page, key", CASES)
def test_every_control_is_set_by_the_url_and_written_back(page, key, world):
    control = TABLES[page][key]
    session, params, value = case(page, key, world)
    written = control.serialize(value)
    at = AppTest.from_file(str(ROOT / pages.file_of(page)), default_timeout=120)
    for name, stored in session.items():
        at.session_state[name] = stored
    at.query_params.update(params)
    at.query_params[key] = written if len(written) > 1 else written[0]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    drawn = widget(at, control)
    assert drawn is not None, f"{page} did not draw {key}"
    assert drawn.value == value
    assert url_values(at.query_params.get(key)) == written
    assert all(len(v) < 120 for v in written)
