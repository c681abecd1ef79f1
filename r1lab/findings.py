"""The findings lab (notebook 11): what later papers found about R1-Zero-like training,
tested in the tiny world.

Five findings, each a claim with its paper's number, an experiment here (``ARMS`` of the
recipe ``tiny/findings``, 3 seeds each) and a verdict read from the measured spread:

1. ``length_bias`` (Dr. GRPO, arXiv 2503.20783): ``loss_type`` grpo | dr_grpo | dapo, lengths
   of right and wrong completions over training.
2. ``spurious_rewards`` (arXiv 2506.10947): random | format-only | true reward, held-out gains.
3. ``one_example`` (arXiv 2504.20571): 1 | 16 | 4,000 training problems, held-out gains.
4. ``pass_at_k`` (Yue et al., limit of RLVR): unbiased pass@k, k = 1 … 256, base (unprompted,
   made to reason), RL from it, a distilled student and its own base.
5. ``kl_clip_higher``: beta in {0, 0.04} x epsilon_high in {0.2, 0.28}: entropy, pass@1.

``benchmarks/findings.py`` runs them and writes ``benchmarks/results/findings.json``; the
notebook reads it and runs one small case of each live (``run_arm`` with fewer steps,
``pass_at_k_counts`` on fewer samples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from r1lab.stats import bootstrap_mean, gain_interval, pass_at_k

if TYPE_CHECKING:
    from r1lab.eval import Protocol

RECIPE = "tiny/findings"

# Arm -> recipe overrides on tiny/findings (loss dapo, correctness reward, 4,000 problems,
# beta 0, epsilon_high = epsilon = 0.2): the common arm is the control of every finding.
ARMS: dict[str, list[str]] = {
    "dapo": [],
    "grpo": ["trainer.loss_type=grpo"],
    "dr_grpo": ["trainer.loss_type=dr_grpo"],
    "format_only": ["rewards.accuracy=0", "rewards.format=1.0"],
    "random": ["rewards.accuracy=0", "rewards.random=1.0"],
    "one_example": ["task.n=1", "task.repeat=4000"],
    "sixteen_examples": ["task.n=16", "task.repeat=250"],
    "kl": ["trainer.beta=0.04"],
    "clip_higher": ["trainer.epsilon_high=0.28"],
    "kl_clip_higher": ["trainer.beta=0.04", "trainer.epsilon_high=0.28"],
}

# What each arm is called in tables and figures.
LABELS = {
    "dapo": "dapo (true reward, 4,000 problems)", "grpo": "grpo", "dr_grpo": "dr_grpo",
    "format_only": "format only", "random": "random (coin toss)",
    "one_example": "1 problem", "sixteen_examples": "16 problems",
    "kl": "beta 0.04", "clip_higher": "epsilon_high 0.28",
    "kl_clip_higher": "beta 0.04 + epsilon_high 0.28",
}


@dataclass(frozen=True)
class Finding:
    title: str
    paper: str
    claim: str
    arms: tuple[str, ...] = ()


FINDINGS: dict[str, Finding] = {
    "length_bias": Finding(
        "GRPO's length bias", "Dr. GRPO, arXiv 2503.20783",
        "GRPO's per-response length normalisation lets wrong answers grow longer; "
        "Dr. GRPO removes it (43.3% AIME 2024 from a 7B base)",
        ("grpo", "dr_grpo", "dapo")),
    "spurious_rewards": Finding(
        "Spurious rewards", "Shao et al., arXiv 2506.10947",
        "Qwen2.5-Math-7B on MATH-500: random reward +21.4 points, format only +13.8, "
        "true reward +29.1; not on Llama3 or OLMo2",
        ("random", "format_only", "dapo")),
    "one_example": Finding(
        "RL with one example", "Wang et al., arXiv 2504.20571",
        "Qwen2.5-Math-1.5B on MATH-500: 36.0 -> 73.6 with one training problem",
        ("one_example", "sixteen_examples", "dapo")),
    "pass_at_k": Finding(
        "Does RL expand what the base can solve?", "Yue et al., limit of RLVR",
        "RL models win at pass@1; the base catches up at k in the tens to hundreds and passes "
        "them at large k; distillation can widen what is solvable"),
    "kl_clip_higher": Finding(
        "KL and clip-higher", "DAPO, arXiv 2503.14476",
        "clip-higher (epsilon_high 0.28) keeps entropy from collapsing; DAPO drops the KL term",
        ("dapo", "kl", "clip_higher", "kl_clip_higher")),
}

# The training-curve columns a run keeps (``r1lab.train.metrics``); with num_iterations 2,
# rewards are logged on the sampling steps, clip ratios on the steps between.
CURVES = ("step", "accuracy", "format", "reasoning_share", "completion_length",
          "right_length", "wrong_length", "entropy", "kl", "clip_ratio", "clip_high",
          "clip_low")


def arm_overrides(arm: str, seed: int, output_dir, steps: int | None = None) -> list[str]:
    """The ``r1lab train`` overrides of one arm and seed (``steps``: a shorter run)."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {', '.join(ARMS)}")
    extra = [] if steps is None else [f"trainer.max_steps={steps}", f"trainer.save_steps={steps}"]
    return [*ARMS[arm], f"trainer.seed={seed}", f"output_dir={output_dir}", *extra]


