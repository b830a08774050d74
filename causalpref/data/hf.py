"""Preference data through Hugging Face `datasets`: saved folders and (when allowed) hub names.

The project's own readers (`causalpref.data.loaders.read_records`) cover local files. This module
covers the two cases they don't, with the field's own loader:

- a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk`` (`read_saved`);
  a `DatasetDict` split is chosen with a ``:SPLIT`` suffix on the path (``data/hh:test``);
- a hub name such as ``Anthropic/hh-rlhf`` (`read_hub`), **only** when downloads are allowed
  explicitly (``--download`` on the command line, ``CAUSALPREF_ALLOW_DOWNLOAD=1`` in the
  environment, or ``allow_download=True``). Nothing in this project downloads implicitly.

Both return the project's `Records` (unit ``"row"``, 1-based row numbers) of plain Python
dicts; nested features come out as the Arrow data holds them (a list of role/content messages
is a list of dicts). Every problem raises `CausalPrefError` with a one-line message.

`datasets` is imported inside the functions only: importing this module stays cheap (importing
`datasets` takes seconds), and the package is needed only when one of these readers runs.
"""

from __future__ import annotations

import json
import numbers
import os
import re
from pathlib import Path
from typing import Any, Iterator

from causalpref.errors import CausalPrefError

__all__ = [
    "ALLOW_DOWNLOAD_ENV",
    "is_saved_dataset",
    "saved_splits",
    "read_saved",
    "hub_name_help",
    "downloads_allowed",
    "read_hub",
    "split_suffix",
    "looks_like_hub_name",
]

ALLOW_DOWNLOAD_ENV = "CAUSALPREF_ALLOW_DOWNLOAD"
_ALLOW_VALUES = ("1", "true", "yes")
_BATCH = 1000
# owner/name, as on the hub (the same shape the file loaders recognise)
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
# split names as `datasets` allows them (``train``, ``test``, ``train_prefs``, ``validation.clean``)
_SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")
# data-file suffixes: `owner/name.jsonl` is a file path, never a hub name
_FILE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".gz", ".arrow", ".txt")


# --------------------------------------------------------------------------------------------
# Saved folders (save_to_disk)
# --------------------------------------------------------------------------------------------


def _is_dataset_folder(folder: Path) -> bool:
    return (folder / "dataset_info.json").is_file() and (folder / "state.json").is_file()


def _is_dict_folder(folder: Path) -> bool:
    return (folder / "dataset_dict.json").is_file()


def is_saved_dataset(path: str | os.PathLike) -> bool:
    """True for a folder written by ``save_to_disk``: a Dataset (``dataset_info.json`` and
    ``state.json``) or a DatasetDict (``dataset_dict.json``)."""
    try:
        folder = Path(os.fspath(path)).expanduser()
        return folder.is_dir() and (_is_dict_folder(folder) or _is_dataset_folder(folder))
    except (OSError, TypeError, ValueError):
        return False


