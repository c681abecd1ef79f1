"""The browser tier: JupyterLab as a learner sees it, in headless Chromium driven by Selenium.

``make lab``'s server is started on a free loopback port, serving a copy of ``notebooks/`` (a
notebook run here must never be autosaved over the committed one), with its own user settings,
workspaces and an empty trust database, so every notebook opens as it would for a new learner:
untrusted, with its committed outputs. Chromium and its driver are Debian's (``make browser``);
nothing is downloaded. Without them the tier is skipped and pytest's summary says why.

Screenshots of each step go to the test's temporary folder; when a check fails its message names
them and carries the page's visible text, so CI's log keeps what the learner would have seen.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from test_lab_server import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                       reason="browser tests need Chromium and chromedriver on PATH; "
                              "install them with `make browser` (Debian)"),
]

TOKEN = "r1lab-browser-token"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``make lab`` on a free port, serving a copy of the notebooks; yields its base URL."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", home / "notebooks")
    port = free_port()
    env = {**os.environ, "JUPYTER_TOKEN": TOKEN, "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    env.pop("DISPLAY", None)
    log = open(home / "lab.log", "w+")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}",
         f"LAB_DIR={home / 'notebooks'}",
         "LAB_ARGS=--ServerApp.port_retries=0 --NotebookNotary.db_file=:memory:"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            log.seek(0)
            pytest.fail(f"make lab did not serve on port {port}:\n{log.read()}")
        yield url
    finally:
        stop(server)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


class Page:
    """One notebook open in JupyterLab, with the checks' shared waits and evidence."""

    def __init__(self, driver, folder: Path, name: str):
        self.driver, self.folder, self.name, self.shots = driver, folder, name, []

    def open(self, url: str) -> None:
        """Open the notebook; return once all its cells show and its kernel is idle."""
        cells = len(json.loads((ROOT / "notebooks" / self.name).read_text("utf-8"))["cells"])
        self.driver.get(f"{url}/lab/tree/{self.name}?token={TOKEN}&reset")
        self.wait_for(lambda: self.js("return document.querySelectorAll("
                                      "'.jp-NotebookPanel .jp-Cell').length") == cells,
                      f"the notebook's {cells} cells to appear", 120)
        self.wait_for_idle()
        time.sleep(1)  # JupyterLab updates the metadata just after the kernel starts

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait_for(self, condition, what: str, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.5)
        self.fail(f"waited {seconds} s for {what}")

    def kernel_status(self) -> str:
        """The status bar's kernel state: "Idle", "Busy", "Initializing", ... ("" if none)."""
        text = self.js("const e = document.querySelector('.jp-StatusBar-Widget .jp-KernelStatus,"
                       " #jp-main-statusbar');"
                       "return e ? e.innerText : '';") or ""
        return "Idle" if "| Idle" in text else text

    def wait_for_idle(self, seconds: float = 120) -> None:
        self.wait_for(lambda: self.kernel_status() == "Idle", "the kernel to be idle", seconds)

    def shot(self, step: str) -> Path:
        path = self.folder / f"{Path(self.name).stem}-{len(self.shots):02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        self.shots.append(path)
        return path

    def fail(self, message: str):
        self.shot("failed")
        text = self.js("const n = document.querySelector('.jp-NotebookPanel');"
                       "return n ? n.textContent : document.body.textContent;") or ""
        pytest.fail(f"{self.name}: {message}\nscreenshots: {[str(p) for p in self.shots]}\n"
                    f"visible text (first 3,000 characters):\n{text[:3000]}")

    def dirty(self) -> bool:
        return self.js("return document.querySelector('.lm-TabBar-tab.jp-mod-current')"
                       ".classList.contains('jp-mod-dirty');")

    def images(self, within: str = ".jp-NotebookPanel") -> list[dict]:
        """The output images under ``within``: whether each decoded, and its bytes' prefix."""
        return self.js("""
            return [...document.querySelectorAll(arguments[0] + ' .jp-OutputArea-output img')]
              .map(i => ({loaded: i.complete && i.naturalWidth > 0, src: i.src}));""", within)

    def cell_count(self) -> int:
        return self.js("return document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')"
                       ".length;")

    def run_all(self) -> None:
        """Run > Run All Cells, from the menu bar, as a learner would."""
        from selenium.webdriver.common.by import By

        menus = self.driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
        next(m for m in menus if m.text == "Run").click()
        items = self.driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")
        next(i for i in items if i.text == "Run All Cells").click()


