"""Reading preference data through Hugging Face `datasets`: save_to_disk folders and hub names.

Nothing here touches the network: the hub is offline for every test, and `load_dataset` is
replaced wherever a hub read is exercised. The datasets cache goes to tmp_path.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from causalpref.data import hf
from causalpref.errors import CausalPrefError

datasets = pytest.importorskip("datasets")

ROOT = Path(__file__).resolve().parents[1]

CHAT_ROWS = [
    {
        "prompt": "How do I boil an egg?",
        "messages": [
            {"role": "user", "content": "How do I boil an egg?"},
            {"role": "assistant", "content": "Put it in boiling water for nine minutes."},
        ],
        "label": 1,
    },
    {
        "prompt": "Hi",
        "messages": [{"role": "user", "content": "Hi"}],
        "label": 0,
    },
    {
        "prompt": "Tell me a joke",
        "messages": [
            {"role": "user", "content": "Tell me a joke"},
            {"role": "assistant", "content": "Why did the chicken cross the road?"},
            {"role": "user", "content": "Why?"},
        ],
        "label": 1,
    },
]


@pytest.fixture(autouse=True)
def offline_hf(tmp_path, monkeypatch):
    """No network and no writes to the home directory, whatever a test does.

    `datasets` reads these variables once, when it is imported (here, at collection), so the
    values it already holds are replaced too.
    """
    import datasets.config
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(cache / "home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_CACHE_HOME", str(cache / "home"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache / "datasets")
    monkeypatch.setattr(datasets.config, "HF_MODULES_CACHE", cache / "modules")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache / "hub"))
    monkeypatch.delenv(hf.ALLOW_DOWNLOAD_ENV, raising=False)
    return cache


def _save_dataset(folder: Path, rows=CHAT_ROWS) -> Path:
    datasets.Dataset.from_list(list(rows)).save_to_disk(str(folder))
    return folder


def _save_dict(folder: Path, splits=("train", "test")) -> Path:
    parts = {}
    for i, split in enumerate(splits):
        rows = [{"prompt": f"{split} {n}", "chosen": f"c{n}", "rejected": f"r{n}"} for n in range(3 + i)]
        parts[split] = datasets.Dataset.from_list(rows)
    datasets.DatasetDict(parts).save_to_disk(str(folder))
    return folder


def _all(records):
    with records:
        return list(records)


# --------------------------------------------------------------------------------------------
# Import cost
# --------------------------------------------------------------------------------------------


def test_import_does_not_import_datasets():
    code = "import sys, causalpref.data.hf; print('datasets' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# save_to_disk folders
# --------------------------------------------------------------------------------------------


def test_is_saved_dataset_and_splits(tmp_path):
    ds = _save_dataset(tmp_path / "ds")
    dd = _save_dict(tmp_path / "dd")
    (tmp_path / "plain").mkdir()
    (tmp_path / "file.jsonl").write_text('{"a": 1}\n')
    assert hf.is_saved_dataset(ds) and hf.is_saved_dataset(str(dd))
    assert not hf.is_saved_dataset(tmp_path / "plain")
    assert not hf.is_saved_dataset(tmp_path / "file.jsonl")
    assert not hf.is_saved_dataset(tmp_path / "missing")
    assert hf.saved_splits(ds) == ()
    assert hf.saved_splits(dd) == ("train", "test")
    with pytest.raises(CausalPrefError, match="not a folder written by save_to_disk"):
        hf.saved_splits(tmp_path / "plain")


def test_read_saved_dataset_rows_columns_nums(tmp_path):
    folder = _save_dataset(tmp_path / "chat")
    records = hf.read_saved(folder, None, None)
    assert records.path == str(folder)
    assert records.unit == "row"
    assert records.columns == ("prompt", "messages", "label")
    rows = _all(records)
    assert [r.num for r in rows] == [1, 2, 3]
    assert all(r.unit == "row" and r.path == str(folder) for r in rows)
    assert [r.data for r in rows] == CHAT_ROWS  # plain dicts; messages are lists of dicts
    first = rows[0].data["messages"]
    assert type(first) is list and type(first[0]) is dict
    assert rows[2].where("label") == f"{folder}, row 3, field 'label'"


def test_read_saved_max_rows(tmp_path):
    folder = _save_dataset(tmp_path / "many", [{"i": i, "text": f"t{i}"} for i in range(2500)])
    rows = _all(hf.read_saved(folder, None, 2))
    assert [(r.num, r.data) for r in rows] == [(1, {"i": 0, "text": "t0"}), (2, {"i": 1, "text": "t1"})]
    rows = _all(hf.read_saved(folder, None, None))  # more than one batch
    assert len(rows) == 2500 and rows[-1].num == 2500 and rows[-1].data == {"i": 2499, "text": "t2499"}
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(CausalPrefError, match="max_rows must be a positive integer"):
            hf.read_saved(folder, None, bad)


def test_read_saved_dict_splits(tmp_path):
    folder = _save_dict(tmp_path / "hh")
    records = hf.read_saved(folder, "test", None)
    assert records.path == f"{folder}:test"
    assert records.columns == ("prompt", "chosen", "rejected")
    rows = _all(records)
    assert [r.data["prompt"] for r in rows] == ["test 0", "test 1", "test 2", "test 3"]
    assert [r.num for r in rows] == [1, 2, 3, 4]
    assert rows[0].where() == f"{folder}:test, row 1"
    assert [r.data for r in _all(hf.read_saved(folder, "train", 1))] == [
        {"prompt": "train 0", "chosen": "c0", "rejected": "r0"}
    ]


def test_read_saved_dict_single_split_taken(tmp_path):
    folder = _save_dict(tmp_path / "one", splits=("validation",))
    records = hf.read_saved(folder, None, None)
    assert records.path == f"{folder}:validation"
    assert len(_all(records)) == 3


def test_read_saved_dict_several_splits_needs_choice(tmp_path):
    folder = _save_dict(tmp_path / "hh")
    with pytest.raises(CausalPrefError) as info:
        hf.read_saved(folder, None, None)
    message = str(info.value)
    assert "\n" not in message
    assert str(folder) in message and "train" in message and "test" in message
    assert "add :SPLIT to the path" in message and f"{folder}:train" in message


def test_read_saved_unknown_split(tmp_path):
    folder = _save_dict(tmp_path / "hh")
    with pytest.raises(CausalPrefError) as info:
        hf.read_saved(folder, "validation", None)
    message = str(info.value)
    assert "\n" not in message
    assert str(folder) in message and "'validation'" in message
    assert "the splits present are train, test" in message


def test_read_saved_split_on_plain_dataset(tmp_path):
    folder = _save_dataset(tmp_path / "ds")
    with pytest.raises(CausalPrefError, match="single saved Dataset"):
        hf.read_saved(folder, "test", None)
    # a Dataset saved from one split accepts that split's name
    datasets.Dataset.from_list(CHAT_ROWS, split="train").save_to_disk(str(tmp_path / "tr"))
    assert len(_all(hf.read_saved(tmp_path / "tr", "train", None))) == 3


def test_read_saved_not_a_saved_folder(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(CausalPrefError, match="not a folder written by save_to_disk"):
        hf.read_saved(tmp_path / "plain", None, None)


@pytest.mark.parametrize("damage", ["no-arrow", "bad-state", "garbage-arrow"])
def test_read_saved_damaged_folder(tmp_path, damage):
    folder = _save_dataset(tmp_path / "broken")
    arrow = next(folder.glob("*.arrow"))
    if damage == "no-arrow":
        arrow.unlink()
    elif damage == "bad-state":
        (folder / "state.json").write_text("{not json")
    else:
        arrow.write_bytes(b"garbage" * 10)
    with pytest.raises(CausalPrefError) as info:
        _all(hf.read_saved(folder, None, None))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(folder)) and "damaged saved dataset" in message
    expected = {"no-arrow": "FileNotFoundError", "bad-state": "JSONDecodeError", "garbage-arrow": "ArrowInvalid"}
    assert expected[damage] in message


def test_read_saved_dict_missing_split_folder(tmp_path):
    folder = _save_dict(tmp_path / "hh")
    for item in (folder / "test").iterdir():
        item.unlink()
    (folder / "test").rmdir()
    with pytest.raises(CausalPrefError) as info:
        hf.read_saved(folder, "test", None)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{folder}:test: damaged saved dataset (FileNotFoundError")
    (folder / "dataset_dict.json").write_text("{broken")
    with pytest.raises(CausalPrefError, match="damaged saved dataset: dataset_dict.json cannot be read"):
        hf.saved_splits(folder)


def test_read_saved_empty_dataset(tmp_path):
    # datasets saves an empty Dataset with no data files and cannot load it back: say "no rows"
    datasets.Dataset.from_dict({"prompt": []}).save_to_disk(str(tmp_path / "empty"))
    with pytest.raises(CausalPrefError, match=r"empty, row 1: the dataset has no rows"):
        _all(hf.read_saved(tmp_path / "empty", None, None))


def test_read_hub_empty_split(monkeypatch):
    # a split that loads but holds no rows fails when iteration reaches its end
    empty = datasets.Dataset.from_dict({"prompt": ["a"]}).select([])
    monkeypatch.setattr(datasets, "load_dataset", lambda name, **kwargs: empty)
    records = hf.read_hub("owner/empty", "test", None, allow_download=True)
    assert records.columns == ("prompt",)
    with pytest.raises(CausalPrefError, match=r"^hf://owner/empty:test, row 1: the dataset has no rows"):
        _all(records)


# --------------------------------------------------------------------------------------------
# PATH:SPLIT / NAME:SPLIT
# --------------------------------------------------------------------------------------------


def test_split_suffix(tmp_path, monkeypatch):
    dd = _save_dict(tmp_path / "hh")
    ds = _save_dataset(tmp_path / "ds")
    assert hf.split_suffix(f"{dd}:test") == (str(dd), "test")
    assert hf.split_suffix(f"{ds}:train") == (str(ds), "train")
    assert hf.split_suffix(str(dd)) == (str(dd), None)
    assert hf.split_suffix("Anthropic/hh-rlhf:test") == ("Anthropic/hh-rlhf", "test")
    assert hf.split_suffix("HuggingFaceH4/ultrafeedback_binarized:train_prefs") == (
        "HuggingFaceH4/ultrafeedback_binarized",
        "train_prefs",
    )
    assert hf.split_suffix("Anthropic/hh-rlhf") == ("Anthropic/hh-rlhf", None)
    # ordinary file names are never split
    assert hf.split_suffix("a:b.jsonl") == ("a:b.jsonl", None)
    assert hf.split_suffix("a:test") == ("a:test", None)
    assert hf.split_suffix("data/pairs.jsonl:test") == ("data/pairs.jsonl:test", None)
    assert hf.split_suffix(f"{tmp_path}/missing:test") == (f"{tmp_path}/missing:test", None)
    assert hf.split_suffix(f"{dd}:") == (f"{dd}:", None)
    assert hf.split_suffix(f"{dd}:te st") == (f"{dd}:te st", None)
    # an existing file whose name has a colon stays whole, even after a saved folder's name
    monkeypatch.chdir(tmp_path)
    Path("hh:test").write_text("{}\n")
    assert hf.split_suffix("hh:test") == ("hh:test", None)
    assert hf.split_suffix("hh:train") == ("hh", "train")


# --------------------------------------------------------------------------------------------
# Hub names
# --------------------------------------------------------------------------------------------


def test_hub_name_help():
    message = hf.hub_name_help("Anthropic/hh-rlhf")
    assert "\n" not in message
    assert message.startswith("Anthropic/hh-rlhf:")
    assert "nothing is downloaded unless you allow it" in message
    assert "--download" in message and "CAUSALPREF_ALLOW_DOWNLOAD=1" in message
    assert """datasets.load_dataset('Anthropic/hh-rlhf', split="test").to_json("test.jsonl")""" in message
    assert "pass the path" in message


@pytest.mark.parametrize(
    "value, allowed",
    [(None, False), ("", False), ("0", False), ("no", False), ("1", True), ("true", True), ("YES", True)],
)
def test_downloads_allowed(monkeypatch, value, allowed):
    if value is not None:
        monkeypatch.setenv(hf.ALLOW_DOWNLOAD_ENV, value)
    assert hf.downloads_allowed() is allowed


def _no_load(*args, **kwargs):
    pytest.fail("datasets.load_dataset must not be called without permission to download")


def test_read_hub_without_permission_never_loads(monkeypatch):
    monkeypatch.setattr(datasets, "load_dataset", _no_load)
    for env in (None, "0"):
        if env is not None:
            monkeypatch.setenv(hf.ALLOW_DOWNLOAD_ENV, env)
        with pytest.raises(CausalPrefError) as info:
            hf.read_hub("Anthropic/hh-rlhf", "test", None)
        assert str(info.value) == hf.hub_name_help("Anthropic/hh-rlhf")
    with pytest.raises(CausalPrefError, match="nothing is downloaded"):
        hf.read_hub("Anthropic/hh-rlhf", None, None, allow_download=False)
    monkeypatch.setenv(hf.ALLOW_DOWNLOAD_ENV, "1")
    with pytest.raises(CausalPrefError, match="nothing is downloaded"):  # an explicit False wins
        hf.read_hub("Anthropic/hh-rlhf", None, None, allow_download=False)


def test_read_hub_with_permission(monkeypatch):
    calls = []

    def fake_load(name, **kwargs):
        calls.append((name, kwargs))
        return datasets.Dataset.from_list(CHAT_ROWS)

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    monkeypatch.setenv(hf.ALLOW_DOWNLOAD_ENV, "1")
    records = hf.read_hub("Anthropic/hh-rlhf", "test", None, data_dir="harmless-base")
    assert calls == [("Anthropic/hh-rlhf", {"data_dir": "harmless-base", "split": "test"})]
    assert records.path == "hf://Anthropic/hh-rlhf:test" and records.unit == "row"
    assert records.columns == ("prompt", "messages", "label")
    rows = _all(records)
    assert [r.data for r in rows] == CHAT_ROWS
    assert [r.num for r in rows] == [1, 2, 3]
    assert rows[1].where() == "hf://Anthropic/hh-rlhf:test, row 2"

    monkeypatch.delenv(hf.ALLOW_DOWNLOAD_ENV)
    records = hf.read_hub("Anthropic/hh-rlhf", None, 2, allow_download=True)  # the CLI's --download
    assert calls[-1] == ("Anthropic/hh-rlhf", {"data_dir": None, "split": "train"})
    assert records.path == "hf://Anthropic/hh-rlhf:train"
    assert [r.num for r in _all(records)] == [1, 2]


def test_read_hub_failure_is_one_line(monkeypatch):
    def offline(name, **kwargs):
        raise ConnectionError("Couldn't reach 'Anthropic/hh-rlhf' on the Hub\n(LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    monkeypatch.setenv(hf.ALLOW_DOWNLOAD_ENV, "yes")
    with pytest.raises(CausalPrefError) as info:
        hf.read_hub("Anthropic/hh-rlhf", "test", None)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("Anthropic/hh-rlhf (split 'test'): could not be loaded")
    assert "ConnectionError: Couldn't reach 'Anthropic/hh-rlhf' on the Hub (LocalEntryNotFoundError)" in message
    assert """datasets.load_dataset('Anthropic/hh-rlhf', split='test').to_json("test.jsonl")""" in message


def test_nothing_written_to_home(tmp_path):
    import datasets.config

    assert os.environ["HF_DATASETS_CACHE"].startswith(str(tmp_path))
    assert str(datasets.config.HF_DATASETS_CACHE).startswith(str(tmp_path))
    _save_dataset(tmp_path / "ds")
    _all(hf.read_saved(tmp_path / "ds", None, None))
    assert not any((tmp_path / "hf-cache").glob("**/*.arrow"))
