"""The scale ladder: recipes under single_gpu/, multi_gpu/, multi_node/ and the accelerate files.

Nothing here has a GPU, the models or the network. Each recipe is resolved by a dry run into the
TRL / PEFT / bitsandbytes / accelerate objects a GPU machine would build (with every way out to
the network blocked), each accelerate file goes through ``accelerate launch``'s own argument
handling up to the environment it would hand to torchrun, and slurm.sh is run by bash with
stand-ins for srun, scontrol and accelerate. Beyond "it resolves", the tests hold the recipes to
what would only fail hours later on a cluster: TRL's and transformers' runtime refusals, the
batch under the real number of processes, and the paper's values. The cold-start rungs (stage: sft)
read a local file a GPU machine would have (runs/cold_start.jsonl); here a few readable samples of
the tiny world stand in for it, passed as task.source. Sampling recipes (a `sampling:` block, run by
`r1lab sample --recipe`) are not training rungs: tests/test_sampling_recipes.py checks them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from r1lab.cold_start import ideal_sample
from r1lab.tasks import generate
from r1lab.template import render
from r1lab.train import RecipeError, available_recipes, load_recipe, prepare
from r1lab.train.recipe import RECIPES_DIR
from r1lab.train.recipe_checks import trainer_config_class

REPO = Path(__file__).resolve().parent.parent
ACCELERATE_DIR = RECIPES_DIR / "accelerate"
SLURM = RECIPES_DIR / "multi_node" / "slurm.sh"
SCALES = ("single_gpu", "multi_gpu", "multi_node")
RECIPES = [name for name in available_recipes() if name.split("/")[0] in SCALES]


def stage(name: str) -> str:
    """A recipe's stage as its file says it (loading an SFT recipe needs its data file)."""
    return yaml.safe_load((RECIPES_DIR / f"{name}.yaml").read_text())["stage"]


GRPO_RECIPES = [name for name in RECIPES if stage(name) == "grpo"]
SFT_RECIPES = [name for name in RECIPES if stage(name) == "sft"]

PAPER_BATCH = 512  # R1-Zero: 32 questions x 16 samples per step
# What each rung is meant to be; the tests below check the resolved objects against it.
# refresh: the reference model is replaced every 400 steps, as in R1 (full fine-tuning only).
LADDER = {
    "single_gpu/r1_zero_lora": dict(model="Qwen/Qwen2.5-Math-1.5B", task="gsm8k", lora_r=32,
                                    four_bit=False, vllm=None, accelerate=None, refresh=False),
    "single_gpu/r1_zero_qlora": dict(model="Qwen/Qwen2.5-Math-7B", task="gsm8k", lora_r=16,
                                     four_bit=True, vllm=None, accelerate=None, refresh=False),
    "multi_gpu/r1_zero_zero3": dict(model="Qwen/Qwen2.5-Math-7B", task="math", lora_r=None,
                                    four_bit=False, vllm="colocate", accelerate="zero3.yaml",
                                    refresh=True),
    "multi_gpu/r1_zero_fsdp": dict(model="Qwen/Qwen2.5-Math-7B", task="math", lora_r=None,
                                   four_bit=False, vllm="colocate", accelerate="fsdp.yaml",
                                   refresh=True),
    # Stage 4 (R1 §2.3.4): from an R1-style model, with a hub reward model for general prompts.
    "single_gpu/all_scenario_rl_lora": dict(model="deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
                                            task="all_scenario", lora_r=32, four_bit=False,
                                            vllm=None, accelerate=None, refresh=False),
    "multi_node/r1_zero": dict(model="Qwen/Qwen2.5-14B", task="math", lora_r=None,
                               four_bit=False, vllm="colocate",
                               accelerate="multi_node_zero3.yaml", refresh=False),
}
# The SFT rungs: cold start (R1 §2.3.1: SFT of the base model on readable long CoT, before RL)
# and the rejection-sampling SFT (R1 §2.3.3: the base model again, on the kept samples).
# batch: samples per optimizer step, the number the headers' time estimates count.
COLD_START = {
    "single_gpu/cold_start_lora": dict(model="Qwen/Qwen2.5-Math-1.5B", lora_r=32, four_bit=False,
                                       accelerate=None, batch=32),
    "single_gpu/cold_start_qlora": dict(model="Qwen/Qwen2.5-Math-7B", lora_r=16, four_bit=True,
                                        accelerate=None, batch=32),
    "multi_gpu/cold_start_zero3": dict(model="Qwen/Qwen2.5-Math-7B", lora_r=None,
                                       four_bit=False, accelerate="zero3.yaml", batch=32),
    "multi_gpu/rejection_sft_zero3": dict(model="Qwen/Qwen2.5-Math-7B", lora_r=None,
                                          four_bit=False, accelerate="zero3.yaml", batch=128),
    # Distillation (R1 §2.4): the bases of R1-Distill-Qwen-1.5B and -7B, SFT on a teacher set.
    "single_gpu/distill_lora": dict(model="Qwen/Qwen2.5-Math-1.5B", lora_r=32, four_bit=False,
                                    accelerate=None, batch=32),
    "multi_gpu/distill_zero3": dict(model="Qwen/Qwen2.5-Math-7B", lora_r=None, four_bit=False,
                                    accelerate="zero3.yaml", batch=128),
}
DISTILL = ("single_gpu/distill_lora", "multi_gpu/distill_zero3")
QWEN_MATH_CONTEXT = 4096  # max_position_embeddings of Qwen2.5-Math-1.5B and -7B
COLD_START_ROWS = 8


