"""The Data page, headless with AppTest: summary, embedding with the packaged MiniLM, switching page."""

import gzip
from pathlib import Path

from apptest_helpers import tiny_truthfulqa
from streamlit.testing.v1 import AppTest

from causalpref.ui.views import data as dv

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "app_pages/5_Data.py"


def data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def test_renders_without_a_file():
    at = data_page()
    assert not at.exception and not at.error
    assert at.title[0].value == "Data"
    assert any("Choose a data file" in i.value for i in at.info)


def test_missing_path_is_a_plain_error():
    at = data_page()
    at.text_input(key="path").set_value("/nowhere/missing.jsonl").run()
    assert not at.exception
    assert any("does not exist" in e.value for e in at.error)


def embed_and_use(at) -> AppTest:
    at.button(key="embed").click().run()
    assert not at.exception and not at.error
    assert any("Embedded: 50 pairs, 384-dimensional" in s.value for s in at.success)
    assert at.session_state["_embedded"]
    at.button(key="use").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["real_world"]["kind"] == "truthfulqa"
    # now on Correlation shift, with the data world chosen (the tiny file is too small to train on)
    assert at.title[0].value == "Correlation shift"
    assert at.selectbox(key="world").value == "data"
    assert at.query_params["world"] == "data"
    return at


def test_summary_embed_and_use_in_correlation_shift(tmp_path):
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    at = data_page()
    at.text_input(key="path").set_value(str(path)).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="kind").value == "truthfulqa"
    assert at.query_params["path"] == str(path) and "kind" not in at.query_params  # the guess is the default
    table = at.dataframe[0].value
    assert dict(zip(table["quantity"], table["value"]))["pairs"] == "50"
    at = embed_and_use(at)
    assert at.selectbox(key="world").options == ["Synthetic (embedded)", "Data: tiny_tqa.jsonl"]


def test_use_in_works_for_a_file_given_by_path_in_the_url(tmp_path):
    """Issue 13 item 1: with the path bound to the URL, "Use in…" (st.switch_page) raised
    "Cannot clear query parameters - the following are bound to widgets: 'path'"."""
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE)
    at.query_params["path"] = str(path)  # a shared link to the Data page with its file
    at.run()
    assert not at.exception and not at.error
    assert at.text_input(key="path").value == str(path)
    embed_and_use(at)


def test_use_in_works_for_a_bundled_example(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "truthfulqa").mkdir(parents=True)
    with gzip.open(shared / "truthfulqa" / "truthfulqa_dual_labels.jsonl.gz", "wt") as out:
        out.write(tiny_truthfulqa(tmp_path / "tiny.jsonl").read_text())
    monkeypatch.setattr(dv, "shared_data_root", lambda: shared)
    at = data_page()
    at.selectbox(key="example").set_value("truthfulqa").run()
    assert not at.exception and not at.error
    assert at.text_input(key="path").value.endswith("truthfulqa_dual_labels.jsonl.gz")
    assert at.query_params["example"] == "truthfulqa" and "path" not in at.query_params  # the example's own
    embed_and_use(at)


def test_experiment_pages_offer_the_data_world_of_their_family(tmp_path):
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    params = {"kind": "truthfulqa", "path": str(path), "model_dir": None, "factors": (), "name": "tiny_tqa.jsonl"}
    at = AppTest.from_file(str(ROOT / "app_pages" / "2_Correlation_shift.py"), default_timeout=120)
    at.session_state["real_world"] = params
    at.query_params["world"] = "data"
    at.run()
    assert not at.exception
    assert at.selectbox(key="world").options == ["Synthetic (embedded)", "Data: tiny_tqa.jsonl"]
    assert at.selectbox(key="world").value == "data"
    assert any("cannot draw" in e.value for e in at.error)  # 50 pairs are too few to train on: plainly said
    objectives = AppTest.from_file(str(ROOT / "app_pages" / "3_User_objectives.py"), default_timeout=120)
    objectives.session_state["real_world"] = params  # factor data: not offered to Experiment 2
    objectives.query_params["world"] = "data"  # asked for, but not on offer: synthetic
    objectives.query_params["arch"] = ""  # nothing to train
    objectives.run()
    assert not objectives.exception
    assert objectives.selectbox(key="world").options == ["Synthetic (embedded)"]
    assert objectives.selectbox(key="world").value == "synthetic" and "world" not in objectives.query_params
