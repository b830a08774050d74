"""Real-browser tests: Debian's chromium drives `streamlit run` headless.

Opens every page, moves the rho slider on Correlation shift with the keyboard and sees the
OOD accuracy change; opens a teacher link with hidden controls; walks lesson 3 (predict,
reveal, follow the link to the full page). Screenshots and timings go to test-output/browser/. Skipped (with the
reason) where chromium or playwright is missing, except under CI, where .ci/run installs both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGES = {"home": "", "latent_overlap": "Latent_overlap", "correlation_shift": "Correlation_shift",
         "user_objectives": "User_objectives", "analytic_toy": "Analytic_toy", "lessons": "Lessons",
         "assumptions": "Assumptions"}

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if os.environ.get("CI"):
    missing = [name for name, ok in (("chromium", CHROMIUM), ("playwright", sync_playwright)) if not ok]
    assert not missing, f"CI must have {missing} for the browser test (.ci/run installs them)"
pytestmark = pytest.mark.skipif(not CHROMIUM or sync_playwright is None,
                                reason="needs Debian's chromium (apt install chromium) and playwright (pip)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "CAUSALPREF_CACHE_DIR": str(tmp_path_factory.mktemp("browser-cache"))}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("streamlit did not answer /_stcore/health within 60 s")
    yield url, started
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def _settle(page, timeout_ms=180_000):
    """Wait until Streamlit has finished running the script (no 'running' status widget)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout_ms)
    page.wait_for_timeout(500)


def _metric(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_every_page_renders_and_the_rho_slider_moves_ood_accuracy(server, browser):
    url, started = server
    OUT.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    timings = {}

    page.goto(url)
    page.wait_for_selector("h1", timeout=60_000)
    timings["streamlit_run_to_first_page_s"] = round(time.perf_counter() - started, 2)
    for name, path in PAGES.items():
        page.goto(f"{url}/{path}")
        begun = time.perf_counter()
        if name in ("correlation_shift", "user_objectives"):     # first visit trains the sweep
            page.wait_for_selector('[data-testid="stMetricValue"]', timeout=240_000)
            timings[f"{name}_first_visit_s"] = round(time.perf_counter() - begun, 2)
        _settle(page)
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0, f"{name} shows a traceback"
        assert page.locator("h1").count() >= 1, f"{name} has no title"

    page.goto(f"{url}/{PAGES['correlation_shift']}")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
    _settle(page)
    before = _metric(page, "OOD accuracy")
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    begun = time.perf_counter()
    page.keyboard.press("End")                    # rho = 0.95, the far end of the grid
    page.wait_for_function(
        "(old) => { const m = [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
        ".find(e => e.innerText.includes('OOD accuracy'));"
        " return m && !m.innerText.includes(old); }", arg=before, timeout=30_000)
    timings["cached_slider_move_in_browser_s"] = round(time.perf_counter() - begun, 2)
    _settle(page)
    after = _metric(page, "OOD accuracy")
    page.screenshot(path=str(OUT / "correlation_shift_after_slider.png"), full_page=True)
    assert "rho=0.95" in page.url
    assert float(after.rstrip("%")) < float(before.rstrip("%")) - 5, (before, after)
    (OUT / "timings.json").write_text(json.dumps({**timings, "ood_before": before, "ood_after": after}, indent=2))


def test_a_teacher_link_hides_its_controls_and_keeps_hiding_them_after_a_change(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/{PAGES['analytic_toy']}?rho=0.5&hide=rho,a_hat")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
    _settle(page)
    assert not page.locator(".st-key-rho").is_visible() and not page.locator(".st-key-a_hat").is_visible()
    assert page.locator(".st-key-a").is_visible()
    page.locator('.st-key-a input[type="range"]').focus()
    page.keyboard.press("End")                    # a = 1: a visible control still works
    page.wait_for_function("() => location.search.includes('a=1')", timeout=30_000)
    _settle(page)
    page.screenshot(path=str(OUT / "teacher_link_toy.png"), full_page=True)
    assert "hide=rho" in page.url.replace("%2C", ",") and "rho=0.5" in page.url
    assert not page.locator(".st-key-rho").is_visible()


def test_lesson3_open_predict_reveal_and_follow_the_link(server, browser):
    url, _ = server
    OUT.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    page.goto(f"{url}/Lessons?lesson=3")
    page.get_by_role("heading", name=re.compile(r"^3\. Correlated factors")).wait_for(timeout=60_000)
    _settle(page)
    assert page.get_by_text("What happened").count() == 0, "the result shows before the prediction"
    reveal = page.get_by_role("button", name="Reveal the result")
    assert reveal.is_enabled()
    page.screenshot(path=str(OUT / "lesson3-1-question.png"), full_page=True)

    guess = page.locator('[data-testid="stSlider"] input[type="range"]').first
    guess.focus()
    for _ in range(15):                    # 50% -> 65%, one step per key press
        page.keyboard.press("ArrowRight")
    _settle(page)
    assert page.locator('[data-testid="stSlider"]').first.get_by_text("65%").count() >= 1
    page.screenshot(path=str(OUT / "lesson3-2-predicted.png"), full_page=True)

    reveal.click()                         # trains the Correlation shift sweep on first visit
    page.get_by_text("What happened").wait_for(timeout=240_000)
    _settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    measured = _metric(page, "Measured by the engine")
    assert re.fullmatch(r"\d+\.\d%", measured), measured
    assert _metric(page, "Your guess") == "65%"
    assert page.get_by_text(f"ranks {measured} of the OOD pairs correctly").count() >= 1
    page.set_viewport_size({"width": 1400, "height": 3000})    # Streamlit scrolls inside the app: show it all
    page.wait_for_timeout(1000)
    page.screenshot(path=str(OUT / "lesson3-3-revealed.png"), full_page=True)

    page.get_by_role("link", name=re.compile(r"Open Correlation shift at ρ = 0\.9")).click()
    page.wait_for_url(re.compile(r"/Correlation_shift\?"), timeout=60_000)
    page.locator('[data-testid="stMetric"]', has_text="OOD accuracy").wait_for(timeout=120_000)
    _settle(page)
    assert "rho=0.9" in page.url               # scale=likert is the default, which Streamlit leaves out
    assert _metric(page, "OOD accuracy") == measured          # the same sweep, the same number
    page.screenshot(path=str(OUT / "lesson3-4-full-page.png"), full_page=True)
