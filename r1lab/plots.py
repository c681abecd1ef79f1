"""The curves the notebooks show, drawn from a run's ``metrics.jsonl`` rows.

Every figure has a title and labelled axes with units; per-step values are noisy with 8
questions a step, so each curve is drawn faint as logged and bold as a moving average.

>>> rows = [{"step": s, "reward": s / 10, "accuracy": s / 20} for s in range(1, 11)]
>>> [round(v, 3) for v in smooth([r["reward"] for r in rows], window=3)[:3]]
[0.1, 0.15, 0.2]
>>> fig = training_curves(rows, panels=(("reward", "accuracy"),))
>>> [ax.get_title() for ax in fig.axes]
['Reward and accuracy']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Okabe & Ito's colour-blind-safe palette (blue, orange, bluish green, vermillion, reddish
# purple, sky blue, yellow, black): set it as the colour cycle, and "C0", "C1", ... pick from it.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
LABELS = {
    "reward": "total reward",
    "accuracy": "accuracy reward",
    "format": "format reward",
    "readable_format": "readable-format reward",
    "completion_length": "completion length (tokens)",
    "reasoning_share": "share of completions that reason",
    "reflection_words": "reflection words per completion",
    "recheck_share": "share of completions that reason and re-check",
    "language": "language consistency (target-language share of CoT words)",
    "kl": "KL to reference (nats/token)",
    "clip_ratio": "share of tokens clipped",
    "entropy": "entropy (nats/token)",
    "right_length": "tokens of right completions",
    "wrong_length": "tokens of wrong completions",
    "clip_high": "share of tokens clipped above 1 + epsilon_high",
}
TITLES = {
    ("reward", "accuracy", "format"): "Reward and accuracy",
    ("reward", "accuracy"): "Reward and accuracy",
    ("completion_length",): "Completion length (R1 Figure 3, in miniature)",
    ("reasoning_share", "reflection_words"): "Reasoning and reflection",
    ("reasoning_share", "recheck_share"): "Reasoning and re-checking",
}
# The R1-Zero figures: rewards, length (R1 Figure 3), and the behaviours RL brings out.
R1_ZERO_PANELS = (("reward", "accuracy", "format"), ("completion_length",),
                  ("reasoning_share", "recheck_share"))


def smooth(values: Sequence[float], window: int = 10) -> list[float]:
    """Trailing moving average (the first points average what exists so far)."""
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _column(rows, name):
    points = [(row["step"], row[name]) for row in rows if row.get(name) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def training_curves(rows: Sequence[Mapping], panels=R1_ZERO_PANELS, window: int = 10,
                    title: str | None = None):
    """One panel per group of metric columns, against the optimizer step."""
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("no metrics rows to plot: train first (r1lab.train.run) and pass "
                         "r1lab.train.metrics.read_metrics(run_dir)")
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, names in zip(axes[0], panels):
        for i, name in enumerate(names):
            steps, values = _column(rows, name)
            if not steps:
                continue
            color = f"C{i}"
            ax.plot(steps, values, color=color, alpha=0.25, linewidth=1)
            ax.plot(steps, smooth(values, window), color=color, linewidth=2,
                    label=LABELS.get(name, name))
        _label(ax, TITLES.get(tuple(names), ", ".join(names)),
               LABELS.get(names[0], names[0]) if len(names) == 1 else "mean per completion",
               legend=len(names) > 1)
    return _finish(fig, title)


def compare_runs(runs: Mapping[str, Sequence[Mapping]], names=("accuracy", "completion_length"),
                 window: int = 10, title: str | None = None):
    """The same columns for several runs side by side (one panel per column)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        for i, (label, rows) in enumerate(runs.items()):
            steps, values = _column(rows, name)
            ax.plot(steps, smooth(values, window), color=f"C{i}", linewidth=2, label=label)
        _label(ax, LABELS.get(name, name), LABELS.get(name, name), legend=True)
    return _finish(fig, title)