def header(path: Path) -> str:
    """The comment block a recipe file opens with (a shebang line aside)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#!"):
            continue
        if not line.startswith("#") or line.startswith("#SBATCH"):
            break
        lines.append(line)
    return "\n".join(lines)


class NetworkUsed(Exception):
    """Raised by the stand-ins for anything that would reach the network or load weights."""


@pytest.fixture(scope="module")
def cold_start_file(tmp_path_factory):
    """A stand-in for runs/cold_start.jsonl: prompt/completion rows in the readable format."""
    path = tmp_path_factory.mktemp("data") / "cold_start.jsonl"
    with path.open("w") as rows:
        for problem in generate(COLD_START_ROWS, split="train", seed=3):
            sample = {"prompt": render(problem.question),
                      "completion": ideal_sample(problem, reflect=True)}
            rows.write(json.dumps(sample) + "\n")
    return path


def data_overrides(name: str, cold_start_file: Path) -> list[str]:
    """The --set an SFT recipe needs here: its data file is the stand-in."""
    return [f"task.source={cold_start_file}"] if stage(name) == "sft" else []


@pytest.fixture(scope="module")
def plans(cold_start_file):
    """Every scale recipe's dry-run ``Plan``, built with the network and weight loading blocked."""
    import huggingface_hub
    import transformers

    attempts = []

    def refuse(what):
        def stand_in(*args, **kwargs):
            attempts.append(what)
            raise NetworkUsed(f"a dry run called {what}")
        return stand_in

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse("socket.connect"))
        patch.setattr(socket, "create_connection", refuse("socket.create_connection"))
        patch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
        for name in ("hf_hub_download", "snapshot_download"):
            patch.setattr(huggingface_hub, name, refuse(f"huggingface_hub.{name}"))
        for cls in (transformers.PreTrainedModel, transformers.AutoModelForCausalLM,
                    transformers.AutoConfig, transformers.AutoTokenizer):
            stand_in = refuse(f"{cls.__name__}.from_pretrained")
            patch.setattr(cls, "from_pretrained", classmethod(stand_in))
        with pytest.raises(NetworkUsed):  # the guard itself works
            socket.create_connection(("huggingface.co", 443))
        attempts.clear()
        built = {name: prepare(name, data_overrides(name, cold_start_file), dry_run=True)
                 for name in RECIPES}
    assert attempts == [], f"dry runs reached for the network or weights: {attempts}"
    return built


def launch(argv: list[str]):
    """What ``accelerate launch ARGV`` would start, short of starting it.

    Runs accelerate's own ``launch_command`` minus the launcher: the argument checks against
    the config file, then the torchrun arguments and environment. Returns (args, env).
    """
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    args, defaults, _ = _validate_launch_command(launch_command_parser().parse_args(argv))
    if args.use_deepspeed:
        args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
        _, env = prepare_deepspeed_cmd_env(args)
    else:
        env = prepare_multi_gpu_env(args)
    return args, env