def committed_images(path: Path) -> int:
    """How many images the committed outputs hold (figures, and labelled static copies)."""
    count = 0
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            count += "image/png" in data or "<img " in "".join(data.get("text/html", ""))
    return count


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_opens_unmodified_with_its_figures(notebook, lab, browser, tmp_path):
    page = Page(browser, tmp_path, notebook.name)
    page.open(lab)
    page.shot("opened")
    if page.dirty():
        page.fail("opened already marked modified (JupyterLab changed it on opening)")
    expected = committed_images(notebook)

    def rendered():
        found = page.images()
        return len(found) == expected and all(image["loaded"] for image in found)

    page.wait_for(rendered, f"its {expected} committed figures to render (found "
                            f"{len(page.images())})", 60)
    # a widget saved without its kernel shows a labelled static copy, never its bare repr
    text = page.js("return document.querySelector('.jp-NotebookPanel').textContent;")
    assert "interactive(children=" not in text and "VBox(children=" not in text
    # a saved progress bar reads its last count (training's bar: "GRPO: 100%| ... 200/200")
    bars = page.js("""
        const outputs = [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output')]
          .filter(o => /\\d+%\\|/.test(o.textContent));
        if (outputs.length) outputs[0].scrollIntoView({block: 'center'});
        return outputs.map(o => o.textContent.trim());""")
    if bars:
        page.shot("progress-bar")
    for bar in bars:
        counts = re.search(r"(\d+)/(\d+)", bar)
        if not counts or counts[1] != counts[2]:
            page.fail(f"a saved progress bar looks stalled: {bar}")


def test_notebook_03_explorer_runs_and_redraws(lab, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    name = "03_grpo_math.ipynb"
    page = Page(browser, tmp_path, name)
    page.open(lab)
    explorer = "#" + page.js("""
        const cell = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')]
          .find(c => c.textContent.includes('show_explorer(widgets.interactive'));
        if (!cell) return null;
        cell.id = cell.id || 'r1lab-explorer';
        return cell.id;""")
    show_output = ("document.querySelector(arguments[0] + ' .jp-OutputArea')"
                   ".scrollIntoView({block: 'center'});")
    page.js(show_output, explorer)
    shown = page.js("return document.querySelector(arguments[0]).textContent;", explorer)
    if len(page.images(explorer)) != 1 or "Static copy" not in shown:
        page.fail("the explorer, not run yet, must show one labelled static copy")
    page.shot("static-copy")

    started = time.monotonic()
    page.run_all()
    code_cells = page.cell_count()
    page.wait_for(lambda: page.kernel_status() == "Idle" and page.js("""
        return [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
          .filter(p => /\\[\\d+\\]/.test(p.textContent)).length;""") == code_cells,
                  f"Run All to execute all {code_cells} code cells", 300)
    run_s = time.monotonic() - started
    page.js(show_output, explorer)
    page.shot("ran-all")
    errors = page.js("""
        return [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output')]
          .map(o => o.textContent).filter(t => /Traceback|\\w+Error\\b/.test(t));""")
    if errors:
        page.fail(f"Run All raised: {errors[0][:2000]}")

    sliders = browser.find_elements(By.CSS_SELECTOR, f"{explorer} .widget-slider .noUi-handle")
    if len(sliders) != 6:
        page.fail(f"the explorer shows {len(sliders)} sliders, not 6")
    figures = page.images(explorer)
    if len(figures) != 1 or "Static copy" in page.js(
            "return document.querySelector(arguments[0]).textContent;", explorer):
        page.fail(f"the explorer's cell shows {len(figures)} figures (and must not show its "
                  "static copy once it runs): only one figure may show the explorer's state")
    before = figures[0]["src"]

    page.js(show_output, explorer)
    ActionChains(browser).drag_and_drop_by_offset(sliders[0], 60, 0).perform()
    after = page.wait_for(lambda: (lambda now: now[0]["src"] if len(now) == 1 and now[0]["loaded"]
                                   and now[0]["src"] != before else None)(page.images(explorer)),
                          "the explorer's figure to redraw after moving a slider", 60)
    page.shot("slider-moved")
    assert base64.b64decode(after.split(",", 1)[1]) != base64.b64decode(before.split(",", 1)[1])
    assert len(page.images(explorer)) == 1
    print(f"notebook 03: Run All took {run_s:.0f} s in the browser")
