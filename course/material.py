"""What an exercise hands to the student and its check runs again: one copy, so they agree.

Each function here is exercise material, not a solution: the notebook calls it to produce
the data or the run the student reads, and ``checks.py`` calls it with the same arguments to
know the right reading. Everything is computed by r1lab itself.

The samples of the shipped tiny models (``data/models/``, exercises 03b-09 and 11) are drawn
once per process and cached, so the check reads the very samples the notebook printed; each call
returns a fresh copy, so a student who edits the records cannot change what the check reads.
"""

from __future__ import annotations

import copy
import json
import os
import random
from functools import cache
from pathlib import Path

import torch

from r1lab.cold_start import ColdStartData
from r1lab.grpo import group_advantages, grpo_loss
from r1lab.sampling import RejectionData, SamplingConfig
from r1lab.tasks import (CLOSINGS, EOS, OPENINGS, ArithmeticConfig, chain_of_thought,
                         generate, problem_for, worked_chain)
from r1lab.template import (DETAILED_TEMPLATE, R1_ZERO_TEMPLATE, READABLE_SUMMARY,
                            render_readable)
from r1lab.tiny.card import MAX_NEW_TOKENS
from r1lab.tiny.corpus import documents
from r1lab.train.recipe import parse_recipe

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


# Notebook 03b: the tiny base on questions shorter than its corpus's -----------------------
# (defined before the 04-07 block whose sampler, tiny_samples, and store, _stored, it calls)

SHORT_OPERANDS = (2, 2)  # one operation: fewer operands than any corpus document has
TASK_OPERANDS = ArithmeticConfig().operands  # the tiny world's questions, 6-7 operands
PREFILLS = {"made to reason": "<think>", "answering directly": "<answer>"}


def operand_label(operands: tuple[int, int]) -> str:
    """'2 operands', '6-7 operands'."""
    low, high = operands
    return f"{low} operands" if low == high else f"{low}-{high} operands"


@cache
def _length_samples(n: int, k: int, seed: int) -> dict[str, list[dict]]:
    def draw():
        samples = {}
        for operands in (SHORT_OPERANDS, TASK_OPERANDS):
            problems = generate(n, split="test", seed=seed,
                                config=ArithmeticConfig(operands=operands))
            for arm, prefill in PREFILLS.items():
                samples[f"{arm}, {operand_label(operands)}"] = tiny_samples(
                    "tiny-base", problems, k, prefill=prefill)
        return samples
    return _stored(f"length_samples-{n}-{k}-{seed}", draw)


def length_samples(n: int = 8, k: int = 8, seed: int = 0) -> dict[str, list[dict]]:
    """Notebook 03b's section 5 in small: the tiny base (``data/models/tiny-base``) on ``n``
    held-out questions of ``SHORT_OPERANDS`` and ``n`` of the task's ``TASK_OPERANDS``,
    ``k`` samples each at the paper's protocol, made to reason (its answer opened with
    ``<think>``) and made to answer directly (opened with ``<answer>``). Keys: "made to
    reason, 2 operands", …"""
    return copy.deepcopy(_length_samples(n, k, seed))


# 04-07: the shipped tiny models, sampled live --------------------------------------------

R1_ZERO_RECIPE = "tiny/r1_zero"  # notebook 04's recipe: its rewards and rollout settings
# The records' keys a student is handed: what a sampler returns, not r1lab's grading of it.
SAMPLE_KEYS = ("index", "question", "answer", "lang", "completion", "n_tokens")
# A folder where the samples below are kept between processes. check_course.py sets it for
# one run, so that the solutions notebook, the exercise notebook and the check itself read
# one draw of each model instead of sampling it three times; unset, nothing is written.
STORE = "R1LAB_COURSE_SAMPLES"


def _stored(key: str, draw):
    """``draw()``, or what an earlier process of the same check drew for ``key``."""
    folder = os.environ.get(STORE)
    if not folder:
        return draw()
    path = Path(folder) / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    value = draw()
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)  # whole or absent, whoever reads it
    return value


