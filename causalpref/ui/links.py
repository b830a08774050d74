"""Teacher links: a page URL that opens at chosen settings with chosen controls hidden.

Every control on the pages is bound to a URL query parameter of the same name as its key,
with a short value (`?rho=0.9&scale=likert`; causalpref.ui.state says which). One more
parameter, `hide`, lists controls (by key, comma-separated, or `all`) that the pages should
not show, so that a student follows the lesson's setting instead of the knob; the app keeps it
for the rest of the session, on every page the student opens from the link. `teacher=1` opens
the link maker. This module composes and reads such links without streamlit; the pages apply
them through `appkit`.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping
from urllib.parse import urlencode

from causalpref.errors import CausalPrefError

__all__ = ["HIDE_PARAM", "TEACHER_PARAM", "hidden_keys", "teacher_flag", "teacher_link"]

HIDE_PARAM = "hide"
TEACHER_PARAM = "teacher"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what a control key may be


def _values(value) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def hidden_keys(raw: Iterable[str], controls: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(hidden, unknown): the page's control keys named by the `hide` values, and the names that
    are not controls of this page (shown to a teacher, ignored otherwise)."""
    known = list(controls)
    named = [part.strip() for value in _values(raw) for part in value.split(",") if part.strip()]
    if "all" in named:
        named = known + [n for n in named if n != "all"]
    hidden = tuple(k for k in known if k in named)
    unknown = tuple(dict.fromkeys(n for n in named if n not in known))
    return hidden, unknown


def teacher_flag(raw: Iterable[str] | str) -> bool | None:
    """What a `teacher` URL value asks: True (1, true, yes, on), False (0, false, no, off) or
    None (absent or unreadable: leave the session's choice alone)."""
    values = _values(raw)
    if not values:
        return None
    word = values[-1].strip().casefold()
    return True if word in ("1", "true", "yes", "on") else False if word in ("0", "false", "no", "off") else None


def teacher_link(page_url: str, params: Mapping[str, object], hide: Iterable[str] = ()) -> str:
    """`page_url` with the settings in `params` (key -> value or list of values) and `hide`.

    An existing `hide` in `params` is replaced by the new one and `teacher` is dropped (the
    students who follow the link do not get the link maker); keys are kept in the given order
    so that the same settings give the same link.
    """
    if not isinstance(page_url, str):
        raise CausalPrefError(f"page_url must be a string, got {type(page_url).__name__}")
    hide = list(dict.fromkeys(hide))
    bad = [k for k in list(params) + hide if not _KEY.match(str(k))]
    if bad:
        raise CausalPrefError(f"setting names must be letters, digits, '_' or '-', got {bad}")
    pairs = [(str(k), v) for k, value in params.items() if k not in (HIDE_PARAM, TEACHER_PARAM) for v in _values(value)]
    if hide:
        pairs.append((HIDE_PARAM, ",".join(hide)))
    query = urlencode(pairs, safe=",")  # hide=rho,scale: commas need no escaping
    return f"{page_url.split('?', 1)[0]}?{query}" if query else page_url.split("?", 1)[0]
