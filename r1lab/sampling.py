"""Rejection sampling into an SFT dataset (R1 §2.3.3).

When reasoning RL converges, DeepSeek-R1 samples many responses per prompt from that
checkpoint, "retains only the correct ones", filters out chains of thought "with mixed
languages, long paragraphs, and code blocks", and fine-tunes the *base* model on ~600k such
reasoning samples plus ~200k non-reasoning ones for two epochs. This module is that step:

* ``rejection_sample`` samples ``k`` completions per prompt from a model (the paper's
  evaluation knobs by default: T = 0.6, top-p 0.95), in chunks appended to
  ``samples.jsonl`` as they finish, so a killed run continues where it stopped (a chunk is
  written whole or sampled again; every chunk has its own seed, so a resumed run samples
  exactly what an uninterrupted one would);
* ``filter_samples`` gives every sample a verdict: kept, or the first filter of ``FILTERS``
  it fails, and counts what each filter removed;
* the kept rows (``prompt``, ``completion``, ``kind``, and where each came from) go to
  ``data.jsonl``, with the tiny world's non-reasoning requests mixed in when asked
  (``non_reasoning``), then ``manifest.json`` (counts, drop reasons, settings), both written
  atomically, the manifest last: a folder with a manifest is complete;
* ``sample_stage_2`` is the whole step on the tiny world (``RejectionData``: which training
  questions, k, the cap, the non-reasoning share), from a saved model: the pipeline's
  ``rejection_sampling`` and ``distill_data`` steps.

Two generation backends, one set of records: ``transformers`` (``r1lab.eval.evaluate``, any
model, CPU or GPU) and ``vllm`` (``sample_with_vllm``: a ``vllm.LLM`` on CUDA GPUs, for the
full-scale recipes, ``r1lab.sampling_recipe``). Both render the prompts with the R1 template
and grade with ``r1lab.eval``'s code, so the filters, the rows and resuming are the same.

>>> record = {"index": 0, "question": "What is 2+3*4?", "answer": "14", "lang": "en",
...           "completion": "|special_token|3*4 = 12. 2+12 = 14.|special_token|answer: 14",
...           "n_tokens": 20}
>>> verdict(record, SamplingConfig())
'kept'
>>> verdict({**record, "completion": "|special_token|2+3 = 5.|special_token|answer: 20"},
...         SamplingConfig())
'wrong answer'
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from r1lab.eval import PAPER_TEMPERATURE, PAPER_TOP_P, grade
from r1lab.files import DamagedFile, read_json, write_atomically, write_jsonl
from r1lab.rewards import accuracy_reward
from r1lab.rewards.language import mixes_languages
from r1lab.template import SPECIAL_TOKEN, parse_completion, render

SAMPLES = "samples.jsonl"  # every sample, one JSON record per line, appended chunk by chunk
DATA = "data.jsonl"  # the SFT rows
MANIFEST = "manifest.json"  # written last: the folder is complete
SETTINGS = "settings.json"  # what the samples were drawn with: a re-run must match it

KEPT = "kept"
# The filters, in the order a sample meets them; a sample is counted by the first it fails.
FILTERS = (
    "wrong answer",  # R1 §2.3.3: "we only retain the correct responses"
    "not readable",  # not in the readable format (or not well formed)
    "mixes languages",  # R1 §2.3.3: chains of thought with mixed languages
    "overlong",  # cut by the length limit, or longer than max_tokens ("long paragraphs")
    "code block",  # R1 §2.3.3: code blocks (the tiny world writes none; hub models do)
    "duplicate",  # the same completion already kept for this prompt
    "over the per-prompt cap",  # max_per_prompt kept already
)


BACKENDS = ("transformers", "vllm")


class SamplingError(RuntimeError):
    """Rejection sampling cannot go on; the message says why and what to change."""


@dataclass(frozen=True)
class SamplingConfig:
    """The knobs of rejection sampling. Defaults are the tiny world's values."""

    k: int = 4
    """Samples per prompt. The paper does not state its k; its evaluation uses 4-64."""
    temperature: float = PAPER_TEMPERATURE
    """Sampling temperature: R1's evaluation protocol's 0.6 (§3)."""
    top_p: float = PAPER_TOP_P
    """Nucleus sampling: R1's 0.95 (§3)."""
    max_new_tokens: int = 192
    """Generation budget per sample; a sample that reaches it is cut and counts as overlong."""
    max_tokens: int | None = None
    """Longest sample kept, in generated tokens (None: only the cut ones are overlong)."""
    max_per_prompt: int = 2
    """Kept samples per prompt at most, so that easy prompts do not crowd out hard ones."""
    readable: bool = True
    """Keep only the cold start's readable format (R1 §2.3.3 keeps readable chains);
    False keeps any well-formed completion (R1-Zero tags too)."""
    chunk: int = 64
    """Prompts sampled per chunk; a chunk is the unit written to disk (and redone if killed)."""
    batch_size: int = 256
    """Sequences per generate call (transformers backend; vLLM schedules its own batches)."""
    seed: int = 0
    """Seeds the sampling (each chunk from its own seed derived from this one)."""
    non_reasoning: float = 0.0
    """Non-reasoning rows added per kept reasoning row (R1: ~200k per ~600k, i.e. 1/3),
    drawn from the tiny world's requests (``r1lab.tasks.generate_requests``), answered
    without a chain of thought."""

    def __post_init__(self):
        for name in ("k", "max_new_tokens", "max_per_prompt", "chunk", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SamplingConfig.{name} must be an integer >= 1; got {value!r}")
        if self.max_tokens is not None and (isinstance(self.max_tokens, bool) or not isinstance(
                self.max_tokens, int) or self.max_tokens < 1):
            raise ValueError(f"SamplingConfig.max_tokens must be None or an integer >= 1; got "
                             f"{self.max_tokens!r}")
        if not self.temperature > 0:
            raise ValueError(f"SamplingConfig.temperature must be > 0 (rejection sampling needs "
                             f"varied samples; R1 uses 0.6); got {self.temperature!r}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingConfig.top_p must be in (0, 1] (R1 uses 0.95); got "
                             f"{self.top_p!r}")
        if not 0 <= self.non_reasoning <= 10:
            raise ValueError(f"SamplingConfig.non_reasoning is non-reasoning rows per reasoning "
                             f"row, 0..10 (R1: 1/3); got {self.non_reasoning!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"SamplingConfig.seed must be an integer 0 .. 2**32-1; got "
                             f"{self.seed!r}")


def verdict(record: dict, config: SamplingConfig = SamplingConfig()) -> str:
    """``KEPT`` or the first per-sample filter of ``FILTERS`` the sample fails.

    ``record`` holds ``question``, ``answer``, ``lang``, ``completion`` and ``n_tokens``
    (generated tokens), as ``r1lab.eval`` records do. Correctness is the accuracy reward, the
    rule RL trained on; mixing is ``r1lab.rewards.language.mixes_languages``, the lab's one
    mixing measure. Duplicates and the per-prompt cap need the other samples of the prompt:
    ``filter_samples`` applies them.
    """
    completion = record["completion"]
    if accuracy_reward([completion], answer=[record["answer"]])[0] != 1.0:
        return FILTERS[0]
    parsed = parse_completion(completion)
    if not parsed.well_formed or (config.readable and SPECIAL_TOKEN not in completion):
        return FILTERS[1]
    if parsed.think is not None and mixes_languages(parsed.think, record.get("lang", "en")):
        return FILTERS[2]
    n_tokens = record["n_tokens"]
    if n_tokens >= config.max_new_tokens or (config.max_tokens and n_tokens > config.max_tokens):
        return FILTERS[3]
    if "```" in completion:
        return FILTERS[4]
    return KEPT


def filter_samples(records: Sequence[dict], config: SamplingConfig = SamplingConfig()
                   ) -> tuple[list[dict], list[dict]]:
    """Every record with its ``verdict`` set, and the acceptance table.

    Records are grouped by ``index`` (the prompt) in the order given; within a prompt a
    completion identical to one already kept is a duplicate, and past ``max_per_prompt``
    kept ones the rest are over the cap. The table has one row per filter, in ``FILTERS``
    order: ``{"filter", "removed", "remaining"}`` (remaining after that filter).

    >>> records = [{"index": 0, "question": "What is 2+3?", "answer": "5", "lang": "en",
    ...             "completion": c, "n_tokens": 9} for c in
    ...            ["|special_token|2+3 = 5.|special_token|answer: 5"] * 2
    ...            + ["<think>2+3 = 5</think><answer>5</answer>"]]
    >>> judged, table = filter_samples(records)
    >>> [r["verdict"] for r in judged]
    ['kept', 'duplicate', 'not readable']
    """
    judged, kept_by_prompt = [], {}
    for record in records:
        result = verdict(record, config)
        if result == KEPT:
            kept = kept_by_prompt.setdefault(record["index"], [])
            text = " ".join(record["completion"].split())
            if text in kept:
                result = FILTERS[5]
            elif len(kept) >= config.max_per_prompt:
                result = FILTERS[6]
            else:
                kept.append(text)
        judged.append({**record, "verdict": result})
    counts = Counter(r["verdict"] for r in judged)
    remaining, table = len(judged), []
    for name in FILTERS:
        remaining -= counts[name]
        table.append({"filter": name, "removed": counts[name], "remaining": remaining})
    return judged, table


def reasoning_row(record: dict, source: dict) -> dict:
    """An SFT row from a kept sample: the rendered prompt, the completion, where it came from."""
    return {"prompt": render(record["question"]), "completion": record["completion"],
            "kind": "reasoning", "question": record["question"], "answer": record["answer"],
            "lang": record["lang"], "source": {**source, "index": record["index"],
                                               "sample": record["sample"]}}


def non_reasoning_rows(n: int, seed: int) -> list[dict]:
    """``n`` of the tiny world's simple requests (training split) with their exact replies,
    answered without a chain of thought (R1 §2.3.3: "for simpler queries, such as 'hello',
    we do not provide a CoT in response")."""
    if n == 0:
        return []
    from r1lab.tasks import generate_requests

    return [{"prompt": render(request.question), "completion": request.answer,
             "kind": "non-reasoning", "question": request.question, "answer": request.answer,
             "lang": request.lang,
             "source": {"generator": "r1lab.tasks.generate_requests", "request": request.kind,
                        "seed": seed}}
            for request in generate_requests(n, split="train", seed=seed)]


def _problems_digest(problems: Sequence) -> str:
    text = "\n".join(f"{p.question}\t{p.answer}\t{p.lang}" for p in problems)
    return hashlib.sha256(text.encode()).hexdigest()


def _chunk_seed(seed: int, start: int) -> int:
    # One seed per chunk, fixed by the run's seed and the chunk's place: a resumed run draws
    # exactly what an uninterrupted one would.
    return int(hashlib.sha256(f"{seed}:{start}".encode()).hexdigest()[:8], 16)


def prompt_seed(seed: int, index: int) -> int:
    """The vLLM backend's seed for prompt ``index``: vLLM seeds each request, so every prompt
    gets its own, fixed by the run's seed and its index (prompts of a chunk do not share a
    random stream, and a prompt's samples do not depend on the chunking)."""
    return int(hashlib.sha256(f"{seed}:prompt {index}".encode()).hexdigest()[:8], 16)


# What a sample's record holds (r1lab.eval's records, with the prompt's index and sample).
SAMPLE_KEYS = ("index", "sample", "question", "answer", "lang", "completion", "n_tokens")


def read_samples(folder: str | Path, k: int | None = None) -> list[dict]:
    """The complete prompts' records in ``folder/samples.jsonl`` (all ``k`` samples present),
    in prompt order; a line torn by a crash (or damaged otherwise: not a record of
    ``SAMPLE_KEYS``) and the prompts it leaves short are left out, so they are sampled again."""
    path = Path(folder) / SAMPLES
    if not path.exists():
        return []
    by_prompt: dict[int, list[dict]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a killed run
        if not (isinstance(record, dict) and record.keys() >= set(SAMPLE_KEYS)
                and isinstance(record["index"], int)):
            continue
        by_prompt.setdefault(record["index"], []).append(record)
    return [r for index in sorted(by_prompt) for r in by_prompt[index]
            if k is None or len(by_prompt[index]) == k]


# The knobs that decide what is sampled; the others (filters, the non-reasoning share) only
# judge the samples, so changing them re-judges a finished folder's samples instead of
# refusing it.
SAMPLED_BY = ("k", "temperature", "top_p", "max_new_tokens", "chunk", "batch_size", "seed")


def _settings(config: SamplingConfig, model_name: str, problems: Sequence,
              backend: str = "transformers") -> dict:
    settings = {"model": model_name, "prompts": len(problems),
                "problems_sha256": _problems_digest(problems),
                "config": {name: getattr(config, name) for name in SAMPLED_BY}}
    if backend != "transformers":  # folders sampled before vLLM existed here still resume
        settings["backend"] = backend
    return settings


def _read(path: Path, fix: str, keys: tuple[str, ...] = ()) -> dict:
    """A sampling folder's JSON file (``r1lab.files.read_json``); ``SamplingError`` saying
    what is damaged and ``fix``."""
    try:
        return read_json(path, fix, keys)
    except DamagedFile as error:
        raise SamplingError(str(error)) from None


def _check_folder(out: Path, settings: dict) -> None:
    saved = out / SETTINGS
    if saved.exists():
        previous = _read(saved, f"delete {out} to sample again (its samples cannot be checked "
                                "against the settings they were drawn with)")
        if previous != settings:
            changed = sorted(key for key in {**previous, **settings}
                             if previous.get(key) != settings.get(key))
            raise SamplingError(f"{out} holds samples drawn with other settings ({', '.join(changed)} "
                                f"differ): pick another output folder, or delete {out} to "
                                "start over")
    elif out.exists() and any(out.iterdir()):
        raise SamplingError(f"{out} is not empty and holds no rejection-sampling run: pick an "
                            "empty or new output folder")


def finished(out: str | Path, problems: Sequence, config: SamplingConfig = SamplingConfig(),
             *, model_name: str = "", backend: str = "transformers") -> dict | None:
    """The manifest of ``out`` when it is complete for these settings, else None, checked
    before any model is loaded (so a finished folder costs no model load, a vLLM engine
    included). A folder of other sampling settings, or not a sampling folder, is refused
    (``SamplingError``)."""
    if backend not in BACKENDS:
        raise SamplingError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    problems = list(problems)
    if not problems:
        raise SamplingError("no prompts to sample: pass at least one problem")
    out = Path(out)
    _check_folder(out, _settings(config, model_name, problems, backend))
    if (out / MANIFEST).exists():
        manifest = read_manifest(out)
        if manifest["config"] == asdict(config):
            return manifest
    return None


MANIFEST_KEYS = ("model", "config", "prompts", "samples", "kept", "acceptance", "filters",
                 "rows")


def read_manifest(out: str | Path) -> dict:
    """The manifest of a complete sampling folder, with its ``data.jsonl`` checked whole
    against it (every line a row, as many rows as the manifest counts): the one reader of a
    finished folder. ``SamplingError`` names the damaged file and the fix: delete the
    manifest, and the next run judges the samples again and rewrites both (it samples only
    what ``samples.jsonl`` lacks)."""
    out = Path(out)
    fix = (f"delete {out / MANIFEST}: the next run judges the samples again and rewrites it "
           f"and {DATA} (sampling only what {SAMPLES} lacks)")
    manifest = _read(out / MANIFEST, fix, MANIFEST_KEYS)
    rows = manifest["rows"]
    if not (isinstance(rows, dict) and all(isinstance(n, int) for n in rows.values())):
        raise SamplingError(f"{out / MANIFEST} has rows {rows!r}, not counts of rows: {fix}")
    data = out / DATA
    if not data.is_file():
        raise SamplingError(f"{data} is missing: {fix}")
    lines = data.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            raise SamplingError(f"{data} line {number} is cut short or not a row: {fix}")
    if len(lines) != sum(rows.values()):
        raise SamplingError(f"{data} has {len(lines)} rows where {MANIFEST} counts "
                            f"{sum(rows.values())}: {fix}")
    return manifest


def rejection_sample(model, tokenizer, problems: Sequence, out: str | Path,
                     config: SamplingConfig = SamplingConfig(), *, model_name: str = "",
                     backend: str = "transformers", progress: bool = True,
                     log: Callable[[str], None] = print) -> dict:
    """Sample, judge and write an SFT set into ``out``; returns the manifest.

    ``problems`` are the prompts (``r1lab.tasks.Problem`` or objects with ``question``,
    ``answer``, ``lang``), usually the training split. ``backend`` ``transformers``: ``model``
    and ``tokenizer`` are a transformers model and its tokenizer; ``vllm``: ``model`` is a
    ``vllm.LLM`` (``vllm_engine``) and ``tokenizer`` is None. A folder whose manifest exists
    with the same config is complete and is only read back; with other filter knobs its
    samples are judged again (``SAMPLED_BY`` names the knobs that decide what is sampled); a
    folder with samples of the same settings (backend included) is resumed; a folder of other
    settings is refused (``SamplingError``).
    """
    from r1lab.eval import evaluate
    from r1lab.progress import bar as progress_bar

    problems = list(problems)
    out = Path(out)
    done = finished(out, problems, config, model_name=model_name, backend=backend)
    if done is not None:
        log(f"{out}: complete, read back ({MANIFEST})")
        return done
    if (out / MANIFEST).exists():
        log(f"{out}: sampled; judging its samples again with the new filters")
    settings = _settings(config, model_name, problems, backend)
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / SETTINGS, json.dumps(settings, indent=1, ensure_ascii=False))

    records = read_samples(out, config.k)
    done = {r["index"] for r in records}
    # Keep only whole chunks; a chunk cut short by a kill is sampled again, from its seed.
    starts = range(0, len(problems), config.chunk)
    whole = {s for s in starts
             if all(i in done for i in range(s, min(s + config.chunk, len(problems))))}
    records = [r for r in records if r["index"] - r["index"] % config.chunk in whole]
    write_jsonl(out / SAMPLES, records)
    if records:
        log(f"{out}: resuming, {len(whole)} of {len(starts)} chunks already sampled")
    with progress_bar(total=len(problems), initial=sum(min(config.chunk, len(problems) - s)
                                               for s in whole),
              unit="prompt", desc="rejection sampling", disable=not progress) as bar, \
            open(out / SAMPLES, "a", encoding="utf-8") as file:
        for start in starts:
            if start in whole:
                continue
            chunk = problems[start:start + config.chunk]
            if backend == "vllm":
                new = sample_with_vllm(model, chunk, config, first_index=start)
            else:
                report = evaluate(model, tokenizer, chunk, k=config.k,
                                  temperature=config.temperature, top_p=config.top_p,
                                  max_new_tokens=config.max_new_tokens,
                                  batch_size=config.batch_size,
                                  seed=_chunk_seed(config.seed, start), progress=False)
                new = [{**r, "index": r["index"] + start} for r in report.records]
            file.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new))
            file.flush()
            os.fsync(file.fileno())
            records += new
            bar.update(len(chunk))
    return write_dataset(out, records, config, model_name)


