"""DeepSeek-R1's whole pipeline in order (R1 §2.3, §2.4), one command: ``r1lab pipeline tiny``.

Each step writes one folder under ``out`` (default ``runs/pipeline``) and hands it on:

1. ``r1_zero``: R1-Zero, GRPO from the base with the rule rewards (``tiny/r1_zero``); path 3
   of the cold start refines its outputs.
2. ``cold_start_data``: the three collection paths of §2.3.1 (``r1lab.cold_start``) on
   training questions; ``cold_start_data/data.jsonl`` holds the kept samples (with the path
   that produced each) and ``manifest.json`` what each path tried, kept and dropped, and why.
3. ``cold_start_sft``: SFT of the base on that set (``tiny/cold_start_sft``).
4. ``reasoning_rl``: reasoning RL from the SFT checkpoint with accuracy, format and
   language-consistency rewards (``tiny/reasoning_rl``, §2.3.2). Its ``final/`` is the
   stage-2 checkpoint that rejection sampling starts from.
5. ``rejection_sampling``: k samples per training question from the stage-2 checkpoint, kept
   when correct, readable, in one language, not cut off and not a duplicate, at most
   ``max_per_prompt`` per question (``r1lab.sampling``, §2.3.3), plus the tiny world's
   non-reasoning requests (``r1lab.sampling.RejectionData.non_reasoning``); ``data.jsonl`` and
   ``manifest.json`` (what each filter removed).
6. ``rejection_sft``: SFT of the *base* on that set for two epochs (``tiny/rejection_sft``,
   §2.3.3): the stage-3 model.
7. ``reward_model_helpful``, 8. ``reward_model_harmless``: the two reward models of §2.3.4
   (``tiny/reward_model_*``, TRL's RewardTrainer from the stage-3 model on
   ``data/preferences/``).
9. ``all_scenario_rl``: RL for all scenarios from the stage-3 model, rule rewards on reasoning
   prompts and the two reward models on general ones (``tiny/all_scenario_rl``): the tiny R1.
10. ``distill_data``: the teacher (step 9's model) sampled on training questions and filtered
    as in step 5 (§2.4: the final model's samples), plus non-reasoning requests.
11. ``distill_sft``: SFT of the small student on them (``tiny/distill``), arm (b) of §4.1.
12. ``student_rl``: R1-Zero-style RL on the student (``tiny/student_rl``), arm (a), given
    the minutes steps 10 and 11 took (``time_budget_minutes``).
13. ``distill_rl``: RL after distillation (``tiny/distill_rl``), arm (c).
14. ``results``: every model on held-out questions and general prompts (paper protocol):
    ``results/results.json``, ``results.md`` (the paper's comparison in miniature) and
    ``results.png``.

A step whose output is complete is skipped; a training step killed part-way resumes from its
newest checkpoint (``r1lab.train.run``); the data steps write their files atomically, the
manifest last, so a killed one is redone (rejection sampling continues from its last whole
chunk). ``out/pipeline.json`` records the seed, the budget and the minutes of every attempt
of each step, written as each attempt ends, killed or not; a step's minutes are the sum of the
attempts its output continues (R1 §4.1 compares the student's RL with distillation at equal
cost, so a killed and resumed sampling step costs all its attempts). ``seed`` seeds every step,
so seeds 0, 1, 2 are three independent pipelines (each in its own ``out``).

``budget`` sizes the steps: ``quick`` (the default) fits the whole pipeline in about half an
hour on 2 CPU cores (shorter RL runs, fewer sampled questions, a smaller held-out set;
``benchmarks/pipeline_tiny.py`` measures it); ``full`` runs the recipes as they are, as the
benchmarks do.

What a step computes lives in the module that teaches it (``r1lab.cold_start.
collect_cold_start``, ``r1lab.sampling.sample_stage_2``, ``r1lab.eval.evaluate_model``,
``r1lab.train.run``); this module orders the steps, skips and resumes them, and hands each
the earlier steps' folders as typed recipe overrides (``{"model": path}``, never a
``"model=path"`` string that YAML would re-read: a ``" #"`` in ``out`` would cut it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from r1lab.cold_start import ColdStartData, ColdStartError, collect_cold_start
from r1lab.eval import Evaluation, evaluate_model
from r1lab.sampling import DATA, MANIFEST, RejectionData, SamplingError, sample_stage_2

DEFAULT_OUT = Path("runs/pipeline")


class PipelineError(RuntimeError):
    """A step cannot go on; the message says why and what to change."""


@dataclass(frozen=True)
class Budget:
    """How big each step is: recipe overrides per training step and the data steps' sizes."""

    name: str
    what: str
    train: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Step name -> recipe overrides (``key=value``), applied before the caller's."""
    cold_start: ColdStartData = ColdStartData()
    rejection: RejectionData = RejectionData()
    distill: RejectionData = RejectionData(seed=11)
    """The teacher's samples (step ``distill_data``): other training questions than step 5's."""
    evaluation: Evaluation = Evaluation()


