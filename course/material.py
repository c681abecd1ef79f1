"""What an exercise hands to the student and its check runs again: one copy, so they agree.

Each function here is exercise material, not a solution: the notebook calls it to produce
the data or the run the student reads, and ``checks.py`` calls it with the same arguments to
know the right reading. Everything is computed by r1lab itself.
"""

from __future__ import annotations

import random

import torch

from r1lab.grpo import group_advantages, grpo_loss
from r1lab.tasks import EOS, generate, worked_chain
from r1lab.template import DETAILED_TEMPLATE, R1_ZERO_TEMPLATE
from r1lab.tiny.corpus import documents

# The walkthrough's four sampled answers to "What is 2+3*4?" (notebook 02, section 1).
GOLD = "14"
WALKTHROUGH = {
    "o1": "<think>2+3=5, 5*4=20</think><answer>20</answer>",  # wrong operator order
    "o2": "<think>3*4=12, 2+12=14</think><answer>14</answer>",  # right, well formed
    "o3": "<answer>14</answer>",  # right, but no reasoning block
    "o4": "<think>qx 7 zz? blorp + 4 !!</think><answer>7<answer>",  # gibberish, bad tag
}


def lenient_total(text: str, gold: str = GOLD) -> float:
    """The walkthrough's lenient reward (notebook 02, section 1): accuracy 1 if the text
    after the first ``<answer>``, up to the next tag, is the gold answer as a string, plus
    0.1 if a ``<think>…</think>`` block is there, whatever comes after it.

    >>> lenient_total("<think>x</think><answer>14<answer>"), lenient_total("<answer>14")
    (1.1, 1.0)
    """
    start = text.find("<think>")
    has_think = start != -1 and text.find("</think>", start) != -1
    after = text.split("<answer>", 1)[-1].split("<", 1)[0]
    right = "<answer>" in text and after.strip() == gold
    return (1.0 if right else 0.0) + (0.1 if has_think else 0.0)


def r1_zero_documents(n: int = 2000, seed: int = 0) -> list[tuple[str, str]]:
    """(prompt, completion) for each of the tiny world's first ``n`` pretraining documents
    (``r1lab.tiny.corpus.documents``) that is written in the plain R1-Zero template.

    Left out: bare worked chains, pages of examples, and documents answering the cold
    start's request for detailed steps (``DETAILED_TEMPLATE``). The prompt ends with
    ``Assistant:``; the completion is what follows, without the end-of-text marker.
    """
    head = R1_ZERO_TEMPLATE.split("{prompt}")[0]  # the template up to the question
    detailed_tail = DETAILED_TEMPLATE.split("{prompt}")[1]
    pairs = []
    for document in documents(n, seed=seed):
        if not document.startswith(head):
            continue
        prompt, mark, completion = document.removesuffix(EOS).partition(". Assistant:")
        if not (prompt + mark).endswith(detailed_tail):
            pairs.append((prompt + mark, completion))
    return pairs


def tiny_chains(n: int = 300, slip_rate: float = 0.25, checked: bool = False,
                seed: int = 0) -> tuple[list[str], list[str]]:
    """(completions, gold answers) for ``n`` test problems of the tiny world, each solved by
    a worked chain in the think block (``r1lab.tasks.worked_chain``) whose steps slip with
    chance ``slip_rate``; ``checked`` chains re-check every step and fix a slip on the spot.
    The answer block holds the answer the chain ends on.
    """
    problems = generate(n, split="test", seed=seed)
    rng = random.Random(seed)  # the same slips whether the chains are checked or not
    completions = []
    for problem in problems:
        slips = {i for i in range(len(problem.chain) - 1) if rng.random() < slip_rate}
        chain, written = worked_chain(problem, "en", slips, checked)
        completions.append(f"<think>{chain}</think><answer>{written}</answer>")
    return completions, [problem.answer for problem in problems]


def toy_bandit(rewards=(0.1, 1.1, 1.0, 0.1), steps: int = 100, group_size: int = 8,
               lr: float = 0.5, scale: str = "group", seed: int = 0) -> list[list[float]]:
    """GRPO on the smallest policy there is: one softmax over the walkthrough's four outputs.

    Each step samples a group of ``group_size`` outputs from the policy, scores output i with
    ``rewards[i]``, takes advantages with ``group_advantages(..., scale=scale)`` and one SGD
    step on ``grpo_loss`` (on-policy, β = 0). Returns the policy's probabilities of the four
    outputs before the first step and after each step: ``steps + 1`` rows of 4.
    """
    generator = torch.Generator().manual_seed(seed)
    logits = torch.zeros(len(rewards), requires_grad=True)  # [4] uniform start
    reward_of = torch.tensor(rewards)  # [4]
    optimizer = torch.optim.SGD([logits], lr=lr)
    history = [logits.softmax(-1).tolist()]
    for _ in range(steps):
        probs = logits.detach().softmax(-1)  # [4]
        group = torch.multinomial(probs, group_size, replacement=True, generator=generator)  # [G]
        logps = logits.log_softmax(-1)[group][:, None]  # [G, T=1] one token per output
        advantages = group_advantages(reward_of[group], group_size, scale=scale)  # [G]
        loss, _ = grpo_loss(logps, None, None, advantages, torch.ones(group_size, 1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(logits.softmax(-1).tolist())
    return history
