"""The install is what the README promises: one locked set, in pip and conda form."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
GPU_IMAGE = {"torch": "2.11.0", "transformers": "5.17.0", "triton": "3.6.0"}
MUST_PIN = ["torch", "trl", "transformers", "peft", "accelerate", "datasets", "triton",
            "bitsandbytes", "math-verify", "jupyterlab", "ipywidgets", "matplotlib", "nbval",
            "pytest", "selenium"]


def pins(lines):
    """{canonical name: version} from 'name==version' lines; other lines must be comments."""
    found = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and re.fullmatch(r"[0-9][0-9A-Za-z.+!]*", version), f"not an exact pin: {line}"
        found[canonicalize_name(name)] = version
    return found


@pytest.fixture(scope="module")
def lock():
    return pins((ROOT / "requirements-lock.txt").read_text().splitlines())


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_lock_pins_the_tested_set(lock):
    missing = [name for name in MUST_PIN if canonicalize_name(name) not in lock]
    assert not missing, f"requirements-lock.txt lacks {missing}"
    assert lock["torch"] == "2.13.0"  # the CPU wheel on this machine; unpinned torch pulls CUDA


def test_environment_yml_holds_the_same_set(lock):
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = pins(line for line in pip_section if not line.startswith("-e"))
    only_lock = sorted(set(lock) - set(conda_pins))
    only_env = sorted(set(conda_pins) - set(lock))
    changed = sorted(n for n in set(lock) & set(conda_pins) if lock[n] != conda_pins[n])
    assert not (only_lock or only_env or changed), (
        f"environment.yml and requirements-lock.txt drifted apart: only in the lock {only_lock}, "
        f"only in environment.yml {only_env}, different versions {changed}. Run `make lock`."
    )
    assert "-e ." in pip_section


def test_every_dependency_range_admits_the_lock_and_the_gpu_image(lock, project):
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += [Requirement(r) for r in extra]
    for req in requirements:
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is a dependency but is not in requirements-lock.txt"
        assert req.specifier.contains(Version(lock[name]), prereleases=True), (req, lock[name])
        if name in GPU_IMAGE:
            assert req.specifier.contains(Version(GPU_IMAGE[name])), (req, "GPU image")


def test_readme_has_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(?:\$ )?(make \w+)\s*$", setup, flags=re.M)
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci and "set -euo pipefail" in ci
    assert "make browser" in ci  # the browser tier's documented install, before the tests
