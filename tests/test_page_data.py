"""The Data page, headless with AppTest: summary, embedding with the packaged MiniLM, switching page."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/5_Data.py"


def tiny_truthfulqa(path: Path) -> Path:
    rows = []
    for q in range(5):
        for i, (t, f) in enumerate(((1, 1), (1, 0), (0, 1), (0, 0), (1, 1))):
            rows.append({"question": f"Question number {q}?", "answer": f"Answer {i} to question {q}.",
                         "truthful": t, "informative": f})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


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


def test_summary_embed_and_use_in_correlation_shift(tmp_path):
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    at = data_page()
    at.text_input(key="path").set_value(str(path)).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="kind").value == "truthfulqa"
    table = at.dataframe[0].value
    assert dict(zip(table["quantity"], table["value"]))["pairs"] == "50"
    at.button(key="embed").click().run()
    assert not at.exception and not at.error
    assert any("Embedded: 50 pairs, 384-dimensional" in s.value for s in at.success)
    assert at.session_state["_embedded"]
    at.button(key="use").click().run()
    assert not at.exception
    assert at.session_state["real_world"]["kind"] == "truthfulqa"
    # now on Correlation shift, with the data world chosen (the tiny file is too small to train on)
    assert at.title[0].value == "Correlation shift"
    assert at.selectbox(key="world").value == "Data: tiny_tqa.jsonl"


def test_experiment_pages_offer_the_data_world_of_their_family(tmp_path):
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    params = {"kind": "truthfulqa", "path": str(path), "model_dir": None, "factors": (), "name": "tiny_tqa.jsonl"}
    at = AppTest.from_file(str(ROOT / "pages" / "2_Correlation_shift.py"), default_timeout=120)
    at.session_state["real_world"] = params
    at.session_state["world"] = "Data: tiny_tqa.jsonl"
    at.run()
    assert not at.exception
    assert at.selectbox(key="world").options == ["Synthetic (embedded)", "Data: tiny_tqa.jsonl"]
    assert any("cannot draw" in e.value for e in at.error)      # 50 pairs are too few to train on: plainly said
    objectives = AppTest.from_file(str(ROOT / "pages" / "3_User_objectives.py"), default_timeout=120)
    objectives.session_state["real_world"] = params            # factor data: not offered to Experiment 2
    objectives.session_state["world"] = "Synthetic (embedded)"
    objectives.session_state["arch"] = []                      # nothing to train
    objectives.run()
    assert not objectives.exception
    assert objectives.selectbox(key="world").options == ["Synthetic (embedded)"]
