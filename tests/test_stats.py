"""r1lab.stats: every interval and the one verdict rule (tests/test_stats.py)."""

import math
import random

import pytest

from r1lab.stats import (bootstrap_mean, confidence_interval, difference_interval, gain_interval,
                         paired_difference, pass_at_k, seed_count, seed_interval, verdict)


@pytest.mark.parametrize("n, c, k, expected", [
    (5, 2, 2, 1 - math.comb(3, 2) / math.comb(5, 2)),  # 0.7
    (4, 1, 2, 1 - 3 / 6),
    (10, 3, 4, 1 - 35 / 210),
    (5, 0, 3, 0.0),
    (5, 5, 3, 1.0),
    (8, 3, 1, 3 / 8),
    (3, 1, 1, 1 / 3),
    (6, 4, 3, 1.0),  # fewer than k wrong samples: every draw of 3 holds a right one
])
def test_pass_at_k_exact_cases(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_matches_binomials_everywhere():
    for n in range(1, 12):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1 - math.comb(n - c, k) / math.comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(1000, 1, 1) == 0.001


@pytest.mark.parametrize("n, c, k", [(4, 1, 5), (4, 5, 2), (-1, 0, 1), (4, -1, 1), (4, 1, -1),
                                     (4, 1, 0), (4.0, 1, 1)])
def test_pass_at_k_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError, match="pass_at_k"):
        pass_at_k(n, c, k)


def test_seed_interval_uses_students_t():
    mean, low, high = seed_interval([0.6, 0.7, 0.8])
    assert mean == pytest.approx(0.7)
    assert high - mean == pytest.approx(4.303 * 0.1 / 3 ** 0.5, abs=1e-6)  # t(0.975, 2)
    assert seed_interval([1.0, 1.0]) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_interval([0.5])


def test_difference_interval_is_welchs_with_the_smaller_df():
    diff, low, high = difference_interval([0.6, 0.7, 0.8], [0.5, 0.5, 0.5, 0.5, 0.5])
    assert diff == pytest.approx(0.2)
    # the second side has no spread; t from the first side's 2 degrees of freedom
    assert high - diff == pytest.approx(4.303 * 0.1 / 3 ** 0.5, abs=1e-6)
    assert difference_interval([0.5, 0.5], [0.5, 0.5]) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="at least 2 seeds per side"):
        difference_interval([0.5], [0.4, 0.6])


def test_confidence_interval():
    lo, hi = confidence_interval([1.0, 0.0] * 8)
    half = 1.96 * math.sqrt(16 * 0.25 / 15) / 4  # sample sd of 8 ones and 8 zeros, N = 16
    assert (lo, hi) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-6)
    assert confidence_interval([0.25, 0.25, 0.25]) == (0.25, 0.25)
    assert confidence_interval([0.7]) == (0.0, 1.0)  # one question: spread unknown
    assert confidence_interval([1.0, 1.0, 1.0, 0.0]) == (0.26, 1.0)  # 0.75 ± 0.49, clipped
    with pytest.raises(ValueError):
        confidence_interval([])


@pytest.mark.parametrize("low, high", [(-1.0, 1.0), (0.0, 2.0), (-2.0, 0.0), (0.0, 0.0),
                                       (-1e-9, 5.0), (-0.036, 0.055)])
@pytest.mark.parametrize("sign", [1, -1])
def test_verdict_cannot_tell_whenever_the_interval_holds_zero(low, high, sign):
    assert verdict(low, high, sign) == "cannot tell"


def test_verdict_agrees_or_disagrees_only_when_zero_is_excluded():
    assert verdict(0.01, 0.2) == "agrees" and verdict(-0.2, -0.01, -1) == "agrees"
    assert verdict(-0.2, -0.01) == "disagrees" and verdict(0.01, 0.2, -1) == "disagrees"
    with pytest.raises(ValueError, match="claimed_sign"):
        verdict(0.1, 0.2, 0)
    with pytest.raises(ValueError, match="above its high"):
        verdict(0.3, 0.2)