def _read_json(path: Path, folder: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise CausalPrefError(
            f"{folder}: damaged saved dataset: {path.name} cannot be read ({type(exc).__name__}: {_one_line(exc)})"
        ) from None


def saved_splits(path: str | os.PathLike) -> tuple[str, ...]:
    """The splits of a saved DatasetDict folder, in their saved order; () for a saved Dataset."""
    source = os.fspath(path)
    folder = Path(source).expanduser()
    if not is_saved_dataset(folder):
        raise _not_saved(source)
    if not _is_dict_folder(folder):
        return ()
    info = _read_json(folder / "dataset_dict.json", source)
    splits = info.get("splits") if isinstance(info, dict) else None
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
        raise CausalPrefError(
            f'{source}: damaged saved dataset: dataset_dict.json has no list of split names (expected {{"splits": [...]}})'
        )
    return tuple(splits)


def _not_saved(source: str) -> CausalPrefError:
    return CausalPrefError(
        f"{source}: not a folder written by save_to_disk (expected dataset_info.json and state.json "
        "for a Dataset, or dataset_dict.json for a DatasetDict)"
    )


def read_saved(path: str | os.PathLike, split: str | None = None, max_rows: int | None = None):
    """The rows of a ``save_to_disk`` folder as `Records` (unit "row", numbered from 1).

    For a DatasetDict, `split` chooses; None takes the only split, and is an error when there
    are several. For a Dataset, `split` must be None or the split it was saved from.
    """
    _check_max_rows(max_rows)
    source = os.fspath(path)
    folder = Path(source).expanduser()
    if not is_saved_dataset(folder):
        raise _not_saved(source)
    splits = saved_splits(folder)
    if splits:
        if split is None:
            if len(splits) != 1:
                raise CausalPrefError(
                    f"{source}: a DatasetDict with splits {', '.join(splits)}; choose one: add :SPLIT to the "
                    f"path, e.g. {source}:{splits[0]}"
                )
            split = splits[0]
        elif split not in splits:
            raise CausalPrefError(
                f"{source}: no split {split!r}; the splits present are {', '.join(splits)} "
                f"(add :SPLIT to the path, e.g. {source}:{splits[0]})"
            )
        where = f"{source}:{split}"
        target = folder / split
    else:
        if split is not None:
            state = _read_json(folder / "state.json", source)
            saved_from = state.get("_split") if isinstance(state, dict) else None
            if split != saved_from:
                raise CausalPrefError(
                    f"{source}: a single saved Dataset (no splits), so :{split} does not apply; "
                    "pass the folder without a :SPLIT suffix"
                )
        where = source
        target = folder
    datasets = _import_datasets(where)
    try:
        dataset = datasets.Dataset.load_from_disk(str(target))
    except Exception as exc:  # datasets/pyarrow/json raise their own error types for damaged folders
        if _saved_empty(target):  # datasets cannot load back an empty Dataset it saved (0 shards)
            raise _no_rows(where) from None
        raise CausalPrefError(f"{where}: damaged saved dataset ({type(exc).__name__}: {_one_line(exc)})") from None
    return _records(where, dataset, max_rows, problem="damaged saved dataset")


# --------------------------------------------------------------------------------------------
# Hub names (only when downloads are allowed)
# --------------------------------------------------------------------------------------------


def downloads_allowed() -> bool:
    """True when ``CAUSALPREF_ALLOW_DOWNLOAD`` is 1, true or yes (any case)."""
    return os.environ.get(ALLOW_DOWNLOAD_ENV, "").strip().lower() in _ALLOW_VALUES


def hub_name_help(name: str) -> str:
    """The one-line message for a hub name with no local copy when downloads are not allowed."""
    return (
        f"{name}: a Hugging Face hub name with no local copy; nothing is downloaded unless you allow it: "
        f"pass --download on the command line or set {ALLOW_DOWNLOAD_ENV}=1, or fetch the data elsewhere "
        f'with datasets.load_dataset({name!r}, split="test").to_json("test.jsonl") and pass the path'
    )


def read_hub(
    name: str,
    split: str | None = None,
    max_rows: int | None = None,
    data_dir: str | None = None,
    *,
    allow_download: bool | None = None,
):
    """The rows of hub dataset `name` (split `split`, "train" when None) as `Records`.

    Downloads only when allowed: `allow_download=True` (the CLI's ``--download``), or, when it
    is None, ``CAUSALPREF_ALLOW_DOWNLOAD=1``. Otherwise raises `CausalPrefError` with
    `hub_name_help` before touching `datasets` or the network. Rows name ``hf://NAME:SPLIT``.
    """
    _check_max_rows(max_rows)
    allowed = downloads_allowed() if allow_download is None else bool(allow_download)
    if not allowed:
        raise CausalPrefError(hub_name_help(name))
    split = split or "train"
    where = f"hf://{name}:{split}"
    datasets = _import_datasets(where)
    try:
        dataset = datasets.load_dataset(name, data_dir=data_dir, split=split)
    except Exception as exc:  # network, hub, missing split, bad files: all reported in one line
        raise CausalPrefError(
            f"{name} (split {split!r}): could not be loaded from the Hugging Face hub "
            f"({type(exc).__name__}: {_one_line(exc)}); fetch it elsewhere with "
            f'datasets.load_dataset({name!r}, split={split!r}).to_json("{split}.jsonl") and pass the path'
        ) from None
    if not isinstance(dataset, datasets.Dataset):
        raise CausalPrefError(
            f"{where}: datasets.load_dataset returned {type(dataset).__name__}, expected a Dataset for one split"
        )
    return _records(where, dataset, max_rows, problem="cannot be read")


# --------------------------------------------------------------------------------------------
# PATH:SPLIT / NAME:SPLIT
# --------------------------------------------------------------------------------------------


def looks_like_hub_name(text: str) -> bool:
    """``owner/name`` with no data-file suffix, and not an existing path."""
    return (
        bool(_HUB_NAME.match(text))
        and not text.lower().endswith(_FILE_SUFFIXES)
        and not os.path.exists(os.path.expanduser(text))
    )


def split_suffix(text: str | os.PathLike) -> tuple[str, str | None]:
    """Split ``PATH:SPLIT`` or ``NAME:SPLIT`` into (path or name, split); (text, None) otherwise.

    The suffix is stripped only when the part before it is a ``save_to_disk`` folder or looks
    like a hub name (``owner/name``), and the whole text is not itself an existing path: an
    ordinary file name such as ``a:b.jsonl`` is returned unchanged.
    """
    text = os.fspath(text)
    if os.path.exists(os.path.expanduser(text)) or ":" not in text:
        return text, None
    head, _, tail = text.rpartition(":")
    if not head or not _SPLIT_NAME.match(tail):
        return text, None
    if is_saved_dataset(head) or looks_like_hub_name(head):
        return head, tail
    return text, None


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or "no message"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_max_rows(max_rows) -> None:
    if max_rows is not None and (
        not isinstance(max_rows, numbers.Integral) or isinstance(max_rows, bool) or max_rows < 1
    ):
        raise CausalPrefError(f"max_rows must be a positive integer or None, got {max_rows!r}")


def _no_rows(where: str) -> CausalPrefError:
    return CausalPrefError(f"{where}, row 1: the dataset has no rows; expected one row per record")


def _saved_empty(folder: Path) -> bool:
    """A saved Dataset with no data files (how save_to_disk writes an empty one)."""
    try:
        with open(folder / "state.json", encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("_data_files") == []


def _import_datasets(where: str):
    try:
        import datasets
    except ImportError:
        raise CausalPrefError(
            f"{where}: reading save_to_disk folders and hub names needs the datasets package (pip install datasets)"
        ) from None
    return datasets


def _records(where: str, dataset, max_rows: int | None, problem: str):
    from causalpref.data.loaders import Records, Row  # here, not at the top: loaders may import this module

    holder = {"dataset": dataset}
    columns = tuple(dataset.column_names)
    batch = _BATCH if max_rows is None else min(_BATCH, max_rows)

    def rows() -> Iterator[Row]:
        num = 0
        try:
            # Arrow tables -> plain Python: lists of structs become lists of dicts, no feature decoding
            for table in holder["dataset"].with_format("arrow").iter(batch_size=batch):
                for data in table.to_pylist():
                    num += 1
                    yield Row(where, "row", num, data)
                    if max_rows is not None and num >= max_rows:
                        return
        except CausalPrefError:
            raise
        except Exception as exc:
            raise CausalPrefError(
                f"{where}, row {num + 1}: {problem} ({type(exc).__name__}: {_one_line(exc)})"
            ) from None
        if num == 0:
            raise _no_rows(where)

    def close() -> None:
        holder.pop("dataset", None)  # drops the memory map

    return Records(where, "row", columns, rows(), close)
