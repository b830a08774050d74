"""The app (app.py: the navigation) and its home page, driven headless with AppTest."""

import ast
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from causalpref.ui import pages

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
OLD_PATHS = (
    "Latent_overlap",
    "Correlation_shift",
    "User_objectives",
    "Analytic_toy",
    "Data",
    "Lessons",
    "Assumptions",
)  # the URL paths the old pages/ directory gave; links in the wild use them


def test_home_renders_with_device_badge_diagrams_and_page_links():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not at.error
    assert "causalpref" in at.title[0].value
    assert any("Compute device: CPU" in c.value or "Compute device: CUDA" in c.value for c in at.sidebar.caption)
    assert len(at.get("graphviz_chart")) == 4
    assert {link.label for link in at.get("page_link")} >= {
        "Latent overlap",
        "Correlation shift (Experiment 1)",
        "User objectives (Experiment 2)",
        "Analytic toy",
    }
    assert {link.proto.page for link in at.get("page_link")} == set(OLD_PATHS) | {"Interventions"}


def test_the_navigation_is_the_table_of_pages_with_home_titled_home():
    at = AppTest.from_file(APP, default_timeout=60).run()
    registered = list(at._registered_pages.values())  # what st.navigation registered (AppTest's record)
    assert [(p["page_name"], p["url_pathname"]) for p in registered] == [
        (page.title, "" if page.default else page.key) for page in pages.PAGES
    ]
    assert registered[0]["page_name"] == "Home" and registered[0]["url_pathname"] == ""
    assert {p["url_pathname"] for p in registered} >= set(OLD_PATHS)
    for page in pages.PAGES:
        assert (ROOT / page.file).is_file(), page.file
        assert Path(registered[pages.PAGES.index(page)]["script_path"]).resolve() == (ROOT / page.file).resolve()


def _code_strings(path: Path) -> list[str]:
    """The string literals of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_only_the_table_of_pages_names_a_page_file():
    """The engine and the pages name pages by key; causalpref/ui/pages.py alone knows the files."""
    named = re.compile(r"pages/\d+_\w+\.py")
    files = (
        list((ROOT / "causalpref").rglob("*.py"))
        + list((ROOT / "app_pages").glob("*.py"))
        + [ROOT / "app.py", ROOT / "appkit.py"]
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in files
        if path != ROOT / "causalpref" / "ui" / "pages.py" and any(named.search(text) for text in _code_strings(path))
    ]
    assert offenders == []


def test_no_pages_directory_beside_app_py():
    """Streamlit runs a fresh server in its old pages/-directory mode until some session has run
    app.py's st.navigation: a teacher link as the server's first request then got the old sidebar
    ("app", no sections). The pages live in app_pages/ so that st.navigation is the only mode."""
    assert not (ROOT / "pages").exists()


def test_no_deploy_button():
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert re.search(r'(?m)^toolbarMode = "(viewer|minimal)"', config)


def test_show_me_the_failure_opens_correlation_shift_at_high_rho():
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.button[0].click().run()
    assert not at.exception
    # AppTest follows st.switch_page: the correlation-shift page now runs with rho = 0.9
    assert at.title[0].value == "Correlation shift"
    assert at.query_params.get("rho") in ("0.9", ["0.9"])
    assert at.select_slider(key="rho").value == 0.9
