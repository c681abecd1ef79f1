"""`make lab` really starts JupyterLab: served on a free loopback port, GET /lab is 200, with
the lab's own settings; the notebooks name the kernel that is installed, and what a saved
notebook shows is final (progress bars), labelled (widgets' static copies) and actionable."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_jupyterlab(tmp_path):
    port, token = free_port(), "r1lab-test-token"
    env = {**os.environ, "JUPYTER_TOKEN": token, "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    env.pop("DISPLAY", None)  # headless: must not try to open a browser
    log = open(tmp_path / "lab.log", "w+")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}",
         "LAB_ARGS=--ServerApp.port_retries=0"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        status, body, deadline = None, "", time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/lab?token={token}", timeout=5
                ) as response:
                    status, body = response.status, response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert status == 200, f"no JupyterLab on port {port}; make lab printed:\n{output}"
        assert "JupyterLab" in body
        assert "No display here" in output  # headless hint, then Jupyter's own URL
        assert f"http://127.0.0.1:{port}/lab" in output
        # the lab's own settings: no pop-up asking to fetch Jupyter news on the first screen
        plugin = "@jupyterlab/apputils-extension:notification"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab/api/settings/{plugin}"
                                    f"?token={token}", timeout=10) as response:
            schema = json.loads(response.read())["schema"]["properties"]
        # overrides.json sets the defaults the learner's settings start from
        assert schema["fetchNews"]["default"] == "false"
        assert schema["checkForUpdates"]["default"] is False
    finally:
        stop(server)
        log.close()


def stop(server: subprocess.Popen) -> None:
    """Stop make and the Jupyter server it exec'd (one process group)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_every_notebook_names_the_installed_kernel():
    """A notebook whose kernelspec differs from the installed one opens already modified in
    JupyterLab (it rewrites the metadata, and saving would change the file)."""
    from jupyter_client.kernelspec import KernelSpecManager

    manager = KernelSpecManager()
    wrong = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        kernelspec = json.loads(path.read_text(encoding="utf-8"))["metadata"]["kernelspec"]
        installed = manager.get_kernel_spec(kernelspec["name"])
        expected = {"name": kernelspec["name"], "display_name": installed.display_name,
                    "language": installed.language}
        if kernelspec != expected:
            wrong[path.name] = (kernelspec, expected)
    assert wrong == {}, f"set these notebooks' metadata.kernelspec to the installed one: {wrong}"


# Library messages a learner can do nothing about: they must not reach a committed output.
UNACTIONABLE = ("Failed to load CPU gemm_4bit_forward",)


def test_no_committed_output_carries_a_warning_a_learner_cannot_act_on():
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", ""))
                found += [f"{path.name} cell {i}: {m}" for m in UNACTIONABLE if m in text]
    assert found == []


def test_bitsandbytes_optional_cpu_kernel_warning_is_filtered_at_its_logger():
    import logging

    import r1lab  # noqa: F401  (installs the filter)

    logger = logging.getLogger("bitsandbytes.backends.cpu.ops")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1,
                               "Failed to load CPU gemm_4bit_forward from kernels-community: %s",
                               ("no kernels",), None)
    other = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "something else", (),
                              None)
    assert not logger.filter(record) and logger.filter(other)
    # and in a fresh process importing what the notebooks import, nothing is printed
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", "import r1lab, bitsandbytes, peft"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0 and UNACTIONABLE[0] not in result.stderr, result.stderr


BAR = re.compile(r"(\d+)%\|[^|\n]*\|\s*(\d+)/(\d+)")


def test_no_committed_progress_bar_is_stalled():
    """A saved bar must read its final count: ``GRPO: 0%| | 0/200`` above "training done"
    looks stalled (tqdm's notebook bar saves its first text unless r1lab.progress keeps it)."""
    stalled = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", "")) + "".join(
                    output.get("data", {}).get("text/plain", ""))
                for line in text.split("\n"):
                    shown = line.split("\r")[-1]  # a terminal bar redraws itself after \r
                    for match in BAR.finditer(shown):
                        if match[2] != match[3]:
                            stalled.append(f"{path.name} cell {i}: {shown.strip()}")
    assert stalled == []


def run_in_kernel(source: str) -> list[dict]:
    """Run ``source`` as one cell in a fresh kernel; its outputs as a saved notebook keeps them."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return notebook.cells[0].outputs


def test_progress_bar_saves_its_final_state_in_a_notebook():
    outputs = run_in_kernel(
        "from r1lab.progress import KeptBar, bar\n"
        "with bar(total=5, desc='GRPO', unit='step') as b:\n"
        "    assert isinstance(b, KeptBar)\n"
        "    for _ in range(5):\n"
        "        b.update(1)\n")
    [shown] = outputs
    assert "application/vnd.jupyter.widget-view+json" in shown["data"]  # the live bar
    assert shown["data"]["text/plain"].startswith("GRPO: 100%|")
    assert "5/5" in shown["data"]["text/plain"]


def test_show_explorer_labels_its_static_copy():
    outputs = run_in_kernel(
        "import ipywidgets as widgets, matplotlib.pyplot as plt\n"
        "from r1lab.notebook import STATIC_NOTE, show_explorer\n"
        "fig = plt.figure(); plt.plot([0, 1]); plt.close(fig)\n"
        "show_explorer(widgets.IntSlider(3), fig)\n"
        "show_explorer(widgets.Text('abc'), 'parse: 14')\n")
    figure, text = (output["data"] for output in outputs)
    for data in (figure, text):
        assert set(data) == {"application/vnd.jupyter.widget-view+json", "text/html",
                             "text/plain"}
        assert "Static copy" in data["text/html"] and data["text/plain"].startswith("Static copy")
    assert 'src="data:image/png;base64,' in figure["text/html"]
    assert "<pre>parse: 14</pre>" in text["text/html"]


def test_browser_tier_without_a_browser_is_skipped_with_its_reason():
    """Never silently passed: where Chromium is missing pytest's summary names it and the fix."""
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_browser.py",
         "-k", "03_grpo_math"],
        cwd=ROOT, env={**os.environ, "PATH": "/nonexistent"}, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SKIPPED" in result.stdout and "make browser" in result.stdout, result.stdout
    assert " passed" not in result.stdout