def fsdp_option(plan, key: str):
    """A setting of the plan's FSDP accelerate file (None without one)."""
    config = plan.accelerate_config
    return config.fsdp_config.get(key) if config is not None else None


# ---------------------------------------------------------------- the recipes resolve


def test_the_ladder_has_every_rung():
    assert GRPO_RECIPES == sorted(LADDER)
    assert SFT_RECIPES == sorted(COLD_START)
    on_disk = {str(p.relative_to(RECIPES_DIR).with_suffix("")) for scale in SCALES
               for p in (RECIPES_DIR / scale).glob("*.yaml")}
    assert on_disk == set(RECIPES) | set(available_recipes("sample"))


def assert_resolved_for_the_gpu(plan, want: dict) -> None:
    """What every rung shares: bf16 on GPU, a run folder, its adapters, bits and launch file."""
    args = plan.args
    assert plan.model == want["model"]
    assert args.bf16 and not args.fp16 and not args.use_cpu
    assert args.output_dir.startswith("runs/")
    # The memory estimates assume activation checkpointing: the trainer's, or FSDP's.
    assert args.activation_checkpointing or fsdp_option(plan, "fsdp_activation_checkpointing")
    if want["lora_r"]:
        assert plan.peft_config.r == want["lora_r"]
        assert plan.peft_config.lora_dropout == 0.0
        assert plan.peft_config.task_type == "CAUSAL_LM"
    else:
        assert plan.peft_config is None
    if want["four_bit"]:
        q = plan.quantization_config
        assert q.load_in_4bit and q.bnb_4bit_quant_type == "nf4"
        assert str(q.bnb_4bit_compute_dtype) == "torch.bfloat16"
        assert args.model_init_kwargs["quantization_config"] is q  # reaches from_pretrained
    else:
        assert plan.quantization_config is None
    if want["accelerate"]:
        assert plan.recipe.accelerate == f"r1lab/recipes/accelerate/{want['accelerate']}"
        assert plan.accelerate_config.mixed_precision == "bf16"
    else:
        assert plan.accelerate_config is None


@pytest.mark.parametrize("name", GRPO_RECIPES)
def test_dry_run_resolves_the_rung(plans, name):
    plan, want = plans[name], LADDER[name]
    args = plan.args
    assert_resolved_for_the_gpu(plan, want)
    assert plan.recipe.task.name == want["task"]
    assert plan.train_dataset is None  # a hub dataset: named, not fetched
    assert args.num_generations >= 8
    assert args.use_vllm == (want["vllm"] is not None)
    if want["vllm"]:
        assert args.vllm_mode == want["vllm"]


@pytest.mark.parametrize("name", SFT_RECIPES)
def test_dry_run_resolves_the_cold_start_rung(plans, name):
    plan, want = plans[name], COLD_START[name]
    args = plan.args
    assert_resolved_for_the_gpu(plan, want)
    assert type(args).__name__ == "SFTConfig"
    assert args.completion_only_loss is True  # R1 §2.3.1 trains on the responses
    assert plan.recipe.task.name == "prompt_completion"
    assert plan.train_dataset.column_names == ["prompt", "completion"]
    assert len(plan.train_dataset) == COLD_START_ROWS  # the local file is read, even dry
    assert args.max_length <= QWEN_MATH_CONTEXT  # no positions the model never saw
    processes = plan.accelerate_config.num_processes if plan.accelerate_config else 1
    assert args.per_device_train_batch_size * processes * args.gradient_accumulation_steps == (
        want["batch"])


def test_rejection_sft_rung_trains_the_base_two_epochs_on_what_sampling_writes(tmp_path):
    """R1 §2.3.3: the base model, "for two epochs", on the kept samples: the data.jsonl that
    rejection sampling writes (prompt, completion, kind, source, …, non-reasoning rows mixed
    in) is the rung's data as it is."""
    from r1lab.sampling import DATA, SamplingConfig, write_dataset

    records = [{"index": i, "sample": 0, "question": p.question, "answer": p.answer,
                "lang": p.lang, "completion": ideal_sample(p, reflect=True), "n_tokens": 60}
               for i, p in enumerate(generate(6, split="train", seed=3))]
    manifest = write_dataset(tmp_path, records, SamplingConfig(non_reasoning=1 / 3))
    plan = prepare("multi_gpu/rejection_sft_zero3", [f"task.source={tmp_path / DATA}"],
                   dry_run=True)
    assert plan.model == "Qwen/Qwen2.5-Math-7B"  # the base, not the RL checkpoint
    assert plan.args.num_train_epochs == 2
    assert plan.train_dataset.column_names == ["prompt", "completion"]
    assert len(plan.train_dataset) == sum(manifest["rows"].values()) == 8
    assert plan.recipe.task.source.endswith(DATA)


