import math

import pytest
import torch

from r1lab.grpo import LOSS_TYPES, grpo_loss, group_advantages

WALKTHROUGH = [0.1, 1.1, 1.0, 0.1]


def test_walkthrough_advantages_by_hand():
    mean = sum(WALKTHROUGH) / 4
    sample = math.sqrt(sum((r - mean) ** 2 for r in WALKTHROUGH) / 3)
    population = math.sqrt(sum((r - mean) ** 2 for r in WALKTHROUGH) / 4)
    assert (round(mean, 3), round(population, 4), round(sample, 4)) == (0.575, 0.4763, 0.55)
    for std, spread in [("sample", sample), ("population", population)]:
        expected = torch.tensor([(r - mean) / spread for r in WALKTHROUGH])
        torch.testing.assert_close(group_advantages(WALKTHROUGH, 4, std=std, eps=0), expected)
    signs = group_advantages(WALKTHROUGH, 4).sign().tolist()
    assert signs == [-1.0, 1.0, 1.0, -1.0]  # o2, o3 up; o1, o4 down


def test_default_is_trls_sample_std_plus_eps():
    expected = (torch.tensor(WALKTHROUGH) - 0.575) / (torch.tensor(WALKTHROUGH).std() + 1e-4)
    torch.testing.assert_close(group_advantages(WALKTHROUGH, 4), expected)


def test_scales_on_two_groups():
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    grouped = rewards.view(2, 4)
    centred = (grouped - grouped.mean(1, keepdim=True)).flatten()
    torch.testing.assert_close(group_advantages(rewards, 4, scale="none"), centred)
    torch.testing.assert_close(group_advantages(rewards, 4, scale="batch", eps=0),
                               centred / rewards.std())
    per_group = (centred.view(2, 4) / grouped.std(1, keepdim=True)).flatten()
    torch.testing.assert_close(group_advantages(rewards, 4, eps=0), per_group)


def test_all_equal_group_gives_zero_advantage():
    assert group_advantages([1.0, 1.0, 1.0, 1.0], 4).abs().max() == 0
    assert group_advantages([0.3, 0.7], 1).abs().max() == 0  # G = 1: no baseline spread


def test_unscorable_rewards_are_left_out():
    adv = group_advantages([1.0, None, 0.0, float("nan")], 4, eps=0)
    torch.testing.assert_close(adv, torch.tensor([0.5 / math.sqrt(0.5), 0.0, -0.5 / math.sqrt(0.5), 0.0]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(rewards=[1.0, 0.0, 1.0], group_size=2), "do not split into groups of 2"),
    (dict(rewards=[1.0], group_size=0), "positive int"),
    (dict(rewards=[1.0], group_size=1, scale="global"), "scale must be one of"),
    (dict(rewards=[1.0], group_size=1, std="unbiased"), "std must be one of"),
])
def test_advantage_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        group_advantages(**kwargs)


def toy(B=3, T=4):
    g = torch.Generator().manual_seed(1)
    logps = (-torch.rand(B, T, generator=g, dtype=torch.float64)).requires_grad_()
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.float64)[:B]
    return logps, mask, torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)[:B]


def test_on_policy_gradient_is_advantage_over_length():
    logps, mask, adv = toy()
    loss, metrics = grpo_loss(logps, None, None, adv, mask, loss_type="grpo")
    assert loss.item() == pytest.approx(-adv.mean().item())
    (grad,) = torch.autograd.grad(loss, logps)
    expected = -adv[:, None] * mask / mask.sum(1, keepdim=True) / len(adv)
    torch.testing.assert_close(grad, expected)
    assert metrics["clip_ratio/region_mean"] == 0.0 and "kl" not in metrics


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_aggregations_by_hand(loss_type):
    logps, mask, adv = toy()
    old = logps.detach() - 0.05  # ratio e^0.05 ≈ 1.051, inside the clip range
    per_token = -(torch.exp(logps.detach() - old) * adv[:, None])  # [B, T]
    expected = {
        "grpo": ((per_token * mask).sum(1) / mask.sum(1)).mean(),
        "bnpo": (per_token * mask).sum() / mask.sum(),
        "dr_grpo": (per_token * mask).sum() / (3 * 8),
        "dapo": (per_token * mask).sum() / mask.sum(),
    }[loss_type]
    loss, _ = grpo_loss(logps, old, None, adv, mask, loss_type=loss_type, max_completion_length=8)
    torch.testing.assert_close(loss.detach(), expected)


def test_clipping_stops_the_gradient_outside_the_range():
    logps, mask, adv = toy(B=1)
    old = logps.detach() - 0.5  # ratio e^0.5 ≈ 1.65 > 1.2 with A > 0: clipped, no gradient
    loss, metrics = grpo_loss(logps, old, None, adv, mask)
    (grad,) = torch.autograd.grad(loss, logps)
    assert grad.abs().max() == 0
    assert metrics["clip_ratio/high_mean"] == 1.0 and metrics["clip_ratio/low_mean"] == 0.0


def test_k3_kl_is_nonnegative_and_zero_at_the_reference():
    logps, mask, adv = toy()
    _, at_ref = grpo_loss(logps, None, logps.detach(), adv, mask, beta=0.1)
    assert at_ref["kl"] == 0.0
    _, away = grpo_loss(logps, None, logps.detach() + 0.3, adv, mask, beta=0.1)
    assert away["kl"] == pytest.approx(math.exp(0.3) - 0.3 - 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(loss_type="ppo"), "loss_type must be one of"),
    (dict(importance_sampling_level="batch"), "importance_sampling_level must be one of"),
    (dict(beta=0.04), "needs ref_logps"),
    (dict(loss_type="dr_grpo"), "pass it"),
    (dict(epsilon_low=-0.1), "must be >= 0"),
])
def test_loss_errors(kwargs, message):
    logps, mask, adv = toy()
    with pytest.raises(ValueError, match=message):
        grpo_loss(logps, None, None, adv, mask, **kwargs)


def test_shape_errors_name_the_tensor():
    logps, mask, adv = toy()
    with pytest.raises(ValueError, match="mask has shape"):
        grpo_loss(logps, None, None, adv, mask[:, :2])
    with pytest.raises(ValueError, match="advantages must be"):
        grpo_loss(logps, None, None, adv[:2], mask)
    with pytest.raises(ValueError, match=r"logps must be \[B, T\]"):
        grpo_loss(logps[0], None, None, adv, mask)