def _label(ax, title: str, ylabel: str, legend: bool) -> None:
    import textwrap

    ax.set_title(title)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(textwrap.fill(ylabel, 32))  # long labels would run into the next panel
    if legend:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _finish(fig, title: str | None):
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def pipeline_results(results: Mapping, title: str | None = None):
    """The pipeline's results (``r1lab.pipeline``'s ``results.json``): pass@1 of every model
    with its 95% CI, the teacher's line and the student's side by side, and the minutes each
    step took."""
    import matplotlib.pyplot as plt

    rows = results["rows"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6),
                                      gridspec_kw={"width_ratios": [3, 2]})
    colours = {"R1": "tab:blue", "student": "tab:orange"}
    values = [100 * row["pass_at_1"] for row in rows]
    errors = [[100 * (row["pass_at_1"] - row["pass_at_1_ci"][0]) for row in rows],
              [100 * (row["pass_at_1_ci"][1] - row["pass_at_1"]) for row in rows]]
    positions = range(len(rows))
    left.barh(positions, values, xerr=errors, capsize=3,
              color=[colours.get(row["line"], "tab:gray") for row in rows])
    for y, value, above in zip(positions, values, errors[1]):  # past the interval's end
        left.text(value + above + 1, y, f"{value:.1f}", va="center", fontsize=8)
    left.set_yticks(list(positions), [row["label"] for row in rows], fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 105)
    left.set_xlabel("pass@1 on held-out questions (%), 95% CI")
    left.set_title("Every model of the pipeline (teacher's line blue, student's orange)",
                   fontsize=10)
    left.grid(alpha=0.3, axis="x")
    steps = [(name, minutes) for name, minutes in results["steps"].items()
             if minutes is not None]
    right.barh(range(len(steps)), [m for _, m in steps], color="tab:gray")
    right.set_yticks(range(len(steps)), [name for name, _ in steps], fontsize=8)
    right.invert_yaxis()
    right.set_xlabel("minutes")
    total = sum(m for _, m in steps)
    right.set_title(f"Minutes per step ({total:.0f} in all)", fontsize=10)
    right.grid(alpha=0.3, axis="x")
    return _finish(fig, title)


def seed_bands(arms: Mapping[str, Sequence[Mapping[str, Sequence]]], names: Sequence[str],
               window: int = 5, title: str | None = None, live: Mapping | None = None):
    """Several arms over seeds (notebook 11): one panel per column, each arm's mean over
    its seeds (of each seed's moving average) bold, the seeds' min-max as a band.

    ``arms``: label -> one curves dict per seed (``{"step": [...], name: [...]}``, ``None``
    where a step did not log the column, as ``r1lab.findings.run_arm`` returns them).
    ``live``: label -> one curves dict drawn dashed on top (a run of this session).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        for i, (label, seeds) in enumerate(arms.items()):
            per_seed = [dict(zip(*_points(c, name, window))) for c in seeds]
            steps = sorted(set.intersection(*(set(s) for s in per_seed))) if per_seed else []
            if not steps:
                continue
            values = [[s[step] for s in per_seed] for step in steps]
            ax.plot(steps, [sum(v) / len(v) for v in values], color=f"C{i}", linewidth=2,
                    label=f"{label} ({len(seeds)} seeds)")
            ax.fill_between(steps, [min(v) for v in values], [max(v) for v in values],
                            color=f"C{i}", alpha=0.2)
        for i, (label, curves) in enumerate((live or {}).items()):
            steps, values = _points(curves, name, window)
            ax.plot(steps, values, color="black", linestyle="--", linewidth=1.5,
                    label=f"{label} (live)")
        _label(ax, LABELS.get(name, name), LABELS.get(name, name), legend=True)
    return _finish(fig, title)


def _points(curves: Mapping[str, Sequence], name: str, window: int):
    rows = [{"step": s, name: v} for s, v in zip(curves["step"], curves[name])]
    steps, values = _column(rows, name)
    return steps, smooth(values, window)


def pass_at_k(curves: Mapping[str, Mapping[str, Sequence]], title: str | None = None, ax=None):
    """Unbiased pass@k against k (log scale), one line per model with its 95% band
    (``r1lab.findings.pass_at_k_curve``'s ``k``, ``mean``, ``low``, ``high``)."""
    import matplotlib.pyplot as plt

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (label, c) in enumerate(curves.items()):
        ax.plot(c["k"], [100 * v for v in c["mean"]], marker="o", markersize=3,
                color=f"C{i}", label=label)
        ax.fill_between(c["k"], [100 * v for v in c["low"]], [100 * v for v in c["high"]],
                        color=f"C{i}", alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (samples per question)")
    ax.set_ylabel("pass@k (%), 95% CI over questions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return _finish(fig, None) if fig is not None else ax.figure


def intervals(rows: Mapping[str, Sequence[float]], xlabel: str, title: str | None = None,
              ax=None, reference: float | None = None):
    """Horizontal bars with 95% intervals: label -> (mean, low, high); ``reference`` a
    vertical line (0 for gains)."""
    import matplotlib.pyplot as plt

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.4))
    labels = list(rows)
    means = [rows[label][0] for label in labels]
    errors = [[m - rows[label][1] for m, label in zip(means, labels)],
              [rows[label][2] - m for m, label in zip(means, labels)]]
    ax.barh(range(len(labels)), means, xerr=errors, capsize=3,
            color=[f"C{i}" for i in range(len(labels))])
    for y, label in enumerate(labels):  # the value past the interval's end, clear of its bar
        mean, low, high = rows[label]
        leftward = reference is not None and mean < reference
        ax.text(low if leftward else high, y, f" {mean:+.1f} " if reference == 0 else
                f" {mean:.1f} ", ha="right" if leftward else "left", va="center", fontsize=8)
    ax.margins(x=0.12)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    if reference is not None:
        ax.axvline(reference, color="black", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3, axis="x")
    if title:
        ax.set_title(title, fontsize=10)
    return _finish(fig, None) if fig is not None else ax.figure