@pytest.mark.parametrize("name", DISTILL)
def test_distill_rungs_read_a_teacher_sets_messages_as_prompt_and_completion(name, tmp_path):
    """The hub teacher set (open-r1/OpenR1-Math-220k) is named, not fetched, in a dry run; a
    local file of its schema (a `messages` chat beside other columns) is read as
    conversational prompt-completion rows, the loss on R1's answer only."""
    plan = prepare(name, dry_run=True)
    assert plan.recipe.task.source == "open-r1/OpenR1-Math-220k" and plan.train_dataset is None
    rows = [{"problem": f"What is {i}+1?", "answer": str(i + 1), "messages": [
        {"role": "user", "content": f"What is {i}+1?"},
        {"role": "assistant", "content": f"<think>\n{i}+1 = {i + 1}.\n</think>\n\\boxed{{{i + 1}}}"}]}
        for i in range(3)]
    source = tmp_path / "teacher.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    plan = prepare(name, [f"task.source={source}"], dry_run=True)
    data = plan.train_dataset
    assert data.column_names == ["prompt", "completion"] and len(data) == 3
    assert data[1]["prompt"] == [{"role": "user", "content": "What is 1+1?"}]
    assert data[1]["completion"][0]["role"] == "assistant"
    assert plan.args.completion_only_loss is True
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"messages": rows[0]["messages"][:1] + [
        {"role": "user", "content": "and?"}]}) + "\n")
    with pytest.raises(RecipeError, match="row 0: the last turn of messages must be the "
                                          "assistant's answer; got role 'user'"):
        prepare(name, [f"task.source={bad}"], dry_run=True)
    neither = tmp_path / "neither.jsonl"
    neither.write_text(json.dumps({"question": "q", "answer": "a"}) + "\n")
    with pytest.raises(RecipeError, match="lacks the column.s. completion, prompt and has no "
                                          "messages column"):
        prepare(name, [f"task.source={neither}"], dry_run=True)


def test_accelerate_objects_of_the_distributed_rungs(plans):
    for name in ("multi_gpu/r1_zero_zero3", "multi_gpu/cold_start_zero3",
                 "multi_gpu/rejection_sft_zero3"):
        zero3 = plans[name].accelerate_config
        assert (zero3.distributed_type, zero3.num_processes, zero3.num_machines) == (
            "DEEPSPEED", 8, 1)
        assert zero3.deepspeed_config["zero_stage"] == 3
        assert zero3.deepspeed_config["zero3_save_16bit_model"]  # final/ is one whole model
    fsdp = plans["multi_gpu/r1_zero_fsdp"].accelerate_config
    assert (fsdp.distributed_type, fsdp.num_processes, fsdp.num_machines) == ("FSDP", 8, 1)
    assert fsdp.fsdp_config["fsdp_version"] == 2
    assert fsdp.fsdp_config["fsdp_reshard_after_forward"] is True  # full shard
    assert fsdp.fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    nodes = plans["multi_node/r1_zero"].accelerate_config
    assert (nodes.distributed_type, nodes.num_processes, nodes.num_machines) == (
        "DEEPSPEED", 16, 2)
    assert nodes.deepspeed_config["zero_stage"] == 3
    assert nodes.deepspeed_config["deepspeed_multinode_launcher"] == "standard"  # srun, no pdsh


@pytest.mark.parametrize("name", [n for n in GRPO_RECIPES if LADDER[n]["accelerate"]])
def test_full_fine_tuning_rungs_keep_the_papers_values(plans, name):
    args = plans[name].args
    processes = plans[name].accelerate_config.num_processes
    assert args.learning_rate == 3e-6
    assert args.beta == 0.001
    assert args.temperature == 1.0
    assert args.num_generations == 16
    per_step = args.per_device_train_batch_size * processes * args.gradient_accumulation_steps
    assert per_step == PAPER_BATCH
    assert args.sync_ref_model == LADDER[name]["refresh"]
    if args.sync_ref_model:
        assert args.ref_model_sync_steps == 400
        assert args.ref_model_mixup_alpha == 1.0  # replaced, not blended


