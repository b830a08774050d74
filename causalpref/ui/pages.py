"""The app's pages, in one table: key (the URL path), title, file, icon, sidebar section.

app.py builds its `st.navigation` from `PAGES`; pages link to each other through `file_of`
(appkit.page_link / appkit.switch_page). Everything else in causalpref/ names a page by its
key, e.g. "Correlation_shift" (the lessons' `link:` lines, the Data page's target), never by
its file. No streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

from causalpref.errors import CausalPrefError

__all__ = ["HOME", "PAGES", "Page", "by_key", "file_of", "page_files", "page_keys"]


@dataclass(frozen=True)
class Page:
    key: str  # the URL path (/Correlation_shift); "" is never used: Home is the default page
    title: str  # the sidebar entry and the browser tab
    file: str  # relative to app.py
    icon: str  # a Material icon, as st.Page takes it
    section: str  # the sidebar group
    default: bool = False


HOME = "Home"

PAGES: tuple[Page, ...] = (
    Page(HOME, "Home", "app_pages/0_Home.py", ":material/home:", "", default=True),
    Page("Lessons", "Lessons", "app_pages/6_Lessons.py", ":material/school:", "Learn"),
    Page("Assumptions", "Assumptions", "app_pages/7_Assumptions.py", ":material/rule:", "Learn"),
    Page("Latent_overlap", "Latent overlap", "app_pages/1_Latent_overlap.py", ":material/scatter_plot:", "Lab"),
    Page(
        "Correlation_shift", "Correlation shift", "app_pages/2_Correlation_shift.py", ":material/trending_down:", "Lab"
    ),
    Page("User_objectives", "User objectives", "app_pages/3_User_objectives.py", ":material/group:", "Lab"),
    Page("Analytic_toy", "Analytic toy", "app_pages/4_Analytic_toy.py", ":material/functions:", "Lab"),
    Page("Interventions", "Interventions", "app_pages/8_Interventions.py", ":material/add_task:", "Lab"),
    Page("Data", "Data", "app_pages/5_Data.py", ":material/dataset:", "Lab"),
)


def by_key(key: str) -> Page:
    for page in PAGES:
        if page.key == key:
            return page
    raise CausalPrefError(f"no page {key!r}; the app's pages are {sorted(page_keys())}")


def file_of(key: str) -> str:
    """What st.page_link / st.switch_page take for the page with this key."""
    return by_key(key).file


def page_keys() -> tuple[str, ...]:
    return tuple(page.key for page in PAGES)


def page_files() -> dict[str, str]:
    """Page key -> file, for the few callers that must hand Streamlit a file."""
    return {page.key: page.file for page in PAGES}