def test_gain_interval_carries_the_controls_error():
    arm = [0.80, 0.82, 0.84]
    exact = gain_interval(arm, 0.70, (0.70, 0.70))
    assert exact == seed_interval([a - 0.70 for a in arm])  # an exact control: the seeds' t
    mean, low, high = gain_interval(arm, 0.70, (0.66, 0.74))
    se = math.sqrt(0.0004 / 3 + (0.08 / 3.92) ** 2)  # seeds' var/n + the control's se²
    assert mean == pytest.approx(0.12) and high - mean == pytest.approx(4.303 * se, abs=1e-6)
    # a gain the seeds alone call sure spans zero once the control's own error is counted
    assert verdict(*gain_interval([0.80, 0.81, 0.82], 0.78, (0.78, 0.78))[1:]) == "agrees"
    assert verdict(*gain_interval([0.80, 0.81, 0.82], 0.78, (0.76, 0.80))[1:]) == "cannot tell"
    with pytest.raises(ValueError, match="outside its interval"):
        gain_interval(arm, 0.9, (0.6, 0.7))
    with pytest.raises(ValueError, match="at least 2 seeds"):
        gain_interval([0.8], 0.7, (0.6, 0.8))


def test_paired_difference_carries_seeds_and_questions():
    rng = random.Random(0)
    difficulty = [rng.random() for _ in range(200)]  # shared by both arms: pairing removes it
    control = [[min(1.0, d) for d in difficulty]]
    close = [[min(1.0, d + 0.05) for d in difficulty] for _ in range(3)]
    d, low, high = paired_difference(close, control)
    assert 0.0 < low <= d <= high  # a small shift on shared questions is seen
    # the same shift read as two unpaired samples of questions is lost in their spread
    lo_unpaired = (sum(map(sum, close)) / 600 - sum(control[0]) / 200) - 1.96 * math.sqrt(
        2 * (1 / 12) / 200)
    assert lo_unpaired < 0 < low
    # seeds that disagree widen the interval even with many questions
    spread = [[min(1.0, d + shift) for d in difficulty] for shift in (-0.1, 0.05, 0.2)]
    _, low_s, high_s = paired_difference(spread, control)
    assert high_s - low_s > 2 * (high - low)
    with pytest.raises(ValueError, match="same questions"):
        paired_difference([[1.0, 0.0]], [[1.0]])


def test_bootstrap_mean_and_seed_count():
    assert bootstrap_mean([0.2, 0.2]) == (0.2, 0.2)
    low, high = bootstrap_mean([0.0] * 50 + [1.0] * 50, seed=3)
    assert low < 0.5 < high and high - low == pytest.approx(2 * 1.96 * 0.05, abs=0.03)
    assert seed_count([True, True, False], "harmless") == "harmless in 2 of 3 seeds"
    with pytest.raises(ValueError):
        seed_count([], "x")


def test_subset_difference_weighs_the_arm_on_the_controls_subset():
    """The control re-checks only on the easy question (q0); there both arms are always right.
    Unweighted, the arm (mean 0.5) would look 0.5 worse than the control's subset (1.0); on
    the same questions, weighed alike, there is no difference at all."""
    from r1lab.stats import subset_difference

    arm = [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    assert subset_difference(arm, b_correct=[4, 0], b_samples=[4, 0]) == (0.0, 0.0, 0.0)


def test_subset_difference_carries_question_noise_and_refuses_bad_shapes():
    from r1lab.stats import subset_difference, verdict

    arm = [[1.0, 0.0, 1.0, 0.0, 1.0, 1.0]]
    d, low, high = subset_difference(arm, [1, 1, 0, 1, 1, 0], [2, 2, 2, 2, 2, 2])
    assert low < d < high and verdict(low, high) == "cannot tell"
    with pytest.raises(ValueError, match="same 2 questions"):
        subset_difference([[1.0, 0.0, 1.0]], [1, 1], [1, 1])
    with pytest.raises(ValueError, match="no sample"):
        subset_difference([[1.0, 0.0]], [0, 0], [0, 0])


def test_window_band_widens_the_seeds_range_by_its_width_or_the_floor():
    from r1lab.stats import window_band

    seeds = [{"step": [1, 2, 3, 4], "x": [0.0, 0.4, 0.5, None]},
             {"step": [1, 2, 3, 4], "x": [0.0, 0.5, 0.5, 0.9]}]
    live = {"step": [1, 2, 3], "x": [9.0, 0.6, 0.4]}
    # means over steps 2-3: seeds 0.45 and 0.5 (width 0.05, below the floor 0.1), live 0.5
    assert window_band(live, seeds, "x", range(2, 4), floor=0.1) == (0.5, 0.35, 0.6)
    # a wide spread widens by itself; a step that logged nothing (None) is left out
    assert window_band(live, seeds, "x", range(3, 5), floor=0.0) == (0.4, 0.3, 0.9)
    with pytest.raises(ValueError, match="seed 0 logged no 'x' at steps 4-4"):
        window_band(live, seeds, "x", range(4, 5), floor=0.1)
    with pytest.raises(ValueError, match="committed seeds"):
        window_band(live, [], "x", range(2, 4), floor=0.1)
