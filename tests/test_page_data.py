"""The Data page, headless with AppTest: summary, embedding with the packaged MiniLM, switching page."""

import gzip
import json
import os
import re
from pathlib import Path

import pytest
from apptest_helpers import FLAT_OBJECTIVES, flat_pairs, shown, tiny_truthfulqa, trl_conversational
from streamlit.testing.v1 import AppTest

import appkit
from causalpref.data.columns import ColumnMap
from causalpref.data.loaders import SUFFIXES
from causalpref.ui.views import data as dv

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "app_pages/5_Data.py"


@pytest.fixture(autouse=True)
def default_roots(monkeypatch):
    """The data roots as a plain start leaves them (the working directory and the examples),
    whatever the shell running the tests set; a test that types a path sets its own."""
    monkeypatch.delenv("CAUSALPREF_DATA_DIR", raising=False)


def in_roots(monkeypatch, *folders) -> None:
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", os.pathsep.join(str(f) for f in folders))


def data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def test_renders_without_a_file():
    at = data_page()
    assert not at.exception and not at.error
    assert at.title[0].value == "Data"
    assert any("Choose a data file" in shown(i.value) for i in at.info)


def test_missing_path_is_a_plain_error():
    at = data_page()
    at.text_input(key="path").set_value("/nowhere/missing.jsonl").run()
    assert not at.exception
    (error,) = at.error
    assert shown(error.value).startswith("no data file at that path inside the data folders")


def typed(path, url: bool = False) -> AppTest:
    """The Data page after a path is typed into its field (or arrives in the URL)."""
    if url:
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page(PAGE)
        at.query_params["path"] = str(path)
        at.run()
    else:
        at = data_page()
        at.text_input(key="path").set_value(str(path)).run()
    assert not at.exception
    return at


def only_error(at) -> str:
    (error,) = at.error
    assert not at.subheader and not at.dataframe  # nothing of the file was shown
    return shown(error.value)


def test_a_path_outside_the_data_roots_reads_nothing_and_says_what_a_missing_one_says(tmp_path, monkeypatch):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    in_roots(monkeypatch, root)
    # a readable data file outside, whose kind would be guessed as "pairs" if it were opened
    (outside / "prefs.jsonl").write_text(
        json.dumps({"prompt": "p", "response_a": "a", "response_b": "b", "label": 1, "objective": "helpful"}) + "\n"
    )
    (outside / "notes.txt").write_text("not data\n")
    missing = only_error(typed(root / "missing.jsonl"))
    for path in (
        outside / "prefs.jsonl",
        outside / "notes.txt",  # an unknown file type outside: no "unsupported type" hint
        outside,  # a folder
        outside / "absent.jsonl",
        "/etc/hostname",
        "/etc/passwd",
    ):
        at = typed(path)
        assert only_error(at) == missing, path
        assert not any(
            shown(m.value).startswith("Read as") for m in at.markdown
        )  # not opened, not even to read its shape
    assert missing.startswith("no data file at that path inside the data folders")
    assert str(root) in missing and "CAUSALPREF_DATA_DIR" in missing


def test_a_symlink_inside_a_root_to_a_file_outside_is_refused(tmp_path, monkeypatch):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    in_roots(monkeypatch, root)
    tiny_truthfulqa(outside / "tiny_tqa.jsonl")
    (root / "linked.jsonl").symlink_to(outside / "tiny_tqa.jsonl")
    assert only_error(typed(root / "linked.jsonl")) == only_error(typed(root / "missing.jsonl"))


