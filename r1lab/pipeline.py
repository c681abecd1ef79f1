"""DeepSeek-R1's stages in order (R1 §2.3), one command: ``r1lab pipeline tiny``.

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
   non-reasoning requests (``RejectionData.non_reasoning``); ``data.jsonl`` and
   ``manifest.json`` (what each filter removed).
6. ``rejection_sft``: SFT of the *base* on that set for two epochs (``tiny/rejection_sft``,
   §2.3.3): the stage-3 model, where the next stage (RL for all scenarios) starts.

A step whose output is complete is skipped; a training step killed part-way resumes from its
newest checkpoint (``r1lab.train.run``); the data step writes its files atomically, the
manifest last, so a killed one is redone. ``seed`` seeds every step, so seeds 0, 1, 2 are
three independent pipelines (each in its own ``out``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_OUT = Path("runs/pipeline")
MANIFEST = "manifest.json"
DATA = "data.jsonl"


class PipelineError(RuntimeError):
    """A step cannot go on; the message says why and what to change."""


@dataclass(frozen=True)
class ColdStartData:
    """Where the cold-start candidates come from (step ``cold_start_data``)."""

    questions: int = 2000
    """Training questions whose R1-Zero outputs path 3 refines."""
    prompted: int = 300
    """Of those, how many the base is prompted with on paths 1 and 2 (each)."""
    zh_fraction: float = 0.3
    """Share of the questions asked in Chinese."""
    seed: int = 5
    """Draws the questions (the train split; R1-Zero trained on seed 1's)."""


@dataclass(frozen=True)
class RejectionData:
    """What rejection sampling draws from the stage-2 checkpoint (step ``rejection_sampling``)."""

    questions: int = 4000
    """Training questions sampled (the paper: ~600k kept reasoning samples)."""
    zh_fraction: float = 0.5
    """Share asked in Chinese, as reasoning RL trained on."""
    seed: int = 7
    """Draws the questions (train split; other seeds than the earlier steps' draws)."""
    k: int = 4
    """Samples per question."""
    max_per_prompt: int = 2
    """Kept samples per question at most."""
    non_reasoning: float = 1.0
    """Non-reasoning rows per kept reasoning row. R1 has ~200k to ~600k, i.e. 1/3, by samples;
    the tiny world uses 1:1 because its replies are short (~10 tokens against ~117 for a
    chain): at 1/3 they were ~3% of the completion tokens and the tiny model did not learn them
    (notebook 07 measures both ratios)."""


@dataclass(frozen=True)
class Context:
    """What a step is run with."""

    folder: Path
    """The step's own folder."""
    folders: dict[str, Path]
    """Every step's folder, by name (a step reads the earlier ones')."""
    seed: int
    overrides: tuple[str, ...] = ()
    """Extra recipe overrides for a training step (``key=value``), e.g. a shorter run."""
    data: ColdStartData = ColdStartData()
    progress: bool = True
    rejection: RejectionData = RejectionData()


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


def _train(recipe: str, *inputs: Callable[[dict[str, Path]], str]):
    """A training step; each input override is written from the steps' folders."""
    def run_step(ctx: Context) -> None:
        from r1lab.train import run

        run(recipe, [*(line(ctx.folders) for line in inputs), f"trainer.seed={ctx.seed}",
                     *ctx.overrides, f"output_dir={ctx.folder}"], progress=ctx.progress)
    return run_step


def collect_cold_start(base_dir: Path, r1_zero_dir: Path, folder: Path, seed: int = 0,
                       config: ColdStartData = ColdStartData(), progress: bool = True) -> dict:
    """Run the three collection paths and write ``data.jsonl`` and ``manifest.json``.

    Paths 1 and 2 prompt the base (few-shot with readable long-CoT examples, in the
    question's language; a direct request for detailed, checked steps, opened with the
    format's marker); path 3 samples R1-Zero and refines its outputs (``cold_start.refine``).
    Every path keeps what is correct and readable (``cold_start.collect``). Returns the
    manifest.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from r1lab import cold_start
    from r1lab.eval import evaluate
    from r1lab.sampling import write_atomically
    from r1lab.tasks import ArithmeticConfig, generate
    from r1lab.tiny.card import MAX_NEW_TOKENS

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    r1_zero = AutoModelForCausalLM.from_pretrained(r1_zero_dir)
    pool = generate(config.questions, split="train", seed=config.seed,
                    config=ArithmeticConfig(zh_fraction=config.zh_fraction))
    prompted = pool[:config.prompted]

    def sample(model, problems, **kwargs):
        return evaluate(model, tokenizer, problems, k=1, max_new_tokens=MAX_NEW_TOKENS,
                        seed=seed, progress=progress, **kwargs).records

    by_lang = {lang: [p for p in prompted if p.lang == lang] for lang in ("en", "zh")}
    few_shot = [r for lang, problems in by_lang.items() if problems
                for r in sample(base, problems, template=cold_start.few_shot_template(lang))]
    paths = [
        cold_start.collect("few-shot prompting (base)", few_shot, MAX_NEW_TOKENS),
        cold_start.collect("direct prompting (base)", sample(
            base, prompted, template=cold_start.DIRECT_TEMPLATE,
            prefill=cold_start.DIRECT_PREFILL), MAX_NEW_TOKENS),
        cold_start.collect("refined R1-Zero outputs", sample(r1_zero, pool), MAX_NEW_TOKENS,
                           rewrite=cold_start.refine),
    ]
    rows = [{**sample_row, "path": path.name} for path in paths for sample_row in path.kept]
    total = len(rows)
    manifest = {
        "config": asdict(config), "seed": seed, "samples": total,
        "paths": [{"name": p.name, "tried": p.tried, "kept": len(p.kept),
                   "share": len(p.kept) / total if total else 0.0,
                   "dropped": dict(p.dropped.most_common())} for p in paths],
        "languages": {lang: sum(r["lang"] == lang for r in rows) for lang in ("en", "zh")},
    }
    if not total:
        raise PipelineError("no cold-start sample was kept, so there is nothing to fine-tune "
                            "on: " + "; ".join(f"{p.name}: 0 of {p.tried}, dropped "
                            + ", ".join(f"{why} {n}" for why, n in p.dropped.most_common(2))
                            for p in paths) + ". Train R1-Zero longer, or ask for more "
                            "questions (ColdStartData)")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / DATA, "".join(json.dumps(r, ensure_ascii=False) + "\n"
                                             for r in rows))
    write_atomically(folder / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest


def _collect_step(ctx: Context) -> None:
    from r1lab.train import load_recipe

    base = load_recipe("tiny/r1_zero").model  # the base R1-Zero and the cold start start from
    collect_cold_start(Path(base), _final(ctx.folders["r1_zero"]), ctx.folder, ctx.seed,
                       ctx.data, ctx.progress)


def sample_stage_2(model_dir: Path, folder: Path, seed: int = 0,
                   config: RejectionData = RejectionData(), progress: bool = True) -> dict:
    """Rejection-sample the stage-2 checkpoint into ``folder`` (``r1lab.sampling``); returns
    the manifest. A killed run resumes; a complete folder is read back."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from r1lab.sampling import SamplingConfig, rejection_sample
    from r1lab.tasks import ArithmeticConfig, generate
    from r1lab.tiny.card import MAX_NEW_TOKENS

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    problems = generate(config.questions, split="train", seed=config.seed,
                        config=ArithmeticConfig(zh_fraction=config.zh_fraction))
    sampling = SamplingConfig(k=config.k, max_new_tokens=MAX_NEW_TOKENS,
                              max_per_prompt=config.max_per_prompt, seed=seed,
                              non_reasoning=config.non_reasoning)
    return rejection_sample(model, tokenizer, problems, folder, sampling,
                            model_name=str(model_dir), progress=progress)


def _sample_step(ctx: Context) -> None:
    sample_stage_2(_final(ctx.folders["reasoning_rl"]), ctx.folder, ctx.seed, ctx.rejection,
                   ctx.progress)


STEPS = (
    Step("r1_zero", "R1-Zero: GRPO from the base, rule rewards (tiny/r1_zero)",
         _train("tiny/r1_zero"), _trained),
    Step("cold_start_data", "cold-start data: few-shot, direct prompting, refined R1-Zero",
         _collect_step, lambda folder: (folder / MANIFEST).exists()),
    Step("cold_start_sft", "cold-start SFT of the base (tiny/cold_start_sft)",
         _train("tiny/cold_start_sft",
                lambda folders: f"task.source={folders['cold_start_data'] / DATA}"), _trained),
    Step("reasoning_rl", "reasoning RL + language consistency (tiny/reasoning_rl)",
         _train("tiny/reasoning_rl",
                lambda folders: f"model={_final(folders['cold_start_sft'])}"), _trained),
    Step("rejection_sampling", "rejection sampling of the stage-2 checkpoint (r1lab.sampling)",
         _sample_step, lambda folder: (folder / MANIFEST).exists()),
    Step("rejection_sft", "SFT of the base on reasoning + non-reasoning rows "
                          "(tiny/rejection_sft)",
         _train("tiny/rejection_sft",
                lambda folders: f"task.source={folders['rejection_sampling'] / DATA}"),
         _trained),
)
STEP_NAMES = tuple(step.name for step in STEPS)


def run_pipeline(out: str | Path = DEFAULT_OUT, seed: int = 0, until: str | None = None,
                 overrides: Mapping[str, Sequence[str]] | None = None,
                 data: ColdStartData = ColdStartData(), progress: bool = True,
                 log: Callable[[str], None] = print,
                 rejection: RejectionData = RejectionData()) -> dict[str, Path]:
    """Run the tiny world's steps in order into ``out``; return each step's folder.

    ``until`` stops after that step; ``overrides`` maps a training step's name to extra
    recipe overrides (``{"r1_zero": ["trainer.max_steps=50"]}``); ``data`` sizes the
    cold-start collection, ``rejection`` the rejection sampling. Steps already complete are
    skipped.
    """
    if until is not None and until not in STEP_NAMES:
        raise ValueError(f"until must be one of {', '.join(STEP_NAMES)}; got {until!r}")
    unknown = sorted(set(overrides or {}) - set(STEP_NAMES))
    if unknown:
        raise ValueError(f"overrides name no step: {', '.join(unknown)}; the steps are "
                         f"{', '.join(STEP_NAMES)}")
    folders = {step.name: Path(out) / step.name for step in STEPS}
    for number, step in enumerate(STEPS, 1):
        folder = folders[step.name]
        head = f"[{number}/{len(STEPS)}] {step.name}: {step.what}"
        if step.done(folder):
            log(f"{head}: done, skipped ({folder})")
        else:
            log(f"{head} -> {folder}")
            step.run(Context(folder, folders, seed, tuple((overrides or {}).get(step.name, ())),
                             data, progress, rejection))
        if step.name == until:
            break
    return folders