# ---------------------------------------------------------------- the vLLM backend


VLLM_MISSING = ("backend vllm needs vLLM: pip install vllm on a CUDA machine; or use backend: "
                "transformers")


def _vllm():
    """The ``vllm`` module, imported only when the vLLM backend runs."""
    try:
        import vllm
    except ImportError:
        raise SamplingError(VLLM_MISSING) from None
    return vllm


def vllm_engine(model: str, **engine_args):
    """A ``vllm.LLM`` for ``model`` (a local folder or a hub id); ``engine_args`` are its
    keyword arguments (``tensor_parallel_size``, ``gpu_memory_utilization``, …)."""
    return _vllm().LLM(model=model, **engine_args)


def vllm_sampling_kwargs(config: SamplingConfig, seed: int) -> dict:
    """``vllm.SamplingParams`` arguments for one prompt's ``k`` samples: the transformers
    path's knobs under vLLM's names. top-k is left at vLLM's default, off, as the
    transformers path switches it off; the model's generation config does not apply (vLLM
    reads it only when no SamplingParams are given).

    >>> vllm_sampling_kwargs(SamplingConfig(k=8, max_new_tokens=3584), seed=7)
    {'n': 8, 'temperature': 0.6, 'top_p': 0.95, 'max_tokens': 3584, 'seed': 7}
    """
    return {"n": config.k, "temperature": config.temperature, "top_p": config.top_p,
            "max_tokens": config.max_new_tokens, "seed": seed}


