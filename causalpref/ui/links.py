"""Teacher links: a page URL that opens at chosen settings with chosen controls hidden.

Every control on the pages is bound to a URL query parameter of the same name as its key
(`?rho=0.9&scale=likert`). One more parameter, `hide`, lists controls (by key, comma-
separated) that the page should not show, so that a student follows the lesson's setting
instead of the knob. This module composes and reads such links without streamlit; the pages
apply them through `appkit`.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping
from urllib.parse import urlencode

from causalpref.errors import CausalPrefError

__all__ = ["HIDE_PARAM", "hidden_keys", "hiding_css", "teacher_link"]

HIDE_PARAM = "hide"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")     # what a control key may be (also keeps the CSS safe)


def _values(value) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def hidden_keys(raw: Iterable[str], controls: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(hidden, unknown): the page's control keys named by the `hide` values, and the names that
    are not controls of this page (reported to the reader, never turned into CSS)."""
    known = list(controls)
    named = [part.strip() for value in _values(raw) for part in value.split(",") if part.strip()]
    if "all" in named:
        named = known + [n for n in named if n != "all"]
    hidden = tuple(k for k in known if k in named)
    unknown = tuple(dict.fromkeys(n for n in named if n not in known))
    return hidden, unknown


def hiding_css(keys: Iterable[str]) -> str:
    """A <style> block that hides the elements Streamlit renders for these widget keys
    (Streamlit gives each keyed element the class `st-key-<key>`)."""
    keys = list(keys)
    bad = [k for k in keys if not _KEY.match(k)]
    if bad:
        raise CausalPrefError(f"control keys must be letters, digits, '_' or '-', got {bad}")
    if not keys:
        return ""
    selectors = ", ".join(f".st-key-{k}" for k in keys)
    return f"<style>{selectors} {{ display: none !important; }}</style>"


def teacher_link(page_url: str, params: Mapping[str, object], hide: Iterable[str] = ()) -> str:
    """`page_url` with the settings in `params` (key -> value or list of values) and `hide`.

    An existing `hide` in `params` is replaced by the new one; keys are kept in the given order
    so that the same settings give the same link.
    """
    if not isinstance(page_url, str):
        raise CausalPrefError(f"page_url must be a string, got {type(page_url).__name__}")
    hide = list(dict.fromkeys(hide))
    bad = [k for k in list(params) + hide if not _KEY.match(str(k))]
    if bad:
        raise CausalPrefError(f"setting names must be letters, digits, '_' or '-', got {bad}")
    pairs = [(str(k), v) for k, value in params.items() if k != HIDE_PARAM for v in _values(value)]
    if hide:
        pairs.append((HIDE_PARAM, ",".join(hide)))
    query = urlencode(pairs)
    return f"{page_url.split('?', 1)[0]}?{query}" if query else page_url.split("?", 1)[0]
