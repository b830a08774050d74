"""The one error type users see.

Every bad input (a value out of range, a file that does not parse, a pool that cannot
support a request) raises `CausalPrefError` with a message that names what was wrong and
what was expected. The CLI turns it into a one-line message and exit status 2; the app
shows it with `st.error`.
"""


class CausalPrefError(ValueError):
    """A user-facing error: the message is meant to be read as is."""
