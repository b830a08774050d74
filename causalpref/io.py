"""Writing results without ever leaving a half-written file behind."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from causalpref.errors import CausalPrefError


def write_atomic(path: Path, write) -> None:
    """write(handle) into a temporary file beside `path`, fsync, then rename onto `path`.

    Readers see the old file or the new one, never a part; on any failure the temporary
    file is removed and the old file stays."""
    # the writer's pid in the name: a file left by a killed writer is known as an orphan
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


ORPHAN_AGE_SECONDS = 3600  # a temporary file without a writer's pid this old is left over


def remove_orphan_temporaries(folder: Path) -> int:
    """Remove write_atomic's temporary files in `folder` whose writer is gone (its pid is not
    running, or, for names without a pid, the file is older than an hour); returns how many."""
    removed = 0
    for path in Path(folder).glob(".*.tmp"):
        parts = path.name.split(".")
        pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else None
        try:
            if pid is not None:
                if pid == os.getpid() or process_running(pid):
                    continue
            elif time.time() - path.stat().st_mtime < ORPHAN_AGE_SECONDS:
                continue
            path.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def process_running(pid: int) -> bool:
    """Is a process with this pid alive (one of another user's counts as alive)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; not every platform can open a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_output_path(path: str | os.PathLike) -> Path:
    """Refuse an unusable output path up front, before any long computation."""
    path = Path(path)
    if path.is_dir():
        raise CausalPrefError(f"--out {path}: is a directory, expected a file name such as results.csv")
    if path.parent.exists() and not path.parent.is_dir():
        raise CausalPrefError(f"--out {path}: {path.parent} is a file, expected a folder to write in")
    if not path.parent.exists():
        raise CausalPrefError(f"--out {path}: folder {path.parent} does not exist")
    try:  # the only sure test of writability (modes, read-only mounts, root): create a file there
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CausalPrefError(f"--out {path}: cannot write in folder {path.parent} ({exc.strerror or exc})") from None
    return path


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write to a temporary file beside `path`, then rename over it in one step."""
    path = check_output_path(path)
    text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    write_atomic(path, lambda handle: handle.write(text.encode()))
    return path
