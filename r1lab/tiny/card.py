"""Measure a tiny model's profile and write its model card: ``python -m r1lab.tiny.card DIR``.

The profile is what RL will have to work with (the base model's targets, ``BASE_TARGETS``, in
brackets):

* ``pass_at_1``: unprompted, paper protocol (T=0.6, top-p 0.95, k samples) [10%-40%];
* ``reasoning_accuracy``: prefilled with ``<think>``, made to reason, "P_think" [45%-70%]:
  reasoning pays, yet leaves room that only reasoning *better* can fill;
* ``direct_accuracy``: prefilled with ``<answer>``, made to answer at once;
* ``reasoning_rate``: share of unprompted samples that reason [<= 30%];
* ``recheck_rate``: share of chains of thought (prefilled ``<think>`` run) that re-check a
  step [<= 20%]: checking is there to be found, but rare;
* ``recheck_accuracy`` / ``no_recheck_accuracy``: accuracy of those chains that do / do not
  re-check (prefilled ``<think>`` run);
* ``reasoning_tokens``: mean tokens of a chain of thought (prefilled ``<think>`` run);
* ``mixing_rate``: share of chains of thought (prefilled ``<think>`` run) that mix
  languages [>= 10%].

Each number is one ``r1lab eval`` run; the card lists the commands that reproduce them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import torch

from r1lab.eval import TINY_MAX_NEW_TOKENS, Protocol, held_out
from r1lab.files import write_atomically
from r1lab.sources import load_model_and_tokenizer

# What the tiny base model must offer RL: room to improve, a behaviour to discover
# (reasoning) that pays, and language mixing to correct later.
BASE_TARGETS = {
    "pass_at_1": (0.10, 0.40),
    "reasoning_accuracy": (0.45, 0.70),
    "reasoning_rate": (0.0, 0.30),
    "recheck_rate": (0.0, 0.20),
    "mixing_rate": (0.10, 1.0),
}
MAX_NEW_TOKENS = TINY_MAX_NEW_TOKENS  # the card's evaluations sample as every other one does
RUNS = {"unprompted": "", "reasoning": "<think>", "direct": "<answer>"}
ROLES = {
    "base": "the tiny world's stand-in for DeepSeek-V3-Base",
    "student": "the small student that the distillation stage (R1 §2.4) teaches; it shares "
               "the base model's tokenizer",
}


def protocols(n: int = 500, k: int = 8, seed: int = 0, max_new_tokens: int = MAX_NEW_TOKENS,
              batch_size: int = 256) -> dict[str, Protocol]:
    """The card's three held-out runs (``RUNS``): English test questions, ``seed`` drawing
    them and seeding the sampling, each run with its prefill."""
    return {name: Protocol(n=n, split="test", seed=seed, zh_fraction=0.0, k=k,
                           max_new_tokens=max_new_tokens, batch_size=batch_size,
                           sampling_seed=seed, prefill=prefill)
            for name, prefill in RUNS.items()}


def measure(model_dir, n: int = 500, k: int = 8, seed: int = 0,
            max_new_tokens: int = MAX_NEW_TOKENS,
            batch_size: int = 256, progress: bool = True) -> dict:
    """Run the three evaluations (``protocols``) on ``n`` held-out arithmetic problems;
    return the profile."""
    loaded = load_model_and_tokenizer(model_dir)
    reports, seconds = {}, {}
    for name, protocol in protocols(n, k, seed, max_new_tokens, batch_size).items():
        start = time.time()
        reports[name] = held_out(loaded, protocol, progress=progress)
        seconds[name] = round(time.time() - start, 1)
    profile = {
        "pass_at_1": reports["unprompted"].pass_at_1,
        "pass_at_1_ci": list(reports["unprompted"].pass_at_1_ci),
        "reasoning_rate": reports["unprompted"].reasoning_rate,
        "format_rate": reports["unprompted"].format_rate,
        "reasoning_accuracy": reports["reasoning"].pass_at_1,
        "direct_accuracy": reports["direct"].pass_at_1,
        "mixing_rate": reports["reasoning"].mixing_rate,
        "recheck_rate": reports["reasoning"].recheck_rate,
        "recheck_accuracy": reports["reasoning"].accuracy_when_rechecking,
        "no_recheck_accuracy": reports["reasoning"].accuracy_without_recheck,
        "reasoning_tokens": reports["reasoning"].mean_reasoning_tokens,
        "unprompted_mixing_rate": reports["unprompted"].mixing_rate,
        "mean_completion_tokens": reports["unprompted"].mean_completion_tokens,
    }
    ratio = profile["reasoning_accuracy"] / max(profile["direct_accuracy"], 1e-9)
    profile["reasoning_over_direct"] = ratio
    command = (f"r1lab eval {model_dir} --task arithmetic --n {n} --k {k} --seed {seed} "
               f"--max-new-tokens {max_new_tokens} --batch-size {batch_size}")
    return {
        "profile": profile,
        "protocol": {"task": "arithmetic (test split, English questions)", "n": n, "k": k,
                     "batch_size": batch_size,
                     "seed": seed, "temperature": 0.6, "top_p": 0.95,
                     "max_new_tokens": max_new_tokens},
        "commands": {name: command + (f' --prefill "{p}"' if p else "")
                     for name, p in RUNS.items()},
        "eval_seconds": seconds,
        "correct_per_question": {name: report.per_question() for name, report in reports.items()},
        "weights_sha256": weights_sha256(model_dir),
        "torch": torch.__version__,
    }


def weights_sha256(model_dir) -> str:
    """Fingerprint of the weights the profile was measured on."""
    return hashlib.sha256((Path(model_dir) / "model.safetensors").read_bytes()).hexdigest()


def check_targets(profile: dict, targets: dict = BASE_TARGETS) -> list[str]:
    """The targets the profile misses, in words (empty when all are met)."""
    return [f"{name} = {profile[name]:.3f}, outside [{low}, {high}]"
            for name, (low, high) in targets.items() if not low <= profile[name] <= high]


def write_card(model_dir, measured: dict, regenerate: str, role: str = "base") -> Path:
    """README.md (the card, ``pretrained_card``) and profile.json beside the weights."""
    model_dir = Path(model_dir)
    write_atomically(model_dir / "profile.json", json.dumps(measured, indent=2))
    return write_atomically(model_dir / "README.md",
                            pretrained_card(model_dir, measured, regenerate, role))


def pretrained_card(model_dir, measured: dict, regenerate: str, role: str = "base") -> str:
    """The card of a model r1lab pretrained: its ``pretrain.json`` and config beside the
    weights, the ``measured`` profile, the ``regenerate`` command. ``role`` "student" drops the
    base model's targets from the table (a student has none of its own). (The stages' models
    get theirs from ``benchmarks/seed_jobs.py``'s ``card_text``.)"""
    model_dir = Path(model_dir)
    pretrain = json.loads((model_dir / "pretrain.json").read_text())
    p = measured["profile"]
    rows = [
        ("pass@1, unprompted", p["pass_at_1"], "10%–40%"),
        ("accuracy when made to reason (prefill `<think>`), P_think", p["reasoning_accuracy"],
         "45%–70%"),
        ("accuracy when made to answer directly (prefill `<answer>`)", p["direct_accuracy"], "—"),
        ("share of unprompted samples that reason", p["reasoning_rate"], "<= 30%"),
        ("share of chains of thought that re-check a step", p["recheck_rate"], "<= 20%"),
        ("accuracy of chains that re-check", p["recheck_accuracy"], "—"),
        ("accuracy of chains that do not", p["no_recheck_accuracy"], "—"),
        ("share of chains of thought mixing languages", p["mixing_rate"], ">= 10%"),
        ("format rate, unprompted", p["format_rate"], "—"),
    ]
    if role != "base":
        rows = [(name, value, "—") for name, value, _ in rows]
    table = "\n".join(f"| {name} | {'n/a' if value is None else f'{value:.1%}'} | {target} |"
                      for name, value, target in rows)
    c = pretrain["config"]
    vocab = json.loads((model_dir / "config.json").read_text())["vocab_size"]
    threads = pretrain.get("torch_threads", "?")
    return f"""---
library_name: transformers
tags: [r1lab, tiny-world, synthetic-arithmetic]
---
# {c['name']}

A tiny Llama-architecture language model pretrained by r1lab on its synthetic arithmetic
corpus: {ROLES[role]}.

- {pretrain['parameters']:,} parameters: {c['num_layers']} layers, width {c['hidden_size']}, \
{c['num_heads']} heads, {c['num_kv_heads']} key/value heads, vocabulary {vocab}.
- Trained on {pretrain['tokens']:,} tokens ({c['documents']:,} documents) in \
{pretrain['train_seconds'] / 60:.1f} minutes on CPU ({threads} torch thread(s), \
torch {pretrain['torch']}); final training loss {pretrain['train_loss']:.3f}.

## Profile (measured)

Held-out arithmetic test problems, paper protocol: {measured['protocol']['n']} questions, \
k = {measured['protocol']['k']} samples each, temperature 0.6, top-p 0.95, \
seed {measured['protocol']['seed']}. Made to reason, the model is \
{p['reasoning_over_direct']:.1f}x as accurate as when made to answer directly; its chains of
thought take {p['reasoning_tokens']:.0f} tokens on average.

| measure | value | target |
|---|---|---|
{table}

pass@1 95% CI: [{p['pass_at_1_ci'][0]:.1%}, {p['pass_at_1_ci'][1]:.1%}].

## Reproduce

```
{regenerate}
{chr(10).join(measured['commands'].values())}
```

## What the corpus plants

{_planted(c.get('corpus', {}))}

The corpus recipe is `r1lab.tiny.corpus.CorpusConfig` (see `pretrain.json` for the exact
values); `profile.json` holds these numbers.
"""