def test_a_link_with_a_path_outside_the_roots_in_its_url_reads_nothing(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path / "root")
    (tmp_path / "root").mkdir()
    missing = only_error(typed(tmp_path / "root" / "missing.jsonl", url=True))
    for path in ("/etc/passwd", tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")):
        at = typed(path, url=True)
        assert only_error(at) == missing
        assert "real_world" not in at.session_state


def test_a_file_inside_a_root_set_by_the_environment_loads_and_the_caption_says_so(tmp_path, monkeypatch):
    root = tmp_path / "prefs"
    root.mkdir()
    in_roots(monkeypatch, root, tmp_path / "more")
    tiny_truthfulqa(root / "tiny_tqa.jsonl")
    at = data_page()
    (caption,) = [shown(c.value) for c in at.caption if "CAUSALPREF_DATA_DIR" in shown(c.value)]
    assert f"{root}, {tmp_path / 'more'}" in caption  # the folders readable, as given
    at.text_input(key="path").set_value("tiny_tqa.jsonl").run()  # relative: from the first folder
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert shown(at.subheader[0].value) == "tiny_tqa.jsonl"
    assert shown(at.markdown[1].value).startswith("50 pairs over 5 questions")
    assert (
        shown(at.markdown[2].value)
        == "Read as: TruthfulQA with two labels per answer (question, answer, truthful, informative)"
    )


def test_the_caption_names_the_default_roots():
    at = data_page()
    (caption,) = [shown(c.value) for c in at.caption if "CAUSALPREF_DATA_DIR" in shown(c.value)]
    assert str(Path.cwd()) in caption and "working directory" in caption and len(caption) < 240


def test_a_model_folder_outside_the_roots_is_refused_alike(tmp_path, monkeypatch):
    root, outside = tmp_path / "root", tmp_path / "outside"
    for folder in (root, outside / "model"):
        folder.mkdir(parents=True)
    (outside / "model" / "config.json").write_text("{}")
    in_roots(monkeypatch, root)
    tiny_truthfulqa(root / "tiny_tqa.jsonl")
    messages = set()
    for model in (outside / "model", outside / "absent", root / "tiny_tqa.jsonl", "/etc"):
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page(PAGE)
        at.query_params["path"] = str(root / "tiny_tqa.jsonl")
        at.query_params["model_dir"] = str(model)  # a shared link with a model folder
        at.run()
        assert not at.exception
        (error,) = at.error
        messages.add(shown(error.value))
        assert "real_world" not in at.session_state
    assert len(messages) == 1 and next(iter(messages)).startswith("no model folder at that path inside")


def embed_and_use(at, path=None) -> AppTest:
    at.button(key="embed").click().run()
    assert not at.exception and not at.error
    assert any("Embedded: 50 pairs, 384-dimensional" in shown(s.value) for s in at.success)
    assert at.session_state["_embedded"]
    assert [b.label for b in at.button if b.key.startswith("use_")] == ["Use in Correlation shift"]  # factor data
    at.button(key="use_Correlation_shift").click().run()
    assert not at.exception, [shown(e.value) for e in at.exception]
    assert at.session_state["real_world"]["kind"] == "truthfulqa"
    # now on Correlation shift, with the data world chosen (the tiny file is too small to train on)
    assert at.title[0].value == "Correlation shift"
    assert at.selectbox(key="world").value == "data"
    assert at.query_params["world"] == "data"
    if path is not None:  # the file is in the URL: a link reproduces the world
        assert at.query_params["data"] == str(path) and at.query_params["data_kind"] == "truthfulqa"
    # factor data: nothing trains until the true preference is said
    assert at.radio(key="prefer").value is None
    assert any("Say which response is truly preferred" in shown(i.value) for i in at.info)
    assert not at.error
    return at


def test_summary_embed_and_use_in_correlation_shift(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path)
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    at = data_page()
    at.text_input(key="path").set_value(str(path)).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="kind").value == dv.RECOGNISED
    assert at.query_params["path"] == str(path) and "kind" not in at.query_params  # recognised is the default
    table = at.dataframe[-1].value
    assert dict(zip(table["quantity"], table["value"]))["pairs"] == "50"
    at = embed_and_use(at, path)
    assert at.selectbox(key="world").options == ["Synthetic (embedded)", "Data: tiny_tqa.jsonl"]


