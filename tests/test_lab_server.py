"""`make lab` really starts JupyterLab: served on a free loopback port, GET /lab is 200."""

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
