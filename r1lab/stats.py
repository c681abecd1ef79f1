"""Intervals and verdicts: the one home of the lab's statistics (pure Python, no torch).

Every number the lab compares comes with a 95% interval that carries the noise behind it, and
every "agrees" / "disagrees" / "cannot tell" is read from such an interval by :func:`verdict`.

* :func:`pass_at_k`: the unbiased pass@k of one question (Chen et al. 2021).
* :func:`confidence_interval`: a share over questions (normal approximation, clipped to [0, 1]).
* :func:`seed_interval`: one number per training seed (Student's t: a few seeds are few).
* :func:`difference_interval`: two independent sets of seeds (Welch).
* :func:`gain_interval`: an arm's seeds minus a control measured once, the control's own
  sampling error included (a control is an estimate too, not an exact number).
* :func:`paired_difference`: two arms scored on the *same* questions, one row of per-question
  scores per seed: a bootstrap over seeds and questions, so the interval carries both.
* :func:`subset_difference`: an arm against a subset of a control's samples (its chains that
  re-check) on the same questions, weighed alike.
* :func:`bootstrap_mean`: the percentile bootstrap of a mean.
* :func:`seed_count`: a yes/no outcome per seed is a count ("in 1 of 3 seeds"), not a mean.
* :func:`verdict`: agrees | disagrees | cannot tell, from an interval and the claimed sign.

>>> verdict(*difference_interval([0.80, 0.82, 0.84], [0.70, 0.72, 0.74])[1:])
'agrees'
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

Z_95 = 1.96  # two-sided 95% quantile of the standard normal

# Two-sided 95% quantiles of Student's t by degrees of freedom (standard table values; no
# scipy in the lab's stack, and a run over seeds has only a handful of them).
T_95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 15: 2.131, 20: 2.086, 30: 2.042}

VERDICTS = ("agrees", "disagrees", "cannot tell")


def t_95(df: int) -> float:
    """Two-sided 95% quantile of Student's t; between table rows the row below (fewer degrees
    of freedom, a wider interval); past 30 the normal quantile.

    >>> t_95(2), t_95(12), t_95(100)
    (4.303, 2.228, 1.96)
    """
    if df < 1:
        raise ValueError(f"t_95 needs at least 1 degree of freedom; got {df}")
    return Z_95 if df > 30 else T_95[max(k for k in T_95 if k <= df)]


def mean_var(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample variance (n - 1)."""
    mean = sum(values) / len(values)
    return mean, sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct (Chen et al. 2021, eq. 1).

    pass@k = 1 - C(n-c, k) / C(n, k): the chance that k samples drawn without replacement
    from the n include a correct one. Computed as in the paper's numpy snippet,
    1 - prod(1 - k / i for i in n-c+1 … n), which never forms huge binomials.

    >>> round(pass_at_k(5, 2, 2), 12)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    0.7
    >>> pass_at_k(8, 0, 4), pass_at_k(8, 8, 4), pass_at_k(8, 3, 1)
    (0.0, 1.0, 0.375)
    """
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"pass_at_k needs a non-negative integer {name}; got {value!r}")
    if k < 1:
        raise ValueError(f"pass_at_k needs k >= 1 (samples drawn); got k={k}")
    if c > n:
        raise ValueError(f"pass_at_k: c={c} correct samples cannot exceed n={n} samples")
    if k > n:
        raise ValueError(f"pass_at_k: k={k} cannot exceed the n={n} samples taken; "
                         "sample more per question or ask for a smaller k")
    if k == 1:
        return c / n  # exact, and equal to the paper's pass@1 for one question
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def confidence_interval(values: Sequence[float]) -> tuple[float, float]:
    """95% interval for the mean of per-question scores, by the normal approximation.

    mean ± 1.96 * sd / sqrt(N), with the sample sd (N-1), clipped to [0, 1] since every
    score lies there. It treats questions as the random draw (sampling noise within a
    question is in each score). With N = 1 the spread is unknown: the interval is [0, 1].

    >>> confidence_interval([1.0, 0.0] * 8)  # mean 0.5, sd 0.516, N 16
    (0.246965, 0.753035)
    >>> confidence_interval([0.5, 0.5, 0.5])
    (0.5, 0.5)
    """
    n = len(values)
    if n == 0:
        raise ValueError("confidence_interval needs at least one value")
    if n == 1:
        return (0.0, 1.0)
    mean, var = mean_var(values)
    half = Z_95 * math.sqrt(var) / math.sqrt(n)
    return (round(max(0.0, mean - half), 6), round(min(1.0, mean + half), 6))


def seed_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """(mean, low, high): 95% interval for the mean of one number per training seed.

    mean ± t(0.975, n-1) * sd / sqrt(n), Student's t because a few seeds are a small sample
    (with 3 seeds, t = 4.303, not 1.96). Needs at least 2 values; more than 30 use the normal
    quantile. Unlike ``confidence_interval`` it is not clipped: it describes seeds, not shares.

    >>> seed_interval([0.70, 0.72, 0.74])
    (0.72, 0.670313, 0.769687)
    """
    n = len(values)
    if n < 2:
        raise ValueError(f"seed_interval needs results from at least 2 seeds; got {n}")
    mean, var = mean_var(values)
    half = t_95(n - 1) * math.sqrt(var / n)
    return (round(mean, 6), round(mean - half, 6), round(mean + half, 6))


def difference_interval(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """(difference, low, high): 95% interval for mean(a) - mean(b), one number per seed each.

    Welch's interval (the two sets of runs are independent and may spread differently), with
    the smaller of the two sets' degrees of freedom, the conservative choice for a handful of
    seeds: with 3 seeds each, t = 4.303. Needs at least 2 values on each side.

    >>> difference_interval([0.80, 0.82, 0.84], [0.70, 0.72, 0.74])
    (0.1, 0.029732, 0.170268)
    """
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"difference_interval needs at least 2 seeds per side; got {len(a)} "
                         f"and {len(b)}")
    (mean_a, var_a), (mean_b, var_b) = mean_var(a), mean_var(b)
    half = t_95(min(len(a), len(b)) - 1) * math.sqrt(var_a / len(a) + var_b / len(b))
    diff = mean_a - mean_b
    return (round(diff, 6), round(diff - half, 6), round(diff + half, 6))


def gain_interval(arm: Sequence[float], control: float,
                  control_ci: tuple[float, float]) -> tuple[float, float, float]:
    """(gain, low, high): 95% interval for mean(arm) - control, where ``arm`` holds one number
    per training seed and ``control`` is one model measured once, with its own 95% interval
    ``control_ci`` (e.g. ``confidence_interval`` over its questions).

    The control's standard error, read back from its interval as (high - low) / (2 * 1.96),
    is added in quadrature to the seeds' (var / n); the quantile is Student's t with the
    seeds' degrees of freedom, the conservative choice. Treating the control as exact (a
    t-interval of arm - control over the seeds) leaves its sampling error out: with a control
    measured on a few hundred questions that error is often the larger one.

    >>> gain_interval([0.80, 0.82, 0.84], 0.70, (0.70, 0.70))  # an exact control: the seeds'
    (0.12, 0.070313, 0.169687)
    >>> gain_interval([0.80, 0.82, 0.84], 0.70, (0.66, 0.74))  # the control's error widens it
    (0.12, 0.019102, 0.220898)
    """
    if len(arm) < 2:
        raise ValueError(f"gain_interval needs the arm's results from at least 2 seeds; "
                         f"got {len(arm)}")
    low_c, high_c = control_ci
    if not low_c <= control <= high_c:
        raise ValueError(f"gain_interval: the control {control} lies outside its interval "
                         f"{control_ci}; pass the interval measured with it")
    mean, var = mean_var(arm)
    control_se = (high_c - low_c) / (2 * Z_95)
    half = t_95(len(arm) - 1) * math.sqrt(var / len(arm) + control_se ** 2)
    gain = mean - control
    return (round(gain, 6), round(gain - half, 6), round(gain + half, 6))


def bootstrap_mean(values: Sequence[float], resamples: int = 2000,
                   seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of ``values``, resampling them with replacement
    (the same resamples for every call with the same seed and length: paired across calls).

    >>> bootstrap_mean([0.5] * 10)
    (0.5, 0.5)
    >>> low, high = bootstrap_mean([0.0, 1.0] * 20); low < 0.5 < high
    True
    """
    if not values:
        raise ValueError("bootstrap_mean needs at least one value")
    rng = random.Random(seed)
    means = sorted(sum(values[rng.randrange(len(values))] for _ in values) / len(values)
                   for _ in range(resamples))
    return round(means[int(0.025 * resamples)], 6), round(means[int(0.975 * resamples) - 1], 6)


