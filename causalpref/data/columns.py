"""A column mapping for flat files whose fields have other names: no conversion script.

``--columns prompt=input response_a=output_1 response_b=output_2 label=pref:1=a,2=b,0=drop``
reads the file's ``input`` field as ``prompt`` and so on. A target with values after a colon
maps the column's values too: for ``label``, ``a``/``b`` say which response is preferred;
for ``objective`` and ``prompt_type``, ``helpful``/``harmless`` (or 0/1); ``drop`` leaves the
row out (counted and reported, never silently). A value the map does not name is an error
naming the line. Fields that are not mapped keep their own names.

A mapped file is a `DataSource`: the path with its mapping (and, for a saved Hugging Face
dataset folder, its split). Loaders take it wherever they take a path; `read_records`
applies the mapping to every row, so every loader reads mapped files the same way.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from causalpref.errors import CausalPrefError

# The fields the loaders read, and what each holds (for the --help text and the Data page form).
TARGETS = {
    "prompt": "the prompt (a string, or a list of {role, content} messages)",
    "chosen": "the preferred response (TRL preference data)",
    "rejected": "the other response (TRL preference data)",
    "response_a": "the first response of a pair table",
    "response_b": "the second response of a pair table",
    "label": "which response is preferred (1 = response_a; or map values to a/b)",
    "label_other": "the label of the same pair under the other objective (for the oracle baselines)",
    "objective": "the objective c the label was given under (helpful/harmless or 0/1)",
    "prompt_type": "the prompt type t (helpful/harmless or 0/1)",
    "group": "rows with the same value share a prompt group (default: the same prompt)",
    "response": "one response of a per-response table",
    "completion": "one completion of unpaired preference data",
    "rating": "a response's rating (per-response rating tables)",
}
# what each mapped value may become, per target; "drop" leaves the row out everywhere
VALUE_TARGETS = {
    "label": {"a": 1, "b": 0, "1": 1, "0": 0, "good": 1, "bad": 0, "true": 1, "false": 0},
    "label_other": {"a": 1, "b": 0, "1": 1, "0": 0},
    "objective": {"helpful": 0, "harmless": 1, "0": 0, "1": 1},
    "prompt_type": {"helpful": 0, "harmless": 1, "0": 0, "1": 1},
}
DROP = "drop"


@dataclass(frozen=True)
class ColumnMap:
    """target field -> (source column, value map or None); hashable, so part of a world's identity."""

    entries: tuple[tuple[str, str, tuple[tuple[str, object], ...] | None], ...] = ()

    @classmethod
    def parse(cls, items: Sequence[str] | str | None, option: str = "--columns") -> "ColumnMap":
        """From ``["prompt=input", "label=pref:1=a,2=b"]`` (or one space-separated string)."""
        if items is None:
            return cls()
        if isinstance(items, str):
            items = items.split()
        entries, seen = [], set()
        for item in items:
            target, eq, rest = str(item).partition("=")
            target, rest = target.strip(), rest.strip()
            if not eq or not target or not rest:
                raise CausalPrefError(
                    f"{option} {item!r}: expected FIELD=COLUMN, e.g. prompt=input or label=pref:1=a,2=b"
                )
            if target in seen:
                raise CausalPrefError(f"{option} {item!r}: {target!r} is mapped twice")
            seen.add(target)
            source, colon, values = rest.partition(":")
            entries.append((target, source.strip(), _parse_values(option, item, target, values) if colon else None))
        sources = [source for _, source, _ in entries]
        twice = {s for s in sources if sources.count(s) > 1}
        if twice:
            raise CausalPrefError(f"{option}: column {sorted(twice)[0]!r} is mapped to two fields")
        return cls(tuple(entries))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def describe(self) -> str:
        """'prompt=input response_a=output_1 label=pref:1=a,2=b' (the form the option takes)."""
        parts = []
        for target, source, values in self.entries:
            text = f"{target}={source}"
            if values:
                text += ":" + ",".join(f"{k}={v}" for k, v in values)
            parts.append(text)
        return " ".join(parts)

    def check_columns(self, columns: Sequence[str] | None, where: str) -> None:
        """For tables with a header: a mapped column the file lacks fails before any row is read."""
        if columns is None:
            return
        for target, source, _ in self.entries:
            if source not in columns:
                raise CausalPrefError(
                    f"{where}: --columns {target}={source}: the file has no column {source!r}; "
                    f"its columns are {list(columns)}"
                )

    def apply(self, data: dict, where) -> dict | str:
        """The row as the loaders should see it, or the reason it is dropped (a string).

        `where(field)` names the line and field in errors."""
        out = dict(data)
        for target, _, _ in self.entries:
            out.pop(target, None)  # the mapped column replaces a same-named one
        for target, source, values in self.entries:
            if source not in data:
                present = ", ".join(map(repr, data)) or "none"
                raise CausalPrefError(
                    f"{where(source)}: missing; --columns maps it to {target!r} (fields present: {present})"
                )
            value = data[source]
            if values is not None:
                key = _key(value)
                table = dict(values)
                if key not in table:
                    raise CausalPrefError(
                        f"{where(source)}: value {key!r} is not in the --columns map for {target!r} "
                        f"(mapped: {', '.join(map(repr, table))}); add it, e.g. {target}={source}:{key}=drop"
                    )
                if table[key] == DROP:
                    return f"rows with {source} = {key!r} (dropped by --columns)"
                value = VALUE_TARGETS[target][table[key]]
            out[target] = value
        return out


def _key(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_values(option: str, item: str, target: str, text: str) -> tuple[tuple[str, object], ...]:
    allowed = VALUE_TARGETS.get(target)
    if allowed is None:
        raise CausalPrefError(
            f"{option} {item!r}: values of {target!r} cannot be mapped; value maps are for {list(VALUE_TARGETS)}"
        )
    pairs = []
    for part in text.split(","):
        value, eq, meaning = part.partition("=")
        value, meaning = value.strip(), meaning.strip().lower()
        if not eq or not value or not meaning:
            raise CausalPrefError(f"{option} {item!r}: expected VALUE=MEANING pairs after the colon, e.g. 1=a,2=b")
        if meaning == DROP:
            pairs.append((value, DROP))
        elif meaning in allowed:
            pairs.append((value, meaning))
        else:
            choices = sorted(set(allowed) - {"0", "1"}) + ["0", "1", DROP]
            raise CausalPrefError(
                f"{option} {item!r}: {meaning!r} is not a meaning of {target!r}; choose from {choices}"
            )
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise CausalPrefError(f"{option} {item!r}: a value is mapped twice")
    return tuple(pairs)


@dataclass(frozen=True)
class DataSource(os.PathLike):
    """A data file (or saved dataset folder, or hub name) with how to read it: its column
    mapping and split. `os.fspath` gives the path, so it goes wherever a path goes."""

    path: str
    columns: ColumnMap = field(default_factory=ColumnMap)
    split: str | None = None
    # rows the mapping left out, by reason: filled while the file is read, reported by the loader
    dropped: Counter = field(default_factory=Counter, compare=False, hash=False, repr=False)

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path


def mapped_rows(rows: Iterator, columns: ColumnMap, dropped: Counter) -> Iterator:
    """Rows through a column mapping; `dropped` counts the rows it leaves out, by reason."""
    try:
        for row in rows:
            mapped = columns.apply(row.data, row.where)
            if isinstance(mapped, str):
                dropped[mapped] += 1
                continue
            row.data = mapped
            yield row
    finally:
        rows.close()
