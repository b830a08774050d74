"""The folders the app may read a typed path from: its data roots.

A path typed into the app (the Data page's file field, its model folder, the same values
arriving in a shared link's URL) is read only when it lies inside one of these folders:

- `CAUSALPREF_DATA_DIR`: one or more folders separated by `os.pathsep` (':' on Linux and
  macOS, ';' on Windows), e.g. `CAUSALPREF_DATA_DIR=/srv/prefs:/srv/models`;
- unset or empty: the server's working directory and the bundled example folder
  (../shared/data beside the repository).

`resolve_in_roots(text, roots)` expands `~`, takes a relative path from the first root (the
working directory by default, so nothing changes there for a local user), resolves every
symlink and accepts the result only when it is inside a resolved root (`Path.is_relative_to`):
a symlink inside a root that points out of it is refused. Everything refused gets one message
(`outside_message`), whatever the reason: outside the roots, missing, a folder where a file is
wanted, unreadable. So the message tells a visitor nothing about which paths exist on the
server. Inside the roots the loaders' own, more helpful messages (an unknown file type, a bad
line) are shown: the operator chose to expose those folders.

Uploads do not go through here: they are the visitor's own bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from causalpref.errors import CausalPrefError

ENV_VAR = "CAUSALPREF_DATA_DIR"

__all__ = [
    "ENV_VAR",
    "DataRoots",
    "bundled_examples_root",
    "data_roots",
    "resolve_in_roots",
    "outside_message",
    "roots_caption",
]


def bundled_examples_root() -> Path:
    """The bundled example data sets: ../shared/data beside the repository."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclass(frozen=True)
class DataRoots:
    """The data roots as given (for messages) and as resolved (for the check)."""

    given: tuple[str, ...]
    paths: tuple[Path, ...]
    from_env: bool = False

    def contains(self, path: str | os.PathLike) -> bool:
        """Whether `path` (resolved here) lies inside one of the roots."""
        try:
            resolved = Path(path).expanduser().resolve()
        except (OSError, RuntimeError, ValueError):
            return False
        return any(resolved.is_relative_to(root) for root in self.paths)

    @property
    def shown(self) -> str:
        """The roots as given, for a message: '/srv/prefs, /srv/models'."""
        return ", ".join(self.given) if self.given else "none"


def _resolved(text: str) -> Path | None:
    try:
        return Path(text).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def data_roots(defaults: Iterable[str | os.PathLike] | None = None, environ=None) -> DataRoots:
    """The data roots: $CAUSALPREF_DATA_DIR split on os.pathsep, or (unset or empty) `defaults`
    (default: the working directory and the bundled example folder)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(ENV_VAR, "")
    given = tuple(part.strip() for part in raw.split(os.pathsep) if part.strip())
    from_env = bool(given)
    if not from_env:
        defaults = (Path.cwd(), bundled_examples_root()) if defaults is None else defaults
        given = tuple(dict.fromkeys(str(p) for p in defaults))
    paths = []
    for text in given:
        resolved = _resolved(text)
        if resolved is not None and resolved not in paths:
            paths.append(resolved)
    return DataRoots(given, tuple(paths), from_env)


def outside_message(roots: DataRoots, what: str = "data file") -> str:
    """The one message for every path refused: the same for a missing file, a file outside the
    roots, a folder and a symlink out of them (it never names the path)."""
    return f"no {what} at that path inside the data folders ({roots.shown}); set {ENV_VAR} to change them"


def roots_caption(roots: DataRoots) -> str:
    """A line under a path field: which folders are readable, where a relative path starts, how to change them."""
    how = "" if roots.from_env else " (the default: the working directory and the examples)"
    separator = "';'" if os.pathsep == ";" else "':'"
    first = "; a relative path starts from the first" if len(roots.given) > 1 else ""
    return (
        f"Files are read only in {roots.shown}{how}{first}. "
        f"Set {ENV_VAR} (folders separated by {separator}) to change this."
    )


def resolve_in_roots(
    text: str | os.PathLike, roots: DataRoots | None = None, *, folder: bool = False, what: str | None = None
) -> Path:
    """The resolved path of `text` when it names a readable file (a folder with folder=True)
    inside the data roots; CausalPrefError with `outside_message` otherwise, whatever the reason.

    `~` is expanded; a relative path is taken from the first root; symlinks are resolved before
    the check, so a link inside a root to a file outside is refused."""
    roots = data_roots() if roots is None else roots
    refused = CausalPrefError(outside_message(roots, what or ("folder" if folder else "data file")))
    text = os.fspath(text).strip() if text is not None else ""
    if not text or "\x00" in text or not roots.paths:
        raise refused
    try:
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = roots.paths[0] / path
        resolved = path.resolve()
        accepted = (
            any(resolved.is_relative_to(root) for root in roots.paths)
            and (resolved.is_dir() if folder else resolved.is_file())
            and os.access(resolved, os.R_OK | (os.X_OK if folder else 0))
        )
    except (OSError, RuntimeError, ValueError):
        accepted = False
    if not accepted:
        raise refused
    return resolved
