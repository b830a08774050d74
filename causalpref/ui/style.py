"""Page-wide CSS for every page (appkit.page injects it once per run): narrow windows and
metric cards that wrap instead of cutting text. No streamlit here; the selectors are the
`data-testid`s of Streamlit 1.67's frontend.

Metric cards. st.metric truncates its label, value and delta to one line with an ellipsis
("Achieved traini…", "15.9 …" at 800 px). The rules below let them wrap (labels, delta
descriptions) or shrink (values) instead; the same rules Streamlit applies when printing.

Sidebar. Streamlit collapses the sidebar itself only at or below its `md` breakpoint (768 px:
the frontend compares window.innerWidth with theme.breakpoints.md for
initial_sidebar_state="auto"), and the server cannot know the window's width. So between
769 and 1024 px the open sidebar is held at Streamlit's own minimum width (12.5rem, 200 px)
instead of 300 px, which gives the page a third more room; below 769 px Streamlit collapses
it. The reader can still close or reopen it.

Side-by-side blocks. Streamlit stacks columns only below 640 px. A row of columns drawn in a
container keyed by `stack_key(name)` (a figure beside its numbers) stacks up to 1024 px
already, where each half would be too narrow to read; rows nested inside it keep their columns.
"""

from __future__ import annotations

__all__ = ["CSS", "NARROW", "STACK", "stack_key", "style_tag"]

NARROW = 1024  # px: up to this window width the sidebar is held narrow and STACK rows stack
STACK = "stack-"  # the key prefix of containers whose own row of columns stacks on narrow windows

CSS = f"""
[data-testid="stMetric"] [data-testid="stMarkdownContainer"],
[data-testid="stMetric"] [data-testid="stMarkdownContainer"] p {{
  overflow: visible !important;
  text-overflow: clip !important;
  white-space: normal !important;
  overflow-wrap: break-word;
  min-width: 0;
  max-width: 100%;
}}
[data-testid="stMetricLabel"] {{
  grid-template-columns: minmax(0, auto) 1fr;
}}
[data-testid="stMetricValue"] {{
  font-size: clamp(1.4rem, 2.6vw, 2.25rem);
}}
[data-testid="stMetricDelta"] {{
  flex-shrink: 1;
  min-width: 0;
}}
[data-testid="stMetricDeltaDescription"] {{
  overflow: visible !important;
  white-space: normal !important;
}}
[data-testid="stMetric"] div:has(> [data-testid="stMetricDelta"]) {{
  flex-wrap: wrap;
  overflow: visible;
}}
@media (max-width: {NARROW}px) {{
  [class*="st-key-{STACK}"] > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] {{
    flex-wrap: wrap;
  }}
  [class*="st-key-{STACK}"] > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {{
    min-width: calc(100% - 1.5rem);
  }}
}}
@media (min-width: 769px) and (max-width: {NARROW}px) {{
  section[data-testid="stSidebar"][data-collapsed="false"] {{
    min-width: 12.5rem !important;
    max-width: 12.5rem !important;
  }}
}}
"""


def stack_key(name: str) -> str:
    """The st.container key that makes the container's row of columns stack on narrow windows."""
    return STACK + name


def style_tag() -> str:
    """The CSS as one <style> element: st.html sends a style-only body to the page's event
    container, so it takes no room on the page."""
    return f"<style>{CSS}</style>"