# How each corpus knob reads on the card (r1lab.tiny.corpus.CorpusConfig's fields).
PLANTED = {
    "reasoning": "of template documents reason in <think> before answering",
    "noisy": "of template documents are wrong or badly formatted",
    "plain_chains": "of all documents are bare worked chains (no template)",
    "plain_checks": "of bare worked chains re-check every step",
    "mixed_cot": "of reasoning documents mix English and Chinese",
    "reflection": "of reasoning documents are careful: they re-check every step and fix slips",
    "slip": "of slip-prone steps are written with their slip, in every chain",
    "pages": "of all documents are pages of worked examples in the readable format (path 1)",
    "detailed": "of all documents answer the request for detailed, checked steps, readably (path 2)",
    "zh_questions": "of questions are asked in Chinese",
}


def _planted(corpus: dict) -> str:
    """The corpus shares as a bullet list (older cards' corpora lack some knobs)."""
    return "\n".join(f"- {corpus[name]:.0%} {words}" for name, words in PLANTED.items()
                     if name in corpus)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", help="folder written by r1lab pretrain")
    parser.add_argument("--n", type=int, default=500, help="held-out questions")
    parser.add_argument("--k", type=int, default=8, help="samples per question")
    parser.add_argument("--regenerate", default="",
                        help="the command that trained the model, quoted in the card")
    parser.add_argument("--role", choices=sorted(ROLES), default="base",
                        help="base (checked against the tiny world's targets) or student")
    parser.add_argument("--card-only", action="store_true",
                        help="rewrite README.md from the existing profile.json, no evaluation")
    args = parser.parse_args(argv)
    if args.card_only:
        measured = json.loads((Path(args.model_dir) / "profile.json").read_text())
    else:
        measured = measure(args.model_dir, n=args.n, k=args.k)
    write_card(args.model_dir, measured, args.regenerate, args.role)
    print(json.dumps(measured["profile"], indent=2))
    if args.role == "base":
        missed = check_targets(measured["profile"])
        print("targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