def _vllm_tokens(sample, max_new_tokens: int) -> int:
    """A vLLM sample's generated tokens, counted as ``r1lab.eval`` counts them.

    vLLM's ``token_ids`` end with the token that stopped the sample (finish reason ``stop``:
    EOS, or an end id of the model's generation config); ``r1lab.eval`` counts up to it,
    excluding it. A sample vLLM cut (``length``) hit max_tokens, or earlier the context
    window (max_model_len): either way it is cut, and counts as the whole budget, so the
    overlong filter drops it as it drops the transformers path's cut samples.
    """
    if sample.finish_reason == "length":
        return max_new_tokens
    if sample.finish_reason == "stop":
        return len(sample.token_ids) - 1
    return len(sample.token_ids)


def sample_with_vllm(llm, problems: Sequence, config: SamplingConfig,
                     first_index: int = 0) -> list[dict]:
    """``config.k`` graded samples of each problem from a ``vllm.LLM``, one record per
    sample with the keys ``r1lab.eval`` records have (indices from ``first_index``).

    The prompts are rendered with the R1 template (``r1lab.template.render``), as the
    transformers path renders them; each prompt is one request of ``k`` samples
    (``vllm_sampling_kwargs``) with its own seed, from ``config.seed`` and its index.
    """
    vllm = _vllm()
    prompts = [render(p.question) for p in problems]
    params = [vllm.SamplingParams(**vllm_sampling_kwargs(config, prompt_seed(config.seed,
                                                                              first_index + i)))
              for i in range(len(problems))]
    outputs = llm.generate(prompts, params, use_tqdm=False)
    completions, n_tokens = [], []
    for i, output in enumerate(outputs):
        samples = sorted(output.outputs, key=lambda sample: sample.index)
        if len(samples) != config.k:
            raise SamplingError(f"vLLM returned {len(samples)} samples for prompt "
                                f"{first_index + i}, not k={config.k}")
        completions += [sample.text for sample in samples]
        n_tokens += [_vllm_tokens(sample, config.max_new_tokens) for sample in samples]
    return grade(problems, completions, n_tokens, config.k, first_index)


