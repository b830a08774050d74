"""Text from visitors, shown as text: never as Markdown, HTML or LaTeX.

Streamlit renders the body of st.error / st.info / st.caption / st.markdown as Markdown, so a
query parameter, a file name, a column name or a value echoed in an error message could bring
an image from another site, a link or a formula onto the page. `plain` backslash-escapes every
ASCII punctuation character (CommonMark lets any of them be escaped, and an escaped character
is always shown as itself) and keeps everything on one line. Escapes do not stop GitHub-style
autolinks of bare URLs (the browser showed `http\\://evil.example` as a link), so an invisible
word joiner (U+2060) goes between a scheme and its colon, after `www` and after `@`: the text
reads and copies the same, and no link is made. `brief` shortens quoted values first, so that an error about a file
echoes a little of it, not its first row.
"""

from __future__ import annotations

import re
import string

_ESCAPE = {ord(ch): "\\" + ch for ch in string.punctuation}
_QUOTED = re.compile(r"""'[^'\n]*'|"[^"\n]*\"""")
_SPACE = re.compile(r"\s+")
JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(https?|ftp|mailto|xmpp|www|@)(?=\\[:.]|[a-z0-9])")


def plain(text: object) -> str:
    """`text` (any object, as str) escaped so that Markdown shows it literally, on one line."""
    escaped = _SPACE.sub(" ", str(text)).strip().translate(_ESCAPE)
    return _AUTOLINK.sub(lambda m: m.group(1) + JOINER, escaped)


def brief(text: object, limit: int = 40) -> str:
    """`text` with every quoted value longer than `limit` characters cut to its start + '…'."""

    def cut(match: re.Match) -> str:
        quoted = match.group(0)
        if len(quoted) - 2 <= limit:
            return quoted
        return quoted[: limit + 1] + "…" + quoted[-1]

    return _QUOTED.sub(cut, str(text))


def visitor_text(text: object, limit: int = 40) -> str:
    """What a page shows of a message that may quote a visitor's input: brief, then plain."""
    return plain(brief(text, limit))
