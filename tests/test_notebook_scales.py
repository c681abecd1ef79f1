"""What a tiny-only notebook says at every other scale works (issue: the real-model rung, item 8).

Each notebook that stops outside the tiny world stops in its first cell with one line from
``r1lab.notebook.AT_OTHER_SCALES``; every ``r1lab train`` command that line names resolves
(``--dry-run``: no weights, no data fetched), and every other ``r1lab`` command parses.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from r1lab import cli
from r1lab.notebook import AT_OTHER_SCALES, SCALES, ScaleError, require_tiny

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
OTHER_SCALES = [scale for scale in SCALES if scale != "tiny"]


def first_code_cell(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def tiny_only_notebooks() -> dict[str, Path]:
    out = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        match = re.search(r"require_tiny\(\"(\w+)\"", first_code_cell(path))
        if match:
            out[match.group(1)] = path
    return out


def advice(notebook: str, scale: str) -> str:
    with pytest.raises(ScaleError) as stopped:
        require_tiny(notebook, environ={"R1LAB_SCALE": scale})
    return str(stopped.value)


def commands(text: str) -> list[list[str]]:
    """The ``r1lab`` commands in a line's backticks, as argv after ``r1lab``."""
    out = []
    for quoted in re.findall(r"`([^`]+)`", text):
        words = shlex.split(quoted)
        if "r1lab" in words:
            out.append(words[words.index("r1lab") + 1:])
    return out


def test_every_tiny_only_notebook_reads_its_line_from_the_table():
    found = tiny_only_notebooks()
    assert sorted(found) == sorted(AT_OTHER_SCALES), (
        "notebooks that call require_tiny and the table's entries differ")
    for name, path in found.items():
        assert f'require_tiny("{name}")' in first_code_cell(path), (
            f"{path.name}: call require_tiny(\"{name}\") so its advice comes from "
            "r1lab.notebook.AT_OTHER_SCALES")


@pytest.mark.parametrize("notebook", sorted(AT_OTHER_SCALES))
def test_every_scale_gets_one_line_with_a_command(notebook):
    for scale in OTHER_SCALES:
        line = advice(notebook, scale)
        assert "\n" not in line and f"R1LAB_SCALE is {scale}" in line
        assert commands(line), f"notebook {notebook} at {scale} names no r1lab command: {line}"


@pytest.mark.parametrize("notebook", sorted(AT_OTHER_SCALES))
def test_every_named_command_resolves(notebook, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # files a named `r1lab sample` would write land here
    parser = cli.build_parser()
    for scale in OTHER_SCALES:
        sampled = False
        for argv in commands(advice(notebook, scale)):
            parser.parse_args(argv)  # a typo in an option fails here (SystemExit)
            if argv[0] == "sample":
                sampled = True
            if argv[0] != "train":
                continue
            if sampled:  # its data file is what the `r1lab sample` before it writes
                for i, word in enumerate(argv):
                    if word.startswith("task.source=") and argv[i - 1] == "--set":
                        made = tmp_path / word.split("=", 1)[1]
                        made.parent.mkdir(parents=True, exist_ok=True)
                        made.write_text(json.dumps({"prompt": "p", "completion": "c"}) + "\n")
            code = cli.main([*argv, "--dry-run"])
            assert code == 0, (f"notebook {notebook} at {scale}: `r1lab {' '.join(argv)}` "
                               f"does not resolve:\n{capsys.readouterr().err}")


def test_a_notebook_missing_from_the_table_is_told_how_to_fix_it():
    with pytest.raises(ValueError, match="AT_OTHER_SCALES"):
        require_tiny("99", environ={"R1LAB_SCALE": "small"})
    assert require_tiny("99", environ={}) == "tiny"


def test_a_small_rung_notebook_runs_only_at_small_with_its_data_built(monkeypatch):
    import r1lab.small
    from r1lab.notebook import require_small

    for scale in ("tiny", "single_gpu"):
        with pytest.raises(ScaleError, match=f"R1LAB_SCALE is {scale}: run `make small`, then "
                                             "`R1LAB_SCALE=small make lab`"):
            require_small("04b", {"R1LAB_SCALE": scale})
    assert require_small("04b", {"R1LAB_SCALE": "small"}) == "small"  # make test built it
    monkeypatch.setattr(r1lab.small, "read_manifest", lambda part: None)  # as if never built
    with pytest.raises(r1lab.small.SmallScaleMissing, match="is not built: run make small"):
        require_small("04b", {"R1LAB_SCALE": "small"})


def test_each_notebook_runs_under_nbval_at_the_scale_its_first_cell_requires():
    from conftest import notebook_scale  # tests/conftest.py, the suite's one conftest

    scales = {path.stem: notebook_scale(path) for path in sorted(NOTEBOOKS.glob("*.ipynb"))}
    assert scales["04b_r1_zero_small"] == "small"
    assert scales["04_r1_zero"] == "tiny" and scales["01_template"] is None
    assert sorted(name.split("_")[0] for name, s in scales.items() if s == "tiny") == sorted(
        AT_OTHER_SCALES), "a require_tiny notebook the skip rule does not see"
