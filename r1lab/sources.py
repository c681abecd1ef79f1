"""Where a model, tokenizer or data file named by the user lives: a local path or a hub id.

Shared by the CLI and the recipes, so both read a name the same way:

* a name that exists on disk is a local path;
* a relative path that does not exist under the current folder is also tried under the
  repository root, so ``data/models/tiny-base`` works from ``notebooks/`` as well;
* anything else that looks like a path (``./x``, ``/x``, ``~/x``, ``a/b/c``) is a missing
  local path, an error the caller reports; a bare ``name`` or ``org/name`` is a hub id.

>>> looks_like_path("Qwen/Qwen2.5-Math-1.5B"), looks_like_path("data/models/tiny-base")
(False, True)
>>> local_path("data/models/tiny-base").name
'tiny-base'
>>> local_path("Qwen/Qwen2.5-Math-1.5B") is None
True
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def looks_like_path(name: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else is meant as a local path."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def local_path(name: str) -> Path | None:
    """The existing local file or folder ``name`` refers to, or None if there is none."""
    path = Path(name).expanduser()
    if path.exists():
        return path
    if not path.is_absolute() and (REPO_ROOT / path).exists():
        return REPO_ROOT / path
    return None


def resolved_model(name: str) -> str:
    """A model name as loaders should get it: an existing local folder as an absolute path
    (so it loads from any working directory), anything else (a hub id) unchanged."""
    path = local_path(name)
    return str(path.resolve()) if path else name


# What counts as weights in a save_pretrained folder (a model's or a LoRA adapter's) or a
# checkpoint: safetensors files and torch's pytorch_model*.bin / adapter_model.bin. Other .bin
# files are not: a final/ whose weights were deleted still holds training_args.bin.
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "adapter_model.bin")
WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
WEIGHTS_NAMED = "*.safetensors or pytorch_model*.bin"


def weight_files(path: Path) -> list[Path]:
    """The weights files in a model folder, an adapter folder or a checkpoint
    (``WEIGHT_PATTERNS``), sorted; shards named by an index are among them when present."""
    return sorted({p for pattern in WEIGHT_PATTERNS for p in Path(path).glob(pattern)
                   if p.is_file()})


def safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file cannot be read whole, or None.

    A safetensors file starts with its header's length and ends where its last tensor
    ends; a file cut short by a full disk or a killed copy fails one of the two.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return "is truncated"
        header_len = int.from_bytes(head, "little")
        if header_len > size:
            return "is truncated"
        try:
            header = json.loads(handle.read(header_len))
        except ValueError:
            return "has a truncated header"
    ends = [t["data_offsets"][1] for k, t in header.items()
            if k != "__metadata__" and isinstance(t, dict) and "data_offsets" in t]
    if 8 + header_len + max(ends, default=0) > size:
        return "is truncated"
    return None


def torch_file_problem(path: Path) -> str | None:
    """Why a ``torch.save`` file (optimizer.pt, rng_state.pth, pytorch_model.bin) cannot be
    read whole, or None. torch.save writes a zip archive whose directory is at its end, so a
    file cut short has none (``torch.load`` would fail with "failed finding central
    directory"). A file in torch's pre-1.6 format (not a zip) is left to the loader."""
    try:
        with open(path, "rb") as handle:
            if handle.read(2) not in (b"PK", b""):
                return None
        with zipfile.ZipFile(path) as archive:
            archive.namelist()
    except zipfile.BadZipFile:
        return "is empty" if path.stat().st_size == 0 else "is truncated"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    return None


def weights_problem(path: Path) -> str | None:
    """What is wrong with the weights of a model folder or checkpoint, or None: none at all
    (a leftover training_args.bin is not weights), a shard its index names missing, or a
    file cut short. Said of the file ("model.safetensors is truncated"); callers say whose.

    >>> weights_problem(REPO_ROOT / "data/models/tiny-base") is None
    True
    """
    for index in (path / name for name in WEIGHT_INDEXES):
        if not index.is_file():
            continue
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return f"{index.name} is corrupt ({error})"
        missing = sorted(name for name in shards if not (path / name).is_file())
        if missing:
            return f"{missing[0]} is missing (named by {index.name})"
    files = weight_files(path)
    if not files:
        leftover = ("; its training_args.bin is the run's settings, not weights"
                    if (path / "training_args.bin").is_file() else "")
        return f"no weights ({WEIGHTS_NAMED}){leftover}"
    for file in files:
        problem = (safetensors_problem(file) if file.suffix == ".safetensors"
                   else torch_file_problem(file))
        if problem:
            return f"{file.name} {problem}"
    return None


def _has_weights_problem(path: Path, whose: str = "weights") -> str | None:
    """``weights_problem`` said of a model folder: "has no weights (…)" or "has weights that
    cannot be read: …"."""
    problem = weights_problem(path)
    if problem is None:
        return None
    return f"has {problem}" if problem.startswith("no weights") else (
        f"has {whose} that cannot be read: {problem}")


ADAPTER_CONFIG = "adapter_config.json"


def adapter_base(path: Path) -> str | None:
    """The base model a LoRA/QLoRA adapter folder (PEFT's ``save_pretrained``, what a LoRA
    run writes as ``final/``) was trained on, or None when ``path`` is not such a folder (a
    full model's ``config.json`` wins over an adapter file beside it). ``ValueError`` when its
    ``adapter_config.json`` cannot be read or names no base."""
    file = path / ADAPTER_CONFIG
    if (path / "config.json").is_file() or not file.is_file():
        return None
    try:
        base = json.loads(file.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (ValueError, UnicodeDecodeError, AttributeError) as error:
        raise ValueError(f"has a corrupt {ADAPTER_CONFIG} ({error}); re-save the adapter")
    if not base:
        raise ValueError(f"has an {ADAPTER_CONFIG} that names no base_model_name_or_path; "
                         "set it to the model the adapter was trained on")
    return base


def model_folder_problem(path: Path) -> str | None:
    """Why a local model folder (``save_pretrained``'s) cannot load, or None if it looks whole.

    Checked before anything slow: ``config.json`` and ``tokenizer.json`` (when present)
    must be JSON, and the weights must be present and complete. A LoRA/QLoRA adapter folder
    (``adapter_config.json`` and the adapter's weights, no ``config.json``) is whole when its
    base is: a local base is checked the same way, a hub id is left to the loader.
    """
    try:
        base = adapter_base(path)
    except ValueError as error:
        return str(error)
    if base is not None:
        weights = [p for p in weight_files(path) if p.name.startswith("adapter_model")]
        if not weights:
            return ("has an adapter_config.json but no adapter weights "
                    "(adapter_model.safetensors or adapter_model.bin)")
        problem = _has_weights_problem(path, "adapter weights")
        if problem:
            return problem
        base_path = local_path(base)
        if base_path is None and looks_like_path(base):
            return (f"is a LoRA adapter whose base model {base} (its {ADAPTER_CONFIG}'s "
                    "base_model_name_or_path) is not found")
        if base_path is not None:
            problem = model_folder_problem(base_path)
            return f"is a LoRA adapter whose base model {base} {problem}" if problem else None
        return None
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        file = path / name
        if name == "config.json" and not file.is_file():
            return "has no config.json (pass a folder written by save_pretrained)"
        if file.is_file():
            try:
                json.loads(file.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as error:
                return f"has a corrupt {name} ({error}); re-save or re-download the model"
    return _has_weights_problem(path)


# What a folder is, by the head its config's architectures name, when it is not a causal LM.
HEADS = {"ForSequenceClassification": "a sequence classifier",
         "ForTokenClassification": "a token classifier",
         "ForQuestionAnswering": "an extractive question-answering model",
         "ForMaskedLM": "a masked language model", "Model": "a bare model with no LM head"}
CAUSAL_LM_EXAMPLE = "data/models/tiny-r1"


def causal_lm_problem(path: Path) -> str | None:
    """Why a local model folder is not a causal LM that ``generate`` can sample, or None.

    ``AutoModelForCausalLM`` would load a reward model's folder (its config says
    ``LlamaForSequenceClassification``) as a Llama LM with a fresh LM head and sample noise
    from it, so the config is read first: its ``architectures`` must include a causal-LM
    class and its ``model_type`` must have one in transformers (or in the folder's own code,
    ``auto_map``). A LoRA adapter must be for ``CAUSAL_LM`` (PEFT's ``task_type``) on a
    causal-LM base. Call it on a folder ``model_folder_problem`` passed.
    """
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    instead = (f"pass a causal LM's folder instead (a GRPO or SFT run's final/, e.g. "
               f"{CAUSAL_LM_EXAMPLE})")
    base = adapter_base(path)
    if base is not None:
        task = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8")).get("task_type")
        if task not in (None, "CAUSAL_LM"):
            return (f"is a LoRA adapter for {task} (its {ADAPTER_CONFIG}'s task_type), not a "
                    f"causal LM: it cannot generate text; {instead}")
        base_path = local_path(base)
        problem = causal_lm_problem(base_path) if base_path is not None else None
        return f"is a LoRA adapter whose base model {base} {problem}" if problem else None
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    causal = set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
    architectures = config.get("architectures") or []
    if architectures and not any(a in causal or a.endswith(("ForCausalLM", "LMHeadModel"))
                                 for a in architectures):
        head = architectures[0]
        what = next((kind for suffix, kind in HEADS.items() if head.endswith(suffix)),
                    "a model")
        advice = ""
        if head.endswith("ForSequenceClassification"):
            if len(config.get("id2label") or {}) == 1:  # one score per text (R1 §2.3.4's RMs)
                what = "a reward model"
            advice = "; a reward model scores completions in a GRPO recipe's reward_models"
        return (f"is {what} ({head}), not a causal LM: it cannot generate text; "
                f"{instead}{advice}")
    model_type = config.get("model_type")
    if (not architectures and model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
            and "AutoModelForCausalLM" not in (config.get("auto_map") or {})):
        return (f"is a {model_type} model, which has no causal-LM class in transformers: it "
                f"cannot generate text; {instead}")
    return None


def model_location(name: str, causal_lm: bool = False) -> Path | None:
    """The local model folder ``name`` names (checked whole), or None for a hub id.

    ``ValueError`` says what is wrong: a path that exists nowhere (the current folder and
    the repository root were tried), a file, or a folder that cannot load
    (``model_folder_problem``); with ``causal_lm`` (evaluating, sampling) also a folder
    that cannot generate (``causal_lm_problem``: a reward model, say). Callers add where
    the name came from and the fix.
    """
    path = local_path(name)
    if path is not None:
        problem = model_folder_problem(path) if path.is_dir() else "is a file, not a folder"
        if problem is None and causal_lm:
            problem = causal_lm_problem(path)
        if problem:
            raise ValueError(f"folder {name} {problem}")
        return path
    if looks_like_path(name):
        raise ValueError(f"folder {name} not found (looked in {Path.cwd()} and "
                         f"{REPO_ROOT}){_built_by_make(name)}")
    return None


def load_model_and_tokenizer(name: str | Path):
    """The model and tokenizer a folder or hub id names: r1lab's one loader.

    ``name`` is resolved as everywhere (``local_path``: the current folder, then the
    repository root). A LoRA/QLoRA adapter folder (what a LoRA run saves as ``final/``) is
    loaded on its base (``adapter_config.json``'s ``base_model_name_or_path``, resolved the
    same way) and merged into it with PEFT, so sampling runs at the plain model's speed; its
    tokenizer is the folder's own when the run saved one, else the base's. A QLoRA adapter
    is merged into the base in full precision (4-bit needs a CUDA GPU). A local folder is
    checked first (``model_location``): one that cannot load or cannot generate (a reward
    model) is a ``ValueError`` saying so in one line, before any weights are read.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolved_model(str(name))
    path = model_location(str(name), causal_lm=True)
    base = adapter_base(path) if path is not None else None
    if base is None:
        return (AutoModelForCausalLM.from_pretrained(source),
                AutoTokenizer.from_pretrained(source))
    from peft import PeftModel

    base_model = AutoModelForCausalLM.from_pretrained(resolved_model(base))
    model = PeftModel.from_pretrained(base_model, source).merge_and_unload()
    has_tokenizer = any((path / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json"))
    tokenizer = AutoTokenizer.from_pretrained(source if has_tokenizer else resolved_model(base))
    return model, tokenizer


DATA_SUFFIXES = (".jsonl", ".json", ".parquet")
# Built, not shipped: the small rung's model, tokenizers and GSM8K splits (r1lab.small).
SMALL_FOLDER = ("data", "small")


def _built_by_make(name: str) -> str:
    """The fix for a missing path that ``make small`` builds, else nothing.

    >>> _built_by_make("data/small/gsm8k/train.jsonl"), _built_by_make("runs/x")
    (': it is built by `make small`: run make small', '')
    """
    return (": it is built by `make small`: run make small"
            if Path(name).parts[:2] == SMALL_FOLDER else "")


def data_location(name: str) -> Path | None:
    """The local data file ``name`` names, or None for a hub dataset id.

    ``ValueError`` for a path that exists nowhere (the current folder and the repository
    root were tried): checked before anything slow, since it would otherwise be tried as a
    hub id.
    """
    path = local_path(name)
    if path is not None:
        return path
    if looks_like_path(name) or Path(name).suffix in DATA_SUFFIXES:
        raise ValueError(f"file {name} not found (looked in {Path.cwd()} and "
                         f"{REPO_ROOT}){_built_by_make(name)}")
    return None