@pytest.mark.parametrize("name", [n for n in GRPO_RECIPES if LADDER[n]["accelerate"]])
def test_group_size_check_passes_at_the_launch_world_size(plans, name, monkeypatch):
    """load_recipe checks whole groups with WORLD_SIZE; a dry run here sees 1, a launch sees N."""
    processes = plans[name].accelerate_config.num_processes
    monkeypatch.setenv("WORLD_SIZE", str(processes))
    assert load_recipe(name).trainer["num_generations"] == 16


# 3 samples per micro-batch x 3 processes x 1 step = 9: no whole groups of 8 (GRPO's default G).
UNGROUPED = ["trainer.per_device_train_batch_size=3", "trainer.gradient_accumulation_steps=1"]


@pytest.mark.parametrize("name", SFT_RECIPES)
def test_grpo_checks_do_not_apply_to_the_cold_start_rungs(plans, name, cold_start_file,
                                                          monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(RecipeError, match="must divide the generation batch"):
        load_recipe("single_gpu/r1_zero_lora", UNGROUPED)
    sft = load_recipe(name, [f"task.source={cold_start_file}", *UNGROUPED])
    assert sft.trainer["per_device_train_batch_size"] == 3
    with pytest.raises(RecipeError, match="is not a SFTConfig argument"):
        load_recipe(name, [f"task.source={cold_start_file}", "trainer.num_generations=16"])
    plan = plans[name]
    assert not hasattr(plan.args, "num_generations") and not hasattr(plan.args, "use_vllm")
    assert plan.reward_funcs == [] and plan.reward_weights == []
    summary = plan.summary()
    assert "stage       sft" in summary and "rewards" not in summary and "vLLM: no" in summary
    assert "completion-only loss=True max_length=4096" in summary


@pytest.mark.parametrize("name", GRPO_RECIPES)
def test_no_setting_trl_or_transformers_refuse_at_run_time(plans, name):
    """What a dry run does not build (the trainer, vLLM) but a GPU run would refuse."""
    plan = plans[name]
    args = plan.args
    if args.sync_ref_model:  # GRPOTrainer: nothing to sync without a reference model / with PEFT
        assert args.beta > 0 and plan.peft_config is None
    # transformers' Trainer refuses FSDP's and its own activation checkpointing together.
    assert not (fsdp_option(plan, "fsdp_activation_checkpointing")
                and args.activation_checkpointing)
    if plan.accelerate_config is not None:
        per_node = plan.accelerate_config.num_processes // plan.accelerate_config.num_machines
        assert per_node % args.vllm_tensor_parallel_size == 0
    if args.use_vllm:  # room for a prompt (R1-Zero template + a MATH problem) and a completion
        assert args.vllm_max_model_length >= args.max_completion_length + 512


@pytest.mark.parametrize("name", [n for n in GRPO_RECIPES if LADDER[n]["refresh"]
                                  and "zero3" in LADDER[n]["accelerate"]])
def test_zero3_reference_refresh_has_room_next_to_vllm(plans, name):
    """TRL's refresh under ZeRO-3 gathers policy and reference whole on every GPU at once
    (2 x 15.2 GB for 7B); colocated vLLM must have given its share back by then (sleep mode)."""
    plan = plans[name]
    assert plan.accelerate_config.deepspeed_config["zero_stage"] == 3
    assert plan.args.use_vllm and plan.args.vllm_mode == "colocate"
    assert plan.args.vllm_enable_sleep_mode


@pytest.mark.parametrize("name", RECIPES)
def test_trainer_arguments_use_no_deprecated_name(name, cold_start_file):
    trainer = load_recipe(name, data_overrides(name, cold_start_file)).trainer
    with warnings.catch_warnings():
        # transformers and TRL announce renamed arguments (gradient_checkpointing ->
        # activation_checkpointing, use_transformers_paged, …) with FutureWarning.
        warnings.simplefilter("error", FutureWarning)
        args = trainer_config_class(stage(name))(output_dir="runs/unused", use_cpu=True,
                                                 **trainer)
    assert args.gradient_checkpointing == args.activation_checkpointing


@pytest.mark.slow
def test_cli_dry_run_prints_the_resolved_multi_gpu_recipe():
    unreachable = "http://127.0.0.1:9"  # any request through it fails at once
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HTTP_PROXY": unreachable, "HTTPS_PROXY": unreachable, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "r1lab", "train", "multi_gpu/r1_zero_zero3",
                           "--dry-run"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "recipe      multi_gpu/r1_zero_zero3" in out
    assert "model       Qwen/Qwen2.5-Math-7B" in out
    assert "G=16 batch/device=4 lr=3e-06 beta=0.001" in out
    assert "precision   bf16; vLLM: colocate" in out
    assert "peft        none (full fine-tuning)" in out
    assert re.search(r"accelerate  r1lab/recipes/accelerate/zero3\.yaml: .*DEEPSPEED, "
                     r"1 machine\(s\) x 8 process\(es\)", out)
    assert "output      runs/multi-gpu-r1-zero-zero3" in out
    assert out.rstrip().endswith("dry run: recipe resolved; nothing was loaded or trained")


# ---------------------------------------------------------------- accelerate files


ACCELERATE_FILES = sorted(ACCELERATE_DIR.glob("*.yaml"))


def test_the_accelerate_files_are_the_ones_documented():
    assert [p.name for p in ACCELERATE_FILES] == [
        "ddp.yaml", "fsdp.yaml", "multi_node_zero3.yaml", "zero2.yaml", "zero3.yaml"]


@pytest.mark.parametrize("path", ACCELERATE_FILES, ids=lambda p: p.name)
def test_accelerate_file_loads_and_leaves_the_batch_to_the_recipe(path):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(path))
    assert config.mixed_precision == "bf16"
    assert not config.use_cpu
    # DeepSpeed takes these from the Trainer ("auto") unless the file sets them; set here, they
    # would silently disagree with the recipe's trainer arguments.
    assert not {"gradient_accumulation_steps", "gradient_clipping"} & set(
        config.deepspeed_config)
    assert "Hardware:" in header(path)