BUDGETS = {
    "quick": Budget(
        "quick", "about 15 minutes on 2 CPU cores: 40% of the RL steps or fewer, a quarter of "
                 "the sampled questions, 200 held-out questions",
        train={"r1_zero": ("trainer.max_steps=80", "trainer.save_steps=20"),
               "reasoning_rl": ("trainer.max_steps=40", "trainer.save_steps=10"),
               "reward_model_helpful": ("task.n=2000",),
               "reward_model_harmless": ("task.n=2000",),
               "all_scenario_rl": ("trainer.max_steps=40", "trainer.save_steps=10"),
               "distill_rl": ("trainer.max_steps=40", "trainer.save_steps=10")},
        cold_start=ColdStartData(questions=1000, prompted=150),
        rejection=RejectionData(questions=1000),
        distill=RejectionData(questions=1000, seed=11),
        evaluation=Evaluation(questions=200, general=200, general_k=2)),
    "full": Budget("full", "the recipes as they are, as the benchmarks run them: several "
                           "times longer"),
}
BUDGET_NAMES = tuple(BUDGETS)


@dataclass(frozen=True)
class Context:
    """What a step is run with."""

    name: str
    """The step's name."""
    folder: Path
    """The step's own folder."""
    folders: dict[str, Path]
    """Every step's folder, by name (a step reads the earlier ones')."""
    seed: int
    budget: Budget
    overrides: tuple[str, ...] = ()
    """Extra recipe overrides for a training step (``key=value``, YAML values: the caller's
    ``--set``), e.g. a shorter run."""
    progress: bool = True
    minutes: Mapping[str, float | None] = field(default_factory=dict)
    """Minutes each finished step took, all its attempts (``pipeline.json``); None where
    unknown."""


@dataclass(frozen=True)
class Step:
    """One stage of the pipeline: what it is, how to run it, and how to tell it is done."""

    name: str
    what: str
    run: Callable[[Context], None]
    done: Callable[[Path], bool]
    """done(folder): the step's output is complete."""


def _final(folder: Path) -> Path:
    """The trained model of a training step's run folder."""
    from r1lab.train.run_folder import FINAL_DIR

    return folder / FINAL_DIR


def _trained(folder: Path) -> bool:
    # The runner saves the tokenizer after the model: its config marks a complete final/.
    return (_final(folder) / "tokenizer_config.json").exists()


Input = Callable[[Context], Mapping[str, object]]
"""A training step's input: recipe fields (dotted keys) and their typed values, from the
context (an earlier step's folder, the minutes steps took)."""


@dataclass(frozen=True)
class Training:
    """A training step: a shipped recipe, run with overrides written from the context."""

    recipe: str
    inputs: tuple[Input, ...] = ()

    def overrides(self, ctx: Context) -> list[str | Mapping[str, object]]:
        """The inputs, then the budget's overrides, the seed, the caller's and the step's
        folder (a later one wins). What the pipeline writes is typed (``load_recipe`` sets
        it as it is); only the budget's and the caller's ``key=value`` are read as YAML."""
        return [*(line(ctx) for line in self.inputs), *ctx.budget.train.get(ctx.name, ()),
                {"trainer.seed": ctx.seed}, *ctx.overrides, {"output_dir": str(ctx.folder)}]

    def __call__(self, ctx: Context) -> None:
        from r1lab.train import run

        run(self.recipe, self.overrides(ctx), progress=ctx.progress)


