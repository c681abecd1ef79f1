"""`make lab` really starts JupyterLab: served on a free loopback port, GET /lab is 200, with
the lab's own settings; the notebooks name the kernel that is installed."""

import json
import os
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
