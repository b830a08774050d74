"""What visitors type or upload is shown as text: links, images, HTML and formulas in a query
parameter, a file name, a column name or a value come out literally (checked by rendering what
the page shows with a CommonMark renderer); unknown query parameters are named, not obeyed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from causalpref.ui.safe import JOINER, brief, plain, visitor_text

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES_WITH_CONTROLS = (
    "app_pages/1_Latent_overlap.py",
    "app_pages/2_Correlation_shift.py",
    "app_pages/3_User_objectives.py",
    "app_pages/4_Analytic_toy.py",
    "app_pages/5_Data.py",
)
INJECTIONS = (
    "![pixel](http://evil.example/p.png)",
    "[log in here](https://evil.example/login)",
    "<img src=http://evil.example/p.png>",
    "<script>alert(1)</script>",
    "**bold** _it_ `code` $x^2$",
    "http://evil.example/bare www.evil.example",
    "# heading\n> quote\n- item",
)
RENDER = MarkdownIt("commonmark")


def renders_literally(shown: str) -> bool:
    """No element but the paragraph: no link, image, emphasis, code, heading or raw HTML."""
    html = RENDER.render(shown)
    return not any(tag in html for tag in ("<a ", "<img", "<em>", "<strong>", "<code>", "<h1", "<ul", "<blockquote"))


@pytest.mark.parametrize("text", INJECTIONS)
def test_plain_text_renders_as_itself(text):
    shown = plain(text)
    assert renders_literally(shown)
    assert "<script>" not in RENDER.render(shown) and "\n" not in shown
    assert " ".join(text.split()) in shown.replace("\\", "").replace(JOINER, "")  # every character is still there


def test_unescaped_injections_would_render_so_the_check_can_fail():
    assert not any(renders_literally(text) for text in INJECTIONS[:2] + INJECTIONS[4:5])


def test_brief_cuts_long_quoted_values_and_keeps_short_ones():
    long = "x" * 100
    assert brief(f"row 3: field 'a' is '{long}'") == f"row 3: field 'a' is '{'x' * 40}…'"
    assert brief('header "col1,col2"') == 'header "col1,col2"'
    assert len(visitor_text(f"value '{long}'")) < 60


def _page(page: str, params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _shown_texts(at) -> list[str]:
    return [e.value for part in (at.caption, at.sidebar.caption, at.error, at.info, at.markdown) for e in part]


@pytest.mark.parametrize("page", PAGES_WITH_CONTROLS)
def test_unknown_parameters_and_hide_values_are_named_as_text_on_every_page(page):
    at = _page(page, {"a.b": "1", "teacher": "1", "hide": INJECTIONS[0] + "," + INJECTIONS[1]})
    assert not at.exception
    shown = _shown_texts(at)
    ignored = [text for text in shown if text.startswith("Ignored in the link")]
    assert ignored and "a\\.b" in ignored[0]
    echoed = [text for text in shown if "evil" in text]
    if page != "app_pages/5_Data.py":  # the Data page has no controls a link may hide
        assert echoed, "the hide names should be named in the teacher tools"
    assert all(renders_literally(text) for text in echoed)


def test_a_file_with_injected_column_names_and_values_is_echoed_as_text(tmp_path, monkeypatch):
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", str(tmp_path))
    path = tmp_path / "![x](http%3A%2F%2Fevil.example%2Fp.png).csv"
    header = ",".join(f'"{name}"' for name in ("[a](https://evil.example)", "![b](http://evil.example/b.png)"))
    path.write_text(header + "\n" + '"**x**","' + "y" * 200 + '"\n', encoding="utf-8")
    at = _page("app_pages/5_Data.py", {"path": str(path)})
    assert not at.exception
    shown = _shown_texts(at) + [s.value for s in at.subheader]
    echoed = [text for text in shown if "evil" in text or "yyyy" in text]
    assert echoed, "the page should name the file's fields"
    assert all(renders_literally(text) for text in echoed)
    assert not any("y" * 60 in text for text in shown)  # a value is echoed briefly, not whole


def test_the_config_refuses_foreign_hosts_and_hides_tracebacks():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert set(config["server"]["allowedHosts"]) == {"localhost", "127.0.0.1", "::1"}
    assert config["client"]["showErrorDetails"] == "none"
    assert 0 < config["server"]["maxUploadSize"] <= 100


@pytest.mark.skipif(os.name != "posix", reason="starts a real server on loopback")
def test_a_real_server_refuses_a_websocket_with_a_foreign_host(streamlit_server):
    host, port = streamlit_server
    assert _websocket_status(host, port, f"localhost:{port}", f"http://localhost:{port}") == 101
    assert _websocket_status(host, port, f"evil.example:{port}", "http://evil.example") != 101


def _websocket_status(host: str, port: int, host_header: str, origin: str) -> int:
    import base64
    import socket

    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host_header}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(request.encode())
        status_line = s.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


@pytest.fixture(scope="module")
def streamlit_server(tmp_path_factory):
    """`streamlit run app.py` with the project's config, on 127.0.0.1 and a free port."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CAUSALPREF_CACHE_DIR": str(tmp_path_factory.mktemp("server-cache"))}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    process = subprocess.Popen(
        command + ["--server.address", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("streamlit did not answer /_stcore/health within 60 s")
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_in_a_real_browser_a_crafted_link_renders_as_text_and_fetches_nothing(streamlit_server):
    import shutil
    from urllib.parse import quote, urlparse

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not chromium:
        assert not os.environ.get("CI"), "CI must have chromium (.ci/run installs it)"
        pytest.skip("needs Debian's chromium")
    host, port = streamlit_server
    hide = quote(INJECTIONS[0] + "," + INJECTIONS[1] + "," + INJECTIONS[2])
    fetched = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("request", lambda r: fetched.append(r.url) if "evil" in (urlparse(r.url).hostname or "") else None)
        for path in ("Latent_overlap", "Analytic_toy"):
            page.goto(f"http://{host}:{port}/{path}?a.b=1&teacher=1&hide={hide}")
            page.get_by_text("Ignored in the link").wait_for(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            body = page.inner_text("body").replace(JOINER, "")
            assert "a.b" in body and "![pixel](http://evil.example/p.png)" in body  # shown, as typed
            assert page.locator('img[src*="evil"], a[href*="evil"]').count() == 0
        browser.close()
    assert fetched == []