def _train(recipe: str, *inputs: Input) -> Training:
    """A training step on ``recipe``, fed ``inputs`` (``STEPS`` reads as a list)."""
    return Training(recipe, inputs)


def _model_of(step: str) -> Input:
    return lambda ctx: {"model": str(_final(ctx.folders[step]))}


def _rows_of(step: str) -> Input:
    return lambda ctx: {"task.source": str(ctx.folders[step] / DATA)}


def _reward_model_of(step: str, name: str) -> Input:
    """The all-scenario recipe's reward model ``name``: the one ``step`` trained."""
    return lambda ctx: {f"reward_models.{name}.model": str(_final(ctx.folders[step]))}


def distillation_minutes(minutes: Mapping[str, float | None]) -> float | None:
    """What arm (b) cost: the teacher's sampling plus the student's SFT (None if unknown)."""
    parts = [minutes.get("distill_data"), minutes.get("distill_sft")]
    return None if None in parts else round(sum(parts), 2)


def _student_budget(ctx: Context) -> Mapping[str, object]:
    """Arm (a) gets the minutes arm (b) took (R1 §4.1 compares them at equal cost)."""
    spent = distillation_minutes(ctx.minutes)
    if spent is None:
        raise PipelineError("the student's RL is given the minutes distillation took, but "
                            f"{ctx.folders['distill_data'].parent / RECORD} does not record "
                            "them for distill_data and distill_sft: delete those two step "
                            "folders and re-run the same command (both are redone and timed)")
    return {"time_budget_minutes": spent}


def _recipe_model(recipe: str) -> Path:
    """The model a shipped recipe starts from (the base, the student), as a folder."""
    from r1lab.sources import resolved_model
    from r1lab.train import load_recipe

    return Path(resolved_model(load_recipe(recipe).model))


def _collect_step(ctx: Context) -> None:
    base = _recipe_model("tiny/r1_zero")  # the base R1-Zero and the cold start start from
    try:
        collect_cold_start(base, _final(ctx.folders["r1_zero"]), ctx.folder, ctx.seed,
                           ctx.budget.cold_start, ctx.progress)
    except ColdStartError as error:
        raise PipelineError(str(error)) from None


def _sample_step(ctx: Context) -> None:
    sample_stage_2(_final(ctx.folders["reasoning_rl"]), ctx.folder, ctx.seed,
                   ctx.budget.rejection, ctx.progress)


def _distill_data_step(ctx: Context) -> None:
    # The same sampler and filters as rejection sampling (R1 §2.4: "the 800k samples curated
    # with DeepSeek-R1", i.e. §2.3.3's procedure), from the final model.
    sample_stage_2(_final(ctx.folders["all_scenario_rl"]), ctx.folder, ctx.seed,
                   ctx.budget.distill, ctx.progress)


def _manifest_written(folder: Path) -> bool:
    return (folder / MANIFEST).exists()