MULTI_NODE_FLAGS = ("--machine_rank", "1", "--main_process_ip", "10.0.0.7",
                    "--main_process_port", "29555")
# file -> (extra flags, processes per node, nodes, environment accelerate hands torchrun)
LAUNCHES = {
    "ddp.yaml": ((), "8", None, {"ACCELERATE_MIXED_PRECISION": "bf16"}),
    "zero2.yaml": ((), "8", None, {"ACCELERATE_DEEPSPEED_ZERO_STAGE": "2"}),
    "zero3.yaml": ((), "8", None, {"ACCELERATE_DEEPSPEED_ZERO_STAGE": "3",
                                   "ACCELERATE_DEEPSPEED_ZERO3_INIT": "true",
                                   "ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL": "true"}),
    "fsdp.yaml": ((), "8", None, {"FSDP_VERSION": "2", "FSDP_RESHARD_AFTER_FORWARD": "true",
                                  "FSDP_AUTO_WRAP_POLICY": "TRANSFORMER_BASED_WRAP",
                                  "FSDP_STATE_DICT_TYPE": "FULL_STATE_DICT",
                                  "FSDP_ACTIVATION_CHECKPOINTING": "true"}),
    "multi_node_zero3.yaml": (MULTI_NODE_FLAGS, "8", "2", {
        "ACCELERATE_DEEPSPEED_ZERO_STAGE": "3",
        "ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL": "true"}),
}


@pytest.mark.parametrize("name", sorted(LAUNCHES))
def test_accelerate_launch_accepts_the_file(name):
    flags, per_node, nodes, expected_env = LAUNCHES[name]
    args, env = launch(["--config_file", str(ACCELERATE_DIR / name), *flags,
                        "-m", "r1lab", "train", "multi_gpu/r1_zero_zero3"])
    assert args.nproc_per_node == per_node
    assert getattr(args, "nnodes", None) == nodes
    assert args.mixed_precision == "bf16"
    assert {k: env.get(k) for k in expected_env} == expected_env
    if nodes:
        assert args.node_rank == 1
        assert args.rdzv_endpoint == "10.0.0.7:29555"  # the flags win over the placeholders


