"""Benchmark: a class opening one teacher link at once.

    .venv/bin/python benchmarks/classroom.py [--sessions 1 8] [--write docs/performance.md]

For each N: a fresh `streamlit run app.py` on 127.0.0.1 with an empty result cache, then N
headless chromium sessions (Debian's chromium, driven by playwright) open the same link to
Correlation shift, whose sweep is not cached. The script prints how many trainings ran (the
server logs one line per computation, see run/flight.py: with single-flight it must be 1), the
time until every session shows the result, the p50/p95 time a cached slider move takes to show
(each session moves ρ to the end of the grid, all at once), and the server's peak memory
(resident set, sampled every 0.2 s). Each N is printed beside N = 1 of the same run. No
assertion on time: the numbers are printed, and with --write they replace the classroom
block of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from doc_block import write_block

ROOT = Path(__file__).resolve().parents[1]
LINK = "Correlation_shift?rho=0.8"
METRIC = "OOD accuracy"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Server:
    def __init__(self, cache: Path, log: Path):
        self.port = _free_port()
        env = {**os.environ, "CAUSALPREF_CACHE_DIR": str(cache), "CAUSALPREF_TRAINING_LOG": str(log)}
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        self.process = subprocess.Popen(
            command + ["--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.peak, self._stop = 0, threading.Event()
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            self.close()
            raise SystemExit("streamlit did not answer /_stcore/health within 90 s")
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes(self.process.pid))
            time.sleep(0.2)

    def close(self) -> None:
        self._stop.set()
        self.process.terminate()
        self.process.wait(timeout=20)


# the text of the metric with this label, or null while the page does not show it
METRIC_JS = (
    "(label) => { const m = [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
    ".find(e => e.innerText.includes(label)); return m ? m.innerText : null; }"
)


def one_class(browser, n: int, timeout_s: float) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="classroom-"))
    log = workdir / "trainings.jsonl"
    server = Server(workdir / "cache", log)
    try:
        pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(n)]
        started = time.perf_counter()
        for page in pages:
            page.goto(f"{server.url}/{LINK}", wait_until="commit")
        shown = []
        for page in pages:  # each waits from the common start: the time until every one shows it
            page.wait_for_function(METRIC_JS, arg=METRIC, timeout=timeout_s * 1000)
            shown.append(time.perf_counter() - started)
        time.sleep(1.0)  # let every session finish its run before the slider moves
        before = [page.evaluate(METRIC_JS, METRIC) for page in pages]
        moved = [0.0] * n
        for page in pages:
            page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
        begun = time.perf_counter()
        for page in pages:
            page.keyboard.press("End")  # every student moves rho at once (cached: rho = 0.95)
        for i, page in enumerate(pages):
            page.wait_for_function(
                "([label, old]) => { const m = [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
                ".find(e => e.innerText.includes(label)); return m && m.innerText !== old; }",
                arg=[METRIC, before[i]],
                timeout=timeout_s * 1000,
            )
            moved[i] = time.perf_counter() - begun
        moves = sorted(moved)
        trainings = len(log.read_text().splitlines()) if log.exists() else 0
        for page in pages:
            page.context.close()
        return {
            "sessions": n,
            "trainings": trainings,
            "all_shown_s": max(shown),
            "slider_p50_s": statistics.median(moves),
            "slider_p95_s": moves[min(n - 1, round(0.95 * (n - 1)))],
            "peak_server_mb": server.peak / 2**20,
        }
    finally:
        server.close()
        shutil.rmtree(workdir, ignore_errors=True)


def table(rows: list[dict]) -> str:
    first = rows[0]
    lines = [
        "sessions  trainings  all shown (s)  slider p50 (s)  slider p95 (s)  peak server (MB)",
    ]
    for r in rows:
        ratio = "" if r is first else f"  (x{r['all_shown_s'] / first['all_shown_s']:.1f} of N=1)"
        lines.append(
            f"{r['sessions']:>8}  {r['trainings']:>9}  {r['all_shown_s']:>13.1f}  {r['slider_p50_s']:>14.2f}  "
            f"{r['slider_p95_s']:>14.2f}  {r['peak_server_mb']:>16.0f}{ratio}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8], help="N per round; N = 1 first")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a session may wait for a result")
    parser.add_argument("--write", type=Path, help="replace the classroom block of this markdown file")
    args = parser.parse_args()
    if any(n < 1 or n > 40 for n in args.sessions):
        raise SystemExit("--sessions: each N between 1 and 40 (bounded: one machine, loopback only)")
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("needs Debian's chromium (apt install chromium)")
    sessions = [1] + [n for n in args.sessions if n != 1]
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        for n in sessions:
            rows.append(one_class(browser, n, args.timeout))
            print(json.dumps(rows[-1]), flush=True)
        browser.close()
    text = table(rows)
    print(text)
    if args.write:
        write_block(args.write, "classroom", text, f"python benchmarks/classroom.py --write {args.write.as_posix()}")
        print(f"wrote the table into {args.write}")


if __name__ == "__main__":
    main()