STEPS = (
    Step("r1_zero", "R1-Zero: GRPO from the base, rule rewards (tiny/r1_zero)",
         _train("tiny/r1_zero"), _trained),
    Step("cold_start_data", "cold-start data: few-shot, direct prompting, refined R1-Zero",
         _collect_step, _manifest_written),
    Step("cold_start_sft", "cold-start SFT of the base (tiny/cold_start_sft)",
         _train("tiny/cold_start_sft", _rows_of("cold_start_data")), _trained),
    Step("reasoning_rl", "reasoning RL + language consistency (tiny/reasoning_rl)",
         _train("tiny/reasoning_rl", _model_of("cold_start_sft")), _trained),
    Step("rejection_sampling", "rejection sampling of the stage-2 checkpoint (r1lab.sampling)",
         _sample_step, _manifest_written),
    Step("rejection_sft", "SFT of the base on reasoning + non-reasoning rows "
                          "(tiny/rejection_sft)",
         _train("tiny/rejection_sft", _rows_of("rejection_sampling")), _trained),
    Step("reward_model_helpful", "helpfulness reward model from the stage-3 model "
                                 "(tiny/reward_model_helpful)",
         _train("tiny/reward_model_helpful", _model_of("rejection_sft")), _trained),
    Step("reward_model_harmless", "harmlessness reward model from the stage-3 model "
                                  "(tiny/reward_model_harmless)",
         _train("tiny/reward_model_harmless", _model_of("rejection_sft")), _trained),
    Step("all_scenario_rl", "RL for all scenarios: rules + reward models (tiny/all_scenario_rl)",
         _train("tiny/all_scenario_rl", _model_of("rejection_sft"),
                _reward_model_of("reward_model_helpful", "helpful_rm"),
                _reward_model_of("reward_model_harmless", "harmless_rm")), _trained),
    Step("distill_data", "the final model's filtered samples for the student (r1lab.sampling)",
         _distill_data_step, _manifest_written),
    Step("distill_sft", "(b) distillation: SFT of the small student (tiny/distill)",
         _train("tiny/distill", _rows_of("distill_data")), _trained),
    Step("student_rl", "(a) R1-Zero-style RL on the student, (b)'s minutes (tiny/student_rl)",
         _train("tiny/student_rl", _student_budget), _trained),
    Step("distill_rl", "(c) RL on the distilled student (tiny/distill_rl)",
         _train("tiny/distill_rl", _model_of("distill_sft")), _trained),
    Step("results", "every model on held-out questions and general prompts: the table",
         lambda ctx: write_results(ctx),  # defined below, with the table it writes
         lambda folder: (folder / RESULTS_JSON).exists()),
)
STEP_NAMES = tuple(step.name for step in STEPS)
RECORD = "pipeline.json"
"""``out/pipeline.json``: the seed and budget the folder was made with; ``steps``: each finished
step's minutes, all attempts; ``attempts``: each attempt's minutes (finished steps or not)."""


# ---------------------------------------------------------------- the results table

RESULTS_JSON = "results.json"
RESULTS_MD = "results.md"
RESULTS_PNG = "results.png"


@dataclass(frozen=True)
class Row:
    """One model of the results table."""

    label: str
    line: str
    """``R1`` (the teacher's line: base to stage 4) or ``student``."""
    step: str | None
    """The step that trained it; None for a shipped model (``recipe``'s)."""
    steps: tuple[str, ...] = ()
    """The steps whose minutes the row costs (data steps included)."""
    recipe: str | None = None
    """For a shipped model: the recipe whose ``model`` it is."""


ROWS = (
    Row("base", "R1", None, recipe="tiny/r1_zero"),
    Row("R1-Zero", "R1", "r1_zero", ("r1_zero",)),
    Row("cold-start SFT", "R1", "cold_start_sft", ("cold_start_data", "cold_start_sft")),
    Row("reasoning RL (stage 2)", "R1", "reasoning_rl", ("reasoning_rl",)),
    Row("rejection sampling + SFT (stage 3)", "R1", "rejection_sft",
        ("rejection_sampling", "rejection_sft")),
    Row("RL for all scenarios (stage 4, the teacher)", "R1", "all_scenario_rl",
        ("reward_model_helpful", "reward_model_harmless", "all_scenario_rl")),
    Row("student", "student", None, recipe="tiny/student_rl"),
    Row("(a) student + R1-Zero RL", "student", "student_rl", ("student_rl",)),
    Row("(b) distilled student", "student", "distill_sft", ("distill_data", "distill_sft")),
    Row("(c) distilled student + RL", "student", "distill_rl", ("distill_rl",)),
)


