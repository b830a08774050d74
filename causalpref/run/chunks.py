"""Finished chunks of a sweep, kept so that a stopped or killed sweep resumes where it was.

run_sweep trains its (rho, seed) cells a chunk at a time. Each finished chunk's rows (results
and detail tables, exactly as the sweep built them) go to one JSON file under
<cache root>/chunks/<the sweep's result key>/; a later run of the same spec, code and device
loads them instead of training those cells again, so the final tables equal an uninterrupted
run's. JSON keeps Python floats exactly (repr round-trips). The folder goes once the whole
sweep is stored in the result cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from causalpref.io import remove_orphan_temporaries, write_atomic

Rows = dict[tuple[int, int], list[dict]]


def _plain(value):
    """numpy scalars as the Python values they hold (json writes those exactly)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot keep a {type(value).__name__} in a sweep chunk")


class ChunkStore:
    def __init__(self, root: Path, sweep_key: str):
        self.folder = Path(root) / "chunks" / sweep_key

    def _path(self, number: int, per_chunk: int) -> Path:
        return self.folder / f"{number:05d}-of-{per_chunk}.json"  # per_chunk in the name: another split is another file

    def load(self, number: int, per_chunk: int) -> tuple[Rows, dict[str, Rows]] | None:
        try:
            stored = json.loads(self._path(number, per_chunk).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        results = {(i, m): rows for i, m, rows in stored["results"]}
        details = {table: {(i, m): rows for i, m, rows in entries} for table, entries in stored["details"].items()}
        return results, details

    def store(self, number: int, per_chunk: int, results: Rows, details: dict[str, Rows]) -> None:
        payload = {
            "results": [[i, m, rows] for (i, m), rows in sorted(results.items())],
            "details": {t: [[i, m, rows] for (i, m), rows in sorted(by.items())] for t, by in details.items()},
        }
        text = json.dumps(payload, default=_plain)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self._path(number, per_chunk), lambda handle: handle.write(text.encode("utf-8")))
            remove_orphan_temporaries(self.folder)
        except OSError:
            pass  # keeping chunks saves time on a resume; a sweep never fails for it

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
