"""What the multi-seed benchmarks share: one result file per job, kept while the code and
weights it ran on are unchanged, gathered into one committed results file.

A job's result is ``RUNS/results/<job>.json``, stamped with what it ran on (recipe and weights
hashes, protocol); a job whose saved stamp matches is not run again, so a killed benchmark
continues where it stopped, and several workers (``--jobs … --no-gather``, one torch thread
each) can share the cores. A job the committed results file already holds under the same
stamp is carried from it, not run again (``--fresh`` runs it). A plain run gathers every job
into the results file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from r1lab.files import write_atomically


def run_jobs(chosen: Sequence[str], every: Sequence[str], run_job: Callable[[str], dict],
             stamp: dict, folder: Path, out: Path, gather: bool = True,
             fresh: bool = False) -> dict | None:
    """Run the ``chosen`` jobs not yet done under ``stamp`` (done: in ``folder``, or, unless
    ``fresh``, in the committed ``out`` made under the same stamp: ``carry_committed``); then,
    if ``gather``, write every job's result into ``out`` (stamp first) and return it. Stops
    with a message naming what is missing or stale."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    if not fresh:
        for job in carry_committed(out, folder, stamp):
            print(f"[{job}] carried from {out.name} (same stamp; --fresh runs it again)")
    for job in chosen:
        saved = folder / f"{job}.json"
        if saved.is_file() and json.loads(saved.read_text()).get("stamp") == stamp:
            continue
        print(f"[{job}]", flush=True)
        write_json(saved, {"stamp": stamp, "job": job,
                           "torch_threads": torch.get_num_threads(), **run_job(job)})
    if not gather:
        return None
    missing = [job for job in every if not (folder / f"{job}.json").is_file()]
    if missing:
        raise SystemExit(f"jobs not done yet: {', '.join(missing)}")
    results = {**stamp, "jobs": {}}
    for job in every:
        result = json.loads((folder / f"{job}.json").read_text())
        if result.pop("stamp") != stamp:
            raise SystemExit(f"{job} ran with other recipes or weights: delete "
                             f"{folder / (job + '.json')} and rerun it")
        results["jobs"][job] = result
    write_json(out, results)
    print(f"wrote {out}")
    return results


def carry_committed(out: Path, folder: Path, stamp: dict) -> list[str]:
    """Copy into ``folder`` the results of the jobs the committed results file ``out`` holds,
    when it was made under ``stamp`` (the same recipes, weights and protocol) and ``folder``
    has no result of that job: a benchmark that gains an arm runs only the new jobs, and the
    gathered file keeps the others as committed (where the stamp hashes the arms, as
    ``findings.py``'s does, a new arm changes the stamp and every job runs again). Returns the
    jobs carried.

    >>> import tempfile
    >>> tmp = Path(tempfile.mkdtemp())
    >>> write_json(tmp / "out.json", {"seed": 1, "wall_minutes": 3.5,
    ...                               "jobs": {"a": {"job": "a", "x": 2}}})
    >>> carry_committed(tmp / "out.json", tmp / "runs", {"seed": 1}), carry_committed(
    ...     tmp / "out.json", tmp / "other", {"seed": 2})
    (['a'], [])
    >>> json.loads((tmp / "runs" / "a.json").read_text())
    {'stamp': {'seed': 1}, 'job': 'a', 'x': 2}
    """
    if not out.is_file():
        return []
    committed = json.loads(out.read_text(encoding="utf-8"))
    jobs = committed.pop("jobs", {})
    wanted = json.loads(json.dumps(stamp))  # as JSON: tuples are lists there
    # Keys the stamp lacks are figures written after gathering (findings' wall_minutes): not
    # part of what the jobs were made under.
    if {key: committed.get(key) for key in wanted} != wanted:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    carried = []
    for job, result in jobs.items():
        if not (folder / f"{job}.json").is_file():
            write_json(folder / f"{job}.json", {"stamp": stamp, **result})
            carried.append(job)
    return carried


def write_careful(path: Path, rows: dict, config, seed: int) -> None:
    """The careful-chain control's SFT set at ``path``, unless written: as many of the
    generator's careful chains (``r1lab.cold_start.careful_rows``) and requests as a sampled
    set's ``rows`` counts (its manifest's ``rows``), drawn as ``config`` and ``seed`` drew it."""
    from r1lab.cold_start import careful_rows
    from r1lab.files import write_jsonl

    if not path.is_file():
        write_jsonl(path, careful_rows(rows["reasoning"], rows["non-reasoning"], config,
                                       seed=seed))