def write_results(ctx: Context) -> dict:
    """Evaluate every model of ``ROWS`` and write ``results.json``, ``results.md`` and
    ``results.png`` into the step's folder; returns the results."""
    from r1lab.plots import pipeline_results
    from r1lab.progress import bar
    from r1lab.files import write_atomically

    rows = []
    for row in bar(iterable=ROWS, desc="results", unit="model", disable=not ctx.progress):
        model = _final(ctx.folders[row.step]) if row.step else _recipe_model(row.recipe)
        spent = [ctx.minutes.get(step) for step in row.steps]
        rows.append({"label": row.label, "line": row.line, "step": row.step,
                     "model": _shown(model),
                     "minutes": None if not spent or None in spent else round(sum(spent), 2),
                     **evaluate_model(model, ctx.budget.evaluation)})
    results = {"seed": ctx.seed, "budget": ctx.budget.name,
               "evaluation": asdict(ctx.budget.evaluation),
               "student_rl_budget_minutes": distillation_minutes(ctx.minutes),
               "steps": {name: ctx.minutes.get(name) for name in STEP_NAMES[:-1]},
               "rows": rows}
    ctx.folder.mkdir(parents=True, exist_ok=True)
    write_atomically(ctx.folder / RESULTS_MD, results_table(results))
    figure = pipeline_results(results)
    figure.savefig(ctx.folder / RESULTS_PNG, dpi=110)
    write_atomically(ctx.folder / RESULTS_JSON, json.dumps(results, indent=1))
    return results