def write_dataset(out: str | Path, records: Sequence[dict], config: SamplingConfig,
                  model_name: str = "") -> dict:
    """Judge ``records``, write ``data.jsonl`` (kept reasoning rows, then the non-reasoning
    ones, shuffled by the seed) and ``manifest.json`` last; return the manifest."""
    out = Path(out)
    judged, table = filter_samples(records, config)
    source = {"model": model_name, "seed": config.seed}
    rows = [reasoning_row(r, source) for r in judged if r["verdict"] == KEPT]
    reasoning = len(rows)
    rows += non_reasoning_rows(round(reasoning * config.non_reasoning), config.seed)
    random.Random(config.seed).shuffle(rows)
    prompts = {r["index"] for r in judged}
    covered = {r["index"] for r in judged if r["verdict"] == KEPT}
    manifest = {
        "model": model_name, "config": asdict(config), "prompts": len(prompts),
        "samples": len(judged), "kept": reasoning,
        "acceptance": reasoning / len(judged) if judged else 0.0,
        "prompts_with_a_kept_sample": len(covered), "filters": table,
        "rows": {"reasoning": reasoning, "non-reasoning": len(rows) - reasoning},
        "languages": dict(Counter(r["lang"] for r in rows if r["kind"] == "reasoning")),
    }
    if not rows:
        raise SamplingError(f"no sample was kept out of {len(judged)}: "
                            + ", ".join(f"{row['filter']} {row['removed']}" for row in table
                                        if row["removed"])
                            + ". Sample more per prompt (k), or train the model further")
    write_jsonl(out / DATA, rows)
    write_atomically(out / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest


def unfiltered_rows(records: Sequence[dict], size: int, seed: int = 0) -> list[dict]:
    """The ablation's rows: ``size`` samples drawn at random from all of them, right or
    wrong, readable or not (what SFT would see without rejection)."""
    if size > len(records):
        raise ValueError(f"unfiltered_rows: asked for {size} rows from {len(records)} samples")
    chosen = random.Random(seed).sample(list(records), size)
    return [reasoning_row(r, {"seed": seed, "unfiltered": True}) for r in chosen]


def right_answer_rows(records: Sequence[dict], size: int, seed: int = 0,
                      config: SamplingConfig = SamplingConfig()) -> list[dict]:
    """The ablation's middle arm: ``size`` samples drawn at random from those whose answer is
    right (``verdict`` passes its first filter), duplicates and the per-prompt cap not applied.
    Beside ``unfiltered_rows`` (wrong answers in, duplicates in) and the rejection-sampled set
    (wrong answers out, duplicates out) it changes one thing at a time.

    >>> records = [{"index": 0, "sample": i, "question": "What is 2+3?", "answer": "5",
    ...             "lang": "en", "completion": f"<answer>{a}</answer>", "n_tokens": 3}
    ...            for i, a in enumerate(["5", "6", "5"])]
    >>> [row["source"]["sample"] for row in right_answer_rows(records, 2)]
    [2, 0]
    """
    right = [r for r in records if verdict(r, config) != FILTERS[0]]
    if size > len(right):
        raise ValueError(f"right_answer_rows: asked for {size} rows, but only {len(right)} of "
                         f"{len(records)} samples have the right answer")
    chosen = random.Random(seed).sample(right, size)
    return [reasoning_row(r, {"seed": seed, "right_answers": True}) for r in chosen]


# ---------------------------------------------------------------- the tiny world's step


@dataclass(frozen=True)
class RejectionData:
    """What rejection sampling draws from the stage-2 checkpoint (the pipeline's
    ``rejection_sampling`` step; ``distill_data`` draws the final model the same way)."""

    questions: int = 4000
    """Training questions sampled (the paper: ~600k kept reasoning samples)."""
    zh_fraction: float = 0.5
    """Share asked in Chinese, as reasoning RL trained on."""
    seed: int = 7
    """Draws the questions (train split; other seeds than the earlier steps' draws)."""
    k: int = 4
    """Samples per question."""
    max_per_prompt: int = 2
    """Kept samples per question at most."""
    non_reasoning: float = 1.0
    """Non-reasoning rows per kept reasoning row. R1 has ~200k to ~600k, i.e. 1/3, by samples;
    the tiny world uses 1:1 because its replies are short (~10 tokens against ~117 for a
    chain): at 1/3 they were ~3% of the completion tokens and the tiny model did not learn them
    (notebook 07 measures both ratios)."""


def sample_stage_2(model_dir: Path, folder: Path, seed: int = 0,
                   config: RejectionData = RejectionData(), progress: bool = True) -> dict:
    """Rejection-sample a model (the stage-2 checkpoint; for distillation, the final model)
    into ``folder`` (``rejection_sample``); returns the manifest. A killed run resumes; a
    complete folder is read back. A model folder that cannot load or cannot generate (its
    weights deleted, a reward model) is a ``SamplingError`` in one line."""
    from r1lab.sources import load_model_and_tokenizer
    from r1lab.tasks import ArithmeticConfig, generate
    from r1lab.tiny.card import MAX_NEW_TOKENS

    try:
        model, tokenizer = load_model_and_tokenizer(model_dir)
    except ValueError as error:
        raise SamplingError(f"cannot sample model {error}; if it is a run's damaged final/, "
                            "delete it and re-run the step that trained it (final/ is saved "
                            "again from the run's newest checkpoint)") from None
    problems = generate(config.questions, split="train", seed=config.seed,
                        config=ArithmeticConfig(zh_fraction=config.zh_fraction))
    sampling = SamplingConfig(k=config.k, max_new_tokens=MAX_NEW_TOKENS,
                              max_per_prompt=config.max_per_prompt, seed=seed,
                              non_reasoning=config.non_reasoning)
    return rejection_sample(model, tokenizer, problems, folder, sampling,
                            model_name=str(model_dir), progress=progress)
