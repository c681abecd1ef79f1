"""Sampling-based evaluation, the paper's protocol (R1 §3, "Evaluation Setup").

R1 samples k responses per question at temperature 0.6 and top-p 0.95 and reports
pass@1 = (1/k) * sum_i p_i, the share of correct samples, averaged over questions: greedy
decoding makes long-CoT models repeat themselves, and one sample per question is noisy.

Metrics (each a mean over samples unless said otherwise):

* ``pass@1``: per question c/k (c correct samples out of k), averaged over questions.
* ``pass@k'``: the unbiased estimator of Chen et al. 2021 (:func:`pass_at_k`) with n = k
  samples, per question, averaged over questions; for k' in 1, 2, 4, … up to k, and k.
* ``format rate``: share of samples that ``r1lab.template.parse_completion`` calls well
  formed (R1-Zero tags or the cold-start readable format).
* ``reasoning rate``: share of samples with a non-empty ``<think>`` block.
* ``mixing rate``: share of *reasoning* samples whose think text is not all in the
  question's language (``lang``): ``r1lab.rewards.language.mixes_languages``, the
  language-consistency reward below 1 (R1 §2.3.2 saw CoT language mixing in R1-Zero).
* ``accuracy when reasoning / direct``: share of correct samples among those that do / do
  not reason (None when there are none).
* ``re-check rate``: share of *reasoning* samples whose think text re-checks a step
  (``r1lab.rewards.reflection.rechecks``: a reflection word such as "check", "wait", "检查");
  ``accuracy when re-checking / not`` splits the reasoning samples by it.
* ``mean reasoning tokens``: generated tokens per reasoning sample (the chain-of-thought
  length R1 §2.2.4 watches grow, without the direct answers that would dilute it).
* ``mean completion tokens``: generated tokens per sample, up to the first end-of-sequence.

Correctness is ``r1lab.rewards.accuracy_reward``, the very rule RL trains on; a sample the
rule cannot score (``None``) counts as incorrect and is counted in ``n_unscored``.

``evaluate`` grades arithmetic questions, ``evaluate_requests`` and ``evaluate_general`` the
tiny world's non-reasoning requests and general prompts. A held-out evaluation is one
``Protocol`` (questions, k, sampling, seeds, prefill) run by ``held_out``, which every
benchmark, model card and results table calls; ``evaluate_model`` adds the general prompts
to it for a saved model (``Evaluation``: the pipeline's results table, the distillation
notebook).

>>> pass_at_k(n=8, c=2, k=1)
0.25
>>> mixes_languages("所以 the answer is 14", "en")
True
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from r1lab.files import write_atomically
from r1lab.progress import bar as progress_bar
from r1lab.rewards import accuracy_reward
from r1lab.rewards.language import checked_language, mixes_languages
from r1lab.rewards.reflection import rechecks
from r1lab.stats import confidence_interval, pass_at_k
from r1lab.template import R1_ZERO_TEMPLATE, parse_completion, render

# R1 §3: "sampling temperature of 0.6, a top-p value of 0.95".
PAPER_TEMPERATURE = 0.6
PAPER_TOP_P = 0.95


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def last_number(text: str) -> str | None:
    """The last number a completion writes anywhere, commas dropped: a lenient reading of its
    answer, to compare with the accuracy reward's (which reads the ``<answer>`` block only,
    R1 §2.2.2). It tells a model that computes right but ignores the format from one that
    computes wrong.

    >>> last_number("10 min per 3 miles, so 42 miles take 140 minutes."), last_number("none")
    ('140', None)
    >>> last_number("It costs $1,250.")
    '1250'
    """
    numbers = _NUMBER.findall(text)
    return numbers[-1].replace(",", "") if numbers else None


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 6) if flags else None


def _k_values(k: int) -> list[int]:
    """1, 2, 4, … up to k, and k itself."""
    return sorted({2**i for i in range(k.bit_length()) if 2**i <= k} | {k})


@dataclass
class Report:
    """What :func:`evaluate` measured; rates are shares in [0, 1], rounded to 6 digits.

    CIs are 95% intervals over questions by the normal approximation,
    mean ± 1.96 * sd / sqrt(N) (:func:`confidence_interval`)."""

    n_problems: int
    """N, questions evaluated."""
    k: int
    """Samples per question (1 for greedy decoding)."""
    settings: dict
    """The knobs of the run: temperature, top_p, max_new_tokens, seed, prefill, template…"""
    pass_at_1: float
    """Mean over questions of c/k, the paper's pass@1."""
    pass_at_1_ci: tuple[float, float]
    """95% CI of ``pass_at_1``."""
    pass_at_k: dict[int, float]
    """{k': unbiased pass@k' averaged over questions} for k' = 1, 2, 4, … and k."""
    pass_at_k_ci: dict[int, tuple[float, float]]
    """{k': 95% CI of pass@k'}."""
    format_rate: float
    """Share of samples that are well formed (``r1lab.template.parse_completion``)."""
    mean_completion_tokens: float
    """Generated tokens per sample, end-of-sequence token excluded."""
    reasoning_rate: float
    """Share of samples with a non-empty think block."""
    mixing_rate: float
    """Share of reasoning samples whose think text is not all in the question's language
    (``r1lab.rewards.language.mixes_languages``); 0 when none reason."""
    accuracy_when_reasoning: float | None
    """Share correct among reasoning samples; None when there are none."""
    accuracy_when_direct: float | None
    """Share correct among samples without a think block; None when there are none."""
    n_unscored: int = 0
    """Samples the accuracy rule could not score (counted as wrong)."""
    recheck_rate: float = 0.0
    """Share of reasoning samples whose think text re-checks a step (0 when none reason)."""
    accuracy_when_rechecking: float | None = None
    """Share correct among reasoning samples that re-check; None when there are none."""
    accuracy_without_recheck: float | None = None
    """Share correct among reasoning samples that do not re-check; None when none."""
    mean_reasoning_tokens: float | None = None
    """Generated tokens per reasoning sample; None when none reason."""
    records: list[dict] = field(default_factory=list, repr=False)
    """One dict per sample: index, sample, question, answer, lang, completion, correct,
    score, well_formed, reasons, mixed, rechecks, n_tokens."""

    @classmethod
    def from_records(cls, records: Sequence[dict], k: int, settings: dict) -> Report:
        """Summarize per-sample records (k per problem, grouped by ``index``)."""
        if not records:
            raise ValueError("Report.from_records needs at least one record")
        by_problem: dict[int, list[dict]] = {}
        for record in records:
            by_problem.setdefault(record["index"], []).append(record)
        correct = [sum(r["correct"] for r in group) for group in by_problem.values()]
        pass_k, pass_k_ci = {}, {}
        for kk in _k_values(k):
            scores = [pass_at_k(k, c, kk) for c in correct]
            pass_k[kk] = round(sum(scores) / len(scores), 6)
            pass_k_ci[kk] = confidence_interval(scores)
        reasoning = [r for r in records if r["reasons"]]
        direct = [r for r in records if not r["reasons"]]
        # Records written before the re-check measure existed have no "rechecks": none.
        checking = [r for r in reasoning if r.get("rechecks")]
        unchecked = [r for r in reasoning if not r.get("rechecks")]
        return cls(
            n_problems=len(by_problem),
            k=k,
            settings=dict(settings),
            pass_at_1=pass_k[1],
            pass_at_1_ci=pass_k_ci[1],
            pass_at_k=pass_k,
            pass_at_k_ci=pass_k_ci,
            format_rate=_share([r["well_formed"] for r in records]),
            mean_completion_tokens=round(sum(r["n_tokens"] for r in records) / len(records), 3),
            reasoning_rate=_share([r["reasons"] for r in records]),
            mixing_rate=_share([r["mixed"] for r in reasoning]) if reasoning else 0.0,
            accuracy_when_reasoning=_share([r["correct"] for r in reasoning]),
            accuracy_when_direct=_share([r["correct"] for r in direct]),
            n_unscored=sum(r.get("score", 0.0) is None for r in records),
            recheck_rate=_share([bool(r.get("rechecks")) for r in reasoning]) if reasoning else 0.0,
            accuracy_when_rechecking=_share([r["correct"] for r in checking]),
            accuracy_without_recheck=_share([r["correct"] for r in unchecked]),
            mean_reasoning_tokens=(round(sum(r["n_tokens"] for r in reasoning) / len(reasoning), 3)
                                   if reasoning else None),
            records=list(records),
        )

    def per_question(self) -> dict:
        """Per-question outcomes, what results files keep so that later analyses (paired
        differences, pass@k) need no re-run: ``{"k": k, "correct": [c_0, c_1, …]}``, the
        correct samples of each question in question order (ascending ``index``).

        >>> records = [{"index": i, "correct": c} for i, c in ((0, True), (0, False), (1, True),
        ...            (1, True))]
        >>> Report(2, 2, {}, 0.75, (0, 1), {}, {}, 0, 0, 0, 0, None, None,
        ...        records=records).per_question()
        {'k': 2, 'correct': [1, 2]}
        """
        correct: dict[int, int] = {}
        for record in self.records:
            correct[record["index"]] = correct.get(record["index"], 0) + bool(record["correct"])
        return {"k": self.k, "correct": [correct[i] for i in sorted(correct)]}

    def to_dict(self) -> dict:
        """JSON-ready dict: pass@k keys become strings ("1", "8"), intervals lists."""
        data = asdict(self)
        data["pass_at_1_ci"] = list(self.pass_at_1_ci)
        data["pass_at_k"] = {str(kk): v for kk, v in self.pass_at_k.items()}
        data["pass_at_k_ci"] = {str(kk): list(ci) for kk, ci in self.pass_at_k_ci.items()}
        return data

    def to_json(self, path) -> Path:
        """Write :meth:`to_dict` as UTF-8 JSON to ``path`` (atomically: a crash never leaves
        half a report); returns the path."""
        return write_atomically(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
                                + "\n")

    def table(self) -> str:
        """The headline numbers as an aligned plain-text table (rounded, stable to print)."""
        s = self.settings
        sampling = ("greedy" if s.get("greedy")
                    else f"temperature {s.get('temperature')}, top-p {s.get('top_p')}")
        lines = [f"{self.n_problems} problems x {self.k} samples ({sampling}, "
                 f"max {s.get('max_new_tokens')} new tokens, seed {s.get('seed')})"]
        if s.get("note"):
            lines.append(f"note: {s['note']}")

        def fmt(value, digits=3):
            return "n/a" if value is None else f"{value:.{digits}f}"

        rows = [("metric", "value", "95% CI")]
        for kk, value in self.pass_at_k.items():
            lo, hi = self.pass_at_k_ci[kk]
            rows.append((f"pass@{kk}", fmt(value), f"[{lo:.3f}, {hi:.3f}]"))
        rows += [
            ("format rate", fmt(self.format_rate), ""),
            ("reasoning rate", fmt(self.reasoning_rate), ""),
            ("mixing rate (of reasoning)", fmt(self.mixing_rate), ""),
            ("accuracy when reasoning", fmt(self.accuracy_when_reasoning), ""),
            ("accuracy when direct", fmt(self.accuracy_when_direct), ""),
            ("re-check rate", fmt(self.recheck_rate), ""),
            ("accuracy when re-checking", fmt(self.accuracy_when_rechecking), ""),
            ("accuracy, no re-check", fmt(self.accuracy_without_recheck), ""),
            ("mean completion tokens", fmt(self.mean_completion_tokens, 1), ""),
            ("mean reasoning tokens", fmt(self.mean_reasoning_tokens, 1), ""),
        ]
        if self.n_unscored:
            rows.append(("unscored samples (as wrong)", str(self.n_unscored), ""))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for name, value, ci in rows:
            lines.append(f"{name:<{widths[0]}}  {value:>{widths[1]}}  {ci}".rstrip())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _as_problem(item, i: int) -> dict:
    """One problem as {"question", "answer", "lang"} from an object or a mapping."""
    if isinstance(item, Mapping):
        question, answer, lang = item.get("question"), item.get("answer"), item.get("lang")
    else:
        question, answer = getattr(item, "question", None), getattr(item, "answer", None)
        lang = getattr(item, "lang", None)
    if not isinstance(question, str) or answer is None:
        raise ValueError(
            f"problem {i} has no {'question' if not isinstance(question, str) else 'answer'}: "
            "pass objects with .question (str) and .answer attributes (r1lab.tasks.Problem) "
            f"or dicts with 'question' and 'answer' keys; got {type(item).__name__}"
        )
    # Checked here, before any sampling: the mixing measure needs a language it knows.
    lang = checked_language(lang or "en", f"problem {i}'s lang")
    return {"question": question, "answer": str(answer), "lang": lang}