def paired_difference(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]],
                      resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(difference, low, high): arm ``a`` minus arm ``b`` scored on the same questions.

    Each arm is one row of per-question scores per training seed (a control measured once is
    one row). Each resample draws the seeds of each arm with replacement (the arms' runs are
    independent) and one set of questions with replacement for both arms (they saw the same
    questions: pairing removes the questions' own difficulty from the difference), so the
    interval carries the seeds' spread and both arms' sampling error.

    >>> same = [[1.0, 0.0, 1.0, 0.5]] * 3
    >>> paired_difference(same, same)  # the same scores: no difference, no spread
    (0.0, 0.0, 0.0)
    >>> d, low, high = paired_difference([[1, 1, 0, 1], [1, 0, 1, 1]], [[0, 1, 0, 0]])
    >>> d, low <= d <= high
    (0.5, True)
    """
    rows_a, rows_b = [list(r) for r in a], [list(r) for r in b]
    if not rows_a or not rows_b:
        raise ValueError("paired_difference needs at least one seed per arm")
    n_questions = {len(r) for r in rows_a + rows_b}
    if len(n_questions) != 1 or 0 in n_questions:
        raise ValueError("paired_difference: every seed of both arms must score the same "
                         f"questions; got rows of lengths {sorted(n_questions)}")
    n = n_questions.pop()
    per_question = [sum(r[q] for r in rows_a) / len(rows_a) - sum(r[q] for r in rows_b)
                    / len(rows_b) for q in range(n)]
    rng = random.Random(seed)
    diffs = []
    for _ in range(resamples):
        seeds_a = [rows_a[rng.randrange(len(rows_a))] for _ in rows_a]
        seeds_b = [rows_b[rng.randrange(len(rows_b))] for _ in rows_b]
        questions = [rng.randrange(n) for _ in range(n)]
        diffs.append(sum(sum(r[q] for r in seeds_a) / len(seeds_a)
                         - sum(r[q] for r in seeds_b) / len(seeds_b) for q in questions) / n)
    diffs.sort()
    return (round(sum(per_question) / n, 6), round(diffs[int(0.025 * resamples)], 6),
            round(diffs[int(0.975 * resamples) - 1], 6))


def subset_difference(a: Sequence[Sequence[float]], b_correct: Sequence[int],
                      b_samples: Sequence[int], resamples: int = 2000,
                      seed: int = 0) -> tuple[float, float, float]:
    """(difference, low, high): arm ``a`` minus the accuracy of a *subset* of control ``b``'s
    samples (those of a kind, e.g. the chains that re-check), on the same questions.

    ``a`` is one row of per-question scores per seed, as in :func:`paired_difference`;
    ``b_samples[q]`` is how many of the control's samples on question q are in the subset and
    ``b_correct[q]`` how many of those were right. The arm is weighed on the control's subset
    (question q counts ``b_samples[q]`` times), so both sides see the same mix of questions:
    a subset the control chose on easier questions does not flatter it. Each resample draws
    the arm's seeds and one set of questions (both sides) with replacement.

    >>> subset_difference([[1.0, 0.5, 0.0]], [2, 0, 0], [2, 0, 1])  # alike on every question
    (0.0, 0.0, 0.0)
    >>> subset_difference([[1.0, 0.5], [1.0, 0.5]], [1, 1], [1, 1])  # a 0.75, b 1.0
    (-0.25, -0.5, 0.0)
    """
    rows = [list(r) for r in a]
    n = len(b_samples)
    if not rows or any(len(r) != n for r in rows) or len(b_correct) != n:
        raise ValueError("subset_difference: every seed of the arm and both control lists "
                         f"must cover the same {n} questions")
    if sum(b_samples) == 0:
        raise ValueError("subset_difference: the control's subset holds no sample")

    def difference(seed_rows, questions) -> float | None:
        weight = sum(b_samples[q] for q in questions)
        if weight == 0:
            return None
        arm = sum(b_samples[q] * sum(r[q] for r in seed_rows) / len(seed_rows)
                  for q in questions) / weight
        return arm - sum(b_correct[q] for q in questions) / weight

    rng = random.Random(seed)
    diffs = []
    while len(diffs) < resamples:
        d = difference([rows[rng.randrange(len(rows))] for _ in rows],
                       [rng.randrange(n) for _ in range(n)])
        if d is not None:  # a resample without any subset sample says nothing
            diffs.append(d)
    diffs.sort()
    return (round(difference(rows, range(n)), 6), round(diffs[int(0.025 * resamples)], 6),
            round(diffs[int(0.975 * resamples) - 1], 6))


def window_band(live: Mapping[str, Sequence], seeds: Sequence[Mapping[str, Sequence]],
                name: str, steps: range, floor: float) -> tuple[float, float, float]:
    """A short live run against committed seeds at the same steps: the live run's mean of
    column ``name`` over ``steps``, and the range of the seeds' means over the same steps,
    widened on each side by its own width (at least ``floor``). A re-run is another draw, not
    a copy (the CPU and its thread count change float summation order, and sampling follows
    it), so it should land about as far from the seeds as they land from each other.

    ``live`` and each seed: a curves dict (``{"step": [...], name: [...]}``, ``None`` where a
    step did not log it), as ``r1lab.train.metrics.curves`` and the results files keep them.

    >>> seeds = [{"step": [1, 2, 3], "acc": [0.1, 0.5, 0.7]},
    ...          {"step": [1, 2, 3], "acc": [0.2, 0.6, 0.8]}]
    >>> window_band({"step": [1, 2], "acc": [0.3, 0.5]}, seeds, "acc", range(2, 3), floor=0.05)
    (0.5, 0.4, 0.7)
    """
    def mean(curve, who):
        values = [v for s, v in zip(curve["step"], curve[name]) if s in steps and v is not None]
        if not values:
            raise ValueError(f"window_band: {who} logged no {name!r} at steps {steps.start}-"
                             f"{steps.stop - 1}")
        return sum(values) / len(values)

    if not seeds:
        raise ValueError("window_band needs the committed seeds' curves; got none")
    means = [mean(curve, f"seed {i}") for i, curve in enumerate(seeds)]
    width = max(max(means) - min(means), floor)
    return (round(mean(live, "the live run"), 6), round(min(means) - width, 6),
            round(max(means) + width, 6))


def seed_count(outcomes: Sequence[bool], what: str) -> str:
    """A yes/no outcome per seed, said as a count: with 3 seeds a mean of 0/1 values and a
    t-interval around it describe nothing a count does not say better.

    >>> seed_count([True, False, False], "drifts")
    'drifts in 1 of 3 seeds'
    """
    if not outcomes:
        raise ValueError("seed_count needs one outcome per seed; got none")
    return f"{what} in {sum(bool(o) for o in outcomes)} of {len(outcomes)} seeds"


def verdict(low: float, high: float, claimed_sign: int = 1) -> str:
    """Read a 95% interval of an effect against the claimed direction (+1 up, -1 down):
    "agrees" when the whole interval lies on the claimed side of zero, "disagrees" when it
    lies on the other side, "cannot tell" when it contains zero. The lab's one rule: every
    agrees/disagrees printed by a notebook, a README table or a benchmark comes from here.

    >>> verdict(2.0, 5.0), verdict(-5.0, -2.0), verdict(-1.0, 3.0), verdict(-3.0, -1.0, -1)
    ('agrees', 'disagrees', 'cannot tell', 'agrees')
    >>> verdict(0.0, 3.0)  # touching zero is not excluding it
    'cannot tell'
    """
    if claimed_sign not in (1, -1):
        raise ValueError(f"verdict: claimed_sign must be +1 or -1; got {claimed_sign!r}")
    if low > high:
        raise ValueError(f"verdict: the interval's low {low} is above its high {high}")
    if low > 0 or high < 0:
        return "agrees" if (1 if low > 0 else -1) == claimed_sign else "disagrees"
    return "cannot tell"