def _shown(path: Path) -> str:
    """A model folder as the table shows it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def results_table(results: Mapping) -> str:
    """The results as a markdown table (the paper's comparison in miniature)."""
    def rate(value, ci=None):
        if value is None:
            return "–"
        shown = f"{100 * value:.1f}"
        return shown + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else "")

    evaluation = results["evaluation"]
    lines = [
        f"Seed {results['seed']}, budget `{results['budget']}`. Held out: "
        f"{evaluation['questions']} test questions ({100 * evaluation['zh_fraction']:.0f}% in "
        f"Chinese) x {evaluation['k']} samples and {evaluation['general']} general prompts x "
        f"{evaluation['general_k']}, T 0.6, top-p 0.95; rates in %, 95% CIs over prompts. "
        "Minutes: the steps that made the row's model (data steps included).",
        "",
        "| model | pass@1 | format | mixing | helpful | harmless | CoT tokens | minutes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        tokens = row["mean_reasoning_tokens"]
        lines.append(" | ".join([
            f"| {row['label']}", rate(row["pass_at_1"], row["pass_at_1_ci"]),
            rate(row["format_rate"]), rate(row["mixing_rate"]),
            rate(row["helpful"], row["helpful_ci"]), rate(row["harmless"], row["harmless_ci"]),
            "–" if tokens is None else f"{tokens:.0f}",
            "–" if row["minutes"] is None else f"{row['minutes']:.1f}"]) + " |")
    if results.get("student_rl_budget_minutes") is not None:
        lines += ["", f"(a) was given the minutes (b) took: "
                      f"{results['student_rl_budget_minutes']:.1f}."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- running


RECORD_FIX = ("delete it to start the record over (finished steps are still skipped, each "
              "checked by its own folder; only their minutes are forgotten)")


def _read_record(out: Path) -> dict | None:
    """``out/pipeline.json`` (None if there is none), or ``PipelineError`` saying in one line
    what is damaged and what to do. A round-2 record (minutes under ``steps``, no
    ``attempts``) reads as one attempt per finished step."""
    from r1lab.files import DamagedFile, read_json

    path = out / RECORD
    if not path.exists():
        return None
    try:
        record = read_json(path, RECORD_FIX, keys=("seed", "budget", "steps"))
        if isinstance(record["steps"], dict):
            record.setdefault("attempts", {name: [minutes] for name, minutes in
                                           record["steps"].items()})
        problem = _record_problem(record)
        if problem:
            raise DamagedFile(path, problem, RECORD_FIX)
    except DamagedFile as error:
        raise PipelineError(str(error)) from None
    return record


def _record_problem(record: dict) -> str | None:
    """What is wrong with a record's fields, or None."""
    def minutes(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0

    if isinstance(record["seed"], bool) or not isinstance(record["seed"], int):
        return f"has seed {record['seed']!r}, not an integer"
    if not isinstance(record["budget"], str):
        return f"has budget {record['budget']!r}, not a name"
    for key, ok in (("steps", minutes),
                    ("attempts", lambda v: isinstance(v, list) and all(map(minutes, v)))):
        if not isinstance(record[key], dict):
            return f"has {key} {json.dumps(record[key])[:40]}, not a JSON object"
        bad = [name for name, value in record[key].items() if not ok(value)]
        if bad:
            return f"has {key} of {bad[0]} {record[key][bad[0]]!r}, not minutes"
    return None


def _for_the_pipeline(message: str, step: str, folder: Path) -> str:
    """A step's refusal with its advice rewritten for ``r1lab pipeline``: a step's folder is
    ``--out``'s, so ``r1lab train``'s ``--set output_dir=…`` cannot move it."""
    message = re.sub(r"output_dir \(--set output_dir=[^)]*\)", "--out", message)
    message = re.sub(r"\s*\(?--set output_dir=[^\s)]*\)?", "", message).rstrip(". ")
    return f"{message} (step {step} of r1lab pipeline: its folder is {folder}, under --out)"


def run_pipeline(out: str | Path = DEFAULT_OUT, seed: int = 0, until: str | None = None,
                 overrides: Mapping[str, Sequence[str]] | None = None,
                 budget: str | Budget = "quick", progress: bool = True,
                 log: Callable[[str], None] = print) -> dict[str, Path]:
    """Run the tiny world's steps in order into ``out``; return each step's folder.

    ``until`` stops after that step; ``budget`` is ``quick``, ``full`` (``BUDGETS``) or a
    ``Budget``; ``overrides`` maps a training step's name to extra recipe overrides
    (``{"r1_zero": ["trainer.max_steps=50"]}``, after the budget's). Steps already complete
    are skipped; ``out`` is refused if an earlier run made it with another seed or budget.
    """
    import time

    from r1lab.files import write_atomically
    from r1lab.train.run_folder import RunFolderError

    if until is not None and until not in STEP_NAMES:
        raise ValueError(f"until must be one of {', '.join(STEP_NAMES)}; got {until!r}")
    unknown = sorted(set(overrides or {}) - set(STEP_NAMES))
    if unknown:
        raise ValueError(f"overrides name no step: {', '.join(unknown)}; the steps are "
                         f"{', '.join(STEP_NAMES)}")
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ValueError(f"budget must be one of {', '.join(BUDGET_NAMES)}; got {budget!r}")
        budget = BUDGETS[budget]
    out = Path(out)
    record = _read_record(out) or {"seed": seed, "budget": budget.name, "steps": {},
                                   "attempts": {}}
    if (record["seed"], record["budget"]) != (seed, budget.name):
        raise PipelineError(f"{out} holds a pipeline of seed {record['seed']} and budget "
                            f"{record['budget']!r}: its finished steps would be mixed with "
                            f"seed {seed}, budget {budget.name!r}. Give another --out, or the "
                            f"same --seed and --budget to continue it")
    folders = {step.name: out / step.name for step in STEPS}
    for number, step in enumerate(STEPS, 1):
        folder = folders[step.name]
        head = f"[{number}/{len(STEPS)}] {step.name}: {step.what}"
        if step.done(folder):
            log(f"{head}: done, skipped ({folder})")
        else:
            log(f"{head} -> {folder}")
            if not folder.exists():  # nothing of the earlier attempts is left to continue
                record["attempts"][step.name] = []
            record["steps"].pop(step.name, None)  # not finished now
            started = time.perf_counter()
            try:
                step.run(Context(step.name, folder, folders, seed, budget,
                                 tuple((overrides or {}).get(step.name, ())), progress,
                                 dict(record["steps"])))
            except (RunFolderError, SamplingError) as error:
                raise PipelineError(_for_the_pipeline(str(error), step.name, folder)) from None
            finally:  # killed or failed too: a resumed step costs every attempt (R1 §4.1)
                minutes = round((time.perf_counter() - started) / 60, 2)
                if folder.exists():  # nothing written, nothing to count: out stays reusable
                    attempts = record["attempts"].setdefault(step.name, [])
                    attempts.append(minutes)
                    if step.done(folder):
                        record["steps"][step.name] = round(sum(attempts), 2)
                    write_atomically(out / RECORD, json.dumps(record, indent=1))
            attempts = record["attempts"].get(step.name, [])
            log(f"    {step.name} took {minutes:.1f} min" + (
                f" ({sum(attempts):.1f} over {len(attempts)} attempts)"
                if len(attempts) > 1 else ""))
        if step.name == until:
            break
    return folders