# ---------------------------------------------------------------- slurm.sh


def test_slurm_script_parses():
    subprocess.run(["bash", "-n", str(SLURM)], check=True)


def test_slurm_script_names_an_existing_config_and_the_recipe_that_expects_it():
    text = SLURM.read_text()
    recipe = re.search(r"^RECIPE=\$\{RECIPE:-(\S+)\}$", text, re.M).group(1)
    config = re.search(r"^ACCELERATE_CONFIG=\$\{ACCELERATE_CONFIG:-(\S+)\}$", text, re.M).group(1)
    assert (REPO / config).is_file()
    assert recipe in RECIPES
    assert load_recipe(recipe).accelerate == config


STAND_INS = {
    # srun: drop its options, run the command once per node with that node's SLURM_NODEID.
    "srun": 'while [[ $1 == --* ]]; do shift; done\n'
            'for ((id = 0; id < SLURM_NNODES; id++)); do SLURM_NODEID=$id "$@" || exit; done\n',
    "scontrol": 'printf "gpu-node-07\\ngpu-node-08\\n"\n',
    "accelerate": 'printf "%s\\n" "$@" > "$LAUNCH_LOG/node$SLURM_NODEID"\n',
}


def test_slurm_script_launches_every_node_into_one_job(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STAND_INS.items():
        (bin_dir / name).write_text("#!/bin/bash\n" + body)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "SLURM_NNODES": "2", "SLURM_JOB_NODELIST": "gpu-node-[07-08]",
           "LAUNCH_LOG": str(tmp_path)}
    for name in ("RECIPE", "ACCELERATE_CONFIG", "GPUS_PER_NODE", "MAIN_PROCESS_PORT"):
        env.pop(name, None)
    subprocess.run(["bash", str(SLURM), "--set", "trainer.max_steps=3"], cwd=REPO, env=env,
                   check=True, capture_output=True, text=True)
    monkeypatch.chdir(REPO)  # the script names the config file relative to the repository
    for node in (0, 1):
        argv = (tmp_path / f"node{node}").read_text().splitlines()
        assert argv[0] == "launch"
        args, env_out = launch(argv[1:])
        assert (args.nnodes, args.node_rank, args.nproc_per_node) == ("2", node, "8")
        assert args.num_processes == 16
        assert args.rdzv_endpoint == "gpu-node-07:29500"  # the first node hosts rank 0
        assert env_out["ACCELERATE_DEEPSPEED_ZERO_STAGE"] == "3"
        assert args.module and args.training_script == "r1lab"
        assert args.training_script_args == ["train", "multi_node/r1_zero", "--set",
                                             "trainer.max_steps=3"]


# ---------------------------------------------------------------- headers and paper values


SCALE_FILES = sorted([RECIPES_DIR / f"{name}.yaml" for name in RECIPES] + [SLURM])


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recipe_file_header_says_hardware_time_and_launch(path):
    text = header(path)
    for needed in ("Hardware:", "Time per step (estimate, not measured):", "Launch"):
        assert needed in text, f"{path.name}: header lacks {needed!r}"
    if path.suffix == ".yaml":
        assert "Memory" in text and "(estimate, not measured)" in text
        assert f"r1lab train {path.parent.name}/{path.stem}" in text
    if path.suffix == ".yaml" and stage(f"{path.parent.name}/{path.stem}") == "sft":
        # The data file is the user's to make: say where it comes from and how to pass another.
        assert "Data:" in text and "--set task.source=PATH" in text


# Per stage, the fields whose line must name the paper's value (or say R1 gives none).
PAPER_KNOBS = {
    "grpo": ("num_generations", "learning_rate", "beta", "temperature", "max_completion_length"),
    "sft": ("n", "num_train_epochs", "gradient_accumulation_steps", "learning_rate",
            "max_length"),
}


@pytest.mark.parametrize("name", RECIPES)
def test_every_paper_knob_names_the_papers_value(name):
    lines = (RECIPES_DIR / f"{name}.yaml").read_text().splitlines()
    for knob in PAPER_KNOBS[stage(name)]:
        line = next(line for line in lines if line.strip().startswith(f"{knob}:"))
        assert "R1:" in line, f"{name}: `{knob}` has no comment naming the paper's value"