@cache
def tiny_model(name: str):
    """(model, tokenizer) of the shipped tiny model ``data/models/<name>``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from r1lab.notebook import quiet_downloads
    from r1lab.sources import local_path

    quiet_downloads()
    path = local_path(f"data/models/{name}")
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def tiny_samples(name: str, problems, k: int, seed: int = 0, **sampling) -> list[dict]:
    """``k`` samples per problem from ``data/models/<name>`` by ``r1lab.eval.evaluate`` (the
    paper's T = 0.6 and top-p 0.95 unless ``sampling`` says otherwise), each record cut to
    ``SAMPLE_KEYS``: what was asked and what the model wrote, not r1lab's grading of it."""
    from r1lab.eval import evaluate

    records = evaluate(*tiny_model(name), problems, k=k, seed=seed, batch_size=256,
                       progress=False, **{"max_new_tokens": MAX_NEW_TOKENS, **sampling}).records
    return [{key: record[key] for key in SAMPLE_KEYS} for record in records]


@cache
def _base_groups(n: int, seed: int, sampling_seed: int) -> list[dict]:
    def draw():
        trainer = parse_recipe(R1_ZERO_RECIPE).trainer
        G = trainer["num_generations"]
        problems = generate(n, split="train", seed=seed)
        records = tiny_samples("tiny-base", problems, k=G, seed=sampling_seed,
                               temperature=trainer["temperature"],
                               top_p=trainer.get("top_p", 1.0),  # TRL's GRPOConfig default
                               max_new_tokens=trainer["max_completion_length"])
        return [{"question": p.question, "answer": p.answer,
                 "completions": [r["completion"] for r in records[i * G:(i + 1) * G]]}
                for i, p in enumerate(problems)]
    return _stored(f"base_groups-{n}-{seed}-{sampling_seed}", draw)


def base_groups(n: int = 12, seed: int = 7, sampling_seed: int = 3) -> list[dict]:
    """GRPO's first rollouts in notebook 04: for ``n`` training questions (drawn with
    ``seed``, as notebook 04's group by hand is), a group of ``num_generations`` completions
    from the tiny base, sampled as ``tiny/r1_zero``'s rollouts are (its temperature and
    completion length; TRL's top-p 1). One dict per question: ``question``, ``answer``,
    ``completions``."""
    return copy.deepcopy(_base_groups(n, seed, sampling_seed))


@cache
def _recheck_samples(n: int, k: int, seed: int) -> dict[str, list[dict]]:
    def draw():
        problems = generate(n, split="test", seed=seed)
        return {"base forced to reason": tiny_samples("tiny-base", problems, k,
                                                      prefill="<think>"),
                "R1-Zero": tiny_samples("tiny-r1-zero", problems, k)}
    return _stored(f"recheck_samples-{n}-{k}-{seed}", draw)


def recheck_samples(n: int = 16, k: int = 4, seed: int = 3) -> dict[str, list[dict]]:
    """Notebook 04's two models on the same ``n`` held-out questions, ``k`` samples each at
    the paper's protocol: the base forced to reason (its completion opened with
    ``<think>``) and the shipped R1-Zero (``data/models/tiny-r1-zero``)."""
    return copy.deepcopy(_recheck_samples(n, k, seed))


@cache
def _r1_zero_outputs(n: int, seed: int) -> list[dict]:
    def draw():
        config = ColdStartData()
        problems = generate(n, split="train", seed=seed,
                            config=ArithmeticConfig(zh_fraction=config.zh_fraction))
        return tiny_samples("tiny-r1-zero", problems, k=1)
    return _stored(f"r1_zero_outputs-{n}-{seed}", draw)


def r1_zero_outputs(n: int = 40, seed: int = ColdStartData().seed) -> list[dict]:
    """Path 3's raw material (notebook 05): one sample of the shipped R1-Zero for each of
    ``n`` training questions, asked in Chinese as often as ``ColdStartData`` asks, sampled as
    ``r1lab.cold_start.collect_cold_start`` samples it."""
    return copy.deepcopy(_r1_zero_outputs(n, seed))


@cache
def _chinese_samples(n: int, k: int, seed: int) -> dict[str, list[dict]]:
    def draw():
        problems = generate(n, split="test", seed=seed,
                            config=ArithmeticConfig(zh_fraction=1.0))
        return {"R1-Zero": tiny_samples("tiny-r1-zero", problems, k),
                "stage 2": tiny_samples("tiny-reasoning-rl", problems, k)}
    return _stored(f"chinese_samples-{n}-{k}-{seed}", draw)


def chinese_samples(n: int = 16, k: int = 2, seed: int = 0) -> dict[str, list[dict]]:
    """``n`` held-out questions asked in Chinese, ``k`` samples each at the paper's protocol,
    from the shipped R1-Zero (no cold start, no language reward) and from the stage-2 model
    (``data/models/tiny-reasoning-rl``: cold start, then RL with the language reward)."""
    return copy.deepcopy(_chinese_samples(n, k, seed))


@cache
def _stage_2_samples(n: int, seed: int) -> list[dict]:
    def draw():
        data, config = RejectionData(), SamplingConfig()
        problems = generate(n, split="train", seed=data.seed,
                            config=ArithmeticConfig(zh_fraction=data.zh_fraction))
        return tiny_samples("tiny-reasoning-rl", problems, k=data.k, seed=seed,
                            temperature=config.temperature, top_p=config.top_p)
    return _stored(f"stage_2_samples-{n}-{seed}", draw)


def stage_2_samples(n: int = 24, seed: int = 0) -> list[dict]:
    """Rejection sampling's raw material (notebook 07): ``k`` samples for each of the first
    ``n`` training questions ``r1lab.sampling.sample_stage_2`` asks (``RejectionData``: its
    question seed, half in Chinese, its k), from the stage-2 model at ``SamplingConfig``'s
    T = 0.6 and top-p 0.95."""
    return copy.deepcopy(_stage_2_samples(n, seed))


def token_count(text: str) -> int:
    """How many tokens the tiny tokenizer writes ``text`` in (what a sample's ``n_tokens``
    counts)."""
    return len(tiny_model("tiny-reasoning-rl")[1](text)["input_ids"])


REJECTION_QUESTION = problem_for("2+3*4", "en")  # notebook 07's "What is 2+3*4?"


def _gallery_texts() -> list[str]:
    problem = REJECTION_QUESTION

    def readable(slips=frozenset(), check=False, langs=("en", "en")):
        _, answer = worked_chain(problem, langs[1], slips, check)
        return render_readable(chain_of_thought(problem, langs, check, slips),
                               READABLE_SUMMARY.format(answer=answer))

    checked = readable(check=True)
    chain, answer = worked_chain(problem, "en")
    fenced = OPENINGS["en"] + f"```{chain}```" + CLOSINGS["en"].format(answer=answer)
    return [
        checked,
        readable(slips={0}),  # a slip carried to the answer
        checked.replace(" = ", "  =  "),
        f"<think>{chain_of_thought(problem, ('en', 'en'), check=True)}</think>"
        f"<answer>{problem.answer}</answer>",
        readable(check=True, langs=("en", "zh")),  # checks and closing in Chinese
        readable(),
        readable(slips={0}, langs=("en", "zh")),
        render_readable(fenced, READABLE_SUMMARY.format(answer=answer)),
        readable(slips={0}, check=True),  # a slip caught by its check
    ]


@cache
def _rejection_gallery() -> list[dict]:
    problem = REJECTION_QUESTION
    counts = _stored("gallery_token_counts",
                     lambda: [token_count(text) for text in _gallery_texts()])
    return [{"index": 0, "question": problem.question, "answer": problem.answer,
             "lang": problem.lang, "completion": text, "n_tokens": n}
            for text, n in zip(_gallery_texts(), counts)]


def rejection_gallery() -> list[dict]:
    """Nine samples for notebook 07's "What is 2+3*4?", written by the tiny world's own
    chains (``r1lab.tasks.chain_of_thought``), as records ``r1lab.sampling.filter_samples``
    reads: ``n_tokens`` is the tiny tokenizer's count."""
    return copy.deepcopy(_rejection_gallery())


# Notebook 08: the shipped reward models, as stage 4 calls them ---------------------------

ALL_SCENARIO_RECIPE = "tiny/all_scenario_rl"  # notebook 08's stage 4: its two reward models


@cache
def stage_4_judge(name: str):
    """Stage 4's reward model ``name`` (``helpful_rm`` or ``harmless_rm``), built as
    ``tiny/all_scenario_rl`` builds it (``r1lab.train.grpo.reward_function``): the shipped
    model (``data/models/tiny-rm-*``), the view it reads and the kind of prompt it scores."""
    from r1lab.notebook import quiet_downloads
    from r1lab.train.grpo import reward_function

    quiet_downloads()
    return reward_function(name, parse_recipe(ALL_SCENARIO_RECIPE))


def judge_scores(name: str, question: str, responses) -> list[float | None]:
    """Stage 4's reward model ``name`` on each response to ``question`` (rendered in the
    R1-Zero template), called as GRPO calls it: None for a text it cannot read."""
    from r1lab.template import render

    judge = stage_4_judge(name)
    n = len(responses)
    return judge(list(responses), prompts=[render(question)] * n, kind=[judge.kinds[0]] * n)


@cache
def _scored_pairs(n: int, seed: int) -> list[dict]:
    def draw():
        from r1lab.tasks.preferences import preference_pairs

        rows = preference_pairs(n, "helpful", split="test", seed=seed)
        judge = stage_4_judge("helpful_rm")
        chosen, rejected = (judge.scores([judge.text(r["prompt"], r[side]) for r in rows])
                            for side in ("chosen", "rejected"))
        return [{"question": r["question"], "chosen": r["chosen"], "rejected": r["rejected"],
                 "r_chosen": c, "r_rejected": j} for r, c, j in zip(rows, chosen, rejected)]
    return _stored(f"scored_pairs-{n}-{seed}", draw)


def scored_pairs(n: int = 6, seed: int = 11) -> list[dict]:
    """``n`` held-out helpfulness pairs (``preference_pairs(n, "helpful", split="test")``,
    no label noise: chosen is the reply the rule finds helpful), each scored by the shipped
    helpfulness model as ``r1lab.eval.pair_accuracy`` scores them: ``question``, ``chosen``,
    ``rejected``, ``r_chosen``, ``r_rejected``."""
    return copy.deepcopy(_scored_pairs(n, seed))


# Notebook 09: the student and the teacher, sampled live ----------------------------------

@cache
def _student_teacher_samples(n: int, k: int, seed: int) -> dict[str, list[dict]]:
    def draw():
        from r1lab.eval import Protocol

        problems = generate(n, split="test", seed=seed,
                            config=ArithmeticConfig(zh_fraction=Protocol().zh_fraction))
        return {"student": tiny_samples("tiny-student", problems, k),
                "student made to reason": tiny_samples("tiny-student", problems, k,
                                                       prefill="<think>"),
                "teacher": tiny_samples("tiny-r1", problems, k)}
    return _stored(f"student_teacher_samples-{n}-{k}-{seed}", draw)


def student_teacher_samples(n: int = 16, k: int = 4, seed: int = 1) -> dict[str, list[dict]]:
    """Notebook 09's three readings on the same ``n`` held-out questions (half in Chinese, as
    the held-out protocol asks them), ``k`` samples each at the paper's protocol: the student
    (``data/models/tiny-student``) unprompted, the student made to reason (its answer opened
    with ``<think>``), and the teacher (``data/models/tiny-r1``)."""
    return copy.deepcopy(_student_teacher_samples(n, k, seed))


# Notebook 10: the Triton kernel in Triton's interpreter -----------------------------------
# interpret=True has r1lab take Triton's interpreter per kernel (r1lab.kernels.triton_logprobs
# ._kernel), so TRITON_INTERPRET need not be set before triton is imported, here or in a
# notebook's kernel. The interpreter has no bf16 arithmetic: everything below is fp32 and tiny.

KERNEL_TEMPERATURE = 0.7  # the sampler's τ: the kernel divides the logits by it
KERNEL_VOCAB, KERNEL_BLOCK = 19, 8  # three tiles of the vocabulary, the last mostly past V
# Exercise 10.4's batch by design: π_θ/π_old of each completion token (None: padding) and one
# advantage per completion; every ratio is well away from the clip range's ends 0.8 and 1.2.
KERNEL_RATIOS = ((1.30, 0.70, 1.10, 1.25), (1.30, 0.75, 0.95, None), (0.90, 1.40, None, None))
KERNEL_ADVANTAGES = (1.0, -0.5, 0.0)
KERNEL_EPSILON = 0.2  # the clip range [1 - ε, 1 + ε] (PPO's and DeepSeekMath's ε)


def kernel_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    """Exercise 10.4's batch, fp32: ``logits`` [B, T, V], ``ids`` [B, T], ``old`` [B, T] log
    π_old placed so that each token's ratio π_θ/π_old is ``KERNEL_RATIOS``'s at
    ``KERNEL_TEMPERATURE``, ``advantages`` [B] and ``mask`` [B, T] (0 where the ratio is None)."""
    generator = torch.Generator().manual_seed(seed)
    B, T = len(KERNEL_RATIOS), len(KERNEL_RATIOS[0])
    logits = 3 * torch.randn(B, T, KERNEL_VOCAB, generator=generator)  # [B, T, V]
    ids = torch.randint(0, KERNEL_VOCAB, (B, T), generator=generator)  # [B, T]
    mask = torch.tensor([[r is not None for r in row] for row in KERNEL_RATIOS]).float()
    ratios = torch.tensor([[r or 1.0 for r in row] for row in KERNEL_RATIOS])  # [B, T]
    logps = torch.log_softmax(logits / KERNEL_TEMPERATURE, -1)  # [B, T, V]
    logps = logps.gather(-1, ids[..., None])[..., 0]  # [B, T] log π_θ of the sampled tokens
    return {"logits": logits, "ids": ids, "old": logps - ratios.log(),  # [B, T] each
            "advantages": torch.tensor(KERNEL_ADVANTAGES), "mask": mask}


def run_kernel(batch: dict, temperature: float = KERNEL_TEMPERATURE):
    """``r1lab.kernels.fused_grpo_loss`` on ``batch`` in Triton's interpreter: loss type
    ``grpo``, clip range ``KERNEL_EPSILON``, β = 0 (no reference model). Returns (loss,
    metrics, d(logits) [B, T, V])."""
    from r1lab.kernels import fused_grpo_loss

    leaf = batch["logits"].clone().requires_grad_()  # [B, T, V]
    loss, metrics = fused_grpo_loss(leaf, batch["ids"], batch["old"], None, batch["advantages"],
                                    batch["mask"], temperature=temperature, loss_type="grpo",
                                    epsilon_low=KERNEL_EPSILON, block_size=KERNEL_BLOCK,
                                    interpret=True)
    loss.backward()
    return loss.item(), metrics, leaf.grad


# Notebook 11: the tiny base's planted reasoning mode, sampled live ------------------------

@cache
def _planted_mode_samples(n: int, k: int, seed: int) -> dict[str, list[dict]]:
    def draw():
        from r1lab.findings import pass_at_k_protocol

        problems = pass_at_k_protocol(questions=n).questions()
        return {"unprompted": tiny_samples("tiny-base", problems, k, seed=seed),
                "made to reason": tiny_samples("tiny-base", problems, k, seed=seed,
                                               prefill="<think>")}
    return _stored(f"planted_mode_samples-{n}-{k}-{seed}", draw)


def planted_mode_samples(n: int = 8, k: int = 16, seed: int = 1) -> dict[str, list[dict]]:
    """Notebook 11's control, live: the tiny base (``data/models/tiny-base``) on ``n`` of the
    pass@k finding's held-out questions (``r1lab.findings.pass_at_k_protocol``, English), ``k``
    samples each at the paper's protocol with sampling seed ``seed``, unprompted and made to
    reason (its answer opened with ``<think>``)."""
    return copy.deepcopy(_planted_mode_samples(n, k, seed))
