"""causalpref — the app. Run with: streamlit run app.py

This file only builds the navigation from the one table of pages (causalpref.ui.pages); each
page is a thin file under app_pages/. Not pages/: with a pages/ folder beside the entry file,
Streamlit serves that folder in its old multipage mode to a session that arrives before
app.py's st.navigation has run once (a teacher link as a fresh server's first request got the
old sidebar), and its maintainers describe pages/ + st.navigation as unreliable
(streamlit/streamlit#10276).
"""

import streamlit as st

from causalpref.run.warmup import start_warm_up
from causalpref.ui.pages import PAGES


@st.cache_resource(show_spinner=False)
def warm_up():
    """Once per server process: the one-time costs of a first training, in the background."""
    return start_warm_up()


warm_up()

sections: dict[str, list] = {}
for entry in PAGES:
    sections.setdefault(entry.section, []).append(
        st.Page(entry.file, title=entry.title, icon=entry.icon, url_path=entry.key, default=entry.default)
    )
st.navigation(sections).run()