def run_arm(arm: str, seed: int, output_dir, steps: int | None = None,
            progress: bool = False) -> tuple[Path, dict]:
    """Train one arm (resumed or skipped if done); returns its final model folder and its
    curves (``CURVES``, one list per column, ``None`` where a step did not log it)."""
    from r1lab.train import run
    from r1lab.train.metrics import curves

    result = run(RECIPE, arm_overrides(arm, seed, output_dir, steps), resume="auto",
                 progress=progress)
    return Path(result.final_dir), curves(output_dir, CURVES)


def curve(curves: dict, name: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one column, the steps that logged it."""
    pairs = [(s, v) for s, v in zip(curves["step"], curves[name]) if v is not None]
    return [s for s, _ in pairs], [v for _, v in pairs]


def reused_steps_only(curves: dict, name: str) -> dict:
    """``curves`` with ``name`` kept only on the steps that reused a sampled batch (those that
    logged no accuracy): with num_iterations 2, the clip ratios of a sampling step are 0 by
    construction (the ratio is 1), so they would halve any mean.

    >>> reused_steps_only({"step": [1, 2], "accuracy": [0.5, None], "clip_high": [0.0, 0.01]},
    ...                   "clip_high")["clip_high"]
    [None, 0.01]
    """
    return {**curves, name: [v if a is None else None
                             for v, a in zip(curves[name], curves["accuracy"])]}


def window_mean(curves: dict, name: str, first: int, last: int) -> float | None:
    """Mean of a column over steps ``first`` … ``last`` (None if none logged it)."""
    values = [v for s, v in zip(*curve(curves, name)) if first <= s <= last]
    return sum(values) / len(values) if values else None


def pass_at_k_protocol(questions: int = 32, n: int = 256, question_seed: int = 1,
                       sampling_seed: int = 0, prefill: str = "") -> Protocol:
    """The held-out protocol of the pass@k finding: ``n`` samples (T 0.6, top-p 0.95) of each
    of ``questions`` English test questions, 512 sequences per ``generate`` call.

    >>> p = pass_at_k_protocol(n=64, sampling_seed=1)
    >>> p.n, p.k, p.seed, p.sampling_seed, p.zh_fraction, p.batch_size
    (32, 64, 1, 1, 0.0, 512)
    """
    from r1lab.eval import Protocol

    return Protocol(n=questions, split="test", seed=question_seed, zh_fraction=0.0, k=n,
                    batch_size=512, sampling_seed=sampling_seed, prefill=prefill)


def pass_at_k_counts(model, protocol: Protocol, progress: bool = False) -> list[int]:
    """Right answers among the ``protocol.k`` samples of each of its questions, in order
    (``r1lab.eval.held_out``; ``pass_at_k_protocol`` is the finding's protocol)."""
    from r1lab.eval import held_out

    return held_out(model, protocol, progress=progress).per_question()["correct"]


def pass_at_k_curve(counts: Sequence, n: int, ks: Sequence[int] | None = None,
                    resamples: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """Unbiased pass@k (``r1lab.stats.pass_at_k``) averaged over questions, for k = 1, 2, 4 …
    n, with a 95% bootstrap interval over questions (the questions are the random draw).

    ``counts``: right answers among ``n`` samples per question, or one such list per
    training seed (same questions): then each question's pass@k is its mean over the seeds.

    >>> c = pass_at_k_curve([0, 4, 2, 1], n=4, ks=[1, 4])
    >>> c["k"], c["mean"]
    ([1, 4], [0.4375, 0.75])
    >>> pass_at_k_curve([[0, 4], [2, 4]], n=4, ks=[1])["mean"]  # two seeds, two questions
    [0.625]
    """
    from r1lab.eval import _k_values

    ks = list(ks) if ks is not None else _k_values(n)
    per_question = [_per_question(counts, n, k) for k in ks]
    bounds = [bootstrap_mean(values, resamples, seed) for values in per_question]
    return {"k": ks, "mean": [round(sum(v) / len(v), 6) for v in per_question],
            "low": [lo for lo, _ in bounds], "high": [hi for _, hi in bounds]}


def pass_at_k_difference(a: Sequence, b: Sequence, n: int, k: int, resamples: int = 2000,
                         seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): pass@k of ``a`` minus that of ``b`` on the same questions, with a
    paired 95% bootstrap interval over questions (``a``, ``b`` as ``pass_at_k_curve`` takes).

    >>> pass_at_k_difference([4, 4, 0, 4], [0, 4, 0, 0], n=4, k=4)[0]
    0.5
    """
    pa, pb = _per_question(a, n, k), _per_question(b, n, k)
    if len(pa) != len(pb):
        raise ValueError("pass_at_k_difference: a and b must count the same questions")
    diffs = [x - y for x, y in zip(pa, pb)]
    low, high = bootstrap_mean(diffs, resamples, seed)
    return round(sum(diffs) / len(diffs), 6), low, high


def _per_question(counts: Sequence, n: int, k: int) -> list[float]:
    """Each question's unbiased pass@k, averaged over seeds when ``counts`` holds several."""
    if not counts:
        raise ValueError("pass@k needs the counts of at least one question")
    runs = [list(c) for c in counts] if isinstance(counts[0], Sequence) else [list(counts)]
    if len({len(run) for run in runs}) != 1 or not runs[0]:
        raise ValueError("pass@k: every seed needs counts for the same questions")
    return [sum(pass_at_k(n, run[q], k) for run in runs) / len(runs)
            for q in range(len(runs[0]))]


# ---------------------------------------------------------------- reading the results


def seeds_of(results: dict, arm: str) -> list[dict]:
    """The jobs of one arm, one per seed (``results``: ``benchmarks/results/findings.json``)."""
    return [results["jobs"][f"{arm}-seed{s}"] for s in results["seeds"]]


def seed_values(results: dict, arm: str, key: str = "pass_at_1") -> list[float]:
    """One held-out number per seed of ``arm``."""
    return [job["held_out"][key] for job in seeds_of(results, arm)]


def gain(results: dict, arm: str, control: float,
         control_ci: tuple[float, float]) -> tuple[float, float, float]:
    """(mean, low, high) in points: the arm's held-out pass@1 over its seeds minus a
    ``control`` measured once (the base, unprompted or made to reason), with the control's
    own 95% interval ``control_ci`` carried into the gain's (``r1lab.stats.gain_interval``)."""
    return tuple(round(100 * v, 2) for v in gain_interval(seed_values(results, arm), control,
                                                           control_ci))


def windows(results: dict, arm: str, name: str, first: int, last: int) -> list[float]:
    """One mean of a training column over steps ``first`` … ``last`` per seed of ``arm``."""
    return [window_mean(job["curves"], name, first, last) for job in seeds_of(results, arm)]


def within_spread(value: float, seeds: Sequence[float], widen: float = 0.5,
                  at_least: float = 0.0) -> bool:
    """Whether a live run's ``value`` lies in the committed seeds' range, widened on each
    side by ``widen`` times that range and at least ``at_least`` (a live run differs from the
    committed ones in its thread count, so even the same seed does not repeat them exactly).

    >>> within_spread(0.55, [0.4, 0.5]), within_spread(0.6, [0.4, 0.5])
    (True, False)
    >>> within_spread(0.53, [0.5, 0.5]), within_spread(0.53, [0.5, 0.5], at_least=0.05)
    (False, True)
    """
    low, high = min(seeds), max(seeds)
    margin = max(widen * (high - low), at_least)
    return low - margin <= value <= high + margin