def wait_for(path: Path, timeout_s: float, first: str, poll_s: float = 15) -> None:
    """Another worker may be writing ``path``: poll until it exists; after ``timeout_s``
    stop, saying what to run ``first``."""
    import time

    deadline = time.time() + timeout_s
    while not path.exists():
        if time.time() >= deadline:
            raise SystemExit(f"no {path} after {timeout_s:.0f} s: run {first} first")
        time.sleep(poll_s)


def wait_for_job(folder: Path, job: str, timeout_s: float = 7200) -> dict:
    """Another worker may be running ``job``: wait for its result in ``folder``, then read it."""
    path = folder / f"{job}.json"
    wait_for(path, timeout_s, f"the '{job}' job (--jobs {job})")
    return json.loads(path.read_text())


def write_json(path: Path, data: dict) -> None:
    """``data`` as the benchmarks' JSON (indent 1, UTF-8 text, a final newline), written
    atomically: a killed benchmark never leaves half a results file."""
    write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def main(argv, description: str, every: Sequence[str], run_job: Callable[[str], dict],
         stamp: Callable[[], dict], runs: Path, out: Path,
         ship: tuple[str, Callable[[dict], None]]) -> int:
    """The benchmarks' shared command line: --jobs, --out, --ship (``ship`` = its help and
    the function that copies the models), --no-gather."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--jobs", nargs="+", default=list(every), choices=list(every))
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--ship", action="store_true", help=ship[0])
    parser.add_argument("--no-gather", action="store_true",
                        help="a worker beside others: write only the jobs' own results")
    parser.add_argument("--fresh", action="store_true",
                        help="run the jobs again even where the committed results file holds "
                             "them under the same stamp")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results = run_jobs(args.jobs, every, run_job, stamp(), runs / "results", args.out,
                       gather=not args.no_gather, fresh=args.fresh)
    if results is not None and args.ship:
        ship[1](results)
    return 0


def summary_by_language(report, fields, max_new_tokens: int) -> dict:
    """A held-out ``r1lab.eval.Report`` as the benchmarks store it: ``fields`` and the
    readability figures (``r1lab.cold_start.readability``) over all questions, with each
    question's correct count, then over the English and the Chinese questions alone."""
    from r1lab.cold_start import readability
    from r1lab.eval import Report

    def summary(rep, records) -> dict:
        out = {name: getattr(rep, name) for name in fields}
        out["pass_at_1_ci"] = list(out["pass_at_1_ci"])
        return {**out, **readability(records, max_new_tokens), "samples": len(records)}

    result = {"all": {**summary(report, report.records),
                      "correct_per_question": report.per_question()}}
    for lang in ("en", "zh"):
        records = [r for r in report.records if r["lang"] == lang]
        result[lang] = summary(Report.from_records(records, report.k, report.settings), records)
    return result


MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
               "tokenizer_config.json")


def copy_model(source: Path, target: Path) -> None:
    """A trained model's weights, config and tokenizer (not its checkpoints) into ``target``."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for file in MODEL_FILES:
        if (source / file).is_file():
            shutil.copyfile(source / file, target / file)


def card_text(name: str, what: str, regenerate: str, measured: str, weights_sha256: str,
              regenerate_note: str = "") -> str:
    """A shipped model's card (its README.md): what it is, the command that regenerates it
    (and a note on it), what the benchmark measured on it, and the SHA-256 of its weights.

    >>> print(card_text("tiny-x", "A model.", "python benchmarks/x.py --ship",
    ...                 "Measured (`benchmarks/results/x.json`):\\n- pass@1 0.500.", "ab12"))
    # tiny-x
    <BLANKLINE>
    A model.
    <BLANKLINE>
    Regenerate: `python benchmarks/x.py --ship`.
    <BLANKLINE>
    Measured (`benchmarks/results/x.json`):
    - pass@1 0.500.
    <BLANKLINE>
    Weights SHA-256: `ab12`.
    <BLANKLINE>
    """
    note = f" ({regenerate_note})" if regenerate_note else ""
    return (f"# {name}\n\n{what}\n\nRegenerate: `{regenerate}`{note}.\n\n{measured}\n\n"
            f"Weights SHA-256: `{weights_sha256}`.\n")


def ship_model(source: Path, target: Path, card: Callable[[str], str]) -> None:
    """Copy the model in ``source`` into ``target`` (``copy_model``) and write its card,
    ``card`` of the copied weights' SHA-256, as ``target/README.md``."""
    from r1lab.tiny.card import weights_sha256

    copy_model(source, target)
    write_atomically(target / "README.md", card(weights_sha256(target)))
    print(f"shipped {target}")