def test_use_in_works_for_a_file_given_by_path_in_the_url(tmp_path, monkeypatch):
    """Issue 13 item 1: with the path bound to the URL, "Use in…" (st.switch_page) raised
    "Cannot clear query parameters - the following are bound to widgets: 'path'"."""
    in_roots(monkeypatch, tmp_path)
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE)
    at.query_params["path"] = str(path)  # a shared link to the Data page with its file
    at.run()
    assert not at.exception and not at.error
    assert at.text_input(key="path").value == str(path)
    embed_and_use(at, path)


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
    # an upload: read from its saved copy, named by its own name
    path = dv.save_upload(tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl").read_bytes(), "tiny_tqa.jsonl", tmp_path)
    params = dv.choice_params("truthfulqa", path, name="tiny_tqa.jsonl", upload=True)
    at = AppTest.from_file(str(ROOT / "app_pages" / "2_Correlation_shift.py"), default_timeout=120)
    at.session_state["real_world"] = params
    at.query_params["world"] = "data"
    at.query_params["prefer"] = "first"  # the true preference, as a link may say it
    at.run()
    assert not at.exception
    assert at.selectbox(key="world").options == ["Synthetic (embedded)", "Data: tiny_tqa.jsonl"]
    assert at.selectbox(key="world").value == "data"
    assert at.radio(key="prefer").options == [
        "truthful decides (informative is spurious)",
        "informative decides (truthful is spurious)",
        "a weighting of the two",
    ]
    # 50 pairs are too few to train on: plainly said, with what the file holds
    assert any("cannot draw" in shown(e.value) and "50 pairs over 5 questions" in shown(e.value) for e in at.error)
    assert not any("uploads" in shown(e.value) for e in at.error)
    assert "data" not in at.query_params  # no link carries an upload
    objectives = AppTest.from_file(str(ROOT / "app_pages" / "3_User_objectives.py"), default_timeout=120)
    objectives.session_state["real_world"] = params  # factor data: not offered to Experiment 2
    objectives.query_params["world"] = "data"  # asked for, but not on offer: synthetic
    objectives.query_params["arch"] = ""  # nothing to train
    objectives.run()
    assert not objectives.exception
    assert objectives.selectbox(key="world").options == ["Synthetic (embedded)"]
    assert objectives.selectbox(key="world").value == "synthetic" and "world" not in objectives.query_params


def test_a_link_to_an_experiment_page_with_a_data_file_reproduces_its_world(tmp_path, monkeypatch):
    """A fresh session (a teacher's link): the file, its kind and its mapping come from the URL,
    read only inside the data roots; the page's teacher link carries them on."""
    in_roots(monkeypatch, tmp_path)
    flat = flat_pairs(tmp_path / "flat.csv", prompts=40, per=2)
    record = dv.choice_params("pairs", flat, columns=FLAT_OBJECTIVES)
    specs = []
    monkeypatch.setattr(appkit, "sweeps", lambda jobs, *a, **k: specs.extend(s for _, s, _ in jobs))
    at = AppTest.from_file(str(ROOT / "app_pages" / "3_User_objectives.py"), default_timeout=120)
    at.query_params.update({"world": "data", "arch": "base", "teacher": "1", **dv.record_params(record)})
    at.run()
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert at.selectbox(key="world").value == "data"
    assert at.session_state["real_world"]["columns"] == FLAT_OBJECTIVES
    (spec,) = specs
    assert spec.world.columns == ColumnMap.parse(list(FLAT_OBJECTIVES))  # the mapping reached the world
    link = next(shown(c.value) for c in at.sidebar.code)
    assert "data=" in link and "data_columns=prompt%3Dquestion" in link and "world=data" in link
    outside = AppTest.from_file(str(ROOT / "app_pages" / "3_User_objectives.py"), default_timeout=120)
    outside.query_params.update({"world": "data", "arch": "", **dv.record_params(record), "data": "/etc/passwd"})
    outside.run()
    assert not outside.exception
    (error,) = outside.error
    assert shown(error.value).startswith("no data file at that path inside the data folders")
    assert outside.selectbox(key="world").options == ["Synthetic (embedded)"]


# ---------------------------------------------------------------- uploads, Stop, sizes, length (issue 13, item 9)


def pair_rows(n=6, bad_line=None) -> bytes:
    """A per-pair table as JSONL with objective and prompt_type (User objectives data)."""
    rows = [
        {
            "prompt": f"prompt {i}",
            "response_a": f"a{i}",
            "response_b": f"b{i}",
            "label": "maybe" if i + 1 == bad_line else i % 2,
            "objective": ("helpful", "harmless")[i % 2],
            "prompt_type": ("helpful", "harmless")[(i // 2) % 2],
        }
        for i in range(n)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def all_text(at) -> list[str]:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success", "button")
    return [str(getattr(e, "value", None) or e.label) for kind in kinds for e in getattr(at, kind)] + [
        w.label for w in (*at.text_input, *at.selectbox, *at.file_uploader)
    ]


def test_an_upload_gets_its_shape_read_and_its_size_judged():
    at = data_page()
    assert at.selectbox(key="kind").value == dv.RECOGNISED  # the default, before any file
    at.file_uploader(key="upload").upload("my_prefs.jsonl", pair_rows()).run()
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert (
        shown(at.markdown[2].value) == "Read as: a pair table (prompt, response_a, response_b, label)"
    )  # as for a path
    assert shown(at.subheader[0].value) == "my_prefs.jsonl"
    exp1, exp2 = at.warning  # 6 pairs: told before anything is embedded, one line per page it feeds
    assert shown(exp1.value).startswith("Too small for Correlation shift") and "6 pairs" in shown(exp1.value)
    assert shown(exp2.value).startswith("Too small for User objectives") and "6 pairs" in shown(exp2.value)


def test_errors_about_an_upload_name_the_users_file():
    at = data_page()
    at.file_uploader(key="upload").upload("my_prefs.jsonl", pair_rows(bad_line=3)).run()
    assert not at.exception
    (error,) = at.error
    assert shown(error.value).startswith("my_prefs.jsonl, line 3, field 'label'"), shown(error.value)
    assert "uploads" not in shown(error.value) and "cache" not in shown(error.value)
    assert not any("uploads" in text for text in all_text(at))  # the saved copy is never shown


def test_the_uploader_takes_exactly_what_the_loaders_read():
    at = data_page()
    assert at.file_uploader(key="upload").allowed_type == list(SUFFIXES)
    label = at.text_input(key="path").label
    for suffix in SUFFIXES:  # the path's label advertises every one of them
        assert suffix.removesuffix(".gz") in label
    rows = [json.loads(line) for line in pair_rows().decode().splitlines()]
    at.file_uploader(key="upload").upload("my_prefs.json", json.dumps(rows).encode()).run()  # a JSON list
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert shown(at.markdown[2].value).startswith("Read as: a pair table")


def test_embedding_shows_its_progress_and_stops_cleanly(tmp_path, monkeypatch):
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    def interrupted(world, name, progress):  # what a Stop does: the script ends at a bar update
        progress(0, 10)
        progress(4, 10)
        raise StopException()

    monkeypatch.setattr(dv, "embed", interrupted)
    in_roots(monkeypatch, tmp_path)
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    at = data_page()
    at.text_input(key="path").set_value(str(path)).run()
    at.button(key="embed").click().run()
    assert not at.exception
    (bar,) = at.get("progress")
    assert "Embedding 4 / 10 texts" in bar.proto.text
    at.button(key="stop_embed").click().run()
    assert not at.exception and not at.error
    assert any("Embedding stopped at 4 of 10 texts" in shown(i.value) for i in at.info)
    assert not at.success and not at.get("progress")  # not embedded; the bar is gone
    assert at.button(key="embed").label == "Embed"  # and it can resume
    assert not at.session_state["_embedded"]


def test_the_first_screen_holds_controls_headline_and_action(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path)
    path = tiny_truthfulqa(tmp_path / "tiny_tqa.jsonl")
    at = data_page()
    at.text_input(key="path").set_value(str(path)).run()
    assert shown(at.markdown[1].value).startswith("50 pairs over 5 questions")  # the headline, under the file's name
    assert shown(at.markdown[2].value).startswith("Read as: TruthfulQA")  # and how it was read
    (details,) = [e for e in at.expander if e.label == "Summary table"]
    assert details.dataframe  # the table lives in the expander
    assert at.button(key="embed")
    for text in all_text(at):
        assert len(text) < 240, text  # one or two lines
        assert not re.search(r"\w+_\w+\(|\w\(\)|--\w", text), text  # no library functions or CLI flags


# ---------------------------------------------------------------- how a file is read, its column mapping


def markdown_text(at) -> list[str]:
    return [shown(m.value) for m in at.markdown]


def test_a_trl_preference_file_shows_the_shape_it_is_read_as_before_embedding(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path)
    path = trl_conversational(tmp_path / "trl.jsonl")
    at = typed(path)
    assert not at.error, [shown(e.value) for e in at.error]
    assert "Read as: TRL preference data, explicit prompt, conversational (prompt, chosen, rejected)" in (
        markdown_text(at)
    )
    assert any(shown(c.value).startswith("Kept 6 pairs; nothing left out") for c in at.caption)
    assert at.button(key="embed") and not at.success  # shown before anything is embedded
    preview = at.dataframe[0].value  # the first rows, unmapped: the fields as they are
    assert (
        list(preview.columns) == ["prompt", "chosen", "rejected"] and preview["prompt"][0] == "user: What is 0 plus 0?"
    )
    kinds = at.selectbox(key="kind")
    assert kinds.value == dv.RECOGNISED and len(kinds.options) == 1 + len(dv.DATA_KINDS)  # every registered kind


def map_columns(at, columns: dict, values: dict | None = None) -> AppTest:
    """Fill in the column-mapping form (target -> the file's column; target -> value map)."""
    for target, column in columns.items():
        at.selectbox(key=dv.MAP_KEYS[target]).set_value(column)
    for target, text in (values or {}).items():
        at.text_input(key=dv.VALUES_KEYS[target]).set_value(text)
    return at.run()


FLAT_FORM = {"prompt": "question", "response_a": "out1", "response_b": "out2", "label": "winner"}


def test_a_flat_file_is_mapped_with_the_form_previewed_and_counted(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path)
    path = flat_pairs(tmp_path / "flat.csv", prompts=6, per=2, drop_every=3)
    at = typed(path)
    (error,) = at.error  # no known shape: said in one line, and the form is open
    assert "cannot tell the shape of the data from its fields" in shown(error.value) and "column mapping" in shown(
        error.value
    )
    assert "--" not in shown(error.value)
    (form,) = [e for e in at.expander if e.label.startswith("Column mapping")]
    assert form.proto.expanded
    assert at.selectbox(key="map_prompt").options == ["—", "question", "out1", "out2", "winner", "goal", "ptype"]
    at = map_columns(at, FLAT_FORM, {"label": "1=a,2=b,0=drop"})
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert "Read as: a pair table (prompt, response_a, response_b, label)" in markdown_text(at)
    kept = next(shown(c.value) for c in at.caption if shown(c.value).startswith("Kept "))
    assert kept == "Kept 8 pairs; left out: 4 rows with winner = '0' (dropped by the column mapping)."
    preview = at.dataframe[0].value
    rows = [line.split(",") for line in path.read_text().splitlines()[1:] if line.split(",")[3] != "0"]
    assert list(preview["prompt"]) == [r[0] for r in rows[:5]] and list(preview["response_b"]) == [
        r[2] for r in rows[:5]
    ]
    assert list(preview["label"]) == [{"1": "1 (a)", "2": "0 (b)"}[r[3]] for r in rows[:5]]
    assert at.query_params["map_prompt"] == "question" and at.query_params["values_label"] == "1=a,2=b,0=drop"
    # only one of objective and prompt type: the page says which is missing and how to map it
    at = map_columns(at, {"objective": "goal"}, {"objective": "h=helpful,s=harmless"})
    (note,) = at.info
    assert "an objective per pair but no prompt type" in shown(note.value) and "prompt_type" in shown(note.value)
    # a bad value map: one line under the form, nothing else of the file
    at.text_input(key="values_label").set_value("1=a,2=maybe").run()
    assert not at.exception
    (error,) = at.error
    assert shown(error.value).startswith(
        "column mapping 'label=winner:1=a,2=maybe': 'maybe' is not a meaning of 'label'"
    )
    assert not any(m.startswith("Read as") for m in markdown_text(at))
    # a value the map does not name: the engine's line, naming the row
    at.text_input(key="values_label").set_value("1=a,2=b").run()
    (error,) = at.error
    assert "line 4, field 'winner': value '0' is not in the column mapping for 'label'" in shown(error.value)
    # another file: the last one's mapping does not follow it
    at.text_input(key="path").set_value(str(trl_conversational(tmp_path / "trl.jsonl"))).run()
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert at.selectbox(key="map_label").value == "" and at.text_input(key="values_label").value == ""
    assert not any(key.startswith(("map_", "values_")) for key in at.query_params)
    assert "Read as: TRL preference data, explicit prompt, conversational (prompt, chosen, rejected)" in (
        markdown_text(at)
    )


def test_a_link_to_the_data_page_with_a_mapping_reproduces_it(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path)
    path = flat_pairs(tmp_path / "flat.csv", prompts=6, per=2)
    mapping = dv.mapping_from_form(FLAT_FORM, {"label": "1=a,2=b"})
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE)
    at.query_params.update({"path": str(path), **dv.mapping_params(mapping)})
    at.run()
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert at.selectbox(key="map_response_b").value == "out2" and at.text_input(key="values_label").value == "1=a,2=b"
    assert "Read as: a pair table (prompt, response_a, response_b, label)" in markdown_text(at)


def test_a_mapped_file_is_used_in_user_objectives_with_its_mapping(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path)
    path = flat_pairs(tmp_path / "flat.csv", prompts=40, per=2)
    at = typed(path)
    at = map_columns(
        at,
        {**FLAT_FORM, "objective": "goal", "prompt_type": "ptype"},
        {"label": "1=a,2=b", "objective": "h=helpful,s=harmless"},
    )
    assert not at.error and not at.info, [shown(e.value) for e in (*at.error, *at.info)]
    at.button(key="embed").click().run()
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert [b.label for b in at.button if b.key.startswith("use_")] == [
        "Use in Correlation shift",
        "Use in User objectives",
    ]
    specs = []
    monkeypatch.setattr(appkit, "sweeps", lambda jobs, *a, **k: specs.extend(s for _, s, _ in jobs))
    at.button(key="use_User_objectives").click().run()
    assert not at.exception and not at.error, [shown(e.value) for e in at.error]
    assert at.title[0].value == "User objectives" and at.selectbox(key="world").value == "data"
    assert at.query_params["data_columns"] == list(dv.mapping_items(at.session_state["real_world"]["columns"]))
    assert specs and all(
        s.world.columns
        == ColumnMap.parse(
            list(FLAT_OBJECTIVES[:3])
            + ["label=winner:1=a,2=b", "objective=goal:h=helpful,s=harmless", "prompt_type=ptype"]
        )
        for s in specs
    )
    assert specs[0].sizes.train < 2000  # fitted to the file
    assert any(shown(c.value).startswith("On flat.csv: true preference = the file's label") for c in at.caption)


def test_a_folder_of_files_inside_the_roots_is_read_as_one(tmp_path, monkeypatch):
    in_roots(monkeypatch, tmp_path)
    for part in ("helpful-base", "harmless-base"):
        (tmp_path / "hh" / part).mkdir(parents=True)
        trl_conversational(tmp_path / "hh" / part / "test.jsonl", n=3)
    at = typed(tmp_path / "hh")
    assert not at.error, [shown(e.value) for e in at.error]
    assert shown(at.subheader[0].value) == "hh"
    assert any(m.startswith("Read as: TRL preference data") and m.endswith("2 files") for m in markdown_text(at))
