"""Group-relative advantages (R1 §2.2.1): the group of G samples is the baseline; no critic."""

from __future__ import annotations

import torch

SCALES = ("group", "batch", "none")
STDS = ("sample", "population")
# TRL adds this to the std so that a group whose rewards are all equal divides by ~0 safely.
TRL_STD_EPS = 1e-4


def _nanstd(x: torch.Tensor, dim: int | None, std: str) -> torch.Tensor:
    """Std ignoring NaN (unscorable rewards); ``sample`` divides by n-1, ``population`` by n."""
    count = (~x.isnan()).sum(dim) if dim is not None else (~x.isnan()).sum()
    mean = x.nanmean(dim, keepdim=True) if dim is not None else x.nanmean()
    squares = ((x - mean) ** 2).nansum(dim) if dim is not None else ((x - mean) ** 2).nansum()
    denominator = count - 1 if std == "sample" else count
    return (squares / denominator.clamp(min=1)).sqrt()


def group_advantages(
    rewards,
    group_size: int,
    scale: str = "group",
    std: str = "sample",
    eps: float = TRL_STD_EPS,
) -> torch.Tensor:
    """A_i = (r_i - mean(group)) / (std + eps), one value per completion.

    Args:
        rewards: [B] rewards, B = number of prompts * ``group_size``, consecutive completions
            of one prompt together (TRL's layout). NaN (or None) marks an unscorable
            completion: left out of the mean and std; its advantage is 0.
        group_size: G, completions sampled per prompt (R1-Zero: 16; TRL's ``num_generations``).
        scale: TRL's ``scale_rewards``. ``group``: divide by each group's std (the paper);
            ``batch``: by the std of the whole batch; ``none``: do not divide (Dr. GRPO).
        std: ``sample`` (n-1, what ``torch.std`` and TRL use) or ``population`` (n).
        eps: added to the std; TRL uses 1e-4. Use 0 to reproduce hand calculations.

    Returns:
        [B] float32 advantages.

    >>> group_advantages([0.1, 1.1, 1.0, 0.1], group_size=4, eps=0).round(decimals=4)
    tensor([-0.8636,  0.9545,  0.7727, -0.8636])
    >>> group_advantages([0.1, 1.1, 1.0, 0.1], 4, std="population", eps=0).round(decimals=4)
    tensor([-0.9972,  1.1022,  0.8923, -0.9972])
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES} (TRL's scale_rewards); got {scale!r}")
    if std not in STDS:
        raise ValueError(f"std must be one of {STDS}; got {std!r}")
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be a positive int; got {group_size!r}")
    if not isinstance(rewards, torch.Tensor):
        rewards = [float("nan") if r is None else r for r in rewards]
    rewards = torch.as_tensor(rewards, dtype=torch.float32).flatten()  # [B]
    if rewards.numel() % group_size:
        raise ValueError(
            f"{rewards.numel()} rewards do not split into groups of {group_size}: "
            "pass all G completions of every prompt, in order"
        )
    grouped = rewards.view(-1, group_size)  # [B/G, G]
    mean = grouped.nanmean(dim=1, keepdim=True)  # [B/G, 1]
    advantages = grouped - mean  # [B/G, G]
    if scale == "group":
        if group_size > 1:
            spread = _nanstd(grouped, dim=1, std=std).unsqueeze(1)  # [B/G, 1]
        else:  # one sample has no spread (TRL uses 0 here too)
            spread = torch.zeros_like(mean)
        advantages = advantages / (spread + eps)
    elif scale == "batch":
        spread = _nanstd(rewards, dim=None, std=std) if rewards.numel() > 1 else rewards.new_zeros(())
        advantages = advantages / (spread + eps)
    return advantages.flatten().nan_to_num(nan=0.0)  # [B]