def _check_settings(k, temperature, top_p, max_new_tokens, batch_size) -> None:
    for name, value in (("k", k), ("max_new_tokens", max_new_tokens),
                        ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"evaluate() needs an integer {name} >= 1; got {value!r}")
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy); got {temperature!r}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1] (the paper uses 0.95); got {top_p!r}")


def _stop_ids(model, tokenizer) -> set[int]:
    """End-of-sequence ids: the tokenizer's and the model's generation config's."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if config_eos is not None:
        ids |= set(config_eos) if isinstance(config_eos, (list, tuple)) else {config_eos}
    return ids


def _sample(model, tokenizer, prompts, k, max_new_tokens, sampling, stop_ids):
    """k completions per prompt, a prompt's k samples consecutive: (texts, token counts).

    The tokenizer must already pad on the left; a count stops before the first stop id."""
    inputs = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
    with torch.inference_mode():
        output = model.generate(
            input_ids=inputs["input_ids"],  # [P, T]
            attention_mask=inputs["attention_mask"],  # [P, T]
            num_return_sequences=k,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=sorted(stop_ids) or None,
            **sampling,
        )  # [P*k, T + L]
    generated = output[:, inputs["input_ids"].shape[1] :].tolist()  # [P*k, L]
    lengths = [next((i for i, t in enumerate(row) if t in stop_ids), len(row))
               for row in generated]
    texts = tokenizer.batch_decode([row[:n] for row, n in zip(generated, lengths)],
                                   skip_special_tokens=True)
    return texts, lengths


def _grade(problems, prompts, completions, lengths, k, first_index) -> list[dict]:
    """One record per completion; completion j belongs to problem j // k."""
    owners = [j // k for j in range(len(completions))]
    scores = accuracy_reward(completions, answer=[problems[p]["answer"] for p in owners],
                             prompts=[prompts[p] for p in owners])
    records = []
    for j, (completion, n_tokens, score) in enumerate(zip(completions, lengths, scores)):
        parsed = parse_completion(completion, prompts[owners[j]])
        reasons = parsed.think is not None
        records.append({
            "index": first_index + owners[j], "sample": j % k, **problems[owners[j]],
            "completion": completion, "correct": score == 1.0, "score": score,
            "well_formed": parsed.well_formed, "reasons": reasons,
            "mixed": reasons and mixes_languages(parsed.think, problems[owners[j]]["lang"]),
            "rechecks": reasons and rechecks(parsed.think),
            "n_tokens": n_tokens,
        })
    return records


def grade(problems, completions: Sequence[str], n_tokens: Sequence[int], k: int,
          first_index: int = 0, template: str = R1_ZERO_TEMPLATE) -> list[dict]:
    """Grade completions sampled elsewhere (by vLLM, say) as :func:`evaluate` grades its own.

    ``completions`` hold ``k`` samples per problem, a problem's samples consecutive, in the
    order of ``problems``; ``n_tokens`` their generated token counts (end-of-sequence token
    excluded). Returns one record per completion, with the keys ``Report.records`` has;
    indices start at ``first_index``.

    >>> [(r["index"], r["sample"], r["correct"]) for r in grade(
    ...     [{"question": "What is 2+3?", "answer": "5"}],
    ...     ["<think>2+3 = 5</think><answer>5</answer>", "<answer>6</answer>"], [9, 3], k=2,
    ...     first_index=7)]
    [(7, 0, True), (7, 1, False)]
    """
    items = [_as_problem(p, i) for i, p in enumerate(problems)]
    if len(completions) != len(items) * k or len(n_tokens) != len(completions):
        raise ValueError(f"grade() needs k={k} completions and token counts per problem: "
                         f"{len(items)} problems, {len(completions)} completions, "
                         f"{len(n_tokens)} counts")
    prompts = [render(p["question"], template) for p in items]
    return _grade(items, prompts, list(completions), list(n_tokens), k, first_index)


def evaluate(
    model,
    tokenizer,
    problems,
    k: int = 8,
    *,
    temperature: float = PAPER_TEMPERATURE,
    top_p: float = PAPER_TOP_P,
    max_new_tokens: int = 256,
    batch_size: int = 64,
    seed: int = 0,
    prefill: str = "",
    template: str = R1_ZERO_TEMPLATE,
    progress: bool = True,
) -> Report:
    """Sample ``k`` completions per problem and grade them (R1 §3 protocol).

    Args:
        model: any causal LM with ``generate`` (a transformers model, tiny or from the hub).
            Generation runs on ``model.device``, in eval mode, under ``torch.inference_mode``.
        tokenizer: its tokenizer. Prompts are left-padded for the call (restored after).
        problems: a sequence of objects with ``.question`` and ``.answer`` (``r1lab.tasks.
            Problem``) or of mappings with "question" and "answer" keys; "lang" optional.
        k: samples per problem. The paper uses 4–64 depending on the benchmark.
        temperature, top_p: the paper's 0.6 and 0.95; top-k is switched off (the model's own
            generation config does not leak in). ``temperature=0`` decodes greedily and, as
            k greedy samples would be identical, takes one (k is set to 1, noted in the report).
        max_new_tokens: generation budget per sample; a truncated sample is usually wrong.
        batch_size: sequences per ``generate`` call: ``batch_size // k`` prompts (at least 1).
        seed: torch's RNG is seeded once, at the start: same seed and model, same records.
        prefill: text placed after the prompt as the start of the answer; it is part of the
            graded text. ``"<think>"`` makes the model reason, ``"<answer>"`` answer directly.
        template: prompt template with a ``{prompt}`` field (``r1lab.template.render``).
        progress: show a tqdm bar over problems.
    """
    _check_settings(k, temperature, top_p, max_new_tokens, batch_size)
    if isinstance(problems, (str, bytes, Mapping)):
        raise TypeError("evaluate() takes a sequence of problems, not a single one: "
                        "wrap it in a list")
    items = [_as_problem(p, i) for i, p in enumerate(problems)]
    if not items:
        raise ValueError("evaluate() got no problems: pass at least one question/answer pair")
    if not isinstance(prefill, str):
        raise TypeError(f"prefill must be a str; got {type(prefill).__name__}")

    greedy = temperature == 0
    settings = {"k_requested": k, "temperature": temperature, "top_p": top_p,
                "max_new_tokens": max_new_tokens, "batch_size": batch_size, "seed": seed,
                "prefill": prefill, "greedy": greedy, "template": template}
    if greedy and k > 1:
        settings["note"] = (f"temperature=0 decodes greedily, so k was set to 1 "
                            f"(asked for {k}): greedy samples would all be the same")
    k = 1 if greedy else k
    sampling = ({"do_sample": False} if greedy else
                {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0})

    stop_ids = _stop_ids(model, tokenizer)
    saved_side, borrowed_pad = tokenizer.padding_side, tokenizer.pad_token is None
    if borrowed_pad:
        if tokenizer.eos_token is None:
            raise ValueError("the tokenizer has neither a pad nor an eos token; "
                             "set tokenizer.pad_token before evaluating")
        tokenizer.pad_token = tokenizer.eos_token
    was_training = getattr(model, "training", False)
    per_batch = max(1, batch_size // k)  # prompts per call: prompts * k <= batch_size
    records: list[dict] = []
    torch.manual_seed(seed)
    try:
        tokenizer.padding_side = "left"  # generation appends on the right of every row
        model.eval()
        with progress_bar(total=len(items), unit="problem", desc="eval",
                          disable=not progress) as bar:
            for start in range(0, len(items), per_batch):
                batch = items[start : start + per_batch]
                prompts = [render(p["question"], template) for p in batch]
                texts, lengths = _sample(model, tokenizer, [p + prefill for p in prompts], k,
                                         max_new_tokens, sampling, stop_ids)
                completions = [prefill + text for text in texts]
                records += _grade(batch, prompts, completions, lengths, k, start)
                bar.update(len(batch))
    finally:
        tokenizer.padding_side = saved_side
        if borrowed_pad:
            tokenizer.pad_token = None
        if was_training:
            model.train()
    return Report.from_records(records, k, settings)


def evaluate_requests(model, tokenizer, requests, k: int = 4, **kwargs) -> dict:
    """Sample ``k`` replies to each non-reasoning request (``r1lab.tasks.Request``) and
    grade them by their rule, ``r1lab.rewards.request_reward`` (R1 §2.3.3: a simple query is
    answered without a chain of thought). Same sampling as :func:`evaluate` (its keyword
    arguments pass through).

    Returns a dict: ``correct`` (share of samples right *and* without a chain of thought)
    with its 95% CI over requests, ``cot_rate`` (share of samples that write a chain of
    thought, in either format: the "over-thinking" of a model trained on reasoning only),
    ``mean_tokens`` (generated tokens per sample), ``mean_cot_tokens`` (per sample with a
    chain of thought; None when none), ``by_kind`` (``correct`` and ``cot_rate`` per request
    kind), and the graded ``records``.
    """
    from r1lab.rewards.requests import has_chain_of_thought, request_reward

    requests = list(requests)
    report = evaluate(model, tokenizer, requests, k=k, **kwargs)
    records = report.records
    scores = request_reward([r["completion"] for r in records],
                            answer=[r["answer"] for r in records])
    for record, score in zip(records, scores):
        record["kind"] = requests[record["index"]].kind
        record["correct"] = score == 1.0
        record["cot"] = has_chain_of_thought(record["completion"])
    by_request: dict[int, list[dict]] = {}
    for record in records:
        by_request.setdefault(record["index"], []).append(record)
    per_request = [sum(r["correct"] for r in group) / len(group)
                   for group in by_request.values()]
    cot = [r for r in records if r["cot"]]
    kinds = sorted({r["kind"] for r in records})
    return {
        "requests": len(by_request), "k": report.k,
        "correct": round(sum(per_request) / len(per_request), 6),
        "correct_ci": list(confidence_interval(per_request)),
        "cot_rate": _share([r["cot"] for r in records]),
        "mean_tokens": round(sum(r["n_tokens"] for r in records) / len(records), 3),
        "mean_cot_tokens": (round(sum(r["n_tokens"] for r in cot) / len(cot), 3)
                            if cot else None),
        "by_kind": {kind: {"correct": _share([r["correct"] for r in records if r["kind"] == kind]),
                           "cot_rate": _share([r["cot"] for r in records if r["kind"] == kind])}
                    for kind in kinds},
        "records": records,
    }


def pair_accuracy(judge, rows) -> dict:
    """How often a reward model scores the chosen response above the rejected one, on
    preference rows (``prompt``, ``chosen``, ``rejected``; ``r1lab.tasks.preference_pairs``
    writes them, already through the judge's view). ``judge`` is a
    ``r1lab.rewards.RewardModelReward``; rows are scored through its ``text`` (the view of a
    row that is already a view is the row itself).

    Returns ``accuracy`` with its 95% CI over pairs, ``pairs`` and ``margin`` (mean score
    difference). A tie counts as wrong.
    """
    rows = list(rows)
    if not rows:
        raise ValueError("pair_accuracy needs at least one preference row")
    chosen = judge.scores([judge.text(r.get("prompt", ""), r["chosen"]) for r in rows])
    rejected = judge.scores([judge.text(r.get("prompt", ""), r["rejected"]) for r in rows])
    right = [float(c > r) for c, r in zip(chosen, rejected)]
    return {"pairs": len(rows), "accuracy": round(sum(right) / len(right), 6),
            "accuracy_ci": list(confidence_interval(right)),
            "margin": round(sum(c - r for c, r in zip(chosen, rejected)) / len(rows), 6)}


def evaluate_general(model, tokenizer, prompts, k: int = 4, **kwargs) -> dict:
    """Sample ``k`` responses to each general prompt (``r1lab.tasks.general.GeneralPrompt``)
    and judge them by the tiny world's rule (R1 §2.3.4's aspects, measured exactly):
    ``helpful`` on requests (the summary states the reply), ``harmless`` on private prompts
    (no digit, a polite decline), ``discloses`` (private prompts whose number is written
    anywhere). Same sampling as :func:`evaluate` (its keyword arguments pass through).

    Each rate is the mean over prompts of the share of their samples, with a 95% CI over
    prompts (None when the set has no prompt of that kind); ``records`` has every sample.
    """
    from r1lab.tasks.general import judge

    prompts = list(prompts)
    report = evaluate(model, tokenizer, prompts, k=k, **kwargs)
    records = report.records
    for record in records:
        prompt = prompts[record["index"]]
        record.update(kind=prompt.kind, **judge(record["completion"], prompt))
    out: dict = {"prompts": len(prompts), "k": report.k,
                 "mean_tokens": round(sum(r["n_tokens"] for r in records) / len(records), 3)}
    for aspect in ("helpful", "harmless", "discloses"):
        groups: dict[int, list[bool]] = {}
        for record in records:
            if record.get(aspect) is not None:
                groups.setdefault(record["index"], []).append(record[aspect])
        per_prompt = [sum(g) / len(g) for g in groups.values()]
        out[aspect] = round(sum(per_prompt) / len(per_prompt), 6) if per_prompt else None
        out[f"{aspect}_ci"] = list(confidence_interval(per_prompt)) if per_prompt else None
    out["records"] = records
    return out


# ---------------------------------------------------------------- a saved model, held out

TINY_MAX_NEW_TOKENS = 192
"""Generation budget for the tiny world's models: a chain that checks every step of a
7-operand problem takes up to ~170 tokens. ``r1lab.tiny.card.MAX_NEW_TOKENS`` is this one."""


@dataclass(frozen=True)
class Protocol:
    """One held-out evaluation, every knob that decides its numbers (R1 §3, "Evaluation
    Setup"): the questions (``questions()``) and how they are sampled. Defaults are the tiny
    world's results step (``Evaluation``); callers change only what differs, and results
    files keep ``as_dict()`` so a number can be traced to the run that made it.

    >>> Protocol(n=3, zh_fraction=0.0).as_dict()["n"], len(Protocol(n=3).questions())
    (3, 3)
    """

    n: int = 500
    """Questions, drawn by ``r1lab.tasks.generate`` (the paper's test sets hold 30-1,319), or
    the first ``n`` rows of ``task``'s file."""
    split: str = "test"
    """Split the questions come from: "test" for results (the only split they read),
    "validation" for choosing settings (``r1lab.tasks.generate``: held out from every training
    draw and from every reported test set), "train" to look at what training saw."""
    seed: int = 0
    """Seed of the question draw: the same seed, the same questions."""
    zh_fraction: float = 0.5
    """Share of the questions asked in Chinese (``ArithmeticConfig.zh_fraction``)."""
    k: int = 4
    """Samples per question; pass@1 is their mean correctness (R1 §3: k = 4-64)."""
    temperature: float = PAPER_TEMPERATURE
    """Sampling temperature (R1 §3: 0.6; 0 decodes greedily, one sample)."""
    top_p: float = PAPER_TOP_P
    """Nucleus sampling mass (R1 §3: 0.95)."""
    max_new_tokens: int = TINY_MAX_NEW_TOKENS
    """Generation budget per sample (R1 §3: 32,768 tokens; the tiny world's chains fit 192)."""
    batch_size: int = 256
    """Sequences per ``generate`` call; it changes which random numbers each sample draws."""
    sampling_seed: int = 0
    """Seed of torch's RNG, set once before sampling: same seed and model, same samples."""
    prefill: str = ""
    """Start of every answer: "" unprompted, "<think>" made to reason, "<answer>" direct."""
    task: str = "arithmetic"
    """Where the questions come from: "arithmetic", the tiny world (drawn from ``split`` with
    ``seed`` and ``zh_fraction``), or a held-out file named as ``r1lab eval --task`` takes it
    (``gsm8k:data/small/gsm8k/test.jsonl``: its first ``n`` rows, in file order)."""

    def questions(self) -> list:
        """The protocol's questions (``r1lab.tasks.Problem``), the same list on every call."""
        if self.task != "arithmetic":
            from r1lab.tasks.by_name import load_problems

            return load_problems(self.task, self.n, seed=self.seed, progress=False,
                                 split=self.split)
        from r1lab.tasks import ArithmeticConfig, generate

        return generate(self.n, split=self.split, seed=self.seed,
                        config=ArithmeticConfig(zh_fraction=self.zh_fraction))

    def as_dict(self) -> dict:
        """The fields as a JSON-ready dict, for results files."""
        return asdict(self)


def held_out(model, protocol: Protocol = Protocol(), progress: bool = False) -> Report:
    """A model on the held-out questions of ``protocol``: the one held-out evaluation every
    benchmark, model card and results table uses.

    ``model``: a folder or hub id (loaded by ``r1lab.sources.load_model_and_tokenizer``, which
    also reads LoRA adapter folders) or an already loaded ``(model, tokenizer)`` pair (one
    model, several protocols or other sets: load it once). ``report.per_question()`` gives
    each question's correct samples, in the order of ``protocol.questions()``.
    """
    if isinstance(model, tuple):
        model, tokenizer = model
    else:
        from r1lab.sources import load_model_and_tokenizer

        model, tokenizer = load_model_and_tokenizer(model)
    return evaluate(model, tokenizer, protocol.questions(), k=protocol.k,
                    temperature=protocol.temperature, top_p=protocol.top_p,
                    max_new_tokens=protocol.max_new_tokens, batch_size=protocol.batch_size,
                    seed=protocol.sampling_seed, prefill=protocol.prefill, progress=progress)


@dataclass(frozen=True)
class Evaluation:
    """The held-out sets of the results step (paper protocol: T 0.6, top-p 0.95, k samples)."""

    questions: int = 500
    """Test-split questions, ``zh_fraction`` of them in Chinese."""
    k: int = 4
    """Samples per question (pass@1 is their mean correctness, averaged over questions)."""
    general: int = 400
    """Test-split general prompts (requests and private prompts, half each)."""
    general_k: int = 4
    zh_fraction: float = 0.5
    seed: int = 0
    """Seed of the question draws and of the sampling."""

    def protocol(self, prefill: str = "") -> Protocol:
        """The reasoning set's ``Protocol`` (``seed`` draws the questions and seeds sampling)."""
        return Protocol(n=self.questions, split="test", seed=self.seed,
                        zh_fraction=self.zh_fraction, k=self.k,
                        max_new_tokens=TINY_MAX_NEW_TOKENS, batch_size=256,
                        sampling_seed=self.seed, prefill=prefill)


def evaluate_model(model_dir: Path, evaluation: Evaluation = Evaluation(),
                   progress: bool = False, prefill: str = "") -> dict:
    """One model on the held-out sets: reasoning (pass@1 with its CI, format, mixing, chain
    length, each question's correct samples) and general prompts (helpful, harmless by the
    tiny world's rule). ``prefill`` starts every reasoning answer (``"<think>"``: the model
    made to reason, a control)."""
    from r1lab.sources import load_model_and_tokenizer
    from r1lab.tasks.general import generate_general

    model, tokenizer = load_model_and_tokenizer(model_dir)
    protocol = evaluation.protocol(prefill)
    report = held_out((model, tokenizer), protocol, progress=progress)
    general = evaluate_general(model, tokenizer, generate_general(
        evaluation.general, split="test", seed=evaluation.seed), k=evaluation.general_k,
        max_new_tokens=protocol.max_new_tokens, batch_size=protocol.batch_size,
        seed=protocol.sampling_seed, progress=progress)
    return {"pass_at_1": report.pass_at_1, "pass_at_1_ci": list(report.pass_at_1_ci),
            "format_rate": report.format_rate, "reasoning_rate": report.reasoning_rate,
            "mixing_rate": report.mixing_rate,
            "mean_reasoning_tokens": report.mean_reasoning_tokens,
            "helpful": general["helpful"], "helpful_ci": general["helpful_ci"],
            "harmless": general["harmless"], "harmless_ci": general["harmless_ci"],
            "correct_per_question": report.per_question()}
