"""Write a benchmark's table into its marked block of a markdown page (docs/performance.md).

A block is `<!-- NAME:start -->` ... `<!-- NAME:end -->`; what stands between is replaced by a
stamp (the command, the time, the CPU count) and the table, the rest of the page is kept.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def write_block(path: Path, name: str, text: str, command: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    page = path.read_text(encoding="utf-8")
    if start not in page or end not in page:
        raise SystemExit(f"{path}: no {start} ... {end} block to replace")
    head, rest = page.split(start, 1)
    _, tail = rest.split(end, 1)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = f"_Written by `{command}`, {stamp}, {os.cpu_count()} CPU cores._\n\n```text\n{text}\n```\n"
    path.write_text(f"{head}{start}\n{body}{end}{tail}", encoding="utf-8")
